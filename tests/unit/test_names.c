/*
 * Unit: names across tiers without a kernel or a dockerd.  The matching rules (nametab.c)
 * over a hand-made view (front -> mid, mid -> back, back internal), the Engine API's JSON
 * (engjson.c), the DNS answer (msg.c) and the rate limit (ratelimit.c).
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

#define NET(c)                                                                                     \
	c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c  \
	    c c c c c c c c c c c c c c c c c c c
#define N_FRONT NET("a")
#define N_MID	NET("b")
#define N_BACK	NET("c")
#define N_MID2	NET("d") /* a second network of tier mid */
#define N_OTHER NET("e") /* not tiernet's */
#define CT(c)	NET(c)

enum { FRONT, MID, BACK };
static const char tiers[3][DNS_TIER_NAME_MAX] = { "front", "mid", "back" };
/* front -> mid, mid -> back; each tier reaches itself. */
static const bool reach[9] = { true, true, false, false, true, true, false, false, true };

static int net_tier(const void *ctx, const char *id)
{
	(void)ctx;
	if (!strcmp(id, N_FRONT))
		return FRONT;
	if (!strcmp(id, N_MID) || !strcmp(id, N_MID2))
		return MID;
	if (!strcmp(id, N_BACK))
		return BACK;
	return -1;
}

static const struct nametab_view view = {
	.ntiers = 3, .tiers = tiers, .reach = reach, .net_tier = net_tier
};

static struct nametab_entry ent(const char *name, const char *net, const char *ct, const char *a4,
				const char *a6)
{
	struct nametab_entry e = { 0 };

	snprintf(e.name, sizeof(e.name), "%s", name);
	snprintf(e.net_id, sizeof(e.net_id), "%s", net);
	snprintf(e.ct_id, sizeof(e.ct_id), "%s", ct);
	if (a4)
		inet_pton(AF_INET, a4, &e.addr4);
	if (a6)
		e.has6 = inet_pton(AF_INET6, a6, &e.addr6) == 1;
	return e;
}

static struct nametab tab;

static void setup(void)
{
	struct nametab_entry *v = calloc(16, sizeof(*v));
	size_t n = 0;

	v[n++] = ent("web", N_FRONT, CT("1"), "10.95.1.2", NULL);
	v[n++] = ent("api", N_MID, CT("2"), "10.95.2.2", "fd00:95:2::2");
	v[n++] = ent("api", N_MID, CT("3"), "10.95.2.3", NULL); /* a second replica */
	v[n++] = ent("db", N_BACK, CT("4"), "10.95.3.2", NULL);
	v[n++] = ent("cache", N_MID, CT("5"), "10.95.2.5", NULL);
	v[n++] = ent("cache", N_BACK, CT("6"), "10.95.3.6", NULL); /* hidden from front */
	v[n++] = ent("both", N_MID, CT("7"), "10.95.2.7", NULL);
	v[n++] = ent("both", N_FRONT, CT("8"), "10.95.1.8", NULL);	  /* two reachable tiers */
	v[n++] = ent("ext", N_OTHER, CT("9"), "172.17.0.9", NULL);	  /* Docker's own network */
	v[n++] = ent("api", N_MID, CT("2"), "10.95.2.2", "fd00:95:2::2"); /* duplicate */
	v[n++] = ent("v4only", N_MID2, CT("a"), "10.95.4.2", NULL);
	nametab_build(&tab, v, n);
}

static void teardown(void)
{
	nametab_free(&tab);
}

static enum nametab_verdict ask(int src, const char *q, int family, struct nametab_answer *a)
{
	return nametab_resolve(&tab, &view, src, q, family, a);
}

static bool has(const struct nametab_answer *a, const char *addr)
{
	struct in6_addr x = { 0 };
	size_t i;

	inet_pton(a->family, addr, &x);
	for (i = 0; i < a->n; i++)
		if (!memcmp(&a->v[i], &x, sizeof(x)))
			return true;
	return false;
}

TestSuite(names, .init = setup, .fini = teardown);

Test(names, tier_qualified_name_answers_when_reachable)
{
	struct nametab_answer a;

	cr_assert_eq(ask(FRONT, "api.mid.", AF_INET, &a), NAMETAB_ANSWER);
	cr_assert_eq(a.n, 2);
	cr_assert(has(&a, "10.95.2.2") && has(&a, "10.95.2.3"));
	cr_assert_eq(ask(FRONT, "API.Mid", AF_INET, &a), NAMETAB_ANSWER, "any case");
	cr_assert_eq(a.n, 2);
}

