/*
 * Cutting the connections the rules no longer allow.  The conntrack shortcut at the top of
 * mangle TIERNET-FWD (and filter TIERNET-IN) lets every packet of an established connection
 * through without asking the policy again, which is what makes replies cheap; so when a
 * change takes an edge, a port of an edge, a published port or a network away, the
 * connections it allowed must go from the conntrack table too, or they live on.
 *
 * Each connection (of the family swept) that touches a tiernet subnet is judged as its first
 * packet was:
 * from its original source to its destination after DNAT (the container a published port
 * leads to), against the matrix the new rules enforce (policy_flow_allowed), and one that
 * came through a published port only while that port is still published.  The host may
 * always open connections; a connection between two outside addresses is not tiernet's.
 * What is not allowed any more is deleted through ctnetlink (libnetfilter_conntrack).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "lib/log.h"
#include "policy/internal.h"

/* An address of either family, as conntrack and the networks give it. */
struct addr {
	union {
		uint32_t v4; /* network byte order */
		struct in6_addr v6;
	};
};

struct sweep {
	const struct policy_flows *f;
	bool v6;	    /* f->family == AF_INET6 */
	struct addr *local; /* the host's addresses of the family */
	size_t nlocal, nlocal_cap;
	struct nf_conntrack **doomed;
	size_t ndoomed, cap;
	int err;
};

static bool in_prefix6(const struct in6_addr *a, const struct in6_addr *net, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a->s6_addr, net->s6_addr, full))
		return false;
	return !rest || !((a->s6_addr[full] ^ net->s6_addr[full]) & (uint8_t)(0xff << (8 - rest)));
}

static bool addr_eq(const struct sweep *s, const struct addr *a, const struct addr *b)
{
	return s->v6 ? !memcmp(&a->v6, &b->v6, sizeof(a->v6)) : a->v4 == b->v4;
}

static bool in_net(const struct sweep *s, const struct addr *a, const struct policy_net *n)
{
	if (s->v6)
		return n->dual && in_prefix6(&a->v6, &n->addr6, n->prefix6);
	return (a->v4 & n->mask) == (n->addr & n->mask);
}

static bool is_local(const struct sweep *s, const struct addr *a)
{
	size_t i;

	if (s->v6 ? IN6_IS_ADDR_LOOPBACK(&a->v6) || IN6_IS_ADDR_LINKLOCAL(&a->v6)
		  : (ntohl(a->v4) >> 24) == 127)
		return true;
	for (i = 0; i < s->nlocal; i++)
		if (addr_eq(s, &s->local[i], a))
			return true;
	return false;
}

/*
 * POLICY_HOST, a tier index, or POLICY_WORLD for address a.  The host first: a bridge's
 * gateway lies in its tier's subnet but is the host's (a container's connection to it is
 * one to the host, and the host's own packets from it, IGMP reports for one, are not the
 * tier's).
 */
static int side_of(const struct sweep *s, const struct addr *a)
{
	size_t i;

	if (is_local(s, a))
		return POLICY_HOST;
	for (i = 0; i < s->f->n; i++)
		if (in_net(s, a, &s->f->nets[i]))
			return s->f->nets[i].tier;
	return POLICY_WORLD;
}

static bool in_gone(const struct sweep *s, const struct addr *a)
{
	size_t i;

	for (i = 0; i < s->f->ngone; i++)
		if (in_net(s, a, &s->f->gone[i]))
			return true;
	return false;
}

/* Does a published port of f lead from host address odst, port oport, to dst:dport? */
static bool published(const struct sweep *s, uint8_t proto, const struct addr *odst, uint16_t oport,
		      const struct addr *dst, uint16_t dport)
{
	const struct policy_map *m;
	size_t i;

	for (i = 0; i < s->f->nmaps; i++) {
		m = &s->f->maps[i];
		if (m->proto != proto || m->host_port != oport || m->port != dport)
			continue;
		if (s->v6 ? (IN6_IS_ADDR_UNSPECIFIED(&m->host_ip6) ||
			     !memcmp(&m->host_ip6, &odst->v6, sizeof(odst->v6))) &&
				!memcmp(&m->addr6, &dst->v6, sizeof(dst->v6))
			  : (!m->host_ip || m->host_ip == odst->v4) && m->addr == dst->v4)
			return true;
	}
	return false;
}

static void get_addr(const struct sweep *s, const struct nf_conntrack *ct,
		     enum nf_conntrack_attr v4, enum nf_conntrack_attr v6, struct addr *out)
{
	const void *p;

	memset(out, 0, sizeof(*out));
	if (!s->v6) {
		out->v4 = nfct_get_attr_u32(ct, v4);
		return;
	}
	p = nfct_get_attr(ct, v6);
	if (p)
		memcpy(&out->v6, p, sizeof(out->v6));
}

