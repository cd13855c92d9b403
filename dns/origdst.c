/*
 * The original destination of a redirected query.  nat TIERNET-DNS rewrote the query's
 * destination (the container's upstream server, port 53) to the resolver; conntrack keeps
 * the original.  The resolver knows the reply direction (itself to the client), so it asks
 * ctnetlink for the entry whose reply tuple that is.  Only forwarded queries pay for this
 * lookup: the names tiernet answers itself need no upstream.
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
	const struct sockaddr_in *client, *local;
	bool ok;
	struct sockaddr_in orig;
};

/* Is ct the redirected query: reply direction from local to client, UDP? */
static int on_entry(enum nf_conntrack_msg_type type, struct nf_conntrack *ct, void *data)
{
	struct found *f = data;

	(void)type;
	if (nfct_get_attr_u8(ct, ATTR_ORIG_L4PROTO) != IPPROTO_UDP ||
	    nfct_get_attr_u32(ct, ATTR_REPL_IPV4_SRC) != f->local->sin_addr.s_addr ||
	    nfct_get_attr_u32(ct, ATTR_REPL_IPV4_DST) != f->client->sin_addr.s_addr ||
	    nfct_get_attr_u16(ct, ATTR_REPL_PORT_SRC) != f->local->sin_port ||
	    nfct_get_attr_u16(ct, ATTR_REPL_PORT_DST) != f->client->sin_port)
		return NFCT_CB_CONTINUE;
	f->orig.sin_family = AF_INET;
	f->orig.sin_addr.s_addr = nfct_get_attr_u32(ct, ATTR_ORIG_IPV4_DST);
	f->orig.sin_port = nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST);
	f->ok = true;
	/* Read the dump to its end: a stopped dump would leave its rest on the socket. */
	return NFCT_CB_CONTINUE;
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

/*
 * libnetfilter_conntrack builds a GET from the original tuple whenever the family is set
 * (and refuses a GET without it), so a lookup by the reply tuple alone is a dump of the
 * IPv4 table, matched in the callback.  It costs in proportion to the table, and only
 * forwarded queries pay it.
 */
int origdst_lookup(struct origdst *o, const struct sockaddr_in *client,
		   const struct sockaddr_in *local, struct sockaddr_in *orig)
{
	struct found f = { .client = client, .local = local };
	uint32_t family = AF_INET;
	int r = 0;

	nfct_callback_register(o->h, NFCT_T_ALL, on_entry, &f);
	if (nfct_query(o->h, NFCT_Q_DUMP, &family) < 0)
		r = -errno;
	else if (!f.ok)
		r = -ENOENT;
	nfct_callback_unregister(o->h);
	if (!r)
		*orig = f.orig;
	return r;
}
