/*
 * The protocol actions on networks and endpoints.  Each action validates first, then changes
 * the kernel, then the firewall, then the state on disk, and undoes its own earlier steps
 * when a later one fails, so a failed call leaves nothing behind (dockerd sends no
 * DeleteEndpoint after a failed CreateEndpoint: PROTOCOL.md §3.3).
 *
 * One mutex serialises the actions.  They are short (a few netlink messages, one libiptc
 * commit per table at most, one small fsync'ed file), and the rules compiled from the list
 * of networks must never be applied from two threads at once.
 */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "driver/internal.h"
#include "plugin/log.h"

static pthread_mutex_t drv_lock = PTHREAD_MUTEX_INITIALIZER;
static struct policy *drv_policy;
static struct drv_net *drv_nets;	/* in creation order: the firewall is compiled in it */
static struct drv_ep *drv_eps;
static enum nft_mode drv_fw_mode;

int driver_errf(struct driver_err *err, int err_no, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -err_no;
}

/* ---- lookups and lists ---- */

static void ip_str_buf(uint32_t a, char s[INET_ADDRSTRLEN])
{
	inet_ntop(AF_INET, &a, s, INET_ADDRSTRLEN);
}

static struct drv_net *net_find(const char *id)
{
	struct drv_net *n;

	for (n = drv_nets; n; n = n->next)
		if (!strcmp(n->id, id))
			return n;
	return NULL;
}

static struct drv_net *net_find_bridge(const char *bridge)
{
	struct drv_net *n;

	for (n = drv_nets; n; n = n->next)
		if (!strcmp(n->bridge, bridge))
			return n;
	return NULL;
}

static struct drv_ep *ep_find(const char *id)
{
	struct drv_ep *e;

	for (e = drv_eps; e; e = e->next)
		if (!strcmp(e->id, id))
			return e;
	return NULL;
}

static void ep_free(struct drv_ep *e)
{
	if (e)
		free(e->ports);
	free(e);
}

static void net_append(struct drv_net *n)
{
	struct drv_net **pp = &drv_nets;

	while (*pp)
		pp = &(*pp)->next;
	n->next = NULL;
	*pp = n;
}

static void net_unlink(struct drv_net *n)
{
	struct drv_net **pp;

	for (pp = &drv_nets; *pp; pp = &(*pp)->next)
		if (*pp == n) {
			*pp = n->next;
			return;
		}
}

static void ep_unlink(struct drv_ep *e)
{
	struct drv_ep **pp;

	for (pp = &drv_eps; *pp; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			return;
		}
}

static uint32_t prefix_mask(uint8_t prefix)
{
	return prefix ? htonl(~0u << (32 - prefix)) : 0;
}

static bool net_is_internal(const struct drv_net *n, const struct policy *pol)
{
	int t = policy_tier_find(pol, n->tier);

	return n->internal || (t >= 0 && pol->tiers[t].internal);
}

/* ---- the firewall ---- */

/*
 * Recompiles the whole tiernet ruleset from the networks and applies it.  The ruleset depends
 * on tiers, edges and bridges only, never on endpoints, so joins and leaves never come here.
 */
/* The published ports of every endpoint, as the compiler wants them; NULL on ENOMEM. */
static struct policy_map *collect_maps(size_t *n)
{
	struct policy_map *maps;
	struct drv_ep *e;
	size_t i, k = 0;

	*n = 0;
	for (e = drv_eps; e; e = e->next)
		*n += e->nports;
	maps = calloc(*n ? *n : 1, sizeof(*maps));
	for (e = drv_eps; maps && e; e = e->next)
		for (i = 0; i < e->nports; i++, k++) {
			maps[k].proto = e->ports[i].proto;
			maps[k].host_ip = e->ports[i].host_ip;
			maps[k].host_port = e->ports[i].host_port;
			maps[k].addr = e->addr;
			maps[k].port = e->ports[i].port;
		}
	return maps;
}

