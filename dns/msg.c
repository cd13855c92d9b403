/*
 * DNS messages with ldns, pure: a container's query in, tiernet's answer out.  Any bytes a
 * container sends reach dnsmsg_parse (tests/fuzz/fuzz_dns.c).  Only plain queries are
 * tiernet's: one question, opcode QUERY, class IN; anything else goes to the upstream.
 */
#include <errno.h>
#include <ldns/ldns.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns/dns.h"

int dnsmsg_parse(const uint8_t *buf, size_t len, struct dnsmsg_query *q)
{
	ldns_pkt *pkt = NULL;
	ldns_rr *rr;
	char *name = NULL;
	int r = -EINVAL;

	if (ldns_wire2pkt(&pkt, buf, len) != LDNS_STATUS_OK)
		goto out;
	if (ldns_pkt_qr(pkt) || ldns_pkt_get_opcode(pkt) != LDNS_PACKET_QUERY ||
	    ldns_pkt_qdcount(pkt) != 1)
		goto out;
	rr = ldns_rr_list_rr(ldns_pkt_question(pkt), 0);
	if (!rr || ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN || !ldns_rr_owner(rr))
		goto out;
	name = ldns_rdf2str(ldns_rr_owner(rr));
	if (!name || strlen(name) >= sizeof(q->qname))
		goto out;
	q->id = ldns_pkt_id(pkt);
	q->qtype = (uint16_t)ldns_rr_get_type(rr);
	memcpy(q->qname, name, strlen(name) + 1);
	r = 0;
out:
	free(name);
	ldns_pkt_free(pkt);
	return r;
}

/* One A or AAAA record for owner with address a. */
static ldns_rr *addr_rr(const ldns_rdf *owner, int family, const struct in6_addr *a)
{
	ldns_rr *rr = ldns_rr_new();
	ldns_rdf *data;

	if (!rr)
		return NULL;
	ldns_rr_set_owner(rr, ldns_rdf_clone(owner));
	ldns_rr_set_type(rr, family == AF_INET ? LDNS_RR_TYPE_A : LDNS_RR_TYPE_AAAA);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(rr, DNS_TTL);
	data = ldns_rdf_new_frm_data(family == AF_INET ? LDNS_RDF_TYPE_A : LDNS_RDF_TYPE_AAAA,
				     family == AF_INET ? 4 : 16, a);
	if (!data || !ldns_rr_owner(rr) || !ldns_rr_push_rdf(rr, data)) {
		ldns_rdf_deep_free(data);
		ldns_rr_free(rr);
		return NULL;
	}
	return rr;
}

static int fill(ldns_pkt *ans, const ldns_pkt *q, int rcode, const struct nametab_answer *a)
{
	const ldns_rr *qrr = ldns_rr_list_rr(ldns_pkt_question(q), 0);
	ldns_rr *rr;
	size_t i;

	ldns_pkt_set_id(ans, ldns_pkt_id(q));
	ldns_pkt_set_qr(ans, true);
	ldns_pkt_set_aa(ans, rcode != LDNS_RCODE_REFUSED);
	ldns_pkt_set_rd(ans, ldns_pkt_rd(q));
	ldns_pkt_set_ra(ans, true);
	ldns_pkt_set_opcode(ans, LDNS_PACKET_QUERY);
	ldns_pkt_set_rcode(ans, (uint8_t)rcode);
	if (qrr && !ldns_pkt_push_rr(ans, LDNS_SECTION_QUESTION, ldns_rr_clone(qrr)))
		return -ENOMEM;
	for (i = 0; qrr && a && rcode == LDNS_RCODE_NOERROR && i < a->n; i++) {
		rr = addr_rr(ldns_rr_owner(qrr), a->family, &a->v[i]);
		if (!rr || !ldns_pkt_push_rr(ans, LDNS_SECTION_ANSWER, rr)) {
			ldns_rr_free(rr);
			return -ENOMEM;
		}
	}
	return 0;
}

int dnsmsg_answer(const uint8_t *query, size_t len, int rcode, const struct nametab_answer *a,
		  uint8_t *out, size_t cap)
{
	ldns_pkt *q = NULL, *ans = NULL;
	uint8_t *wire = NULL;
	size_t n = 0;
	int r = -EINVAL;

	if (ldns_wire2pkt(&q, query, len) != LDNS_STATUS_OK)
		goto out;
	ans = ldns_pkt_new();
	if (!ans) {
		r = -ENOMEM;
		goto out;
	}
	r = fill(ans, q, rcode, a);
	if (r < 0)
		goto out;
	if (ldns_pkt2wire(&wire, ans, &n) != LDNS_STATUS_OK) {
		r = -ENOMEM;
		goto out;
	}
	if (n > cap) {
		r = -EMSGSIZE;
		goto out;
	}
	memcpy(out, wire, n);
	r = (int)n;
out:
	free(wire);
	ldns_pkt_free(ans);
	ldns_pkt_free(q);
	return r;
}
