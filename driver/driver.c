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
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "config/config.h"
#include "driver/internal.h"
#include "lib/log.h"

pthread_mutex_t drv_lock = PTHREAD_MUTEX_INITIALIZER;
struct policy *drv_policy;
struct drv_net *drv_nets;	/* in creation order: the firewall is compiled in it */
struct drv_ep *drv_eps;
enum nft_mode drv_fw_mode;

/* ---- lookups and lists ---- */

void drv_ip_str(uint32_t a, char s[INET_ADDRSTRLEN])
{
	inet_ntop(AF_INET, &a, s, INET_ADDRSTRLEN);
}

struct drv_net *drv_net_find(const char *id)
{
	struct drv_net *n;

	for (n = drv_nets; n; n = n->next)
		if (!strcmp(n->id, id))
			return n;
	return NULL;
}

struct drv_net *drv_net_find_bridge(const char *bridge)
{
	struct drv_net *n;

	for (n = drv_nets; n; n = n->next)
		if (!strcmp(n->bridge, bridge))
			return n;
	return NULL;
}

/*
 * Endpoints by ID: Docker's IDs are random hex, so the first 8 digits spread evenly.  A join
 * or leave then costs the same with 10 or 5,000 containers.
 */
#define EP_HASH_SIZE 4096
static struct drv_ep *ep_hash[EP_HASH_SIZE];

static size_t ep_bucket(const char *id)
{
	return (size_t)strtoul((char[9]){ id[0], id[1], id[2], id[3], id[4], id[5], id[6], id[7],
					  '\0' }, NULL, 16) % EP_HASH_SIZE;
}

struct drv_ep *drv_ep_find(const char *id)
{
	struct drv_ep *e;

	if (strlen(id) < 8)
		return NULL;
	for (e = ep_hash[ep_bucket(id)]; e; e = e->hnext)
		if (!strcmp(e->id, id))
			return e;
	return NULL;
}

void drv_ep_insert(struct drv_ep *e)
{
	struct drv_ep **head = &ep_hash[ep_bucket(e->id)];
	struct drv_net *n = drv_net_find(e->net_id);

	e->next = drv_eps;
	if (drv_eps)
		drv_eps->pprev = &e->next;
	drv_eps = e;
	e->pprev = &drv_eps;
	e->hnext = *head;
	if (*head)
		(*head)->hpprev = &e->hnext;
	*head = e;
	e->hpprev = head;
	if (n)
		n->neps++;
}

void drv_ep_unlink(struct drv_ep *e)
{
	struct drv_net *n = drv_net_find(e->net_id);

	if (!e->pprev)
		return;
	*e->pprev = e->next;
	if (e->next)
		e->next->pprev = e->pprev;
	*e->hpprev = e->hnext;
	if (e->hnext)
		e->hnext->hpprev = e->hpprev;
	e->pprev = e->hpprev = NULL;
	if (n && n->neps)
		n->neps--;
}

void drv_ep_free(struct drv_ep *e)
{
	if (e)
		free(e->ports);
	free(e);
}

void drv_net_append(struct drv_net *n)
{
	struct drv_net **pp = &drv_nets;
	uint64_t seq = 0;

	for (; *pp; pp = &(*pp)->next)
		seq = (*pp)->seq;
	if (!n->seq)
		n->seq = seq + 1;
	n->next = NULL;
	*pp = n;
}

void drv_net_unlink(struct drv_net *n)
{
	struct drv_net **pp;

	for (pp = &drv_nets; *pp; pp = &(*pp)->next)
		if (*pp == n) {
			*pp = n->next;
			return;
		}
}

uint32_t drv_prefix_mask(uint8_t prefix)
{
	return prefix ? htonl(~0u << (32 - prefix)) : 0;
}

bool drv_net_internal(const struct drv_net *n, const struct policy *pol)
{
	int t = policy_tier_find(pol, n->tier);

	return n->internal || (t >= 0 && pol->tiers[t].internal);
}

