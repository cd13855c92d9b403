/*
 * CreateNetwork and DeleteNetwork: validate the options against the policy, make or remove the
 * bridge, recompile the firewall, persist.  Each step is undone when a later one fails.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/internal.h"
#include "lib/log.h"
#include "lib/names.h"

/* ---- CreateNetwork ---- */

static int parse_mtu(const char *s, int *mtu)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 68 || v > 65535)
		return -EINVAL;
	*mtu = (int)v;
	return 0;
}

/* Fills n's tier, bridge and mtu from the -o options; every unknown key is named. */
static int net_options(const struct driver_net_req *req, struct drv_net *n, struct err *err)
{
	char unknown[256] = "", tiers[256];
	const char *tier = NULL;
	size_t i;

	policy_tier_list(drv.policy, tiers, sizeof(tiers));
	for (i = 0; i < req->nopts; i++) {
		const char *k = req->opts[i].key, *v = req->opts[i].value;

		if (!strcmp(k, "tier")) {
			tier = v;
		} else if (!strcmp(k, "mtu") || !strcmp(k, "com.docker.network.driver.mtu")) {
			if (parse_mtu(v, &n->mtu))
				return err_set(err, EINVAL,
					       "tiernet: option %s=\"%s\" is not an MTU: give "
					       "a number from 68 to 65535",
					       k, v);
		} else if (!strcmp(k, "com.docker.network.bridge.name")) {
			if (!driver_ifname_valid(v))
				return err_set(err, EINVAL,
					       "tiernet: bridge name \"%s\" is not valid: it must "
					       "start with \"" TN_IF_PREFIX "\", have 3 to 15 "
					       "characters of A-Z a-z 0-9 _ . -, e.g. "
					       "\"" TN_IF_PREFIX "front0\"",
					       v);
			snprintf(n->bridge, sizeof(n->bridge), "%.15s", v);
		} else {
			size_t len = strlen(unknown);

			snprintf(unknown + len, sizeof(unknown) - len, "%s\"%s\"", len ? ", " : "",
				 k);
		}
	}
	if (unknown[0])
		return err_set(err, EINVAL,
			       "tiernet: unknown network option %s; tiernet takes tier, mtu "
			       "and com.docker.network.bridge.name",
			       unknown);
	if (!tier)
		return err_set(err, EINVAL,
			       "tiernet: missing option tier: create the network with -o "
			       "tier=NAME, where NAME is one of the declared tiers: %s",
			       tiers);
	if (policy_tier_find(drv.policy, tier) < 0)
		return err_set(err, EINVAL,
			       "tiernet: unknown tier \"%s\": use one of the declared tiers (%s) "
			       "or declare it in the policy file",
			       tier, tiers);
	snprintf(n->tier, sizeof(n->tier), "%.31s", tier);
	return 0;
}

/* A dual-stack network: one IPv6 subnet, /126 or larger, the gateway inside and not its base. */
static int net_validate6(const struct driver_net_req *req, struct drv_net *n, struct err *err)
{
	char gw[INET6_ADDRSTRLEN];

	if (req->nipv6 != 1)
		return err_set(err, EINVAL,
			       "tiernet: an --ipv6 network needs exactly one IPv6 subnet, got %zu; "
			       "give one --subnet fdXX:.../64 besides the IPv4 one",
			       req->nipv6);
	inet_ntop(AF_INET6, &req->gw6, gw, sizeof(gw));
	drv_prefix6(&req->gw6, req->gw6_prefix, &n->pool6);
	if (req->gw6_prefix < 1 || req->gw6_prefix > 126 ||
	    !memcmp(&n->pool6, &req->gw6, sizeof(n->pool6)) || IN6_IS_ADDR_LINKLOCAL(&req->gw6) ||
	    IN6_IS_ADDR_MULTICAST(&req->gw6) || IN6_IS_ADDR_LOOPBACK(&req->gw6))
		return err_set(err, EINVAL,
			       "tiernet: the IPv6 subnet must be /126 or larger, not link-local or "
			       "multicast, with a gateway inside it other than its first address "
			       "(got gateway %s/%u)",
			       gw, req->gw6_prefix);
	n->dual = true;
	n->gw6 = req->gw6;
	n->prefix6 = req->gw6_prefix;
	return 0;
}

static int net_validate(const struct driver_net_req *req, struct drv_net *n, struct err *err)
{
	if (!driver_id_valid(req->id))
		return err_set(err, EINVAL,
			       "tiernet: NetworkID \"%.70s\" is not a 64-character "
			       "hex ID",
			       req->id);
	if (req->nipv4 != 1)
		return err_set(err, EINVAL,
			       "tiernet: a network needs exactly one IPv4 subnet, "
			       "got %zu; give one --subnet",
			       req->nipv4);
	if (req->gw_prefix > 30 || (req->gw & ~drv_prefix_mask(req->gw_prefix)) == 0)
		return err_set(err, EINVAL,
			       "tiernet: the IPv4 subnet must be /30 or larger "
			       "with a gateway inside it");
	if (req->ipv6 && net_validate6(req, n, err) < 0)
		return -EINVAL;
	snprintf(n->id, sizeof(n->id), "%s", req->id);
	driver_bridge_name(req->id, n->bridge);
	n->gw = req->gw;
	n->prefix = req->gw_prefix;
	n->pool = req->gw & drv_prefix_mask(req->gw_prefix);
	n->internal = req->internal;
	return net_options(req, n, err);
}

