/*
 * Endpoints: CreateEndpoint makes the veth pair on the bridge, Join hands its container end to
 * dockerd with the gateway, Leave and DeleteEndpoint undo it.  The rules depend on bridges,
 * not containers: these calls touch them only for an endpoint's published ports (a Leave or
 * DeleteEndpoint of an endpoint that has some, a Join on a Docker --internal network).
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

/*
 * An fsync costs milliseconds (7 ms measured here for file plus directory), longer than all
 * the netlink work of a call; with the lock held across it, 24 containers starting at once
 * would queue behind each other's disk writes.  The endpoint is busy meanwhile, so no other
 * call on it runs and it cannot go away (drv_ep_wait).
 */
int drv_ep_save(struct drv_ep *e, struct err *err)
{
	struct drv_ep snap = *e;
	int r;

	snap.ports = NULL;
	if (snap.nports) {
		snap.ports = calloc(snap.nports, sizeof(*snap.ports));
		if (!snap.ports)
			return err_set(err, ENOMEM, "tiernet: out of memory");
		memcpy(snap.ports, e->ports, snap.nports * sizeof(*snap.ports));
	}
	drv_ep_busy(e, true);
	pthread_mutex_unlock(&drv.lock);
	r = state_save_ep(&snap, err);
	free(snap.ports);
	pthread_mutex_lock(&drv.lock);
	drv_ep_busy(e, false);
	return r;
}

/* ---- CreateEndpoint / DeleteEndpoint ---- */

static int ep_validate6(const struct driver_ep_req *req, const struct drv_net *n, struct err *err)
{
	char ip[INET6_ADDRSTRLEN];
	struct in6_addr pool;

	inet_ntop(AF_INET6, &req->addr6, ip, sizeof(ip));
	if (!n->dual)
		return err_set(err, EINVAL,
			       "tiernet: the endpoint has IPv6 address %s but network %.12s has no "
			       "IPv6 subnet",
			       ip, n->id);
	drv_prefix6(&req->addr6, n->prefix6, &pool);
	if (memcmp(&pool, &n->pool6, sizeof(pool)) || !memcmp(&req->addr6, &n->gw6, sizeof(pool)) ||
	    !memcmp(&req->addr6, &n->pool6, sizeof(pool)))
		return err_set(err, EINVAL,
			       "tiernet: IPv6 address %s is not a host address of the network's "
			       "IPv6 subnet",
			       ip);
	return 0;
}

static int ep_validate(const struct driver_ep_req *req, const struct drv_net *n, struct err *err)
{
	char ip[INET_ADDRSTRLEN];
	size_t i;

	if (!driver_id_valid(req->id))
		return err_set(err, EINVAL,
			       "tiernet: EndpointID \"%.70s\" is not a "
			       "64-character hex ID",
			       req->id);
	for (i = 0; i < req->nopts; i++)
		if (strncmp(req->opts[i].key, "com.docker.", 11))
			return err_set(err, EINVAL,
				       "tiernet: unknown endpoint option \"%s\"; "
				       "tiernet takes no --driver-opt on endpoints",
				       req->opts[i].key);
	if (!req->addr)
		return err_set(err, EINVAL,
			       "tiernet: the endpoint has no IPv4 address; "
			       "tiernet needs Docker's IPAM to assign one");
	inet_ntop(AF_INET, &req->addr, ip, sizeof(ip));
	if ((req->addr & drv_prefix_mask(n->prefix)) != n->pool || req->addr == n->gw)
		return err_set(err, EINVAL,
			       "tiernet: address %s is not a host address of "
			       "the network's subnet",
			       ip);
	return req->has_ipv6 ? ep_validate6(req, n, err) : 0;
}

/*
 * May req's endpoint be created on its network?  Sets *n, and *old when the endpoint exists
 * already (a repeated call, which then has the effect of one).  Returns 0 or -errno.
 */
static int ep_admit(const struct driver_ep_req *req, struct drv_net **n, struct drv_ep **old,
		    struct err *err)
{
	int r;