void drv_ep_destroy(struct drv_ep *e)
{
	int r = link_del(e->host);

	if (r < 0)
		log_warnx("cannot delete veth %s of endpoint %.12s: %s", e->host, e->id,
			  strerror(-r));
	r = state_del_ep(e->id);
	if (r < 0)
		log_warnx("cannot delete the state file of endpoint %.12s: %s", e->id,
			  strerror(-r));
	drv_ep_unlink(e);
	drv_ep_free(e);
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

int drv_fw_sync(const struct policy *pol, struct err *err)
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
		r = err_set(err, ENOMEM, "tiernet: out of memory compiling the firewall");
		goto out;
	}
	for (n = drv_nets; n; n = n->next, i++) {
		snprintf(nets[i].bridge, sizeof(nets[i].bridge), "%s", n->bridge);
		nets[i].addr = n->gw;
		nets[i].mask = drv_prefix_mask(n->prefix);
		nets[i].tier = policy_tier_find(pol, n->tier);
		nets[i].internal = drv_net_internal(n, pol);
	}
	r = policy_compile(pol, nets, count, &rs);
	if (!r && count)
		r = policy_compile_maps(maps, nmaps, &rs);
	if (r < 0) {
		err_set(err, -r, "tiernet: cannot compile the firewall rules: %s",
			    strerror(-r));
		goto out;
	}
	r = iptc_apply(&rs);
	if (r < 0) {
		err_set(err, -r, "tiernet: cannot apply the firewall rules: %s", iptc_error());
		goto out;
	}
	drv_fw_mode = nft_detect();
	r = count ? nft_passthrough_ensure() : nft_passthrough_remove();
	if (r < 0)
		err_set(err, -r,
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
void drv_ip_forward_on(void)
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
void drv_route_localnet_on(const char *bridge)
{
	int r = link_route_localnet(bridge);

	if (r < 0)
		log_warnx("cannot set route_localnet on %s: %s; ports published on 127.0.0.1 will "
			  "not reach its containers", bridge, strerror(-r));
}

/* ---- start-up ---- */

/* readdir order is arbitrary: keep the list in creation order, so the rules are the same
 * after every restart. */
static void load_net(struct drv_net *n)
{
	struct drv_net **pp = &drv_nets;

	while (*pp && ((*pp)->seq < n->seq ||
		       ((*pp)->seq == n->seq && strcmp((*pp)->id, n->id) < 0)))
		pp = &(*pp)->next;
	n->next = *pp;
	*pp = n;
}

static void load_ep(struct drv_ep *e)
{
	drv_ep_insert(e);
}

static void load_bad(const char *path, const char *why)
{
	log_error("state file %s %s; moved aside as %s.corrupt. Its object is lost: remove the "
		  "affected Docker network or container and create it again", path, why, path);
}

static size_t count_nets(void)
{
	struct drv_net *n;
	size_t c = 0;

	for (n = drv_nets; n; n = n->next)
		c++;
	return c;
}

static size_t count_eps(void)
{
	struct drv_ep *e;
	size_t c = 0;

	for (e = drv_eps; e; e = e->next)
		c++;
	return c;
}

static void net_fixup(struct drv_net *n)
{
	drv_route_localnet_on(n->bridge);
}

/* Brings the kernel in line with the state just loaded (reconcile.c says how). */
static void reconcile(const struct policy *pol)
{
	struct drv_ep *e, *next;
	int r;

	(void)pol;
	state_batch(true);
	reconcile_networks(drv_nets, drv_eps, net_fixup);
	for (e = drv_eps; e; e = next) {
		next = e->next;
		if (drv_net_find(e->net_id)) {
			if (reconcile_endpoint_gone(e))
				drv_ep_destroy(e);
		} else if (link_index(e->host) >= 0 && link_index(e->peer) < 0) {
			/* Its network's state was lost, but a running container uses the veth. */
			log_error("endpoint %.12s belongs to no known network (its state file was "
				  "lost) but its container is running; its veth %s is kept and its "
				  "state file moved aside (.orphaned): stop the container, then remove "
				  "and re-create the network", e->id, e->host);
			state_set_aside_ep(e->id);
			drv_ep_unlink(e);
			drv_ep_free(e);
		} else {
			log_warnx("endpoint %.12s belongs to no known network; removing it", e->id);
			drv_ep_destroy(e);
		}
	}
	state_batch(false);
	r = reconcile_orphans(drv_nets, drv_eps);
	if (r < 0)
		log_warnx("cannot list links to remove orphans: %s", strerror(-r));
}

/*
 * One tiernet per network namespace: every instance rewrites all TIERNET chains from its own
 * networks, so a second one would silently wipe the first one's rules.  An abstract Unix
 * socket is the lock: its name lives in the network namespace, and the kernel releases it
 * when the process dies, even by SIGKILL.
 */
static int instance_lock(struct err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static const char name[] = "tiernet.driver";
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return err_set(err, errno, "tiernet: cannot create the instance lock: %s",
				   strerror(errno));
	memcpy(sa.sun_path + 1, name, sizeof(name) - 1);
	if (bind(fd, (struct sockaddr *)&sa, offsetof(struct sockaddr_un, sun_path) + sizeof(name)) <
	    0) {
		int e = errno;

		close(fd);
		if (e == EADDRINUSE)
			return err_set(err, EBUSY, "tiernet: another tiernet daemon runs in "
					   "this network namespace already; stop it first (one "
					   "tiernet per host)");
		return err_set(err, e, "tiernet: cannot take the instance lock: %s",
				   strerror(e));
	}
	return 0;	/* the descriptor stays open for the life of the process */
}

int driver_init(const char *state_dir, struct policy *pol, struct err *err)
{
	struct drv_net *n;
	int r;

	r = instance_lock(err);
	if (r < 0)
		return r;
	r = state_open(state_dir, err);
	if (r < 0)
		return r;
	r = state_load(load_net, load_ep, load_bad);
	if (r < 0)
		return err_set(err, -r, "tiernet: cannot read state in %s: %s", state_dir,
				   strerror(-r));
	for (n = drv_nets; n; n = n->next)
		if (policy_tier_find(pol, n->tier) < 0)
			return err_set(err, ENOENT,
					   "tiernet: network %.12s uses tier \"%s\", which the "
					   "policy does not declare; declare it again",
					   n->id, n->tier);
	drv_policy = pol;
	reconcile(pol);
	if (drv_nets)
		drv_ip_forward_on();
	r = drv_fw_sync(pol, err);
	if (r < 0)
		drv_policy = NULL;	/* the caller keeps pol when we fail */
	if (r == 0)
		log_info("state loaded: %zu network(s), %zu endpoint(s)", count_nets(), count_eps());
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
		drv_ep_free(e);
	}
	memset(ep_hash, 0, sizeof(ep_hash));
	policy_free(drv_policy);
	drv_policy = NULL;
	pthread_mutex_unlock(&drv_lock);
}

int driver_set_policy(struct policy *pol, struct err *err)
{
	struct drv_net *n;
	int r = 0;

	pthread_mutex_lock(&drv_lock);
	for (n = drv_nets; n; n = n->next)
		if (policy_tier_find(pol, n->tier) < 0) {
			r = err_set(err, EBUSY,
					"tiernet: the new policy drops tier \"%s\", which network "
					"%.12s (bridge %s) uses; keep the tier or remove the "
					"network first", n->tier, n->id, n->bridge);
			goto out;
		}
	r = drv_fw_sync(pol, err);
	if (r < 0) {
		struct err ignored;

		drv_fw_sync(drv_policy, &ignored);	/* put the old rules back */
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

