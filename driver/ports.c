/*
 * Published ports (ProgramExternalConnectivity / RevokeExternalConnectivity): the policy gate,
 * host port conflicts, the host ports tiernet picks for -p PORT and -P, and the DNAT rules.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "driver/internal.h"
#include "lib/log.h"

/* ---- published ports (ProgramExternalConnectivity / Revoke) ---- */

static bool same_port(const struct driver_port *a, const struct driver_port *b)
{
	return a->proto == b->proto && a->port == b->port && a->family == b->family &&
	       a->host_ip == b->host_ip &&
	       !memcmp(&a->host_ip6, &b->host_ip6, sizeof(a->host_ip6)) &&
	       a->host_port == b->host_port && a->host_port_end == b->host_port_end;
}

bool drv_port_in(const struct driver_port *p, int family)
{
	return !p->family || p->family == family;
}

bool drv_port_host_only(const struct driver_port *p)
{
	return p->family == AF_INET && p->host_ip == htonl(INADDR_LOOPBACK);
}

/* Does new[0..n) lack a mapping of old[0..nold)?  Then connections through it must go. */
static bool lost_any(const struct driver_port *old, size_t nold, const struct driver_port *new,
		     size_t n)
{
	size_t i, j;

	for (i = 0; i < nold; i++) {
		for (j = 0; j < n && !same_port(&old[i], &new[j]); j++)
			;
		if (j == n)
			return true;
	}
	return false;
}

/*
 * Makes ports[0..n) (malloc'ed, or NULL) the endpoint's published set and applies the rules.
 * On failure the old set is back in place (kernel and memory) and ports is freed.
 */
int drv_ports_replace(struct drv_ep *e, struct driver_port *ports, size_t n, struct err *err)
{
	struct driver_port *old = e->ports;
	size_t nold = e->nports;
	bool lost = lost_any(old, nold, ports, n);
	struct err ignored;
	int r;

	e->ports = ports;
	e->nports = n;
	/*
	 * The same set (dockerd's ProgramExternalConnectivity without ports, on every start of
	 * a container) compiles to the same rules: nothing to commit.
	 */
	if (n == nold && !lost && !lost_any(ports, n, old, nold)) {
		free(old);
		return 0;
	}
	r = drv_fw_sync_ports(lost, err);
	if (r < 0) {
		e->ports = old;
		e->nports = nold;
		drv_fw_sync_ports(false, &ignored);
		free(ports);
		return r;
	}
	free(old);
	return 0;
}

int drv_ports_commit(struct drv_ep *e, struct driver_port *ports, size_t n, struct err *err)
{
	struct driver_port *old = NULL;
	size_t nold = e->nports;
	struct err ignored;
	int r;

	if (nold) {
		old = calloc(nold, sizeof(*old));
		if (!old) {
			free(ports);
			return err_set(err, ENOMEM, "tiernet: out of memory");
		}
		memcpy(old, e->ports, nold * sizeof(*old));
	}
	r = drv_ports_replace(e, ports, n, err);
	if (r == 0) {
		r = drv_ep_save(e, err);
		/* not saved: the kernel and memory go back to what the state file says */
		if (r < 0) {
			drv_ports_replace(e, old, nold, &ignored); /* takes old, also on failure */
			old = NULL;
		}
	}
	free(old);
	return r;
}

/* Would a and b take the same host port on an address of either family? */
static bool same_binding(const struct driver_port *a, const struct driver_port *b)
{
	bool v4 = drv_port_in(a, AF_INET) && drv_port_in(b, AF_INET) &&
		  (a->host_ip == b->host_ip || !a->host_ip || !b->host_ip);
	bool v6 = drv_port_in(a, AF_INET6) && drv_port_in(b, AF_INET6) &&
		  (!memcmp(&a->host_ip6, &b->host_ip6, sizeof(a->host_ip6)) ||
		   IN6_IS_ADDR_UNSPECIFIED(&a->host_ip6) || IN6_IS_ADDR_UNSPECIFIED(&b->host_ip6));

	return a->proto == b->proto && a->host_port == b->host_port && (v4 || v6);
}