static bool allowed(const struct sweep *s, const struct nf_conntrack *ct)
{
	uint8_t proto = nfct_get_attr_u8(ct, ATTR_ORIG_L4PROTO);
	uint16_t oport = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST));
	uint16_t dport = ntohs(nfct_get_attr_u16(ct, ATTR_REPL_PORT_SRC));
	struct addr src, odst, dst;
	bool dnat;
	int from, to;

	get_addr(s, ct, ATTR_ORIG_IPV4_SRC, ATTR_ORIG_IPV6_SRC, &src);
	get_addr(s, ct, ATTR_ORIG_IPV4_DST, ATTR_ORIG_IPV6_DST, &odst);
	get_addr(s, ct, ATTR_REPL_IPV4_SRC, ATTR_REPL_IPV6_SRC, &dst); /* after DNAT */
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		oport = dport = 0;
	dnat = !addr_eq(s, &dst, &odst) || oport != dport;
	if (in_gone(s, &src) || in_gone(s, &dst))
		return false;
	from = side_of(s, &src);
	to = side_of(s, &dst);
	/*
	 * A DNS query TIERNET-DNS redirected to the resolver on a gateway (to the host, which
	 * no allow line names for it): the resolver answers by the policy itself; cutting it
	 * would only lose a query in flight.
	 */
	if (s->f->dns_port && proto == IPPROTO_UDP && oport == 53 && dport == s->f->dns_port &&
	    from >= 0)
		return true;
	if (from == POLICY_WORLD && to == POLICY_WORLD)
		return true; /* not tiernet's */
	/* A published port leads to a container only while it is published. */
	if (dnat && to >= 0 && !published(s, proto, &odst, oport, &dst, dport))
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

/* One address of an RTM_NEWADDR message into s->local (grown as needed). */
static int on_addr(const struct nlmsghdr *nlh, void *arg)
{
	struct sweep *s = arg;
	const struct nlattr *a, *local = NULL, *addr = NULL;
	struct addr *v;
	size_t len = s->v6 ? sizeof(struct in6_addr) : sizeof(uint32_t);

	mnl_attr_for_each(a, nlh, sizeof(struct ifaddrmsg))
	{
		if (mnl_attr_get_type(a) == IFA_LOCAL)
			local = a;
		else if (mnl_attr_get_type(a) == IFA_ADDRESS)
			addr = a;
	}
	/* IFA_LOCAL is the interface's own address; IFA_ADDRESS is it too, or a peer's. */
	a = local ? local : addr;
	if (!a || mnl_attr_get_payload_len(a) != len)
		return MNL_CB_OK;
	if (s->nlocal == s->nlocal_cap) {
		v = reallocarray(s->local, s->nlocal_cap ? s->nlocal_cap * 2 : 16, sizeof(*v));
		if (!v)
			return MNL_CB_ERROR;
		s->local = v;
		s->nlocal_cap = s->nlocal_cap ? s->nlocal_cap * 2 : 16;
	}
	memset(&s->local[s->nlocal], 0, sizeof(*s->local));
	memcpy(&s->local[s->nlocal++], mnl_attr_get_payload(a), len);
	return MNL_CB_OK;
}

/*
 * The host's addresses of the family: one RTM_GETADDR dump, filtered by family in the
 * kernel.  Not getifaddrs(), which dumps every link as well: with a thousand veths that was
 * most of the time of a RevokeExternalConnectivity (bench part 5c).
 */
static int local_addrs(struct sweep *s)
{
	char buf[16384]; /* a dump part is sized to the reader's buffer, up to 32 KiB */
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	unsigned int seq = 1, portid;
	ssize_t n;
	int r = 0;

	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = s->v6 ? AF_INET6 : AF_INET;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		r = -errno;
		goto out;
	}
	do {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0) {
			r = -errno;
			break;
		}
		r = mnl_cb_run(buf, (size_t)n, seq, portid, on_addr, s);
	} while (r > MNL_CB_STOP);
	r = r < 0 ? (errno ? -errno : -EIO) : 0;
out:
	mnl_socket_close(nl);
	return r;
}

int ct_sweep(const struct policy_flows *f, struct err *err)
{
	struct sweep s = { .f = f, .v6 = f->family == AF_INET6 };
	struct nfct_handle *h = NULL;
	uint32_t family = s.v6 ? AF_INET6 : AF_INET;
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
	for (i = 0; i < s.ndoomed; i++) {
		if (log_enabled(LOG_LVL_DEBUG)) {
			char what[512];

			nfct_snprintf(what, sizeof(what), s.doomed[i], NFCT_T_UNKNOWN,
				      NFCT_O_DEFAULT, 0);
			log_debug("cut: %s", what);
		}
		if (nfct_query(h, NFCT_Q_DESTROY, s.doomed[i]) == 0 || errno == ENOENT)
			cut++;
	}
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
