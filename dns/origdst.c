/*
 * The original destination of a redirected query.  nat TIERNET-DNS rewrote the query's
 * destination (the container's upstream server, port 53) to the resolver; conntrack keeps
 * the original.  The resolver knows the reply direction (itself to the client), so it asks
 * ctnetlink for the entry by its reply tuple.  Only forwarded queries pay for this lookup:
 * the names tiernet answers itself need no upstream.
 */
#include <errno.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"

struct origdst {
	struct nfct_handle *h;
};

struct found {
	bool ok;
	struct sockaddr_in orig;
};

static int on_entry(enum nf_conntrack_msg_type type, struct nf_conntrack *ct, void *data)
{
	struct found *f = data;

	(void)type;
	f->orig.sin_family = AF_INET;
	f->orig.sin_addr.s_addr = nfct_get_attr_u32(ct, ATTR_ORIG_IPV4_DST);
	f->orig.sin_port = nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST);
	f->ok = true;
	return NFCT_CB_STOP;
}

struct origdst *origdst_open(void)
{
	struct origdst *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->h = nfct_open(CONNTRACK, 0);
	if (!o->h) {
		free(o);
		return NULL;
	}
	return o;
}

void origdst_close(struct origdst *o)
{
	if (!o)
		return;
	nfct_close(o->h);
	free(o);
}

int origdst_lookup(struct origdst *o, const struct sockaddr_in *client,
		   const struct sockaddr_in *local, struct sockaddr_in *orig)
{
	struct nf_conntrack *ct = nfct_new();
	struct found f = { 0 };
	int r = 0;

	if (!ct)
		return -ENOMEM;
	/* libnetfilter_conntrack takes the message's family from the original direction. */
	nfct_set_attr_u8(ct, ATTR_ORIG_L3PROTO, AF_INET);
	nfct_set_attr_u8(ct, ATTR_REPL_L3PROTO, AF_INET);
	nfct_set_attr_u8(ct, ATTR_REPL_L4PROTO, IPPROTO_UDP);
	nfct_set_attr_u32(ct, ATTR_REPL_IPV4_SRC, local->sin_addr.s_addr);
	nfct_set_attr_u32(ct, ATTR_REPL_IPV4_DST, client->sin_addr.s_addr);
	nfct_set_attr_u16(ct, ATTR_REPL_PORT_SRC, local->sin_port);
	nfct_set_attr_u16(ct, ATTR_REPL_PORT_DST, client->sin_port);
	nfct_callback_register(o->h, NFCT_T_ALL, on_entry, &f);
	if (nfct_query(o->h, NFCT_Q_GET, ct) < 0)
		r = -errno;
	else if (!f.ok)
		r = -ENOENT;
	nfct_callback_unregister(o->h);
	nfct_destroy(ct);
	if (!r)
		*orig = f.orig;
	return r;
}
