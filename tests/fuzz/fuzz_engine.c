/*
 * libFuzzer: what the Docker socket answers (http.c, engjson.c).  dockerd is trusted no more
 * than a container: the HTTP response read in two pieces (split where the first byte says),
 * its body never longer than the bytes fed; an inspect body, a container list and an events
 * line, each bounded, each entry a name DNS can carry, on a network with a valid ID, with an
 * address.
 */
#include "dns/dns.h"
#include "tests/fuzz/fuzz.h"

static int count(const char *p, size_t n, void *arg)
{
	(void)p;
	*(size_t *)arg += n;
	return 0;
}

static void http(const uint8_t *data, size_t size)
{
	struct http_resp *r = malloc(sizeof(*r));
	size_t body = 0, cut = size ? data[0] % (size + 1) : 0;
	int e;

	FUZZ_ASSERT(r);
	http_resp_init(r, count, &body);
	e = http_resp_feed(r, (const char *)data, cut);
	if (e == 0)
		e = http_resp_feed(r, (const char *)data + cut, size - cut);
	if (e == 0)
		(void)http_resp_eof(r);
	FUZZ_ASSERT(body <= size);
	FUZZ_ASSERT(e <= 0 || (r->status >= 100 && r->status <= 599));
	free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char(*ids)[DNS_ID_LEN + 1] = NULL, id[DNS_ID_LEN + 1];
	struct engjson_ct ct;
	size_t i, n = 0;

	http(data, size);
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