Test(names, tier_qualified_name_is_nxdomain_when_hidden)
{
	struct nametab_answer a;

	cr_assert_eq(ask(FRONT, "db.back.", AF_INET, &a), NAMETAB_NXDOMAIN);
	cr_assert_eq(a.n, 0, "never an address of a hidden tier");
	cr_assert_eq(ask(MID, "db.back.", AF_INET, &a), NAMETAB_ANSWER, "the control");
	cr_assert(has(&a, "10.95.3.2"));
	cr_assert_eq(ask(BACK, "web.front", AF_INET, &a), NAMETAB_NXDOMAIN,
		     "edges have a direction");
}

Test(names, tier_qualified_unknown_name_is_nxdomain)
{
	struct nametab_answer a;

	cr_assert_eq(ask(FRONT, "nobody.mid", AF_INET, &a), NAMETAB_NXDOMAIN);
	cr_assert_eq(ask(FRONT, "db.mid", AF_INET, &a), NAMETAB_NXDOMAIN, "db is on back only");
}

Test(names, bare_name_answers_when_one_reachable_tier_has_it)
{
	struct nametab_answer a;

	cr_assert_eq(ask(FRONT, "api", AF_INET, &a), NAMETAB_ANSWER);
	cr_assert_eq(a.n, 2);
	/* cache is on mid (reachable) and back (hidden): the reachable one answers. */
	cr_assert_eq(ask(FRONT, "cache.", AF_INET, &a), NAMETAB_ANSWER);
	cr_assert_eq(a.n, 1);
	cr_assert(has(&a, "10.95.2.5"));
}

Test(names, bare_name_hidden_only_is_nxdomain)
{
	struct nametab_answer a;

	cr_assert_eq(ask(FRONT, "db", AF_INET, &a), NAMETAB_NXDOMAIN);
	cr_assert_eq(ask(MID, "db", AF_INET, &a), NAMETAB_ANSWER);
}

Test(names, ambiguous_or_unknown_bare_name_is_forwarded)
{
	struct nametab_answer a;

	cr_assert_eq(ask(FRONT, "both", AF_INET, &a), NAMETAB_FORWARD);
	cr_assert_eq(ask(FRONT, "example", AF_INET, &a), NAMETAB_FORWARD);
	cr_assert_eq(ask(FRONT, "example.com.", AF_INET, &a), NAMETAB_FORWARD);
	cr_assert_eq(ask(FRONT, "x.invalid.", AF_INET, &a), NAMETAB_FORWARD);
	cr_assert_eq(ask(FRONT, "ext", AF_INET, &a), NAMETAB_FORWARD, "not a tiernet network");
	cr_assert_eq(ask(FRONT, ".mid", AF_INET, &a), NAMETAB_FORWARD);
	cr_assert_eq(ask(FRONT, "", AF_INET, &a), NAMETAB_FORWARD);
}

Test(names, aaaa_answers_ipv6_and_nodata_without_it)
{
	struct nametab_answer a;

	cr_assert_eq(ask(FRONT, "api.mid", AF_INET6, &a), NAMETAB_ANSWER);
	cr_assert_eq(a.n, 1);
	cr_assert(has(&a, "fd00:95:2::2"));
	cr_assert_eq(ask(FRONT, "v4only.mid", AF_INET6, &a), NAMETAB_ANSWER,
		     "NODATA, not NXDOMAIN");
	cr_assert_eq(a.n, 0);
	cr_assert_eq(ask(FRONT, "api.mid", 0, &a), NAMETAB_ANSWER, "other types: NODATA");
	cr_assert_eq(a.n, 0);
}

Test(names, second_network_of_a_tier_counts_as_the_tier)
{
	struct nametab_answer a;
	size_t counts[3];

	cr_assert_eq(ask(FRONT, "v4only.mid", AF_INET, &a), NAMETAB_ANSWER);
	cr_assert(has(&a, "10.95.4.2"));
	nametab_count(&tab, &view, counts);
	cr_assert_eq(counts[FRONT], 2);
	cr_assert_eq(counts[MID], 5, "duplicates dropped: %zu", counts[MID]);
	cr_assert_eq(counts[BACK], 2);
}

Test(names, bad_source_tier_forwards)
{
	struct nametab_answer a;

	cr_assert_eq(ask(-1, "api.mid", AF_INET, &a), NAMETAB_FORWARD);
	cr_assert_eq(ask(7, "api.mid", AF_INET, &a), NAMETAB_FORWARD);
}

Test(names, too_long_name_forwards)
{
	struct nametab_answer a;
	char q[400];

	memset(q, 'a', sizeof(q) - 1);
	q[sizeof(q) - 1] = '\0';
	cr_assert_eq(ask(FRONT, q, AF_INET, &a), NAMETAB_FORWARD);
}

/* ---- the Engine API's JSON */