/* The endpoint (other than self) that publishes p's host port already, or NULL. */
static const struct drv_ep *port_owner(const struct driver_port *p, const struct drv_ep *self)
{
	const struct drv_ep *e;
	size_t i;

	for (e = drv.eps; e; e = e->next)
		for (i = 0; e != self && i < e->nports; i++)
			if (same_binding(p, &e->ports[i]))
				return e;
	return NULL;
}

/* Can a socket of family bind the port now?  A host without IPv6 has no IPv6 port in use. */
static bool bind_free(int family, uint8_t proto, const void *sa, socklen_t len)
{
	int one = 1,
	    fd =
		socket(family, (proto == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return family == AF_INET6 && errno == EAFNOSUPPORT;
	/* an IPv6 socket must not also claim the IPv4 port: that is the other test's */
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	ok = bind(fd, sa, len) == 0;
	close(fd);
	return ok;
}

/* A host port nobody on the host has bound, in the families p publishes on. */
static bool host_port_free(const struct driver_port *p)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(p->host_port),
				  .sin_addr.s_addr = p->host_ip };
	struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6,
				    .sin6_port = htons(p->host_port),
				    .sin6_addr = p->host_ip6 };

	return (!drv_port_in(p, AF_INET) || bind_free(AF_INET, p->proto, &sa, sizeof(sa))) &&
	       (!drv_port_in(p, AF_INET6) || bind_free(AF_INET6, p->proto, &sa6, sizeof(sa6)));
}

/* Chooses host ports for -p PORT and -P, reusing what this endpoint had for the same port. */
static int ports_resolve(struct drv_ep *e, struct driver_port *p, size_t n, struct err *err)
{
	size_t i, j;
	unsigned hp;

	for (i = 0; i < n; i++) {
		if (p[i].host_port)
			continue;
		for (j = 0; j < e->nports; j++)
			if (e->ports[j].proto == p[i].proto && e->ports[j].port == p[i].port &&
			    e->ports[j].family == p[i].family &&
			    e->ports[j].host_ip == p[i].host_ip &&
			    !memcmp(&e->ports[j].host_ip6, &p[i].host_ip6, sizeof(p[i].host_ip6)))
				p[i].host_port = e->ports[j].host_port;
		for (hp = DRIVER_PORT_AUTO_LO; !p[i].host_port && hp <= DRIVER_PORT_AUTO_HI; hp++) {
			struct driver_port cand = p[i];

			cand.host_port = (uint16_t)hp;
			for (j = 0; j < i && !same_binding(&cand, &p[j]); j++)
				;
			if (j == i && !port_owner(&cand, e) && host_port_free(&cand))
				p[i].host_port = (uint16_t)hp;
		}
		if (!p[i].host_port)
			return err_set(err, EADDRNOTAVAIL,
				       "tiernet: no free host port left in "
				       "%d-%d for port %u",
				       DRIVER_PORT_AUTO_LO, DRIVER_PORT_AUTO_HI, p[i].port);
		p[i].host_port_end = p[i].host_port;
	}
	return 0;
}

const char *drv_proto_str(uint8_t p)
{
	return p == IPPROTO_UDP ? "udp" : "tcp";
}

