/*
 * dns/msg.c held against ldns, the parser tiernet used before it read the question itself:
 * ldns decodes the same bytes (the oracle below is the old dnsmsg_parse), and every answer
 * tiernet builds is read back by ldns field by field.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns/dns.h"

/* The old dnsmsg_parse, on ldns. */
static int oracle_parse(const uint8_t *buf, size_t len, struct dnsmsg_query *q)
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

static char *owner_str(const ldns_rr *rr)
{
	char *s = ldns_rdf2str(ldns_rr_owner(rr));

	cr_assert_not_null(s);
	return s;
}

/* tiernet's answer to query, as ldns reads it. */
static void check_answer(const uint8_t *query, size_t len, int rcode,
			 const struct nametab_answer *a)
{
	uint8_t out[4096];
	ldns_pkt *q = NULL, *p = NULL;
	const ldns_rr *qrr, *rr;
	char *qo, *o;
	size_t i, alen;
	int n = dnsmsg_answer(query, len, rcode, a, out, sizeof(out));

	cr_assert_gt(n, 0, "no answer (%d)", n);
	cr_assert_eq(ldns_wire2pkt(&q, query, len), LDNS_STATUS_OK);
	cr_assert_eq(ldns_wire2pkt(&p, out, (size_t)n), LDNS_STATUS_OK, "ldns cannot read it");
	cr_assert_eq(ldns_pkt_id(p), ldns_pkt_id(q));
	cr_assert(ldns_pkt_qr(p));
	cr_assert_eq(ldns_pkt_aa(p), rcode != LDNS_RCODE_REFUSED);
	cr_assert_eq(ldns_pkt_rd(p), ldns_pkt_rd(q));
	cr_assert(ldns_pkt_ra(p));
	cr_assert(!ldns_pkt_tc(p));
	cr_assert_eq(ldns_pkt_get_opcode(p), LDNS_PACKET_QUERY);
	cr_assert_eq(ldns_pkt_get_rcode(p), rcode);
	cr_assert_eq(ldns_pkt_qdcount(p), 1);
	cr_assert_eq(ldns_pkt_nscount(p) + ldns_pkt_arcount(p), 0);
	qrr = ldns_rr_list_rr(ldns_pkt_question(q), 0);
	rr = ldns_rr_list_rr(ldns_pkt_question(p), 0);
	qo = owner_str(qrr);
	o = owner_str(rr);
	cr_assert_str_eq(o, qo, "the question is the query's");
	free(o);
	cr_assert_eq(ldns_rr_get_type(rr), ldns_rr_get_type(qrr));
	cr_assert_eq(ldns_rr_get_class(rr), ldns_rr_get_class(qrr));
	cr_assert_eq(ldns_pkt_ancount(p), rcode == LDNS_RCODE_NOERROR && a ? a->n : 0);
	alen = a && a->family == AF_INET6 ? 16 : 4;
	for (i = 0; i < ldns_pkt_ancount(p); i++) {
		rr = ldns_rr_list_rr(ldns_pkt_answer(p), i);
		o = owner_str(rr);
		cr_assert_str_eq(o, qo);
		free(o);
		cr_assert_eq(ldns_rr_get_type(rr), alen == 4 ? LDNS_RR_TYPE_A : LDNS_RR_TYPE_AAAA);
		cr_assert_eq(ldns_rr_get_class(rr), LDNS_RR_CLASS_IN);
		cr_assert_eq(ldns_rr_ttl(rr), DNS_TTL);
		cr_assert_eq(ldns_rr_rd_count(rr), 1);
		cr_assert_eq(ldns_rdf_size(ldns_rr_rdf(rr, 0)), alen);
		cr_assert_eq(memcmp(ldns_rdf_data(ldns_rr_rdf(rr, 0)), &a->v[i], alen), 0);
	}
	free(qo);
	ldns_pkt_free(p);
	ldns_pkt_free(q);
}

/* ours and the oracle agree on buf; returns whether it is a query. */
static bool agree(const uint8_t *buf, size_t len)
{
	struct dnsmsg_query a, b;
	int ra = dnsmsg_parse(buf, len, &a), rb = oracle_parse(buf, len, &b);

	cr_assert_eq(ra, rb, "tiernet %d, ldns %d", ra, rb);
	if (ra == 0) {
		cr_assert_str_eq(a.qname, b.qname);
		cr_assert_eq(a.id, b.id);
		cr_assert_eq(a.qtype, b.qtype);
	}
	return ra == 0;
}

