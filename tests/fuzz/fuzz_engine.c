/*
 * libFuzzer: what the Docker socket answers (engjson.c).  dockerd is trusted no more than a
 * container: an inspect body, a container list and an events line, each bounded, each
 * entry a name DNS can carry, on a network with a valid ID, with an address.
 */
#include "dns/dns.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char(*ids)[DNS_ID_LEN + 1] = NULL, id[DNS_ID_LEN + 1];
	struct engjson_ct ct;
	size_t i, n = 0;

	if (engjson_container((const char *)data, size, &ct) == 0) {
		FUZZ_ASSERT(ct.n <= DNS_NAMES_PER_CT);
		for (i = 0; i < ct.n; i++) {
			FUZZ_ASSERT(ct.v[i].name[0] && strlen(ct.v[i].name) < DNS_NAME_MAX);
			FUZZ_ASSERT(strlen(ct.v[i].net_id) == DNS_ID_LEN);
			FUZZ_ASSERT(ct.v[i].addr4 || ct.v[i].has6);
		}
		engjson_ct_free(&ct);
	}
	if (engjson_list((const char *)data, size, &ids, &n) == 0)
		for (i = 0; i < n; i++)
			FUZZ_ASSERT(strlen(ids[i]) == DNS_ID_LEN);
	free(ids);
	if (engjson_event((const char *)data, size, id) == 1)
		FUZZ_ASSERT(strlen(id) == DNS_ID_LEN);
	return 0;
}
