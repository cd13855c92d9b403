/*
 * libFuzzer: the kernel's NFLOG records of denied connections, as the daemon decodes them
 * (plugin/denyrec.c).  The first byte picks the prefix (one of tiernet's four, or the next
 * bytes up to a NUL for any other text); the rest is the packet.  Promises: an unknown prefix
 * or a packet shorter than its headers is refused; a decoded record has a family, ports only
 * for TCP and UDP, and turns into a JSON entry that prints and parses back.
 */
#include <netinet/in.h>

#include "policy/policy.h"
#include "tests/fuzz/fuzz.h"

static const char *const known[] = { POLICY_LOG_DENY_FWD, POLICY_LOG_DENY_HOST,
				     POLICY_LOG_AUDIT_FWD, POLICY_LOG_AUDIT_HOST };

static void check_entry(const struct driver_denial *d)
{
	cJSON *o = denials_entry_json(d, 1, 1764585600123LL), *back;
	char *s;

	FUZZ_ASSERT(o);
	s = cJSON_PrintUnformatted(o);
	FUZZ_ASSERT(s && fuzz_printable(s));
	back = cJSON_Parse(s);
	FUZZ_ASSERT(back);
	FUZZ_ASSERT(cJSON_GetObjectItem(cJSON_GetObjectItem(back, "dst"), "port")->valuedouble ==
		    d->dst.port);
	cJSON_Delete(back);
	cJSON_Delete(o);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char prefix[65] = "";
	struct driver_denial d;
	const uint8_t *pkt;
	size_t n;
	int r;

	if (!size)
		return 0;
	if (data[0] < 4) {
		snprintf(prefix, sizeof(prefix), "%s", known[data[0]]);
		pkt = data + 1, n = size - 1;
	} else {
		const uint8_t *nul = memchr(data + 1, '\0', size - 1);
		size_t plen = nul ? (size_t)(nul - data - 1) : 0;

		if (plen >= sizeof(prefix))
			plen = sizeof(prefix) - 1;
		memcpy(prefix, data + 1, plen);
		pkt = nul ? nul + 1 : data + size, n = nul ? size - (size_t)(nul - data) - 1 : 0;
	}
	/* a copy of exactly n bytes: ASan sees any read past the packet */
	uint8_t *copy = malloc(n ? n : 1);

	FUZZ_ASSERT(copy);
	memcpy(copy, pkt, n);
	r = denyrec_decode(prefix, copy, n, &d);
	if (data[0] >= 4 && r == 0) {
		size_t i, hit = 0;

		for (i = 0; i < 4; i++)
			hit |= !strcmp(prefix, known[i]);
		FUZZ_ASSERT(hit);
	}
	if (r == 0) {
		FUZZ_ASSERT(d.family == AF_INET || d.family == AF_INET6);
		FUZZ_ASSERT(n >= (d.family == AF_INET ? 20u : 40u));
		if (d.proto != IPPROTO_TCP && d.proto != IPPROTO_UDP)
			FUZZ_ASSERT(!d.src.port && !d.dst.port);
		check_entry(&d);
	} else {
		FUZZ_ASSERT(r == -EINVAL);
	}
	free(copy);
	return 0;
}