/* header (ID 0x4242, RD, one question) + name + type + class IN */
static size_t wire(uint8_t *buf, const uint8_t *name, size_t nlen, uint16_t type)
{
	static const uint8_t hdr[12] = { 0x42, 0x42, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0 };

	memcpy(buf, hdr, sizeof(hdr));
	memcpy(buf + 12, name, nlen);
	buf[12 + nlen] = (uint8_t)(type >> 8);
	buf[13 + nlen] = (uint8_t)type;
	buf[14 + nlen] = 0;
	buf[15 + nlen] = 1;
	return 16 + nlen;
}

/* A name of labels of 'a' with the lengths given; returns its length on the wire. */
static size_t labels(uint8_t *name, const size_t *len, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		name[o++] = (uint8_t)len[i];
		memset(name + o, 'a', len[i]);
		o += len[i];
	}
	name[o++] = 0;
	return o;
}

static void answers(const uint8_t *q, size_t n)
{
	struct nametab_answer a4 = { .n = 2, .family = AF_INET },
			      a6 = { .n = 1, .family = AF_INET6 };

	inet_pton(AF_INET, "10.95.2.2", &a4.v[0]);
	inet_pton(AF_INET, "10.95.2.3", &a4.v[1]);
	inet_pton(AF_INET6, "fd00:95::2", &a6.v[0]);
	check_answer(q, n, LDNS_RCODE_NOERROR, &a4);
	check_answer(q, n, LDNS_RCODE_NOERROR, &a6);
	check_answer(q, n, LDNS_RCODE_NOERROR, NULL);
	check_answer(q, n, LDNS_RCODE_NXDOMAIN, NULL);
	check_answer(q, n, LDNS_RCODE_REFUSED, NULL);
	check_answer(q, n, LDNS_RCODE_SERVFAIL, NULL);
}

Test(dnsmsg_ldns, every_byte_of_a_label_prints_as_ldns_prints_it)
{
	uint8_t name[] = { 3, 'a', 0, 'Z', 3, 'm', 'i', 'd', 0 }, q[64];
	size_t n;
	unsigned b;

	for (b = 0; b < 256; b++) {
		name[2] = (uint8_t)b;
		n = wire(q, name, sizeof(name), LDNS_RR_TYPE_A);
		cr_assert(agree(q, n), "byte %u", b);
		answers(q, n);
	}
	n = wire(q, (const uint8_t[]){ 0 }, 1, LDNS_RR_TYPE_NS); /* the root */
	cr_assert(agree(q, n));
	answers(q, n);
}

Test(dnsmsg_ldns, lengths_at_and_past_the_limits)
{
	uint8_t name[300], q[400];
	struct dnsmsg_query dq;
	size_t n, i;

	/* 63 bytes that print as \001 each: 253 characters, the longest that fits */
	name[0] = 63;
	memset(name + 1, 1, 63);
	name[64] = 0;
	n = wire(q, name, 65, LDNS_RR_TYPE_A);
	cr_assert(agree(q, n));
	cr_assert_eq(strlen(((void)dnsmsg_parse(q, n, &dq), dq.qname)), 253);
	answers(q, n);
	name[0] = 64; /* a label of 64: not a length (0x40 is a label type) */
	memset(name + 1, 'a', 64);
	name[65] = 0;
	cr_assert(!agree(q, wire(q, name, 66, LDNS_RR_TYPE_A)));
	/* 255 bytes on the wire (labels of 63, 63, 63, 61) print as 254 characters: too long */
	n = labels(name, (const size_t[]){ 63, 63, 63, 61 }, 4);
	cr_assert_eq(n, 255);
	cr_assert(!agree(q, wire(q, name, n, LDNS_RR_TYPE_A)));
	n = labels(name, (const size_t[]){ 63, 63, 63, 60 }, 4);
	cr_assert(agree(q, wire(q, name, n, LDNS_RR_TYPE_A)), "253 characters fit");
	n = labels(name, (const size_t[]){ 63, 63, 63, 62 }, 4);
	cr_assert(!agree(q, wire(q, name, n, LDNS_RR_TYPE_A)), "256 bytes on the wire");
	/* truncated anywhere: never a query */
	n = wire(q, (const uint8_t *)"\3web\3mid", 9, LDNS_RR_TYPE_A);
	for (i = 0; i < n; i++)
		cr_assert(!agree(q, i), "cut at %zu", i);
	cr_assert(agree(q, n));
}