static int fw_sync(const struct policy *pol, struct driver_err *err)
{
	struct policy_net *nets = NULL;
	struct policy_map *maps = NULL;
	struct rules_set rs;
	struct drv_net *n;
	size_t i = 0, count = 0, nmaps;
	int r;

	rules_init(&rs);
	for (n = drv_nets; n; n = n->next)
		count++;
	nets = calloc(count ? count : 1, sizeof(*nets));
	maps = collect_maps(&nmaps);
	if (!nets || !maps) {
		r = driver_errf(err, ENOMEM, "tiernet: out of memory compiling the firewall");
		goto out;
	}
	for (n = drv_nets; n; n = n->next, i++) {
		snprintf(nets[i].bridge, sizeof(nets[i].bridge), "%s", n->bridge);
		nets[i].addr = n->gw;
		nets[i].mask = prefix_mask(n->prefix);
		nets[i].tier = policy_tier_find(pol, n->tier);
		nets[i].internal = net_is_internal(n, pol);
	}
	r = policy_compile(pol, nets, count, &rs);
	if (!r && count)
		r = policy_compile_maps(maps, nmaps, &rs);
	if (r < 0) {
		driver_errf(err, -r, "tiernet: cannot compile the firewall rules: %s",
			    strerror(-r));
		goto out;
	}
	r = iptc_apply(&rs);
	if (r < 0) {
		driver_errf(err, -r, "tiernet: cannot apply the firewall rules: %s", iptc_error());
		goto out;
	}
	drv_fw_mode = nft_detect();
	r = count ? nft_passthrough_ensure() : nft_passthrough_remove();
	if (r < 0)
		driver_errf(err, -r,
			    "tiernet: cannot update the pass-through in Docker's nftables "
			    "DOCKER-USER chain: %s", strerror(-r));
out:
	rules_clear(&rs);
	free(maps);
	free(nets);
	return r;
}

static int sysctl_on(const char *path)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;

	if (fd < 0 || write(fd, "1\n", 2) != 2)
		r = -errno;
	if (fd >= 0)
		close(fd);
	return r;
}

/* Routing between tier bridges needs IPv4 forwarding; Docker turns it on too. */
static void ip_forward_on(void)
{
	if (sysctl_on("/proc/sys/net/ipv4/ip_forward") < 0)
		log_warn("cannot enable net.ipv4.ip_forward; traffic between tiers will not be "
			 "routed");
}

/*
 * A port published on 127.0.0.1 is DNATed to a container with its loopback source kept until
 * POSTROUTING masquerades it; the kernel routes such a packet out of the bridge only when
 * the bridge has route_localnet (what Docker does for its bridges without the proxy).
 */
static void route_localnet_on(const char *bridge)
{
	char path[96];

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/route_localnet", bridge);
	if (sysctl_on(path) < 0)
		log_warn("cannot set route_localnet on %s; ports published on 127.0.0.1 will not "
			 "reach its containers", bridge);
}

/* ---- start-up ---- */

static void load_net(struct drv_net *n)
{
	net_append(n);
}

static void load_ep(struct drv_ep *e)
{
	e->next = drv_eps;
	drv_eps = e;
}

static void load_bad(const char *path, const char *why)
{
	log_error("state file %s %s; moved aside as %s.corrupt. Its object is lost: remove the "
		  "affected Docker network or container and create it again", path, why, path);
}

int driver_init(const char *state_dir, struct policy *pol, struct driver_err *err)
{
	struct drv_net *n;
	int r;

	r = state_open(state_dir, err);
	if (r < 0)
		return r;
	r = state_load(load_net, load_ep, load_bad);
	if (r < 0)
		return driver_errf(err, -r, "tiernet: cannot read state in %s: %s", state_dir,
				   strerror(-r));
	for (n = drv_nets; n; n = n->next)
		if (policy_tier_find(pol, n->tier) < 0)
			return driver_errf(err, ENOENT,
					   "tiernet: network %.12s uses tier \"%s\", which the "
					   "policy does not declare; declare it again",
					   n->id, n->tier);
	drv_policy = pol;
	if (drv_nets)
		ip_forward_on();
	r = fw_sync(pol, err);
	return r;
}

void driver_exit(void)
{
	pthread_mutex_lock(&drv_lock);
	while (drv_nets) {
		struct drv_net *n = drv_nets;

		drv_nets = n->next;
		free(n);
	}
	while (drv_eps) {
		struct drv_ep *e = drv_eps;

		drv_eps = e->next;
		ep_free(e);
	}
	policy_free(drv_policy);
	drv_policy = NULL;
	pthread_mutex_unlock(&drv_lock);
}

int driver_set_policy(struct policy *pol, struct driver_err *err)
{
	struct drv_net *n;
	int r = 0;

	pthread_mutex_lock(&drv_lock);
	for (n = drv_nets; n; n = n->next)
		if (policy_tier_find(pol, n->tier) < 0) {
			r = driver_errf(err, EBUSY,
					"tiernet: the new policy drops tier \"%s\", which network "
					"%.12s (bridge %s) uses; keep the tier or remove the "
					"network first", n->tier, n->id, n->bridge);
			goto out;
		}
	r = fw_sync(pol, err);
	if (r < 0) {
		struct driver_err ignored;

		fw_sync(drv_policy, &ignored);	/* put the old rules back */
		goto out;
	}
	policy_free(drv_policy);
	drv_policy = pol;
out:
	pthread_mutex_unlock(&drv_lock);
	return r;
}

