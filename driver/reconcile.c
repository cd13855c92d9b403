/*
 * Start-up reconciliation (DESIGN.md "Restarts").  dockerd replays nothing to a restarted
 * plugin and never resends a DeleteEndpoint or DeleteNetwork it sent while tiernet was down
 * (PROTOCOL.md §7, §8), so the kernel and the state are brought in line here:
 *   - a network whose bridge is missing gets it back (address, MAC, MTU);
 *   - an endpoint whose container is gone is removed with its links and mappings: its host
 *     veth vanished (the kernel deletes a veth pair with the namespace of either end), or its
 *     sandbox file no longer exists while the directory holding sandboxes does;
 *   - tiernet links that no state entry owns are removed when nothing uses them; one that a
 *     running container still uses (its state was lost) is kept and reported, because
 *     deleting it would cut that container off.
 * The caller then applies the firewall for what is left, in one commit per table.
 */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "driver/internal.h"
#include "lib/log.h"
#include "lib/names.h"

static const struct link_info *find(const struct link_info *v, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(v[i].name, name))
			return &v[i];
	return NULL;
}

static size_t ports_of(const struct link_info *v, size_t n, int bridge)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		c += v[i].master == bridge;
	return c;
}

/* Is the container behind a sandbox path certainly gone?  Unknown counts as alive. */
static bool sandbox_gone(const char *sandbox)
{
	char dir[DRIVER_PATH_MAX];
	struct stat st;

	if (!sandbox[0] || stat(sandbox, &st) == 0 || errno != ENOENT)
		return false;
	snprintf(dir, sizeof(dir), "%s", sandbox);
	return stat(dirname(dir), &st) == 0;
}

/* A re-created bridge has no ports: put the host ends of its endpoints back on it. */
static void reattach(const struct drv_net *n, const struct drv_ep *eps)
{
	int r;

	for (; eps; eps = eps->next) {
		if (strcmp(eps->net_id, n->id) || link_index(eps->host) < 0)
			continue;
		r = link_set_master(eps->host, n->bridge);
		if (r < 0)
			log_error("endpoint %.12s: cannot put veth %s back on bridge %s: %s",
				  eps->id, eps->host, n->bridge, strerror(-r));
	}
}

void reconcile_networks(struct drv_net *nets, const struct drv_ep *eps,
			void (*fixup)(struct drv_net *n))
{
	struct err err;
	uint8_t mac[6];
	struct drv_net *n;

	for (n = nets; n; n = n->next) {
		if (link_index(n->bridge) >= 0)
			continue;
		driver_mac_from_ip(n->gw, mac);
		if (link_bridge_add(n->bridge, mac, n->mtu, n->gw, n->prefix, &err) < 0) {
			log_error("network %.12s: its bridge %s was missing and cannot be "
				  "re-created: "
				  "%s",
				  n->id, n->bridge, err.msg);
			continue;
		}
		log_warnx("network %.12s: its bridge %s was missing; re-created", n->id, n->bridge);
		reattach(n, eps);
		fixup(n);
	}
}

bool reconcile_endpoint_gone(const struct drv_ep *e)
{
	if (link_index(e->host) < 0) {
		log_info("endpoint %.12s: its veth %s is gone (the container stopped while tiernet "
			 "was not running); removing it",
			 e->id, e->host);
		return true;
	}
	if (e->joined && sandbox_gone(e->sandbox)) {
		log_info("endpoint %.12s: its container's sandbox %s is gone; removing it", e->id,
			 e->sandbox);
		return true;
	}
	return false;
}

static bool owned(const char *name, const struct drv_net *nets, const struct drv_ep *eps)
{
	for (; nets; nets = nets->next)
		if (!strcmp(nets->bridge, name))
			return true;
	for (; eps; eps = eps->next)
		if (!strcmp(eps->host, name) || !strcmp(eps->peer, name))
			return true;
	return false;
}

static void orphan(const struct link_info *l, const struct link_info *v, size_t n)
{
	char peer[IFNAMSIZ];

	if (!strcmp(l->kind, "bridge") && driver_name_derived(l->name, TN_BRIDGE_PREFIX)) {
		if (ports_of(v, n, l->ifindex)) {
			log_error("bridge %s belongs to no tiernet network (its state was lost) "
				  "but "
				  "still has ports; kept: stop its containers, then restart "
				  "tiernet",
				  l->name);
			return;
		}
	} else if (!strcmp(l->kind, "veth") && driver_name_derived(l->name, TN_HOST_PREFIX)) {
		snprintf(peer, sizeof(peer), TN_PEER_PREFIX "%s", l->name + strlen(TN_HOST_PREFIX));
		if (!find(v, n, peer)) {
			log_error("veth %s belongs to no tiernet endpoint (its state was lost) but "
				  "a "
				  "running container uses it; kept: restart that container",
				  l->name);
			return;
		}
	} else if (!(!strcmp(l->kind, "veth") && driver_name_derived(l->name, TN_PEER_PREFIX))) {
		return; /* not a name tiernet derives: not ours to judge */
	}
	log_warnx("removing %s %s, which no tiernet state entry owns", l->kind, l->name);
	link_del(l->name);
}

int reconcile_orphans(const struct drv_net *nets, const struct drv_ep *eps)
{
	struct link_info *v;
	size_t n, i;
	int r = link_dump(&v, &n);

	if (r < 0)
		return r;
	for (i = 0; i < n; i++)
		if (driver_name_ours(v[i].name) && !owned(v[i].name, nets, eps))
			orphan(&v[i], v, n);
	free(v);
	return 0;
}