Test(dnsmsg_ldns, compressed_names_and_loops)
{
	uint8_t q[64];
	struct dnsmsg_query dq;
	size_t n;

	/* the question's name is a pointer to a name after it */
	n = wire(q, (const uint8_t[]){ 0xc0, 18 }, 2, LDNS_RR_TYPE_A);
	memcpy(q + n, "\3web\3mid", 9);
	n += 9;
	cr_assert_eq(dnsmsg_parse(q, n, &dq), 0);
	cr_assert_str_eq(dq.qname, "web.mid.");
	cr_assert_eq(dq.qtype, LDNS_RR_TYPE_A);
	agree(q, n);
	/* a label, then a pointer back into the header: no loop, garbage labels */
	n = wire(q, (const uint8_t[]){ 3, 'w', 'e', 'b', 0xc0, 11 }, 6, LDNS_RR_TYPE_A);
	agree(q, n);
	/* a pointer to itself, and two pointing at each other */
	cr_assert(!agree(q, wire(q, (const uint8_t[]){ 0xc0, 12 }, 2, LDNS_RR_TYPE_A)));
	n = wire(q, (const uint8_t[]){ 0xc0, 18 }, 2, LDNS_RR_TYPE_A);
	q[n] = 0xc0;
	q[n + 1] = 12;
	cr_assert(!agree(q, n + 2));
	/* a pointer past the end */
	cr_assert(!agree(q, wire(q, (const uint8_t[]){ 0xc0, 60 }, 2, LDNS_RR_TYPE_A)));
}

Test(dnsmsg_ldns, header_flags_counts_and_classes)
{
	uint8_t q[64];
	struct dnsmsg_query dq;
	size_t n = wire(q, (const uint8_t *)"\3web\3mid", 9, LDNS_RR_TYPE_AAAA);
	unsigned op;

	cr_assert(agree(q, n));
	q[2] |= 0x80; /* an answer */
	cr_assert(!agree(q, n));
	for (op = 1; op < 16; op++) { /* IQUERY, STATUS, NOTIFY, UPDATE, ... */
		q[2] = (uint8_t)(op << 3);
		cr_assert(!agree(q, n), "opcode %u", op);
	}
	q[2] = 0;
	q[5] = 2; /* two questions, one present */
	cr_assert(!agree(q, n));
	q[5] = 0;
	cr_assert_eq(dnsmsg_parse(q, n, &dq), -EINVAL);
	q[5] = 1;
	q[n - 1] = 3; /* class CH */
	cr_assert(!agree(q, n));
	q[n - 1] = 1;
	q[2] = 0x01; /* RD, copied */
	answers(q, n);
	q[2] = 0;
	answers(q, n);
}

/*
 * Mutations of real queries (ldns builds them, with EDNS on some): wherever ldns read a
 * query, tiernet reads the same one.  tiernet reads only the header and the question, so it
 * may read a query whose later sections ldns rejects (and then ldns, told there are none,
 * reads the same), never the other way round.
 */
Test(dnsmsg_ldns, mutations_agree_with_ldns)
{
	static const char *names[] = { "web.front.", "Api.Mid.", "x.", "a-b_c.d.e.f.", "db." };
	uint8_t base[512], q[512];
	unsigned seed = 16, i, k, ours_only = 0, both = 0;
	struct dnsmsg_query a, b;
	ldns_pkt *p = NULL;
	uint8_t *w = NULL;
	size_t n;

	for (i = 0; i < 20000; i++) {
		cr_assert_eq(ldns_pkt_query_new_frm_str(&p, names[i % 5],
							i % 3 ? LDNS_RR_TYPE_A : LDNS_RR_TYPE_AAAA,
							LDNS_RR_CLASS_IN, LDNS_RD),
			     LDNS_STATUS_OK);
		if (i % 2)
			ldns_pkt_set_edns_udp_size(p, 1232);
		cr_assert_eq(ldns_pkt2wire(&w, p, &n), LDNS_STATUS_OK);
		memcpy(base, w, n);
		free(w);
		ldns_pkt_free(p);
		memcpy(q, base, n);
		for (k = 0; k < 1 + i % 3; k++)
			q[rand_r(&seed) % n] = (uint8_t)rand_r(&seed);
		if (i % 7 == 0)
			n = (size_t)rand_r(&seed) % (n + 1);
		int ra = dnsmsg_parse(q, n, &a), rb = oracle_parse(q, n, &b);

		if (rb == 0) {
			cr_assert_eq(ra, 0, "ldns read a query tiernet did not (mutation %u)", i);
			cr_assert_str_eq(a.qname, b.qname);
			cr_assert_eq(a.id, b.id);
			cr_assert_eq(a.qtype, b.qtype);
			both++;
			answers(q, n);
		} else if (ra == 0) {
			/* only the later sections differ: without them ldns reads the same */
			memset(q + 6, 0, 6);
			cr_assert(agree(q, n), "mutation %u: more than the later sections", i);
			ours_only++;
		}
	}
	cr_log_info("mutations: %u read by both, %u by tiernet only", both, ours_only);
	cr_assert_gt(both, 3000, "the mutations left too few queries to compare (%u)", both);
}

