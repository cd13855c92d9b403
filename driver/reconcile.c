/*
 * Start-up reconciliation (DESIGN.md "Restarts").  dockerd replays nothing to a restarted
 * plugin and never resends a DeleteEndpoint or DeleteNetwork it sent while tiernet was down
 * (PROTOCOL.md §7, §8), so the kernel and the state are brought in line here:
 *   - a network whose bridge is missing gets it back (address, MAC, MTU, interface group);
 *     tiernet's links that lack its interface group get it;
 *   - an endpoint whose container is gone is removed with its links and mappings: its host
 *     veth vanished (the kernel deletes a veth pair with the namespace of either end), or its
 *     sandbox file no longer exists while the directory holding sandboxes does;
 *   - links with tiernet's interface group that no state entry owns are removed when nothing
 *     uses them (a name someone else chose never counts); one that a
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

/*
 * A bridge or veth made by a tiernet that set no interface group (or whose group someone
 * changed) gets it back, with the settings a new one would have: the rules recognise
 * tiernet's links by their group only.
 */
static void adopt(const struct link_info *l, uint32_t group)
{
	int r;

	if (l->group == group)
		return;
	r = link_set_group(l->name, group);
	if (r == 0 && (group & TN_GROUP_BRIDGE))
		r = link_bridge_harden(l->name);
	if (r < 0)
		log_error("cannot give %s %s tiernet's interface group: %s; the rules will not "
			  "recognise it",
			  l->kind, l->name, strerror(-r));
	else
		log_info("%s %s now carries interface group 0x%x", l->kind, l->name, group);
}

/* A dual-stack bridge whose IPv6 addresses someone removed gets them back. */
static void addr6_back(const struct drv_net *n)
{
	struct link_v6 v6;
	uint8_t mac[6];
	int r;

	if (!drv_net_link6(n, &v6))
		return;
	driver_mac_from_ip(n->gw, mac);
	r = link_bridge_addr6(n->bridge, mac, &v6);
	if (r < 0)
		log_error("network %.12s: cannot give bridge %s its IPv6 addresses back: %s", n->id,
			  n->bridge, strerror(-r));
}

void reconcile_networks(struct drv_net *nets, const struct drv_ep *eps,
			void (*fixup)(struct drv_net *n))
{
	const struct link_info *l;
	struct link_info *v = NULL;
	const struct drv_ep *e;
	struct drv_net *n;
	struct link_v6 v6;
	struct err err;
	uint8_t mac[6];
	size_t nv = 0;
	int r = link_dump(&v, &nv);

	if (r < 0)
		log_warnx("cannot list links: %s; bridges are not checked", strerror(-r));
	for (n = nets; n && r == 0; n = n->next) {
		l = find(v, nv, n->bridge);
		if (l) {
			adopt(l, drv_net_group(n));
			addr6_back(n);
			continue;
		}
		driver_mac_from_ip(n->gw, mac);
		if (link_bridge_add(n->bridge, mac, n->mtu, n->gw, n->prefix, drv_net_link6(n, &v6),
				    drv_net_group(n), &err) < 0) {
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
	for (e = eps; e && r == 0; e = e->next) {
		for (n = nets; n && strcmp(n->id, e->net_id); n = n->next)
			;
		if (n && (l = find(v, nv, e->host)))
			adopt(l, drv_veth_group(n));
	}
	free(v);
}

/*
 * Only the kernel's "no such device" means a veth is gone: any other netlink failure (EIO,
 * EPERM, ENOBUFS) says nothing about it, and deleting a running container's state on such a
 * guess would cut it off for good.
 */
bool reconcile_endpoint_gone(const struct drv_ep *e)
{
	int r = link_index(e->host);

	if (r == -ENODEV) {
		log_info("endpoint %.12s: its veth %s is gone (the container stopped while tiernet "
			 "was not running); removing it",
			 e->id, e->host);
		return true;
	}
	if (r < 0) {
		log_error("endpoint %.12s: cannot tell whether its veth %s exists (%s); kept",
			  e->id, e->host, strerror(-r));
		return false;
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

/*
 * A veth kept for a running container whose endpoint's state was lost, on a bridge of a known
 * network: the layer-2 guard cannot know its address, so it lets any address of the
 * network's subnets through from it (l2guard.c), rather than cutting the container off.
 */
static void keep_lost(const struct link_info *l, const struct link_info *v, size_t n,
		      const struct drv_net *nets)
{
	const struct link_info *br = NULL;
	struct l2_ep ep = { .lost = true };
	size_t i;

	for (i = 0; i < n && !br; i++)
		if (v[i].ifindex == l->master)
			br = &v[i];
	for (; br && nets && strcmp(nets->bridge, br->name); nets = nets->next)
		;
	if (!br || !nets)
		return; /* not a known network's: its traffic is dropped, it fails closed */
	snprintf(ep.ifname, sizeof(ep.ifname), "%s", l->name);
	ep.addr = nets->pool;
	ep.prefix = nets->prefix;
	ep.has6 = nets->dual;
	ep.addr6 = nets->pool6;
	ep.prefix6 = nets->prefix6;
	drv_fw_l2_keep(&ep);
}

/*
 * A link with tiernet's interface group that no state entry owns (its state was lost, or a
 * crash came between making the link and saving the state): removed unless something still
 * uses it.  A veth's container end still in this namespace means no container took it.
 */
static void orphan(const struct link_info *l, const struct link_info *v, size_t n,
		   const struct drv_net *nets)
{
	char peer[IFNAMSIZ];

	if (l->group & TN_GROUP_BRIDGE) {
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
				  "a running container uses it; kept, any address of its network "
				  "passes the anti-spoofing guard from it: restart that container",
				  l->name);
			keep_lost(l, v, n, nets);
			return;
		}
	} else {
		log_warnx("link %s carries tiernet's interface group but is no link tiernet makes; "
			  "left alone",
			  l->name);
		return;
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
		if (link_group_ours(v[i].group) && !owned(v[i].name, nets, eps))
			orphan(&v[i], v, n, nets);
	free(v);
	return 0;
}
