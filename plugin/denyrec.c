/*
 * Decoding one NFLOG record of tiernet's (policy/logrules.c): the prefix says what the rules
 * decided, the payload is the packet from its network header on (the rules copy the first
 * DENYREC_COPY bytes).  Pure and bounded: every length is checked before a byte is read, so
 * a short, truncated or hostile packet is refused, never over-read (tests/fuzz/fuzz_denyrec.c).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "lib/wire.h"
#include "plugin/plugin.h"
#include "policy/policy.h"

static const struct {
	const char *prefix;
	bool audit, to_host;
} prefixes[] = {
	{ POLICY_LOG_DENY_FWD, false, false },
	{ POLICY_LOG_DENY_HOST, false, true },
	{ POLICY_LOG_AUDIT_FWD, true, false },
	{ POLICY_LOG_AUDIT_HOST, true, true },
};

static int decode_prefix(const char *prefix, struct driver_denial *d)
{
	size_t i;

	for (i = 0; prefix && i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		if (strcmp(prefix, prefixes[i].prefix))
			continue;
		d->audit = prefixes[i].audit;
		d->to_host = prefixes[i].to_host;
		return 0;
	}
	return -EINVAL;
}

/* Ports of TCP and UDP at p[0..len); other protocols have none (0). */
static void decode_ports(struct driver_denial *d, const unsigned char *p, size_t len)
{
	if ((d->proto != IPPROTO_TCP && d->proto != IPPROTO_UDP) || len < 4)
		return;
	d->src.port = wire_be16(p);
	d->dst.port = wire_be16(p + 2);
}

static int decode_ip4(struct driver_denial *d, const unsigned char *p, size_t len)
{
	size_t ihl;

	if (len < 20)
		return -EINVAL;
	ihl = (size_t)(p[0] & 0x0f) * 4;
	if (ihl < 20 || ihl > len)
		return -EINVAL;
	d->family = AF_INET;
	d->proto = p[9];
	memcpy(d->src.addr, p + 12, 4);
	memcpy(d->dst.addr, p + 16, 4);
	/* a fragment after the first carries no ports */
	if (!(wire_be16(p + 6) & 0x1fff))
		decode_ports(d, p + ihl, len - ihl);
	return 0;
}

/* Follows the extension headers that may come before TCP or UDP (RFC 8200 4.1). */
static int decode_ip6(struct driver_denial *d, const unsigned char *p, size_t len)
{
	size_t off = 40, ext, hops;
	uint8_t nh;

	if (len < 40)
		return -EINVAL;
	d->family = AF_INET6;
	memcpy(d->src.addr, p + 8, 16);
	memcpy(d->dst.addr, p + 24, 16);
	nh = p[6];
	for (hops = 0; hops < 8; hops++) {
		if (nh == IPPROTO_FRAGMENT) {
			if (off + 8 > len)
				break;
			/* only the first fragment has the transport header */
			if (wire_be16(p + off + 2) & 0xfff8) {
				d->proto = p[off];
				return 0;
			}
			nh = p[off];
			off += 8;
			continue;
		}
		if (nh != IPPROTO_HOPOPTS && nh != IPPROTO_ROUTING && nh != IPPROTO_DSTOPTS)
			break;
		if (off + 8 > len)
			break;
		ext = ((size_t)p[off + 1] + 1) * 8;
		nh = p[off];
		off += ext;
	}
	d->proto = nh;
	if (off <= len)
		decode_ports(d, p + off, len - off);
	return 0;
}

int denyrec_decode(const char *prefix, const unsigned char *pkt, size_t len,
		   struct driver_denial *d)
{
	memset(d, 0, sizeof(*d));
	if (decode_prefix(prefix, d) < 0 || !pkt || !len)
		return -EINVAL;
	switch (pkt[0] >> 4) {
	case 4:
		return decode_ip4(d, pkt, len);
	case 6:
		return decode_ip6(d, pkt, len);
	}
	return -EINVAL;
}