	*n = drv_net_find(req->net_id);
	if (!*n)
		return err_set(err, ENOENT,
			       "tiernet: network %.12s is unknown to tiernet (its state was lost); "
			       "remove the network and create it again",
			       req->net_id);
	r = ep_validate(req, *n, err);
	if (r < 0)
		return r;
	*old = drv_ep_wait(req->id); /* a CreateEndpoint of it in flight: its outcome */
	if (!*old && (*n)->neps >= DRV_BRIDGE_PORTS_MAX)
		return err_set(err, ENOSPC,
			       "tiernet: network %.12s has %d endpoints, the most a Linux bridge "
			       "takes; put more containers on another network of the tier",
			       (*n)->id, DRV_BRIDGE_PORTS_MAX);
	if (*old && ((*old)->addr != req->addr || strcmp((*old)->net_id, (*n)->id) ||
		     (*old)->has6 != req->has_ipv6 ||
		     memcmp(&(*old)->addr6, &req->addr6, sizeof(req->addr6))))
		return err_set(err, EEXIST, "tiernet: endpoint %.12s exists already", req->id);
	return 0;
}

static void ep_fill(struct drv_ep *e, const struct driver_ep_req *req, const struct drv_net *n)
{
	snprintf(e->id, sizeof(e->id), "%s", req->id);
	snprintf(e->net_id, sizeof(e->net_id), "%s", n->id);
	e->addr = req->addr;
	e->prefix = req->prefix;
	e->has6 = req->has_ipv6;
	e->addr6 = req->addr6;
	e->prefix6 = req->prefix6;
	if (req->has_mac)
		memcpy(e->mac, req->mac, 6);
	else
		driver_mac_from_ip(e->addr, e->mac);
	driver_veth_names(e->id, e->host, e->peer);
}

/*
 * The veth pair and the state file are made outside the lock: the endpoint sits in the list
 * marked busy meanwhile, so a repeated call for the same ID sees it, and nothing else can
 * reach it (dockerd sends nothing for an endpoint before CreateEndpoint answered).
 */
int driver_endpoint_create(const struct driver_ep_req *req, struct driver_ep_reply *reply,
			   struct err *err)
{
	struct drv_ep *e = calloc(1, sizeof(*e)), *old = NULL;
	char bridge[IFNAMSIZ];
	struct err fw;
	struct drv_net *n;
	uint32_t group;
	int r, mtu;

	memset(reply, 0, sizeof(*reply));
	if (!e)
		return err_set(err, ENOMEM, "tiernet: out of memory");
	pthread_mutex_lock(&drv.lock);
	r = ep_admit(req, &n, &old, err);
	if (r < 0 || old) {
		reply->mac_set = old && !req->has_mac;
		if (old)
			memcpy(reply->mac, old->mac, 6);
		goto out_free;
	}
	ep_fill(e, req, n);
	snprintf(bridge, sizeof(bridge), "%s", n->bridge);
	mtu = n->mtu;
	group = drv_veth_group(n);
	e->busy = true;
	drv_ep_insert(e);
	/* Its sources pass the layer-2 guard before its veth exists: none is dropped. */
	r = drv_fw_l2_ep(e, true, err);
	if (r < 0) {
		drv_ep_unlink(e);
		goto out_free;
	}
	pthread_mutex_unlock(&drv.lock);

	r = link_veth_add(e->host, e->peer, bridge, e->mac, mtu, group, err);
	if (r == 0) {
		r = state_save_ep(e, err);
		if (r < 0)
			link_del(e->host);
	}

	pthread_mutex_lock(&drv.lock);
	if (r < 0) {
		drv_ep_busy(e, false);
		drv_ep_unlink(e);
		if (drv_fw_l2_ep(e, false, &fw) < 0)
			log_warnx("%s", fw.msg);
		goto out_free;
	}
	drv_ep_busy(e, false);
	reply->mac_set = !req->has_mac;
	memcpy(reply->mac, e->mac, 6);
	log_debug("endpoint %.12s created on %s: veth %s", e->id, bridge, e->host);
	e = NULL;
out_free:
	free(e);
	pthread_mutex_unlock(&drv.lock);
	return r;
}

/*
 * The state file goes first: when it cannot be removed (a read-only state directory), the
 * call fails and the endpoint stays whole; a veth left behind by a crash after that is an
 * orphan that reconciliation removes.
 */
