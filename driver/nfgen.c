/*
 * The nf_tables generation of the namespace: a number the kernel moves with every committed
 * change to any nf_tables table, whoever makes it.  The 2 s check lists tiernet's tables
 * only when it moved since they were last found whole (firewall.c): reading it is one small
 * message, listing the layer-2 guard with 5,000 endpoints' elements about 40 ms of CPU.
 * Read over NETLINK_NETFILTER with libnl, as the links are over rtnetlink.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <stdbool.h>
#include <stdint.h>

#include "driver/internal.h"

struct gen_reply {
	uint32_t gen;
	bool seen;
};

static int gen_msg(struct nl_msg *msg, void *arg)
{
	struct gen_reply *g = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct nlattr *tb[NFTA_GEN_MAX + 1];

	if (h->nlmsg_type != ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWGEN) ||
	    nlmsg_parse(h, sizeof(struct nfgenmsg), tb, NFTA_GEN_MAX, NULL) < 0 || !tb[NFTA_GEN_ID])
		return NL_OK;
	g->gen = ntohl(nla_get_u32(tb[NFTA_GEN_ID])); /* big-endian, as nfnetlink's are */
	g->seen = true;
	return NL_OK;
}

int nfgen_read(uint32_t *gen)
{
	struct nfgenmsg req = { .nfgen_family = AF_UNSPEC, .version = NFNETLINK_V0 };
	struct gen_reply g = { 0 };
	struct nl_sock *sk = nl_socket_alloc();
	struct nl_msg *msg = NULL;
	int r = -ENOMEM;

	if (!sk)
		goto out;
	r = nl_connect(sk, NETLINK_NETFILTER);
	if (r < 0) {
		r = -EIO;
		goto out;
	}
	msg = nlmsg_alloc_simple((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN, 0);
	if (!msg || nlmsg_append(msg, &req, sizeof(req), NLMSG_ALIGNTO) < 0) {
		r = -ENOMEM;
		goto out;
	}
	r = nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, gen_msg, &g);
	if (r >= 0) {
		r = nl_send_sync(sk, msg); /* frees msg; waits for the ack, after the reply */
		msg = NULL;
	}
	r = r < 0 ? -EIO : g.seen ? 0 : -EPROTO;
	if (!r)
		*gen = g.gen;
out:
	nlmsg_free(msg);
	nl_socket_free(sk);
	return r;
}