void driver_tick(void)
{
	enum nft_mode mode;
	int r;

	pthread_mutex_lock(&drv_lock);
	if (!drv_nets)
		goto out;
	mode = nft_detect();
	if (mode != drv_fw_mode)
		log_info("Docker's rules are now in %s; firewall mode follows",
			 mode == NFT_MODE_NFT ? "nf_tables" : "legacy x_tables");
	drv_fw_mode = mode;
	if (mode == NFT_MODE_NFT) {
		r = nft_passthrough_ensure();
		if (r < 0)
			log_warnx("cannot restore the pass-through in Docker's DOCKER-USER chain: %s",
				  strerror(-r));
	}
out:
	pthread_mutex_unlock(&drv_lock);
}

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
static int net_options(const struct driver_net_req *req, struct drv_net *n, struct driver_err *err)
{
	char unknown[256] = "", tiers[256];
	const char *tier = NULL;
	size_t i;

	policy_tier_list(drv_policy, tiers, sizeof(tiers));
	for (i = 0; i < req->nopts; i++) {
		const char *k = req->opts[i].key, *v = req->opts[i].value;

		if (!strcmp(k, "tier")) {
			tier = v;
		} else if (!strcmp(k, "mtu") || !strcmp(k, "com.docker.network.driver.mtu")) {
			if (parse_mtu(v, &n->mtu))
				return driver_errf(err, EINVAL,
						   "tiernet: option %s=\"%s\" is not an MTU: give "
						   "a number from 68 to 65535", k, v);
		} else if (!strcmp(k, "com.docker.network.bridge.name")) {
			if (!driver_ifname_valid(v))
				return driver_errf(err, EINVAL,
						   "tiernet: bridge name \"%s\" is not valid: it must "
						   "start with \"tn\", have 3 to 15 characters of "
						   "A-Z a-z 0-9 _ . -, e.g. \"tnfront0\"", v);
			snprintf(n->bridge, sizeof(n->bridge), "%.15s", v);
		} else {
			size_t len = strlen(unknown);

			snprintf(unknown + len, sizeof(unknown) - len, "%s\"%s\"", len ? ", " : "",
				 k);
		}
	}
	if (unknown[0])
		return driver_errf(err, EINVAL,
				   "tiernet: unknown network option %s; tiernet takes tier, mtu "
				   "and com.docker.network.bridge.name", unknown);
	if (!tier)
		return driver_errf(err, EINVAL,
				   "tiernet: missing option tier: create the network with -o "
				   "tier=NAME, where NAME is one of the declared tiers: %s", tiers);
	if (policy_tier_find(drv_policy, tier) < 0)
		return driver_errf(err, EINVAL,
				   "tiernet: unknown tier \"%s\": use one of the declared tiers (%s) "
				   "or declare it in the policy file", tier, tiers);
	snprintf(n->tier, sizeof(n->tier), "%.31s", tier);
	return 0;
}

static int net_validate(const struct driver_net_req *req, struct drv_net *n,
			struct driver_err *err)
{
	if (!driver_id_valid(req->id))
		return driver_errf(err, EINVAL, "tiernet: NetworkID \"%.70s\" is not a 64-character "
				   "hex ID", req->id);
	if (req->ipv6)
		return driver_errf(err, EOPNOTSUPP, "tiernet: IPv6 is not supported yet; create "
				   "the network without --ipv6");
	if (req->nipv4 != 1)
		return driver_errf(err, EINVAL, "tiernet: a network needs exactly one IPv4 subnet, "
				   "got %zu; give one --subnet", req->nipv4);
	if (req->gw_prefix > 30 || (req->gw & ~prefix_mask(req->gw_prefix)) == 0)
		return driver_errf(err, EINVAL, "tiernet: the IPv4 subnet must be /30 or larger "
				   "with a gateway inside it");
	snprintf(n->id, sizeof(n->id), "%s", req->id);
	driver_bridge_name(req->id, n->bridge);
	n->gw = req->gw;
	n->prefix = req->gw_prefix;
	n->pool = req->gw & prefix_mask(req->gw_prefix);
	n->internal = req->internal;
	return net_options(req, n, err);
}

static bool net_same(const struct drv_net *a, const struct drv_net *b)
{
	return !strcmp(a->bridge, b->bridge) && !strcmp(a->tier, b->tier) && a->gw == b->gw &&
	       a->prefix == b->prefix && a->mtu == b->mtu && a->internal == b->internal;
}