Test(dnsmsg_ldns, answers_to_odd_queries_and_the_buffers_end)
{
	uint8_t name[300], q[400], out[1024];
	struct nametab_answer a = { .n = 40, .family = AF_INET6 };
	ldns_pkt *p = NULL;
	size_t n, i;
	int len;

	/* a compressed question: the answer carries the name whole */
	n = wire(q, (const uint8_t[]){ 0xc0, 18 }, 2, LDNS_RR_TYPE_A);
	memcpy(q + n, "\3web\3mid", 9);
	answers(q, n + 9);
	/* compressed to more than 255 bytes on the wire: no answer */
	n = labels(name, (const size_t[]){ 63, 63, 63 }, 3) - 1;
	name[n] = 0xc0;
	name[n + 1] = (uint8_t)(12 + n + 2 + 4);
	n = wire(q, name, n + 2, LDNS_RR_TYPE_A);
	n += labels(q + n, (const size_t[]){ 63 }, 1);
	cr_assert_eq(dnsmsg_answer(q, n, LDNS_RCODE_SERVFAIL, NULL, out, sizeof(out)), -EINVAL);
	q[n - 65] = 61; /* the last label 2 bytes shorter: 255, the most there is */
	q[n - 3] = 0;
	cr_assert_gt(dnsmsg_answer(q, n - 2, LDNS_RCODE_SERVFAIL, NULL, out, sizeof(out)), 0);
	/* no question: the header alone; QR set: answered all the same (REFUSED) */
	n = wire(q, (const uint8_t *)"\3web", 5, LDNS_RR_TYPE_A);
	q[5] = 0;
	cr_assert_eq(dnsmsg_answer(q, n, LDNS_RCODE_SERVFAIL, NULL, out, sizeof(out)), 12);
	cr_assert_eq(ldns_wire2pkt(&p, out, 12), LDNS_STATUS_OK);
	cr_assert_eq(ldns_pkt_qdcount(p) + ldns_pkt_ancount(p), 0);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL);
	ldns_pkt_free(p);
	q[5] = 1;
	q[2] |= 0x80;
	check_answer(q, n, LDNS_RCODE_REFUSED, NULL);
	q[2] &= 0x7f;
	/* at most DNS_ADDRS_MAX addresses, whatever a says */
	for (i = 0; i < a.n && i < DNS_ADDRS_MAX; i++)
		a.v[i].s6_addr[15] = (uint8_t)i;
	len = dnsmsg_answer(q, n, LDNS_RCODE_NOERROR, &a, out, sizeof(out));
	cr_assert_eq(len, 12 + 5 + 4 + DNS_ADDRS_MAX * (12 + 16));
	cr_assert_eq(ldns_wire2pkt(&p, out, (size_t)len), LDNS_STATUS_OK);
	cr_assert_eq(ldns_pkt_ancount(p), DNS_ADDRS_MAX);
	ldns_pkt_free(p);
	a.n = DNS_ADDRS_MAX;
	check_answer(q, n, LDNS_RCODE_NOERROR, &a);
	/* exactly the room it needs, and not a byte past it */
	memset(out, 0xa5, sizeof(out));
	cr_assert_eq(dnsmsg_answer(q, n, LDNS_RCODE_NOERROR, &a, out, (size_t)len), len);
	cr_assert_eq(out[len], 0xa5);
	cr_assert_eq(dnsmsg_answer(q, n, LDNS_RCODE_NOERROR, &a, out, (size_t)len - 1), -EMSGSIZE);
}
