/*
 * The original destination of a redirected query.  nat TIERNET-DNS rewrote the query's
 * destination (the container's upstream server, port 53) to the resolver; conntrack keeps
 * the original.  The resolver knows the reply direction (itself to the client), and
 * ctnetlink finds an entry by either tuple in one hash lookup, so it asks for exactly that
 * entry.  Only forwarded queries pay for this lookup: the names tiernet answers itself need
 * no upstream.
 *
 * libnetfilter_conntrack always puts an original tuple into a GET (its builder requires
 * the original family), and the kernel then looks up by that; so the request is built
 * here with libmnl, with the reply tuple alone, and the answer is decoded by
 * libnetfilter_conntrack.  An earlier version dumped the whole table per query: a
 * container flooding upstream queries (each a conntrack entry for 30 s) made every other
 * container's forwarded query walk its entries.
 */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"

struct origdst {
	struct mnl_socket *nl;
	unsigned portid, seq;
};

struct found {
	bool ok;
	struct sockaddr_in orig;
};

struct origdst *origdst_open(void)
{
	struct origdst *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!o->nl || mnl_socket_bind(o->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		origdst_close(o);
		return NULL;
	}
	o->portid = mnl_socket_get_portid(o->nl);
	return o;
}

void origdst_close(struct origdst *o)
{
	if (!o)
		return;
	if (o->nl)
		mnl_socket_close(o->nl);
	free(o);
}

static int on_entry(const struct nlmsghdr *nlh, void *data)
{
	struct found *f = data;
	struct nf_conntrack *ct = nfct_new();

	if (!ct)
		return MNL_CB_ERROR;
	if (nfct_nlmsg_parse(nlh, ct) == 0 && nfct_attr_is_set(ct, ATTR_ORIG_IPV4_DST) &&
	    nfct_attr_is_set(ct, ATTR_ORIG_PORT_DST)) {
		f->orig.sin_family = AF_INET;
		f->orig.sin_addr.s_addr = nfct_get_attr_u32(ct, ATTR_ORIG_IPV4_DST);
		f->orig.sin_port = nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST);
		f->ok = true;
	}
	nfct_destroy(ct);
	return MNL_CB_OK;
}

/* IPCTNL_MSG_CT_GET for the UDP entry whose reply tuple is local -> client. */
static struct nlmsghdr *build_get(char *buf, unsigned seq, const struct sockaddr_in *client,
				  const struct sockaddr_in *local)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;
	struct nlattr *tuple, *nest;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->version = NFNETLINK_V0;
	tuple = mnl_attr_nest_start(nlh, CTA_TUPLE_REPLY);
	nest = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	mnl_attr_put_u32(nlh, CTA_IP_V4_SRC, local->sin_addr.s_addr);
	mnl_attr_put_u32(nlh, CTA_IP_V4_DST, client->sin_addr.s_addr);
	mnl_attr_nest_end(nlh, nest);
	nest = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, IPPROTO_UDP);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, local->sin_port);
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, client->sin_port);
	mnl_attr_nest_end(nlh, nest);
	mnl_attr_nest_end(nlh, tuple);
	return nlh;
}

/*
 * One request, one answer (the entry, or an error such as ENOENT): the socket is the
 * resolver thread's own, so nothing else is queued on it.
 */
int origdst_lookup(struct origdst *o, const struct sockaddr_in *client,
		   const struct sockaddr_in *local, struct sockaddr_in *orig)
{
	char buf[8192]; /* one entry, or an error: well under a page */
	struct found f = { 0 };
	struct nlmsghdr *nlh = build_get(buf, ++o->seq, client, local);
	ssize_t n;
	int r;

	if (mnl_socket_sendto(o->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do
		n = mnl_socket_recvfrom(o->nl, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	r = mnl_cb_run(buf, (size_t)n, o->seq, o->portid, on_entry, &f);
	if (r < 0)
		return errno ? -errno : -EIO;
	if (!f.ok)
		return -ENOENT;
	*orig = f.orig;
	return 0;
}