int driver_network_create(const struct driver_net_req *req, struct driver_err *err)
{
	struct drv_net *n = calloc(1, sizeof(*n)), *old;
	uint8_t mac[6];
	struct driver_err ignored;
	int r;

	if (!n)
		return driver_errf(err, ENOMEM, "tiernet: out of memory");
	pthread_mutex_lock(&drv_lock);
	r = net_validate(req, n, err);
	if (r < 0)
		goto out_free;
	old = net_find(req->id);
	if (old) {
		/* A repeated call (dockerd retried) has the effect of one. */
		if (!net_same(old, n))
			r = driver_errf(err, EEXIST, "tiernet: network %.12s exists already with "
					"other settings", req->id);
		goto out_free;
	}
	old = net_find_bridge(n->bridge);
	if (old) {
		r = driver_errf(err, EEXIST, "tiernet: bridge name \"%s\" is already used by "
				"network %.12s; choose another one", n->bridge, old->id);
		goto out_free;
	}
	driver_mac_from_ip(n->gw, mac);
	r = link_bridge_add(n->bridge, mac, n->mtu, n->gw, n->prefix, err);
	if (r < 0)
		goto out_free;
	net_append(n);
	r = fw_sync(drv_policy, err);
	if (r < 0)
		goto undo_link;
	r = state_save_net(n, err);
	if (r < 0)
		goto undo_link;
	ip_forward_on();
	route_localnet_on(n->bridge);
	log_info("network %.12s created: bridge %s, tier %s%s", n->id, n->bridge, n->tier,
		 n->internal ? ", internal" : "");
	n = NULL;
	goto out;
undo_link:
	net_unlink(n);
	link_del(n->bridge);
	fw_sync(drv_policy, &ignored);
out_free:
	free(n);
out:
	pthread_mutex_unlock(&drv_lock);
	return r;
}

/* ---- DeleteNetwork ---- */

static void ep_destroy(struct drv_ep *e)
{
	int r = link_del(e->host);

	if (r < 0)
		log_warnx("cannot delete veth %s of endpoint %.12s: %s", e->host, e->id,
			  strerror(-r));
	r = state_del_ep(e->id);
	if (r < 0)
		log_warnx("cannot delete the state file of endpoint %.12s: %s", e->id,
			  strerror(-r));
	ep_unlink(e);
	ep_free(e);
}

int driver_network_delete(const char *net_id, struct driver_err *err)
{
	struct drv_ep *e, *next;
	struct drv_net *n;
	int r = 0, rl;

	pthread_mutex_lock(&drv_lock);
	n = net_find(net_id);
	if (!n) {
		log_info("DeleteNetwork for unknown network %.12s: nothing to do", net_id);
		goto out;
	}
	/* dockerd refuses to remove a network with endpoints; these are leftovers. */
	for (e = drv_eps; e; e = next) {
		next = e->next;
		if (!strcmp(e->net_id, n->id))
			ep_destroy(e);
	}
	net_unlink(n);
	r = fw_sync(drv_policy, err);
	if (r < 0)
		log_error("%s", err->msg);
	rl = link_del(n->bridge);
	if (rl < 0 && !r)
		r = driver_errf(err, -rl, "tiernet: cannot delete bridge %s: %s", n->bridge,
				strerror(-rl));
	rl = state_del_net(n->id);
	if (rl < 0 && !r)
		r = driver_errf(err, -rl, "tiernet: cannot delete the state of network %.12s: %s",
				n->id, strerror(-rl));
	log_info("network %.12s deleted: bridge %s", n->id, n->bridge);
	free(n);
out:
	pthread_mutex_unlock(&drv_lock);
	return r;
}

/* ---- CreateEndpoint / DeleteEndpoint ---- */

static int ep_validate(const struct driver_ep_req *req, const struct drv_net *n,
		       struct driver_err *err)
{
	char ip[INET_ADDRSTRLEN];
	size_t i;

	if (!driver_id_valid(req->id))
		return driver_errf(err, EINVAL, "tiernet: EndpointID \"%.70s\" is not a "
				   "64-character hex ID", req->id);
	for (i = 0; i < req->nopts; i++)
		if (strncmp(req->opts[i].key, "com.docker.", 11))
			return driver_errf(err, EINVAL, "tiernet: unknown endpoint option \"%s\"; "
					   "tiernet takes no --driver-opt on endpoints",
					   req->opts[i].key);
	if (!req->addr)
		return driver_errf(err, EINVAL, "tiernet: the endpoint has no IPv4 address; "
				   "tiernet needs Docker's IPAM to assign one");
	inet_ntop(AF_INET, &req->addr, ip, sizeof(ip));
	if ((req->addr & prefix_mask(n->prefix)) != n->pool || req->addr == n->gw)
		return driver_errf(err, EINVAL, "tiernet: address %s is not a host address of "
				   "the network's subnet", ip);
	return 0;
}

int driver_endpoint_create(const struct driver_ep_req *req, struct driver_ep_reply *reply,
			   struct driver_err *err)
{
	struct drv_ep *e = calloc(1, sizeof(*e)), *old;
	struct drv_net *n;
	int r;

