/*
 * DNS messages, pure: a container's query in, tiernet's answer out.  Any bytes a container
 * sends reach dnsmsg_parse (tests/fuzz/fuzz_dns.c).  Only plain queries are tiernet's: one
 * question, opcode QUERY, class IN; anything else goes to the upstream.  Only the header
 * and the first question are ever read: the other sections (an EDNS record, say) are the
 * upstream's business, so no parser of record data is exposed to a container.  The unit
 * tests hold this against ldns (the name's text, and every answer read back).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "dns/dns.h"
#include "lib/wire.h"

#define HDR_LEN	     12
#define WIRE_MAX     255 /* a name on the wire, RFC 1035 3.1 */
#define LABEL_MAX    63
#define HOPS_MAX     32 /* compression pointers followed in one name */
#define CLASS_IN     1
#define OFFSET_QNAME 0xc00c /* a pointer to the question's name, right after the header */

struct question {
	uint8_t wire[WIRE_MAX]; /* the name, uncompressed */
	size_t wire_len;
	uint16_t type, class;
};

static uint8_t *put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

/*
 * The question at buf[HDR_LEN..len) into q.  A name may be compressed (a pointer anywhere
 * in the message, at most HOPS_MAX of them); the labels are copied out whole.  0 or -EINVAL.
 */
static int question(const uint8_t *buf, size_t len, struct question *q)
{
	size_t pos = HDR_LEN, end = 0, hops = 0;
	uint8_t n;

	q->wire_len = 0;
	for (;;) {
		if (pos >= len)
			return -EINVAL;
		n = buf[pos];
		if ((n & 0xc0) == 0xc0) {
			if (pos + 1 >= len || ++hops > HOPS_MAX)
				return -EINVAL;
			if (!end)
				end = pos + 2;
			pos = (size_t)(n & 0x3f) << 8 | buf[pos + 1];
			continue;
		}
		if (n > LABEL_MAX) /* 0x40 and 0x80: label types no one uses */
			return -EINVAL;
		if (pos + 1 + n > len || q->wire_len + 1 + n > WIRE_MAX)
			return -EINVAL;
		memcpy(q->wire + q->wire_len, buf + pos, 1 + (size_t)n);
		q->wire_len += 1 + (size_t)n;
		pos += 1 + (size_t)n;
		if (!n)
			break;
	}
	if (!end)
		end = pos;
	if (end + 4 > len)
		return -EINVAL;
	q->type = wire_be16(buf + end);
	q->class = wire_be16(buf + end + 2);
	return 0;
}

/*
 * The name in presentation form, as ldns prints it: labels joined by dots with a final
 * one ("." alone for the root), the characters of the zone file syntax escaped as "\c"
 * and bytes that are not printable as "\DDD".  false when it does not fit out[0..cap).
 */
static bool name_text(const struct question *q, char *out, size_t cap)
{
	size_t i = 0, o = 0, k;
	uint8_t n, c;
	int w;

	if (q->wire_len == 1)
		return snprintf(out, cap, ".") < (int)cap;
	while ((n = q->wire[i++])) {
		for (k = 0; k < n; k++) {
			c = q->wire[i++];
			if (c == '.' || c == ';' || c == '(' || c == ')' || c == '\\')
				w = snprintf(out + o, cap - o, "\\%c", c);
			else if (c < 0x21 || c > 0x7e)
				w = snprintf(out + o, cap - o, "\\%03u", c);
			else
				w = snprintf(out + o, cap - o, "%c", c);
			if (w < 0 || (size_t)w >= cap - o)
				return false;
			o += (size_t)w;
		}
		if (o + 1 >= cap)
			return false;
		out[o++] = '.';
		out[o] = '\0';
	}
	return true;
}

int dnsmsg_parse(const uint8_t *buf, size_t len, struct dnsmsg_query *q)
{
	struct question qs;

	if (len < HDR_LEN || buf[2] & 0x80 || (buf[2] >> 3 & 0xf) != DNS_OPCODE_QUERY ||
	    wire_be16(buf + 4) != 1)
		return -EINVAL;
	if (question(buf, len, &qs) < 0 || qs.class != CLASS_IN ||
	    !name_text(&qs, q->qname, sizeof(q->qname)))
		return -EINVAL;
	q->id = wire_be16(buf);
	q->qtype = qs.type;
	return 0;
}

/* The answer's header: the query's ID and RD; authoritative unless it refuses. */
static uint8_t *header(uint8_t *p, const uint8_t *query, int rcode, bool has_q, size_t nans)
{
	p = put16(p, wire_be16(query));
	*p++ = (uint8_t)(0x80 | (rcode != DNS_RCODE_REFUSED ? 0x04 : 0) | (query[2] & 0x01));
	*p++ = (uint8_t)(0x80 | (rcode & 0x0f));
	p = put16(p, has_q);
	p = put16(p, (uint16_t)nans);
	p = put16(p, 0);
	return put16(p, 0);
}

int dnsmsg_answer(const uint8_t *query, size_t len, int rcode, const struct nametab_answer *a,
		  uint8_t *out, size_t cap)
{
	size_t alen, need, nans = 0, i;
	struct question q = { .wire_len = 0 };
	bool has_q;
	uint8_t *p;

	if (len < HDR_LEN)
		return -EINVAL;
	/* the query's first question, if it has one; one that does not parse gets no answer */
	has_q = wire_be16(query + 4) > 0;
	if (has_q && question(query, len, &q) < 0)
		return -EINVAL;
	if (has_q && a && rcode == DNS_RCODE_NOERROR)
		nans = a->n < DNS_ADDRS_MAX ? a->n : DNS_ADDRS_MAX;
	alen = a && a->family == AF_INET6 ? 16 : 4;
	need = HDR_LEN + (has_q ? q.wire_len + 4 : 0) + nans * (12 + alen);
	if (need > cap)
		return -EMSGSIZE;
	p = header(out, query, rcode, has_q, nans);
	if (has_q) {
		memcpy(p, q.wire, q.wire_len);
		p = put16(p + q.wire_len, q.type);
		p = put16(p, q.class);
	}
	for (i = 0; i < nans; i++) {
		p = put16(p, OFFSET_QNAME);
		p = put16(p, alen == 4 ? DNS_TYPE_A : DNS_TYPE_AAAA);
		p = put16(p, CLASS_IN);
		p = put16(p, 0);
		p = put16(p, DNS_TTL);
		p = put16(p, (uint16_t)alen);
		memcpy(p, &a->v[i], alen);
		p += alen;
	}
	return (int)(p - out);
}