static const char inspect[] =
    "{\"Id\":\"" CT("1") "\",\"Name\":\"/proj_api_1\",\"State\":{\"Running\":true},"
			 "\"NetworkSettings\":{\"Networks\":{"
			 "\"proj_mid\":{\"NetworkID\":\"" N_MID
			 "\",\"Aliases\":[\"api\",\"0123456789ab\"],"
			 "\"IPAddress\":\"10.95.2.2\",\"GlobalIPv6Address\":\"fd00:95:2::2\"},"
			 "\"proj_back\":{\"NetworkID\":\"" N_BACK "\",\"Aliases\":null,"
			 "\"IPAddress\":\"10.95.3.9\",\"GlobalIPv6Address\":\"\"}}}}";

Test(engjson, container_names_on_each_network)
{
	struct engjson_ct ct;
	size_t i, mid = 0, back = 0;

	cr_assert_eq(engjson_container(inspect, strlen(inspect), &ct), 0);
	cr_assert(ct.running);
	cr_assert_eq(ct.n, 4, "name and 2 aliases on mid, name on back: %zu", ct.n);
	for (i = 0; i < ct.n; i++) {
		if (!strcmp(ct.v[i].net_id, N_MID)) {
			mid++;
			cr_assert(ct.v[i].has6);
		} else {
			back++;
			cr_assert_str_eq(ct.v[i].name, "proj_api_1",
					 "aliases stay on their network");
			cr_assert(!ct.v[i].has6);
		}
	}
	cr_assert_eq(mid, 3);
	cr_assert_eq(back, 1);
	for (i = 0, mid = 0; i < ct.n; i++)
		if (ct.v[i].primary) {
			mid++;
			cr_assert_str_eq(ct.v[i].name, "proj_api_1", "only the name is primary");
		}
	cr_assert_eq(mid, 2, "the name on each network: %zu", mid);
	engjson_ct_free(&ct);
}

/* The denied-flow log names containers by address: the container's name, never an alias. */
Test(names, owner_by_address)
{
	struct nametab t;
	struct nametab_entry *v = calloc(4, sizeof(*v));
	unsigned char a[16];
	char buf[64];

	cr_assert(v);
	v[0] = ent("api", N_MID, CT("2"), "10.95.2.2", "fd00:95:2::2"); /* an alias */
	v[1] = ent("proj_api_1", N_MID, CT("2"), "10.95.2.2", "fd00:95:2::2");
	v[1].primary = true;
	v[2] = ent("web", N_FRONT, CT("1"), "10.95.1.2", NULL); /* an alias only */
	/* an alias that is the name in other case: one entry, still the name */
	v[3] = ent("proj_api_1", N_MID, CT("2"), "10.95.2.2", "fd00:95:2::2");
	nametab_build(&t, v, 4);
	inet_pton(AF_INET, "10.95.2.2", a);
	cr_assert(nametab_owner(&t, AF_INET, a, buf, sizeof(buf)));
	cr_assert_str_eq(buf, "proj_api_1");
	inet_pton(AF_INET6, "fd00:95:2::2", a);
	cr_assert(nametab_owner(&t, AF_INET6, a, buf, sizeof(buf)));
	cr_assert_str_eq(buf, "proj_api_1");
	cr_assert(nametab_owner(&t, AF_INET6, a, buf, 5), "truncated, still found");
	cr_assert_str_eq(buf, "proj");
	inet_pton(AF_INET, "10.95.1.2", a);
	cr_assert(!nametab_owner(&t, AF_INET, a, buf, sizeof(buf)), "an alias names no container");
	inet_pton(AF_INET, "10.95.9.9", a);
	cr_assert(!nametab_owner(&t, AF_INET, a, buf, sizeof(buf)), "an unknown address");
	nametab_free(&t);
}

Test(engjson, stopped_or_bad_container)
{
	struct engjson_ct ct;
	const char stopped[] =
	    "{\"Id\":\"" CT("1") "\",\"Name\":\"/x\",\"State\":{\"Running\":false}}";

	cr_assert_eq(engjson_container(stopped, strlen(stopped), &ct), 0);
	cr_assert(!ct.running);
	cr_assert_eq(ct.n, 0);
	engjson_ct_free(&ct);
	cr_assert_eq(engjson_container("[]", 2, &ct), -EINVAL);
	cr_assert_eq(engjson_container("{\"Id\":\"../x\",\"Name\":\"/x\"}", 26, &ct), -EINVAL);
	cr_assert_eq(engjson_container("{", 1, &ct), -EINVAL);
}

