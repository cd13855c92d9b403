/*
 * Unit: the security fixes that fuzzing and review found (README, "Hardening"), each held by a
 * test of its own, so that removing a fix turns the unit layer red:
 *  - a request path is quoted in the error sentence and the log with its control characters
 *    replaced (plugin/routes.c): a path with "%0a" cannot forge a line in the log;
 *  - a state file may name only links tiernet itself derives (driver/state.c): a network file
 *    naming a host link ("eth9", which DeleteNetwork would delete) or an endpoint file naming
 *    other links is moved aside as corrupt, never loaded.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "driver/internal.h"
#include "lib/log.h"
#include "plugin/plugin.h"

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static void redirect_stderr(void)
{
	cr_redirect_stderr();
}

/* libmicrohttpd hands route_handle the decoded path: "%0a" arrives as a newline. */
Test(regress, unknown_path_cannot_forge_log_lines, .init = redirect_stderr)
{
	const char *path = "/NetworkDriver.Frob\ntiernet[error]: forged line\r\x1b[2J";
	struct route_reply out = { 0, NULL };
	char log[4096], msg[512] = "";
	unsigned status;
	size_t n;
	cJSON *o;
	int r;

	log_set_level(LOG_LVL_DEBUG);
	r = route_handle(path, "{}", 2, &out);
	status = out.status;
	/* Copied and freed before any assertion: a failed one must not add a leak report. */
	o = out.body ? cJSON_Parse(out.body) : NULL;
	if (o && cJSON_IsString(cJSON_GetObjectItem(o, "Err")))
		snprintf(msg, sizeof(msg), "%s", cJSON_GetObjectItem(o, "Err")->valuestring);
	cJSON_Delete(o);
	free(out.body);
	cr_assert_eq(r, 0);
	cr_assert_eq(status, 404);
	cr_assert_str_eq(msg, "tiernet: unknown path \"/NetworkDriver.Frob?tiernet[error]: forged "
			      "line??[2J\"");
	cr_assert(!has_control(msg), "control character in the reply: %s", msg);

	fflush(stderr);
	n = fread(log, 1, sizeof(log) - 1, cr_get_redirected_stderr());
	log[n] = '\0';
	/* One line, ending in the one newline the logger adds. */
	cr_assert(n > 0 && log[n - 1] == '\n', "nothing logged: [%s]", log);
	log[n - 1] = '\0';
	cr_assert(!has_control(log), "the log line holds a control character: [%s]", log);
	cr_assert_not_null(strstr(log, "unknown path \"/NetworkDriver.Frob?tiernet[error]"), "[%s]",
			   log);
}

/* ---- state files naming links that are not tiernet's ---- */

static char dir[64];
static int nets, eps, bad;
static char bad_why[256];

static void on_net(struct drv_net *n)
{
	nets++;
	free(n);
}

static void on_ep(struct drv_ep *e)
{
	eps++;
	free(e->ports);
	free(e);
}

static void on_bad(const char *path, const char *why)
{
	(void)path;
	bad++;
	snprintf(bad_why, sizeof(bad_why), "%s", why);
}

static void state_dir(void)
{
	struct err err;

	snprintf(dir, sizeof(dir), "/tmp/tiernet-unit-state.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(state_open(dir, &err), 0, "%s", err.msg);
}

static void state_dir_rm(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

static void put(const char *kind, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s.json", dir, kind, name);
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fputs(text, f) >= 0, 1);
	cr_assert_eq(fclose(f), 0);
}

static bool exists(const char *kind, const char *name, const char *suffix)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s/%s%s", dir, kind, name, suffix);
	return access(path, F_OK) == 0;
}

#define NET_ID "1a2b3c4d5e6f1a2b3c4d5e6f1a2b3c4d5e6f1a2b3c4d5e6f1a2b3c4d5e6f7a8b"
#define MAC    "02:42:0a:4d:01:02"
#define EP_ID  "e1e1e1e1e1e1aaaa0000000000000000000000000000000000000000000000aa"

static const char net_fmt[] =
    "{\"version\":1,\"id\":\"" NET_ID "\",\"bridge\":\"%s\",\"tier\":\"%s\","
    "\"gateway\":\"10.77.1.1\",\"pool\":\"10.77.1.0\",\"prefix\":24,\"mtu\":0,"
    "\"internal\":false}";
