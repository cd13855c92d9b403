/*
 * libFuzzer: the query path of names across tiers.  Any bytes a container sends to port 53
 * reach dnsmsg_parse; a query that parses is matched against a fixed name table and view
 * (nametab_resolve) and answered (dnsmsg_answer), and the answer must parse back with the
 * query's ID and never carry more addresses than the table has for the name.
 */
#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <sys/socket.h>

#include "dns/dns.h"
#include "tests/fuzz/fuzz.h"

static const char tiers[3][DNS_TIER_NAME_MAX] = { "front", "mid", "back" };
static const bool reach[9] = { true, true, false, false, true, true, false, false, true };
static struct nametab tab;

static int net_tier(const void *ctx, const char *id)
{
	(void)ctx;
	return id[0] == 'a' ? 0 : id[0] == 'b' ? 1 : id[0] == 'c' ? 2 : -1;
}

static const struct nametab_view view = {
	.ntiers = 3, .tiers = tiers, .reach = reach, .net_tier = net_tier
};

static void add(struct nametab_entry *e, const char *name, char net, const char *a4)
{
	snprintf(e->name, sizeof(e->name), "%s", name);
	memset(e->net_id, net, DNS_ID_LEN);
	memset(e->ct_id, net, DNS_ID_LEN);
	inet_pton(AF_INET, a4, &e->addr4);
	e->has6 = inet_pton(AF_INET6, "fd00:95::1", &e->addr6) == 1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct nametab_entry *v = calloc(4, sizeof(*v));

	(void)argc, (void)argv;
	add(&v[0], "web", 'a', "10.95.1.2");
	add(&v[1], "api", 'b', "10.95.2.2");
	add(&v[2], "db", 'c', "10.95.3.2");
	add(&v[3], "api", 'c', "10.95.3.3");
	nametab_build(&tab, v, 4);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dnsmsg_query q;
	struct nametab_answer a;
	enum nametab_verdict v;
	uint8_t out[4096];
	ldns_pkt *p = NULL;
	int src, n, rcode;

	if (dnsmsg_parse(data, size, &q) < 0)
		return 0;
	FUZZ_ASSERT(strlen(q.qname) < sizeof(q.qname));
	for (src = 0; src < 3; src++) {
		v = nametab_resolve(&tab, &view, src, q.qname,
				    q.qtype == LDNS_RR_TYPE_A	   ? AF_INET
				    : q.qtype == LDNS_RR_TYPE_AAAA ? AF_INET6
								   : 0,
				    &a);
		FUZZ_ASSERT(a.n <= 2);
		rcode = v == NAMETAB_ANSWER	? LDNS_RCODE_NOERROR
			: v == NAMETAB_NXDOMAIN ? LDNS_RCODE_NXDOMAIN
						: LDNS_RCODE_REFUSED;
		n = dnsmsg_answer(data, size, rcode, &a, out, sizeof(out));
		if (n < 0)
			continue;
		FUZZ_ASSERT(ldns_wire2pkt(&p, out, (size_t)n) == LDNS_STATUS_OK);
		FUZZ_ASSERT(ldns_pkt_id(p) == q.id);
		FUZZ_ASSERT(ldns_pkt_ancount(p) == (rcode == LDNS_RCODE_NOERROR ? a.n : 0));
		ldns_pkt_free(p);
		p = NULL;
	}
	return 0;
}
