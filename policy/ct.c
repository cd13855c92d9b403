/*
 * Cutting the connections the rules no longer allow.  The conntrack shortcut at the top of
 * mangle TIERNET-FWD (and filter TIERNET-IN) lets every packet of an established connection
 * through without asking the policy again, which is what makes replies cheap; so when a
 * change takes an edge, a port of an edge, a published port or a network away, the
 * connections it allowed must go from the conntrack table too, or they live on.
 *
 * Each IPv4 connection that touches a tiernet subnet is judged as its first packet was:
 * from its original source to its destination after DNAT (the container a published port
 * leads to), against the matrix the new rules enforce (policy_flow_allowed), and one that
 * came through a published port only while that port is still published.  The host may
 * always open connections; a connection between two outside addresses is not tiernet's.
 * What is not allowed any more is deleted through ctnetlink (libnetfilter_conntrack).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

#include "policy/internal.h"

struct sweep {
	const struct policy_flows *f;
	uint32_t *local; /* the host's IPv4 addresses */
	size_t nlocal;
	struct nf_conntrack **doomed;
	size_t ndoomed, cap;
	int err;
};

static bool in_net(uint32_t a, uint32_t net, uint32_t mask)
{
	return (a & mask) == (net & mask);
}

static bool is_local(const struct sweep *s, uint32_t a)
{
	size_t i;

	if ((ntohl(a) >> 24) == 127)
		return true;
	for (i = 0; i < s->nlocal; i++)
		if (s->local[i] == a)
			return true;
	return false;
}

/* POLICY_HOST, a tier index, or POLICY_WORLD for address a. */
static int side_of(const struct sweep *s, uint32_t a)
{
	size_t i;

	for (i = 0; i < s->f->n; i++)
		if (in_net(a, s->f->nets[i].addr, s->f->nets[i].mask))
			return s->f->nets[i].tier;
	return is_local(s, a) ? POLICY_HOST : POLICY_WORLD;
}

static bool in_gone(const struct sweep *s, uint32_t a)
{
	size_t i;

	for (i = 0; i < s->f->ngone; i++)
		if (in_net(a, s->f->gone[i].addr, s->f->gone[i].mask))
			return true;
	return false;
}

/* Does a published port of f lead from host address odst, port oport, to dst:dport? */
static bool published(const struct policy_flows *f, uint8_t proto, uint32_t odst, uint16_t oport,
		      uint32_t dst, uint16_t dport)
{
	size_t i;

	for (i = 0; i < f->nmaps; i++)
		if (f->maps[i].proto == proto && f->maps[i].host_port == oport &&
		    (!f->maps[i].host_ip || f->maps[i].host_ip == odst) && f->maps[i].addr == dst &&
		    f->maps[i].port == dport)
			return true;
	return false;
}

static bool allowed(const struct sweep *s, const struct nf_conntrack *ct)
{
	uint32_t src = nfct_get_attr_u32(ct, ATTR_ORIG_IPV4_SRC);
	uint32_t odst = nfct_get_attr_u32(ct, ATTR_ORIG_IPV4_DST);
	uint32_t dst = nfct_get_attr_u32(ct, ATTR_REPL_IPV4_SRC); /* after DNAT */
	uint8_t proto = nfct_get_attr_u8(ct, ATTR_ORIG_L4PROTO);
	uint16_t oport = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST));
	uint16_t dport = ntohs(nfct_get_attr_u16(ct, ATTR_REPL_PORT_SRC));
	bool dnat;
	int from, to;

	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		oport = dport = 0;
	dnat = dst != odst || oport != dport;
	if (in_gone(s, src) || in_gone(s, dst))
		return false;
	from = side_of(s, src);
	to = side_of(s, dst);
	if (from == POLICY_WORLD && to == POLICY_WORLD)
		return true; /* not tiernet's */
	/* A published port leads to a container only while it is published. */
	if (dnat && to >= 0 && !published(s->f, proto, odst, oport, dst, dport))
		return false;
	if (from == POLICY_WORLD && !dnat)
		return false; /* the world reaches containers through published ports only */
	return policy_flow_allowed(s->f->m, from, to, proto, dport);
}

static int on_entry(enum nf_conntrack_msg_type type, struct nf_conntrack *ct, void *data)
{
	struct sweep *s = data;
	struct nf_conntrack **v;

	(void)type;
	if (s->err || allowed(s, ct))
		return NFCT_CB_CONTINUE;
	if (s->ndoomed == s->cap) {
		v = reallocarray(s->doomed, s->cap ? s->cap * 2 : 16,
				 sizeof(struct nf_conntrack *));
		if (!v) {
			s->err = -ENOMEM;
			return NFCT_CB_CONTINUE;
		}
		s->doomed = v;
		s->cap = s->cap ? s->cap * 2 : 16;
	}
	s->doomed[s->ndoomed] = nfct_clone(ct);
	if (s->doomed[s->ndoomed])
		s->ndoomed++;
	return NFCT_CB_CONTINUE;
}

static int local_addrs(struct sweep *s)
{
	struct ifaddrs *ifa, *i;
	size_t n = 0;

	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (i = ifa; i; i = i->ifa_next)
		n += i->ifa_addr && i->ifa_addr->sa_family == AF_INET;
	s->local = calloc(n + 1, sizeof(*s->local));
	for (i = ifa; s->local && i; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET)
			s->local[s->nlocal++] =
			    ((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr.s_addr;
	freeifaddrs(ifa);
	return s->local ? 0 : -ENOMEM;
}

int ct_sweep(const struct policy_flows *f, struct err *err)
{
	struct sweep s = { .f = f };
	struct nfct_handle *h = NULL;
	uint32_t family = AF_INET;
	size_t i, cut = 0;
	int r;

	r = local_addrs(&s);
	if (r < 0) {
		err_set(err, -r, "cannot list the host's addresses: %s", strerror(-r));
		goto out;
	}
	h = nfct_open(CONNTRACK, 0);
	if (!h) {
		r = err_set(err, errno ? errno : EIO, "cannot open ctnetlink: %s", strerror(errno));
		goto out;
	}
	nfct_callback_register(h, NFCT_T_ALL, on_entry, &s);
	if (nfct_query(h, NFCT_Q_DUMP, &family) < 0) {
		r = err_set(err, errno ? errno : EIO, "cannot list conntrack entries: %s",
			    strerror(errno));
		goto out;
	}
	if (s.err) {
		r = err_set(err, -s.err, "cannot list conntrack entries: %s", strerror(-s.err));
		goto out;
	}
	/* An entry that ended meanwhile (ENOENT) is gone as wanted. */
	for (i = 0; i < s.ndoomed; i++)
		if (nfct_query(h, NFCT_Q_DESTROY, s.doomed[i]) == 0 || errno == ENOENT)
			cut++;
	r = (int)cut;
out:
	if (r < 0)
		err_wrap(err, -r,
			 "tiernet: cannot cut the connections the policy no longer allows");
	for (i = 0; i < s.ndoomed; i++)
		nfct_destroy(s.doomed[i]);
	free(s.doomed);
	free(s.local);
	if (h)
		nfct_close(h);
	return r;
}