	memset(reply, 0, sizeof(*reply));
	if (!e)
		return driver_errf(err, ENOMEM, "tiernet: out of memory");
	pthread_mutex_lock(&drv_lock);
	n = net_find(req->net_id);
	if (!n) {
		r = driver_errf(err, ENOENT, "tiernet: network %.12s is unknown to tiernet (its "
				"state was lost); remove the network and create it again",
				req->net_id);
		goto out_free;
	}
	r = ep_validate(req, n, err);
	if (r < 0)
		goto out_free;
	old = ep_find(req->id);
	if (old) {
		r = old->addr == req->addr && !strcmp(old->net_id, n->id) ? 0 :
			driver_errf(err, EEXIST, "tiernet: endpoint %.12s exists already",
				    req->id);
		reply->mac_set = !req->has_mac;
		memcpy(reply->mac, old->mac, 6);
		goto out_free;
	}
	snprintf(e->id, sizeof(e->id), "%s", req->id);
	snprintf(e->net_id, sizeof(e->net_id), "%s", n->id);
	e->addr = req->addr;
	e->prefix = req->prefix;
	if (req->has_mac)
		memcpy(e->mac, req->mac, 6);
	else
		driver_mac_from_ip(e->addr, e->mac);
	driver_veth_names(e->id, e->host, e->peer);
	r = link_veth_add(e->host, e->peer, n->bridge, e->mac, n->mtu, err);
	if (r < 0)
		goto out_free;
	r = state_save_ep(e, err);
	if (r < 0) {
		link_del(e->host);
		goto out_free;
	}
	e->next = drv_eps;
	drv_eps = e;
	reply->mac_set = !req->has_mac;
	memcpy(reply->mac, e->mac, 6);
	log_debug("endpoint %.12s created on %s: veth %s", e->id, n->bridge, e->host);
	e = NULL;
out_free:
	free(e);
	pthread_mutex_unlock(&drv_lock);
	return r;
}

int driver_endpoint_delete(const char *net_id, const char *ep_id, struct driver_err *err)
{
	struct drv_ep *e;

	(void)err;
	pthread_mutex_lock(&drv_lock);
	e = ep_find(ep_id);
	if (e && !strcmp(e->net_id, net_id)) {
		bool had_ports = e->nports > 0;
		struct driver_err fw;

		log_debug("endpoint %.12s deleted: veth %s", e->id, e->host);
		ep_destroy(e);
		if (had_ports && fw_sync(drv_policy, &fw) < 0)
			log_error("%s", fw.msg);
	} else {
		log_info("DeleteEndpoint for unknown endpoint %.12s: nothing to do", ep_id);
	}
	pthread_mutex_unlock(&drv_lock);
	return 0;
}

/* ---- Join / Leave / EndpointOperInfo ---- */

static struct drv_ep *ep_lookup(const char *net_id, const char *ep_id, struct driver_err *err)
{
	struct drv_ep *e = ep_find(ep_id);

	if (!e || strcmp(e->net_id, net_id)) {
		driver_errf(err, ENOENT, "tiernet: endpoint %.12s of network %.12s is unknown to "
			    "tiernet; stop the container and start it again", ep_id, net_id);
		return NULL;
	}
	return e;
}

/* ---- published ports (ProgramExternalConnectivity / Revoke) ---- */

/*
 * Makes ports[0..n) (malloc'ed, or NULL) the endpoint's published set and applies the rules.
 * On failure the old set is back in place (kernel and memory) and ports is freed.
 */
static int ports_replace(struct drv_ep *e, struct driver_port *ports, size_t n,
			 struct driver_err *err)
{
	struct driver_port *old = e->ports;
	size_t nold = e->nports;
	struct driver_err ignored;
	int r;

	e->ports = ports;
	e->nports = n;
	r = fw_sync(drv_policy, err);
	if (r < 0) {
		e->ports = old;
		e->nports = nold;
		fw_sync(drv_policy, &ignored);
		free(ports);
		return r;
	}
	free(old);
	return 0;
}

static bool same_binding(const struct driver_port *a, const struct driver_port *b)
{
	return a->proto == b->proto && a->host_port == b->host_port &&
	       (a->host_ip == b->host_ip || !a->host_ip || !b->host_ip);
}

/* The endpoint (other than self) that publishes p's host port already, or NULL. */
static const struct drv_ep *port_owner(const struct driver_port *p, const struct drv_ep *self)
{
	const struct drv_ep *e;
	size_t i;

	for (e = drv_eps; e; e = e->next)
		for (i = 0; e != self && i < e->nports; i++)
			if (same_binding(p, &e->ports[i]))
				return e;
	return NULL;
}