Test(engjson, events)
{
	char id[DNS_ID_LEN + 1];
	const char c[] =
	    "{\"Type\":\"container\",\"Action\":\"die\",\"Actor\":{\"ID\":\"" CT("2") "\"}}";
	const char n[] = "{\"Type\":\"network\",\"Action\":\"connect\",\"Actor\":{\"ID\":\"" N_MID
			 "\",\"Attributes\":{\"container\":\"" CT("3") "\"}}}";
	const char other[] =
	    "{\"Type\":\"network\",\"Action\":\"create\",\"Actor\":{\"ID\":\"" N_MID "\"}}";

	cr_assert_eq(engjson_event(c, strlen(c), id), 1);
	cr_assert_str_eq(id, CT("2"));
	cr_assert_eq(engjson_event(n, strlen(n), id), 1);
	cr_assert_str_eq(id, CT("3"));
	cr_assert_eq(engjson_event(other, strlen(other), id), 0);
	cr_assert_eq(engjson_event("nope", 4, id), -EINVAL);
}

Test(engjson, list)
{
	const char body[] =
	    "[{\"Id\":\"" CT("1") "\"},{\"Id\":\"short\"},{\"Id\":\"" CT("2") "\"}]";
	char(*ids)[DNS_ID_LEN + 1];
	size_t n;

	cr_assert_eq(engjson_list(body, strlen(body), &ids, &n), 0);
	cr_assert_eq(n, 2, "the bad ID skipped");
	cr_assert_str_eq(ids[1], CT("2"));
	free(ids);
}

/* ---- DNS messages */

static size_t query(uint8_t *buf, const char *name, ldns_rr_type t)
{
	ldns_pkt *p = NULL;
	uint8_t *wire = NULL;
	size_t n = 0;

	cr_assert_eq(ldns_pkt_query_new_frm_str(&p, name, t, LDNS_RR_CLASS_IN, LDNS_RD),
		     LDNS_STATUS_OK);
	ldns_pkt_set_id(p, 0x1234);
	cr_assert_eq(ldns_pkt2wire(&wire, p, &n), LDNS_STATUS_OK);
	memcpy(buf, wire, n);
	free(wire);
	ldns_pkt_free(p);
	return n;
}

Test(dnsmsg, parse_and_answer)
{
	uint8_t q[512], out[512];
	struct dnsmsg_query dq;
	struct nametab_answer a = { .n = 1, .family = AF_INET };
	ldns_pkt *p = NULL;
	size_t n = query(q, "Api.Mid.", LDNS_RR_TYPE_A);
	int len;

	cr_assert_eq(dnsmsg_parse(q, n, &dq), 0);
	cr_assert_str_eq(dq.qname, "Api.Mid.");
	cr_assert_eq(dq.qtype, LDNS_RR_TYPE_A);
	cr_assert_eq(dq.id, 0x1234);
	inet_pton(AF_INET, "10.95.2.2", &a.v[0]);
	len = dnsmsg_answer(q, n, LDNS_RCODE_NOERROR, &a, out, sizeof(out));
	cr_assert_gt(len, 0);
	cr_assert_eq(ldns_wire2pkt(&p, out, (size_t)len), LDNS_STATUS_OK);
	cr_assert_eq(ldns_pkt_id(p), 0x1234);
	cr_assert(ldns_pkt_qr(p));
	cr_assert_eq(ldns_pkt_ancount(p), 1);
	cr_assert_eq(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(p), 0)), DNS_TTL);
	ldns_pkt_free(p);
	len = dnsmsg_answer(q, n, LDNS_RCODE_NXDOMAIN, NULL, out, sizeof(out));
	cr_assert_eq(ldns_wire2pkt(&p, out, (size_t)len), LDNS_STATUS_OK);
	cr_assert_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	cr_assert_eq(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);
}

Test(dnsmsg, garbage_and_answers_are_not_queries)
{
	uint8_t q[512], junk[3] = { 1, 2, 3 };
	struct dnsmsg_query dq;
	size_t n = query(q, "a.b.", LDNS_RR_TYPE_A);

	cr_assert_eq(dnsmsg_parse(junk, sizeof(junk), &dq), -EINVAL);
	q[2] |= 0x80; /* QR: an answer */
	cr_assert_eq(dnsmsg_parse(q, n, &dq), -EINVAL);
}

/* ---- rate limit */

Test(ratelimit, burst_then_rate)
{
	static struct ratelimit rl;
	uint32_t src = htonl(0x0a5f0102), other = htonl(0x0a5f0103);
	unsigned ok = 0, i;

	for (i = 0; i < DNS_BURST * 2; i++)
		ok += ratelimit_take(&rl, src, 1000);
	cr_assert_eq(ok, DNS_BURST);
	cr_assert(ratelimit_take(&rl, other, 1000), "another container is not slowed");
	cr_assert(!ratelimit_take(&rl, src, 1000));
	cr_assert(ratelimit_take(&rl, src, 1000 + 1000 / DNS_QPS + 1), "refilled at the rate");
}