/* Every mapping must be allowed by the policy and collide with no other mapping. */
static int ports_check(const struct drv_ep *e, const struct drv_net *n, const struct driver_port *p,
		       size_t cnt, struct err *err)
{
	int tier = policy_tier_find(drv.policy, n->tier);
	bool internal = drv_net_internal(n, drv.policy);
	const struct drv_ep *owner;
	char ip[INET_ADDRSTRLEN];
	size_t i, j;

	for (i = 0; i < cnt; i++) {
		if (p[i].family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&p[i].host_ip6))
			return err_set(err, EADDRNOTAVAIL,
				       "tiernet: port %u/%s cannot be published on [::1]: Linux "
				       "cannot "
				       "forward the IPv6 loopback address to a container (there is "
				       "no "
				       "IPv6 route_localnet, and tiernet runs no proxy); publish "
				       "it on "
				       "127.0.0.1 for the host only (-p 127.0.0.1:%u:%u)",
				       p[i].port, drv_proto_str(p[i].proto),
				       p[i].host_port ? p[i].host_port : p[i].port, p[i].port);
		if (policy_publish_check(drv.policy, tier, internal, p[i].proto, p[i].port,
					 drv_port_host_only(&p[i]), err->msg, sizeof(err->msg)) < 0)
			return -EPERM;
		if (!p[i].host_port)
			continue;
		owner = port_owner(&p[i], e);
		for (j = 0; !owner && j < i; j++)
			if (same_binding(&p[i], &p[j]))
				owner = e;
		if (owner) {
			drv_ip_str(owner->addr, ip);
			return err_set(err, EADDRINUSE,
				       "tiernet: host port %u/%s is already "
				       "published to %s (endpoint %.12s); choose another host "
				       "port",
				       p[i].host_port, drv_proto_str(p[i].proto), ip, owner->id);
		}
	}
	return 0;
}

static int publish(struct drv_ep *e, const struct drv_net *n, const struct driver_port *req,
		   size_t cnt, struct err *err)
{
	struct driver_port *p = NULL;
	int r;

	if (cnt) {
		p = calloc(cnt, sizeof(*p));
		if (!p)
			return err_set(err, ENOMEM, "tiernet: out of memory");
		memcpy(p, req, cnt * sizeof(*p));
	}
	r = ports_check(e, n, p, cnt, err);
	if (!r)
		r = ports_resolve(e, p, cnt, err);
	if (r < 0) {
		free(p);
		return r;
	}
	return drv_ports_commit(e, p, cnt, err);
}

int driver_publish(const struct driver_pec_req *req, struct err *err)
{
	struct drv_ep *e;
	struct drv_net *n;
	int r = -ENOENT;

	pthread_mutex_lock(&drv.lock);
	e = drv_ep_lookup(req->net_id, req->id, err);
	n = e ? drv_net_find(e->net_id) : NULL;
	if (n)
		r = publish(e, n, req->ports, req->nports, err);
	if (!r && req->nports)
		log_info("endpoint %.12s publishes %zu port(s)", e->id, req->nports);
	pthread_mutex_unlock(&drv.lock);
	return r;
}

int driver_unpublish(const char *net_id, const char *ep_id, struct err *err)
{
	struct drv_ep *e;
	int r = 0;

	pthread_mutex_lock(&drv.lock);
	e = drv_ep_wait(ep_id);
	if (e && !strcmp(e->net_id, net_id) && e->nports)
		r = drv_ports_commit(e, NULL, 0, err);
	pthread_mutex_unlock(&drv.lock);
	return r;
}

/*
 * dockerd never sends ProgramExternalConnectivity on a Docker --internal network (PROTOCOL.md
 * §3.5), so ports bound to 127.0.0.1 or ::1 (host access, allowed on every tier) are published at
 * Join.  Ports for the world are left to the container's non-internal gateway endpoint, if
 * it has one: said in the log, never dropped silently.
 */
int drv_publish_internal(struct drv_ep *e, const struct drv_net *n,
			 const struct driver_join_req *req, struct err *err)
{
	struct driver_port *loop = calloc(req->nports, sizeof(*loop));
	size_t i, k = 0;
	int r;

	if (!loop)
		return err_set(err, ENOMEM, "tiernet: out of memory");
	for (i = 0; i < req->nports; i++) {
		if (drv_port_host_only(&req->ports[i]))
			loop[k++] = req->ports[i];
		else
			log_warnx("endpoint %.12s is on --internal network %.12s: port %u/%s is "
				  "published only through a non-internal network of the container",
				  e->id, n->id, req->ports[i].port,
				  drv_proto_str(req->ports[i].proto));
	}
	r = k ? publish(e, n, loop, k, err) : 0;
	free(loop);
	return r;
}