/* A host port nobody on the host has bound: test by binding it for a moment. */
static bool host_port_free(uint8_t proto, uint32_t host_ip, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = host_ip };
	int fd = socket(AF_INET, (proto == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC,
			0);
	bool ok;

	if (fd < 0)
		return false;
	ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

/* Chooses host ports for -p PORT and -P, reusing what this endpoint had for the same port. */
static int ports_resolve(struct drv_ep *e, struct driver_port *p, size_t n, struct driver_err *err)
{
	size_t i, j;
	unsigned hp;

	for (i = 0; i < n; i++) {
		if (p[i].host_port)
			continue;
		for (j = 0; j < e->nports; j++)
			if (e->ports[j].proto == p[i].proto && e->ports[j].port == p[i].port &&
			    e->ports[j].host_ip == p[i].host_ip)
				p[i].host_port = e->ports[j].host_port;
		for (hp = DRIVER_PORT_AUTO_LO; !p[i].host_port && hp <= DRIVER_PORT_AUTO_HI; hp++) {
			struct driver_port cand = p[i];

			cand.host_port = (uint16_t)hp;
			for (j = 0; j < i && !same_binding(&cand, &p[j]); j++)
				;
			if (j == i && !port_owner(&cand, e) &&
			    host_port_free(cand.proto, cand.host_ip, cand.host_port))
				p[i].host_port = (uint16_t)hp;
		}
		if (!p[i].host_port)
			return driver_errf(err, EADDRNOTAVAIL, "tiernet: no free host port left in "
					   "%d-%d for port %u", DRIVER_PORT_AUTO_LO,
					   DRIVER_PORT_AUTO_HI, p[i].port);
		p[i].host_port_end = p[i].host_port;
	}
	return 0;
}

static const char *proto_str(uint8_t p)
{
	return p == IPPROTO_UDP ? "udp" : "tcp";
}

/* Every mapping must be allowed by the policy and collide with no other mapping. */
static int ports_check(const struct drv_ep *e, const struct drv_net *n,
		       const struct driver_port *p, size_t cnt, struct driver_err *err)
{
	int tier = policy_tier_find(drv_policy, n->tier);
	bool internal = net_is_internal(n, drv_policy);
	const struct drv_ep *owner;
	char ip[INET_ADDRSTRLEN];
	size_t i, j;

	for (i = 0; i < cnt; i++) {
		if (policy_publish_check(drv_policy, tier, internal, p[i].proto, p[i].port,
					 p[i].host_ip, err->msg, sizeof(err->msg)) < 0)
			return -EPERM;
		if (!p[i].host_port)
			continue;
		owner = port_owner(&p[i], e);
		for (j = 0; !owner && j < i; j++)
			if (same_binding(&p[i], &p[j]))
				owner = e;
		if (owner) {
			ip_str_buf(owner->addr, ip);
			return driver_errf(err, EADDRINUSE, "tiernet: host port %u/%s is already "
					   "published to %s (endpoint %.12s); choose another host "
					   "port", p[i].host_port, proto_str(p[i].proto), ip,
					   owner->id);
		}
	}
	return 0;
}

static int publish(struct drv_ep *e, const struct drv_net *n, const struct driver_port *req,
		   size_t cnt, struct driver_err *err)
{
	struct driver_port *p = NULL;
	int r;

	if (cnt) {
		p = calloc(cnt, sizeof(*p));
		if (!p)
			return driver_errf(err, ENOMEM, "tiernet: out of memory");
		memcpy(p, req, cnt * sizeof(*p));
	}
	r = ports_check(e, n, p, cnt, err);
	if (!r)
		r = ports_resolve(e, p, cnt, err);
	if (r < 0) {
		free(p);
		return r;
	}
	r = ports_replace(e, p, cnt, err);
	if (!r)
		r = state_save_ep(e, err);
	return r;
}

int driver_publish(const struct driver_pec_req *req, struct driver_err *err)
{
	struct drv_ep *e;
	struct drv_net *n;
	int r = -ENOENT;

	pthread_mutex_lock(&drv_lock);
	e = ep_lookup(req->net_id, req->id, err);
	n = e ? net_find(e->net_id) : NULL;
	if (n)
		r = publish(e, n, req->ports, req->nports, err);
	if (!r && req->nports)
		log_info("endpoint %.12s publishes %zu port(s)", e->id, req->nports);
	pthread_mutex_unlock(&drv_lock);
	return r;
}

int driver_unpublish(const char *net_id, const char *ep_id, struct driver_err *err)
{
	struct drv_ep *e;
	int r = 0;

	pthread_mutex_lock(&drv_lock);
	e = ep_find(ep_id);
	if (e && !strcmp(e->net_id, net_id) && e->nports) {
		r = ports_replace(e, NULL, 0, err);
		if (!r)
			r = state_save_ep(e, err);
	}
	pthread_mutex_unlock(&drv_lock);
	return r;
}

/*
 * dockerd never sends ProgramExternalConnectivity on a Docker --internal network (PROTOCOL.md
 * §3.5), so ports bound to 127.0.0.1 (host access, allowed on every tier) are published at
 * Join.  Ports for the world are left to the container's non-internal gateway endpoint, if
 * it has one: said in the log, never dropped silently.
 */
static int publish_internal(struct drv_ep *e, const struct drv_net *n,
			    const struct driver_join_req *req, struct driver_err *err)
{
	struct driver_port *loop = calloc(req->nports, sizeof(*loop));
	size_t i, k = 0;
	int r;

	if (!loop)
		return driver_errf(err, ENOMEM, "tiernet: out of memory");
	for (i = 0; i < req->nports; i++) {
		if (req->ports[i].host_ip == htonl(INADDR_LOOPBACK))
			loop[k++] = req->ports[i];
		else
			log_warnx("endpoint %.12s is on --internal network %.12s: port %u/%s is "
				  "published only through a non-internal network of the container",
				  e->id, n->id, req->ports[i].port, proto_str(req->ports[i].proto));
	}
	r = k ? publish(e, n, loop, k, err) : 0;
	free(loop);
	return r;
}

int driver_join(const struct driver_join_req *req, struct driver_join_reply *reply,
		struct driver_err *err)
{
	struct drv_ep *e;
	struct drv_net *n;
	int r = 0;

	memset(reply, 0, sizeof(*reply));
	pthread_mutex_lock(&drv_lock);
	e = ep_lookup(req->net_id, req->id, err);
	n = e ? net_find(e->net_id) : NULL;
	if (!e || !n) {
		r = -ENOENT;
		goto out;
	}
	if (link_index(e->peer) < 0) {
		r = driver_errf(err, ENODEV, "tiernet: the container end %s of endpoint %.12s is "
				"missing; stop the container and start it again", e->peer, e->id);
		goto out;
	}
	snprintf(e->sandbox, sizeof(e->sandbox), "%s", req->sandbox);
	e->joined = true;
	r = state_save_ep(e, err);
	if (r < 0) {
		e->joined = false;
		e->sandbox[0] = '\0';
		goto out;
	}
	if (n->internal && req->nports)
		r = publish_internal(e, n, req, err);
	if (r < 0)
		goto out;
	snprintf(reply->src_name, sizeof(reply->src_name), "%s", e->peer);
	reply->gateway = n->gw;
	reply->disable_gateway_service = net_is_internal(n, drv_policy);
out:
	pthread_mutex_unlock(&drv_lock);
	return r;
}

int driver_leave(const char *net_id, const char *ep_id, struct driver_err *err)
{
	struct drv_ep *e;
	int r = 0;

	pthread_mutex_lock(&drv_lock);
	e = ep_find(ep_id);
	if (!e || strcmp(e->net_id, net_id)) {
		log_info("Leave for unknown endpoint %.12s: nothing to do", ep_id);
		goto out;
	}
	if (e->nports)
		ports_replace(e, NULL, 0, err);
	e->joined = false;
	e->sandbox[0] = '\0';
	r = state_save_ep(e, err);
out:
	pthread_mutex_unlock(&drv_lock);
	return r;
}

int driver_endpoint_check(const char *net_id, const char *ep_id, struct driver_err *err)
{
	int r;

	pthread_mutex_lock(&drv_lock);
	r = ep_lookup(net_id, ep_id, err) ? 0 : -ENOENT;
	pthread_mutex_unlock(&drv_lock);
	return r;
}

/* ---- status ---- */


static void status_ports(cJSON *j, const struct drv_ep *e)
{
	cJSON *a = cJSON_AddArrayToObject(j, "ports");
	char ip[INET_ADDRSTRLEN], s[64];
	size_t i;

	for (i = 0; a && i < e->nports; i++) {
		cJSON *p = cJSON_CreateObject();

		ip_str_buf(e->ports[i].host_ip, ip);
		snprintf(s, sizeof(s), "%s:%u", ip, e->ports[i].host_port);
		cJSON_AddStringToObject(p, "host", s);
		ip_str_buf(e->addr, ip);
		snprintf(s, sizeof(s), "%s:%u", ip, e->ports[i].port);
		cJSON_AddStringToObject(p, "container", s);
		cJSON_AddStringToObject(p, "proto", proto_str(e->ports[i].proto));
		cJSON_AddItemToArray(a, p);
	}
}

static cJSON *status_json(void)
{
	cJSON *o = cJSON_CreateObject(), *tiers, *nets, *eps;
	char ip[INET_ADDRSTRLEN], cidr[32];
	struct drv_net *n;
	struct drv_ep *e;
	size_t i;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "firewall", drv_fw_mode == NFT_MODE_NFT ?
				"nft pass-through + legacy chains" : "legacy chains");
	tiers = cJSON_AddArrayToObject(o, "tiers");
	for (i = 0; tiers && i < drv_policy->ntiers; i++) {
		cJSON *t = cJSON_CreateObject();

		cJSON_AddStringToObject(t, "name", drv_policy->tiers[i].name);
		cJSON_AddBoolToObject(t, "internal", drv_policy->tiers[i].internal);
		cJSON_AddBoolToObject(t, "isolated", drv_policy->tiers[i].isolated);
		cJSON_AddItemToArray(tiers, t);
	}
	nets = cJSON_AddArrayToObject(o, "networks");
	for (n = drv_nets; nets && n; n = n->next) {
		cJSON *j = cJSON_CreateObject();

		ip_str_buf(n->pool, ip);
		snprintf(cidr, sizeof(cidr), "%s/%u", ip, n->prefix);
		cJSON_AddStringToObject(j, "id", n->id);
		cJSON_AddStringToObject(j, "bridge", n->bridge);
		cJSON_AddStringToObject(j, "subnet", cidr);
		ip_str_buf(n->gw, ip);
		cJSON_AddStringToObject(j, "gateway", ip);
		cJSON_AddStringToObject(j, "tier", n->tier);
		cJSON_AddBoolToObject(j, "internal", net_is_internal(n, drv_policy));
		cJSON_AddItemToArray(nets, j);
	}
	eps = cJSON_AddArrayToObject(o, "endpoints");
	for (e = drv_eps; eps && e; e = e->next) {
		cJSON *j = cJSON_CreateObject();

		ip_str_buf(e->addr, ip);
		cJSON_AddStringToObject(j, "id", e->id);
		cJSON_AddStringToObject(j, "network", e->net_id);
		cJSON_AddStringToObject(j, "address", ip);
		cJSON_AddStringToObject(j, "veth", e->host);
		cJSON_AddStringToObject(j, "sandbox", e->sandbox);
		status_ports(j, e);
		cJSON_AddItemToArray(eps, j);
	}
	return o;
}