static const char ep_fmt[] =
    "{\"version\":1,\"id\":\"" EP_ID "\",\"network\":\"" NET_ID "\",\"address\":\"10.77.1.2\","
    "\"prefix\":24,\"mac\":\"%s\",\"host_if\":\"%s\",\"peer_if\":\"%s\","
    "\"sandbox\":\"%s\",\"joined\":true,\"ports\":[]}";

static void load_net(const char *bridge, const char *tier)
{
	char text[512];

	snprintf(text, sizeof(text), net_fmt, bridge, tier);
	put("networks", NET_ID, text);
	cr_assert_eq(state_load(on_net, on_ep, on_bad), 0);
}

static void load_ep(const char *mac, const char *host, const char *peer, const char *sandbox)
{
	char text[768];

	snprintf(text, sizeof(text), ep_fmt, mac, host, peer, sandbox);
	put("endpoints", EP_ID, text);
	cr_assert_eq(state_load(on_net, on_ep, on_bad), 0);
}

TestSuite(regress_state, .init = state_dir, .fini = state_dir_rm);

/* The control: the same file with tiernet's own names loads. */
Test(regress_state, network_with_a_tiernet_bridge_loads)
{
	load_net("tnb1a2b3c4d5e6f", "front");
	cr_assert_eq(nets, 1);
	cr_assert_eq(bad, 0, "%s", bad_why);
}

Test(regress_state, network_naming_a_host_link_is_set_aside)
{
	load_net("eth9", "front");
	cr_assert_eq(nets, 0, "a network whose bridge is eth9 was loaded");
	cr_assert_eq(bad, 1);
	cr_assert(exists("networks", NET_ID, ".json.corrupt"));
	cr_assert(!exists("networks", NET_ID, ".json"));
}

Test(regress_state, network_naming_a_link_with_a_slash_is_set_aside)
{
	load_net("tn/../eth0", "front");
	cr_assert_eq(nets, 0);
	cr_assert_eq(bad, 1);
}

Test(regress_state, endpoint_with_tiernet_names_loads)
{
	load_ep(MAC, "tnve1e1e1e1e1e1", "tnce1e1e1e1e1e1", "/var/run/docker/netns/x");
	cr_assert_eq(eps, 1);
	cr_assert_eq(bad, 0, "%s", bad_why);
}

Test(regress_state, endpoint_naming_host_links_is_set_aside)
{
	load_ep(MAC, "eth0", "lo", "/var/run/docker/netns/x");
	cr_assert_eq(eps, 0, "an endpoint whose links are eth0 and lo was loaded");
	cr_assert_eq(bad, 1);
	cr_assert(exists("endpoints", EP_ID, ".json.corrupt"));
}

/* A tn name, but not the one tiernet derives from this endpoint's ID: another's veth. */
Test(regress_state, endpoint_naming_another_endpoints_veth_is_set_aside)
{
	load_ep(MAC, "tnvffffffffffff", "tnce1e1e1e1e1e1", "/var/run/docker/netns/x");
	cr_assert_eq(eps, 0);
	cr_assert_eq(bad, 1);
}

Test(regress_state, endpoint_with_a_relative_sandbox_is_set_aside)
{
	load_ep(MAC, "tnve1e1e1e1e1e1", "tnce1e1e1e1e1e1", "relative/path");
	cr_assert_eq(eps, 0);
	cr_assert_eq(bad, 1);
}

/* What tiernet never writes either: a network without a tier, a multicast MAC. */
Test(regress_state, network_without_a_tier_is_set_aside)
{
	load_net("tnb1a2b3c4d5e6f", "");
	cr_assert_eq(nets, 0);
	cr_assert_eq(bad, 1);
}

Test(regress_state, endpoint_with_a_multicast_mac_is_set_aside)
{
	load_ep("03:42:0a:4d:01:02", "tnve1e1e1e1e1e1", "tnce1e1e1e1e1e1",
		"/var/run/docker/netns/x");
	cr_assert_eq(eps, 0);
	cr_assert_eq(bad, 1);
}