int driver_endpoint_delete(const char *net_id, const char *ep_id, struct err *err)
{
	struct err fw;
	struct drv_ep *e;
	int r;

	pthread_mutex_lock(&drv.lock);
	e = drv_ep_wait(ep_id);
	if (!e || strcmp(e->net_id, net_id)) {
		log_info("DeleteEndpoint for unknown endpoint %.12s: nothing to do", ep_id);
		pthread_mutex_unlock(&drv.lock);
		return 0;
	}
	drv_ep_busy(e, true);
	pthread_mutex_unlock(&drv.lock);
	r = state_del_ep(e->id);
	pthread_mutex_lock(&drv.lock);
	drv_ep_busy(e, false);
	if (r < 0) {
		pthread_mutex_unlock(&drv.lock);
		return err_set(err, -r,
			       "tiernet: cannot delete the state of endpoint %.12s in %s: %s",
			       ep_id, state_where(), strerror(-r));
	}
	drv_ep_unlink(e);
	if (drv_fw_l2_ep(e, false, &fw) < 0)
		log_warnx("%s", fw.msg);
	if (e->nports && drv_fw_sync_ports(true, &fw) < 0)
		log_error("%s", fw.msg);
	pthread_mutex_unlock(&drv.lock);

	/* Unlinked: nobody else can reach it, so the slow part needs no lock. */
	r = link_del(e->host);
	if (r < 0)
		log_warnx("cannot delete veth %s of endpoint %.12s: %s", e->host, e->id,
			  strerror(-r));
	log_debug("endpoint %.12s deleted: veth %s", e->id, e->host);
	drv_ep_free(e);
	return 0;
}

/* ---- Join / Leave / EndpointOperInfo ---- */

int driver_join(const struct driver_join_req *req, struct driver_join_reply *reply, struct err *err)
{
	struct drv_ep *e;
	struct drv_net *n;
	int r = 0;

	memset(reply, 0, sizeof(*reply));
	pthread_mutex_lock(&drv.lock);
	e = drv_ep_lookup(req->net_id, req->id, err);
	n = e ? drv_net_find(e->net_id) : NULL;
	if (!e || !n) {
		r = -ENOENT;
		goto out;
	}
	if (link_index(e->peer) < 0) {
		r = err_set(err, ENODEV,
			    "tiernet: the container end %s of endpoint %.12s is "
			    "missing; stop the container and start it again",
			    e->peer, e->id);
		goto out;
	}
	snprintf(e->sandbox, sizeof(e->sandbox), "%s", req->sandbox);
	e->joined = true;
	r = drv_ep_save(e, err);
	n = drv_net_find(e->net_id);
	if (r < 0 || !n) {
		e->joined = false;
		e->sandbox[0] = '\0';
		r = r < 0 ? r
			  : err_set(err, ENOENT, "tiernet: network %.12s was deleted meanwhile",
				    e->net_id);
		goto out;
	}
	if (n->internal && req->nports)
		r = drv_publish_internal(e, n, req, err);
	if (r < 0)
		goto out;
	snprintf(reply->src_name, sizeof(reply->src_name), "%s", e->peer);
	reply->gateway = n->gw;
	reply->has_gateway6 = n->dual && e->has6;
	reply->gateway6 = n->gw6;
	reply->disable_gateway_service = drv_net_internal(n, drv.policy);
out:
	pthread_mutex_unlock(&drv.lock);
	return r;
}

/*
 * Marks e as left and saves it.  When the save fails (a full or read-only state directory),
 * e stays joined in memory as it is on disk, so the daemon and its state never disagree.
 * Returns 0 or -errno with the sentence in err.
 */
static int drv_ep_unjoin(struct drv_ep *e, struct err *err)
{
	char sandbox[sizeof(e->sandbox)];
	bool joined = e->joined;
	int r;

	memcpy(sandbox, e->sandbox, sizeof(sandbox));
	e->joined = false;
	e->sandbox[0] = '\0';
	r = drv_ep_save(e, err);
	if (r < 0) {
		e->joined = joined;
		memcpy(e->sandbox, sandbox, sizeof(sandbox));
	}
	return r;
}

int driver_leave(const char *net_id, const char *ep_id, struct err *err)
{
	struct drv_ep *e;
	int r = 0;

	pthread_mutex_lock(&drv.lock);
	e = drv_ep_wait(ep_id);
	if (!e || strcmp(e->net_id, net_id)) {
		log_info("Leave for unknown endpoint %.12s: nothing to do", ep_id);
		goto out;
	}
	if (e->nports) {
		r = drv_ports_commit(e, NULL, 0, err);
		if (r < 0)
			goto out;
	}
	r = drv_ep_unjoin(e, err);
out:
	pthread_mutex_unlock(&drv.lock);
	return r;
}

int driver_endpoint_check(const char *net_id, const char *ep_id, struct err *err)
{
	int r;

	pthread_mutex_lock(&drv.lock);
	r = drv_ep_lookup(net_id, ep_id, err) ? 0 : -ENOENT;
	pthread_mutex_unlock(&drv.lock);
	return r;
}