static char *status_text(const cJSON *o)
{
	const cJSON *c;
	char *rules = iptc_dump(), *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f) {
		free(rules);
		return NULL;
	}
	fprintf(f, "firewall: %s\n\ntiers:\n",
		cJSON_GetObjectItem(o, "firewall")->valuestring);
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(o, "tiers"))
		fprintf(f, "  %s%s%s\n", cJSON_GetObjectItem(c, "name")->valuestring,
			cJSON_IsTrue(cJSON_GetObjectItem(c, "internal")) ? " internal" : "",
			cJSON_IsTrue(cJSON_GetObjectItem(c, "isolated")) ? " isolated" : "");
	fprintf(f, "\nnetworks:\n  %-12s  %-15s  %-18s  %-15s  %s\n", "ID", "BRIDGE", "SUBNET",
		"GATEWAY", "TIER");
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(o, "networks"))
		fprintf(f, "  %.12s  %-15s  %-18s  %-15s  %s%s\n",
			cJSON_GetObjectItem(c, "id")->valuestring,
			cJSON_GetObjectItem(c, "bridge")->valuestring,
			cJSON_GetObjectItem(c, "subnet")->valuestring,
			cJSON_GetObjectItem(c, "gateway")->valuestring,
			cJSON_GetObjectItem(c, "tier")->valuestring,
			cJSON_IsTrue(cJSON_GetObjectItem(c, "internal")) ? " (internal)" : "");
	fprintf(f, "\nendpoints:\n  %-12s  %-12s  %-15s  %-15s  %s\n", "ID", "NETWORK", "ADDRESS",
		"VETH", "SANDBOX");
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(o, "endpoints"))
		fprintf(f, "  %.12s  %.12s  %-15s  %-15s  %s\n",
			cJSON_GetObjectItem(c, "id")->valuestring,
			cJSON_GetObjectItem(c, "network")->valuestring,
			cJSON_GetObjectItem(c, "address")->valuestring,
			cJSON_GetObjectItem(c, "veth")->valuestring,
			cJSON_GetObjectItem(c, "sandbox")->valuestring);
	fprintf(f, "\npublished ports:\n  %-12s  %-21s     %s\n", "ENDPOINT", "HOST", "CONTAINER");
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(o, "endpoints")) {
		const cJSON *p;

		cJSON_ArrayForEach(p, cJSON_GetObjectItem(c, "ports"))
			fprintf(f, "  %.12s  %-21s  -> %s/%s\n",
				cJSON_GetObjectItem(c, "id")->valuestring,
				cJSON_GetObjectItem(p, "host")->valuestring,
				cJSON_GetObjectItem(p, "container")->valuestring,
				cJSON_GetObjectItem(p, "proto")->valuestring);
	}
	fprintf(f, "\nrules in the kernel (legacy x_tables):\n%s", rules ? rules : "(unreadable)\n");
	fclose(f);
	free(rules);
	return out;
}

char *driver_status(bool json)
{
	cJSON *o;
	char *s = NULL;

	pthread_mutex_lock(&drv_lock);
	o = status_json();
	if (o && json)
		s = cJSON_Print(o);
	else if (o)
		s = status_text(o);
	pthread_mutex_unlock(&drv_lock);
	cJSON_Delete(o);
	return s;
}