/* The same network as a repeated call would describe it (tier_id is tiernet's own). */
static bool net_same(const struct drv_net *a, const struct drv_net *b)
{
	return !strcmp(a->bridge, b->bridge) && !strcmp(a->tier, b->tier) && a->gw == b->gw &&
	       a->prefix == b->prefix && a->mtu == b->mtu && a->internal == b->internal &&
	       a->dual == b->dual && !memcmp(&a->gw6, &b->gw6, sizeof(a->gw6)) &&
	       a->prefix6 == b->prefix6;
}

int driver_network_create(const struct driver_net_req *req, struct err *err)
{
	struct drv_net *n = calloc(1, sizeof(*n)), *old;
	struct link_v6 v6;
	uint8_t mac[6];
	struct err ignored;
	int r;

	if (!n)
		return err_set(err, ENOMEM, "tiernet: out of memory");
	pthread_mutex_lock(&drv.lock);
	r = net_validate(req, n, err);
	if (r < 0)
		goto out_free;
	old = drv_net_find(req->id);
	if (old) {
		/* A repeated call (dockerd retried) has the effect of one. */
		if (!net_same(old, n))
			r = err_set(err, EEXIST,
				    "tiernet: network %.12s exists already with "
				    "other settings",
				    req->id);
		goto out_free;
	}
	old = drv_net_find_bridge(n->bridge);
	if (old) {
		r = err_set(err, EEXIST,
			    "tiernet: bridge name \"%s\" is already used by "
			    "network %.12s; choose another one",
			    n->bridge, old->id);
		goto out_free;
	}
	n->tier_id = drv_tier_id(n->tier);
	if (!n->tier_id) {
		r = err_set(err, ENOSPC,
			    "tiernet: %u tiers have networks already, the most "
			    "tiernet numbers; remove networks of unused tiers first",
			    TN_TIER_ID_MAX);
		goto out_free;
	}
	driver_mac_from_ip(n->gw, mac);
	r = link_bridge_add(n->bridge, mac, n->mtu, n->gw, n->prefix, drv_net_link6(n, &v6),
			    drv_net_group(n), err);
	if (r < 0)
		goto out_free;
	drv_net_append(n);
	r = drv_fw_sync(drv.policy, NULL, false, err);
	if (r < 0)
		goto undo_link;
	r = state_save_net(n, err);
	if (r < 0)
		goto undo_link;
	drv_ip_forward_on(n->dual);
	drv_route_localnet_on(n->bridge);
	log_info("network %.12s created: bridge %s, tier %s%s%s", n->id, n->bridge, n->tier,
		 n->dual ? ", dual-stack" : "", n->internal ? ", internal" : "");
	n = NULL;
	goto out;
undo_link:
	drv_net_unlink(n);
	link_del(n->bridge);
	drv_fw_sync(drv.policy, NULL, false, &ignored);
out_free:
	free(n);
out:
	pthread_mutex_unlock(&drv.lock);
	return r;
}

/* ---- DeleteNetwork ---- */

/* An endpoint of network n that a call is working on, or NULL. */
static struct drv_ep *busy_endpoint(const struct drv_net *n)
{
	struct drv_ep *e;

	for (e = drv.eps; e; e = e->next)
		if (e->busy && !strcmp(e->net_id, n->id))
			return e;
	return NULL;
}

/*
 * The state file goes first (a read-only state directory fails the call and changes
 * nothing); then the leftover endpoints, the rules and the bridge.  A call still working on
 * one of its endpoints is waited for, so none finishes on a deleted network.
 */
int driver_network_delete(const char *net_id, struct err *err)
{
	struct drv_ep *e, *next;
	struct drv_net *n;
	int r = 0, rl;

	pthread_mutex_lock(&drv.lock);
	while ((n = drv_net_find(net_id)) && busy_endpoint(n))
		pthread_cond_wait(&drv.idle, &drv.lock);
	if (!n) {
		log_info("DeleteNetwork for unknown network %.12s: nothing to do", net_id);
		goto out;
	}
	r = state_del_net(n->id);
	if (r < 0) {
		r = err_set(err, -r, "tiernet: cannot delete the state of network %.12s in %s: %s",
			    n->id, state_where(), strerror(-r));
		goto out;
	}
	/* dockerd refuses to remove a network with endpoints; these are leftovers. */
	for (e = drv.eps; e; e = next) {
		next = e->next;
		if (!strcmp(e->net_id, n->id))
			drv_ep_destroy(e);
	}
	drv_net_unlink(n);
	r = drv_fw_sync(drv.policy, n, true, err);
	if (r < 0)
		log_error("%s", err->msg);
	rl = link_del(n->bridge);
	if (rl < 0 && !r)
		r = err_set(err, -rl, "tiernet: cannot delete bridge %s: %s", n->bridge,
			    strerror(-rl));
	log_info("network %.12s deleted: bridge %s", n->id, n->bridge);
	free(n);
out:
	pthread_mutex_unlock(&drv.lock);
	return r;
}
