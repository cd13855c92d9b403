/*
 * Least privilege: once the daemon has done what may need more (loading the policy, opening
 * the state directory, the first firewall sync), it keeps CAP_NET_ADMIN and CAP_NET_RAW only
 * (rtnetlink, nf_tables and ipset over netlink; libiptc's raw socket), whether systemd, an
 * operator's root shell or dockerd (a managed plugin gets Docker's default set on top of the
 * ones its config.json asks for) started it.
 *
 * Capabilities, the bounding set and no_new_privs are attributes of a thread, inherited by
 * the threads it creates: caps_drop() must run before libmicrohttpd starts its threads.
 *
 * The uid stays 0.  Without CAP_DAC_OVERRIDE root is an ordinary owner: the root-owned state
 * directory, socket directory and /proc/sys/net files (owner-writable) stay writable.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "lib/log.h"
#include "plugin/plugin.h"

static const cap_value_t caps_keep[] = { CAP_NET_ADMIN, CAP_NET_RAW };
static const char *const caps_keep_names[] = { "CAP_NET_ADMIN", "CAP_NET_RAW" };

static bool kept(cap_value_t c)
{
	size_t i;

	for (i = 0; i < sizeof(caps_keep) / sizeof(caps_keep[0]); i++)
		if (caps_keep[i] == c)
			return true;
	return false;
}

static bool has(cap_t set, cap_value_t c, cap_flag_t flag)
{
	cap_flag_value_t v = CAP_CLEAR;

	return cap_get_flag(set, c, flag, &v) == 0 && v == CAP_SET;
}

/* Raises CAP_SETPCAP in the effective set when it is permitted (dropping bounding caps). */
static bool setpcap_on(void)
{
	cap_value_t v = CAP_SETPCAP;
	cap_t cur = cap_get_proc();
	bool ok;

	if (!cur)
		return false;
	ok = has(cur, CAP_SETPCAP, CAP_EFFECTIVE) ||
	     (has(cur, CAP_SETPCAP, CAP_PERMITTED) &&
	      cap_set_flag(cur, CAP_EFFECTIVE, 1, &v, CAP_SET) == 0 && cap_set_proc(cur) == 0);
	cap_free(cur);
	return ok;
}

/* Drops every bounding-set capability but the kept ones; returns how many could not be. */
static int drop_bounding(void)
{
	cap_value_t c;
	bool setpcap = false, tried = false;
	int left = 0;

	for (c = 0; c < 64; c++) {
		int in = cap_get_bound(c);

		if (in < 0)
			break; /* beyond the kernel's last capability */
		if (!in || kept(c))
			continue;
		if (!tried) {
			setpcap = setpcap_on();
			tried = true;
		}
		if (!setpcap || cap_drop_bound(c) < 0)
			left++;
	}
	return left;
}

int caps_drop(void)
{
	cap_t cur, want = NULL;
	char *text;
	size_t i;
	int left, r = 0;

	/* Ambient capabilities would survive an exec; tiernet execs nothing, keep none. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		log_warn("cannot clear the ambient capabilities");

	left = drop_bounding();
	if (left)
		log_warnx("cannot remove %d capabilities from the bounding set (CAP_SETPCAP is "
			  "missing); no_new_privs still keeps them out of reach",
			  left);

	cur = cap_get_proc();
	want = cap_init();
	if (!cur || !want) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < sizeof(caps_keep) / sizeof(caps_keep[0]); i++) {
		if (!has(cur, caps_keep[i], CAP_PERMITTED)) {
			log_warnx("started without %s: creating links and firewall rules will fail",
				  caps_keep_names[i]);
			continue;
		}
		if (cap_set_flag(want, CAP_PERMITTED, 1, &caps_keep[i], CAP_SET) < 0 ||
		    cap_set_flag(want, CAP_EFFECTIVE, 1, &caps_keep[i], CAP_SET) < 0) {
			r = -errno;
			goto out;
		}
	}
	/* Inheritable stays empty (cap_init clears every flag). */
	if (cap_set_proc(want) < 0) {
		r = -errno;
		log_error("cannot reduce the capabilities: %s", strerror(errno));
		goto out;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		r = -errno;
		log_error("cannot set no_new_privs: %s", strerror(errno));
		goto out;
	}
	text = cap_to_text(want, NULL);
	log_debug("capabilities reduced to \"%s\", no_new_privs set", text ? text : "?");
	cap_free(text);
out:
	cap_free(want);
	cap_free(cur);
	return r;
}
