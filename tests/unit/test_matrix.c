/*
 * policy_matrix: the reachability a rules_set enforces, read from the compiler's own output
 * for golden policies, and what it says when parts of the rules are missing (as after
 * someone flushed a chain).  policy_flow_allowed: the verdict the conntrack sweep uses.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "lib/names.h"
#include "policy/policy.h"
#include "tests/golden/nets.h"

struct fixture {
	struct policy *pol;
	struct golden_nets g;
	struct rules_set rs;
	struct policy_matrix m;
};

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long len;

	cr_assert_not_null(f, "missing %s", path);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)len + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	return buf;
}

/* Compiles tests/golden/NAME and reads the matrix back from the compiled rules. */
static void load(struct fixture *x, const char *name)
{
	struct config_diags d = { 0 };
	char path[256], *conf, *nets, bad[256];

	snprintf(path, sizeof(path), "tests/golden/%s.conf", name);
	conf = slurp(path);
	cr_assert_eq(config_parse(path, conf, strlen(conf), &x->pol, &d), 0);
	config_diags_free(&d);
	snprintf(path, sizeof(path), "tests/golden/%s.nets", name);
	nets = slurp(path);
	cr_assert_eq(golden_nets_parse(x->pol, nets, &x->g, bad, sizeof(bad)), 0, "%s", bad);
	rules_init(&x->rs);
	cr_assert_eq(policy_compile(x->pol, x->g.nets, x->g.n, &x->g.host, &x->rs), 0);
	cr_assert_eq(policy_matrix(x->pol, x->g.nets, x->g.n, &x->rs, &x->m), 0);
	free(conf);
	free(nets);
}

static void unload(struct fixture *x)
{
	policy_matrix_free(&x->m);
	rules_clear(&x->rs);
	policy_free(x->pol);
}

static int tier(const struct fixture *x, const char *name)
{
	if (!strcmp(name, "world"))
		return POLICY_WORLD;
	if (!strcmp(name, "host"))
		return POLICY_HOST;
	return policy_tier_find(x->pol, name);
}

/* The cell FROM -> TO as text: "-", "all" or "tcp/80,...". */
static const char *cell(const struct fixture *x, const char *from, const char *to)
{
	static char buf[256];

	return policy_cell_str(policy_matrix_cell(&x->m, tier(x, from), tier(x, to)), buf,
			       sizeof(buf));
}

Test(matrix, default_policy)
{
	static const char *const want[][3] = {
		{ "front", "front", "all" }, { "front", "mid", "all" }, { "front", "back", "-" },
		{ "front", "world", "all" }, { "front", "host", "-" },	{ "mid", "front", "-" },
		{ "mid", "mid", "all" },     { "mid", "back", "all" },	{ "mid", "world", "all" },
		{ "mid", "host", "-" },	     { "back", "front", "-" },	{ "back", "mid", "-" },
		{ "back", "back", "all" },   { "back", "world", "-" },	{ "back", "host", "-" },
		{ "world", "front", "all" }, { "world", "mid", "-" },	{ "world", "back", "-" },
	};
	struct fixture x;
	size_t i;

	load(&x, "default");
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_expect_str_eq(cell(&x, want[i][0], want[i][1]), want[i][2], "%s -> %s",
				 want[i][0], want[i][1]);
	unload(&x);
}

Test(matrix, ports_and_host)
{
	struct fixture x;

	load(&x, "ports");
	cr_expect_str_eq(cell(&x, "web", "app"), "tcp/8080,udp/53,tcp/9000-9100");
	cr_expect_str_eq(cell(&x, "app", "db"), "tcp/5432");
	cr_expect_str_eq(cell(&x, "world", "web"), "tcp/80,tcp/443,udp/443");
	cr_expect_str_eq(cell(&x, "db", "world"), "-");
	unload(&x);
	load(&x, "host");
	cr_expect_str_eq(cell(&x, "front", "host"), "tcp/53,udp/53");
	cr_expect_str_eq(cell(&x, "mid", "host"), "all");
	cr_expect_str_eq(cell(&x, "mon", "host"), "tcp/9100-9102");
	cr_expect_str_eq(cell(&x, "mon", "mon"), "-", "isolated");
	unload(&x);
}

/* Drops the rules of table t, chain chain (all of them when verdict < 0, else those). */
static void drop_rules(struct rules_set *rs, enum rules_table t, const char *chain, int verdict)
{
	size_t i, k = 0;

	for (i = 0; i < rs->nrules; i++)
		if (rs->rules[i].table != t || strcmp(rs->rules[i].chain, chain) ||
		    (verdict >= 0 && rs->rules[i].verdict != (enum rules_verdict)verdict))
			rs->rules[k++] = rs->rules[i];
	rs->nrules = k;
}

/* Drops the rules of table/chain whose target begins with prefix (the dispatch's gotos). */
static void drop_targets(struct rules_set *rs, enum rules_table t, const char *chain,
			 const char *prefix)
{
	size_t i, k = 0;

	for (i = 0; i < rs->nrules; i++)
		if (rs->rules[i].table != t || strcmp(rs->rules[i].chain, chain) ||
		    strncmp(rs->rules[i].target, prefix, strlen(prefix)))
			rs->rules[k++] = rs->rules[i];
	rs->nrules = k;
}

static void reread(struct fixture *x)
{
	policy_matrix_free(&x->m);
	cr_assert_eq(policy_matrix(x->pol, x->g.nets, x->g.n, &x->rs, &x->m), 0);
}

Test(matrix, flushed_chains_open_nothing)
{
	struct fixture x;

	load(&x, "default");
	drop_rules(&x.rs, RULES_MANGLE, "TIERNET-WORLD", -1);
	reread(&x);
	cr_expect_str_eq(cell(&x, "front", "world"), "-", "no world chain, no world");
	cr_expect_str_eq(cell(&x, "front", "mid"), "all");
	drop_targets(&x.rs, RULES_MANGLE, "TIERNET-FWD", "TIERNET-SRC-");
	reread(&x);
	cr_expect_str_eq(cell(&x, "front", "mid"), "-", "no dispatch, no tier edge");
	cr_expect_str_eq(cell(&x, "world", "front"), "all", "published ports need no dispatch");
	drop_rules(&x.rs, RULES_FILTER, "TIERNET-FWD", -1);
	reread(&x);
	cr_expect_str_eq(cell(&x, "world", "front"), "-", "nothing marked is accepted");
	unload(&x);
}

/* Every "allow" is a goto to TIERNET-OK: flushed, it leaves nothing marked, so nothing open. */
Test(matrix, flushed_ok_chain_opens_nothing)
{
	struct fixture x;

	load(&x, "host");
	cr_expect_str_eq(cell(&x, "front", "mid"), "all", "control: the edge is read");
	cr_expect_str_eq(cell(&x, "front", "world"), "all", "control: the world is read");
	drop_rules(&x.rs, RULES_MANGLE, "TIERNET-OK", -1);
	reread(&x);
	cr_expect_str_eq(cell(&x, "front", "mid"), "-");
	cr_expect_str_eq(cell(&x, "front", "front"), "-");
	cr_expect_str_eq(cell(&x, "front", "world"), "-");
	cr_expect_str_neq(cell(&x, "mid", "host"), "-", "the host's edges are filter's");
	unload(&x);
}

Test(matrix, unknown_parts_open_nothing)
{
	struct fixture x;
	size_t i;

	load(&x, "host");
	for (i = 0; i < x.rs.nrules; i++)
		if (x.rs.rules[i].table == RULES_FILTER && x.rs.rules[i].verdict == RULES_ACCEPT &&
		    x.rs.rules[i].in_group.on)
			snprintf(x.rs.rules[i].unknown, sizeof(x.rs.rules[i].unknown),
				 " -m limit ?");
	reread(&x);
	cr_expect_str_eq(cell(&x, "mid", "host"), "-");
	unload(&x);
}

Test(matrix, flow_verdicts)
{
	struct fixture x;
	int web, app, db;

	load(&x, "ports");
	web = tier(&x, "web"), app = tier(&x, "app"), db = tier(&x, "db");
	cr_expect(policy_flow_allowed(&x.m, web, app, IPPROTO_TCP, 8080));
	cr_expect(policy_flow_allowed(&x.m, web, app, IPPROTO_TCP, 9050));
	cr_expect(!policy_flow_allowed(&x.m, web, app, IPPROTO_TCP, 9101));
	cr_expect(!policy_flow_allowed(&x.m, web, app, IPPROTO_UDP, 8080));
	cr_expect(!policy_flow_allowed(&x.m, web, app, IPPROTO_ICMP, 0), "ports: no ICMP");
	cr_expect(policy_flow_allowed(&x.m, web, web, IPPROTO_ICMP, 0), "inside the tier");
	cr_expect(!policy_flow_allowed(&x.m, db, app, IPPROTO_TCP, 8080));
	cr_expect(policy_flow_allowed(&x.m, POLICY_HOST, db, IPPROTO_TCP, 1), "the host may");
	cr_expect(policy_flow_allowed(&x.m, POLICY_WORLD, web, IPPROTO_UDP, 443));
	cr_expect(!policy_flow_allowed(&x.m, POLICY_WORLD, web, IPPROTO_TCP, 22));
	cr_expect(!policy_flow_allowed(&x.m, POLICY_WORLD, POLICY_HOST, IPPROTO_TCP, 22));
	cr_expect(!policy_flow_allowed(&x.m, db, POLICY_WORLD, IPPROTO_TCP, 80), "internal");
	cr_expect(policy_flow_allowed(&x.m, web, POLICY_WORLD, IPPROTO_TCP, 80));
	cr_expect(!policy_flow_allowed(&x.m, 99, web, IPPROTO_TCP, 80), "no such tier");
	unload(&x);
}

/*
 * One policy, two families: for every golden case with dual-stack networks, the matrix the
 * IPv6 rules enforce is the IPv4 one, cell by cell (issue 13: a pair denied over IPv4 is
 * denied over IPv6, on the same ports).
 */
static void same_in_both_families(const char *name)
{
	struct fixture x;
	struct rules_set rs6;
	struct policy_matrix m6;
	char a[256], b[256];
	int from, to, nt;

	load(&x, name);
	rules_init_family(&rs6, AF_INET6);
	cr_assert_eq(policy_compile(x.pol, x.g.nets, x.g.n, &x.g.host, &rs6), 0);
	cr_assert_eq(policy_matrix(x.pol, x.g.nets, x.g.n, &rs6, &m6), 0);
	nt = (int)x.pol->ntiers;
	for (from = -1; from < nt; from++) {
		for (to = -2; to < nt; to++) {
			int f = from < 0 ? POLICY_WORLD : from;
			int t = to == -2 ? POLICY_HOST : to == -1 ? POLICY_WORLD : to;

			if (f == POLICY_WORLD && t < 0)
				continue;
			policy_cell_str(policy_matrix_cell(&x.m, f, t), a, sizeof(a));
			policy_cell_str(policy_matrix_cell(&m6, f, t), b, sizeof(b));
			cr_assert_str_eq(b, a, "%s: %d -> %d: IPv6 %s, IPv4 %s", name, f, t, b, a);
		}
	}
	policy_matrix_free(&m6);
	rules_clear(&rs6);
	unload(&x);
}

Test(matrix, ipv6_equals_ipv4_default)
{
	same_in_both_families("default");
}

Test(matrix, ipv6_equals_ipv4_isolated_ports)
{
	same_in_both_families("isolated-ports");
}

Test(matrix, ipv6_equals_ipv4_internal_tier)
{
	same_in_both_families("internal-tier");
}

/*
 * Past 8 tiers the dispatch is a tree (compile.c): every tier's edges are still read back,
 * and a branch cut (its chain flushed) takes exactly the tiers below it.
 */
Test(matrix, dispatch_tree)
{
	struct fixture x;
	char from[16], to[16], port[16];
	int i, dsp_ends = 0;

	load(&x, "chain12");
	cr_assert(rules_has_chain(&x.rs, RULES_MANGLE, "TIERNET-DSP-3-0"), "no tree");
	for (i = 1; i < 12; i++) {
		snprintf(from, sizeof(from), "t%02d", i);
		snprintf(to, sizeof(to), "t%02d", i + 1);
		snprintf(port, sizeof(port), "tcp/%d", 8000 + i);
		cr_expect_str_eq(cell(&x, from, to), port, "%s -> %s", from, to);
		cr_expect_str_eq(cell(&x, from, from), "all", "%s -> %s", from, from);
	}
	cr_expect_str_eq(cell(&x, "t12", "t01"), "-");
	/* a bridge under a branch but of no tier in it is denied and logged, not let fall */
	for (i = 0; i < (int)x.rs.nrules; i++) {
		const struct rules_rule *r = &x.rs.rules[i], *next = r + 1;

		if (strncmp(r->chain, "TIERNET-DSP-", 12) ||
		    (i + 1 < (int)x.rs.nrules && !strcmp(next->chain, r->chain)))
			continue;
		cr_expect_eq(r->verdict, RULES_GOTO, "%s ends with a goto", r->chain);
		cr_expect_str_eq(r->target, "TIERNET-LOG", "%s ends with the log", r->chain);
		cr_expect(!r->in_group.on, "%s: the last rule matches anything", r->chain);
		dsp_ends++;
	}
	cr_expect_eq(dsp_ends, 2, "two branches in chain12");
	drop_rules(&x.rs, RULES_MANGLE, "TIERNET-DSP-3-1", -1);
	reread(&x);
	cr_expect_str_eq(cell(&x, "t07", "t08"), "tcp/8007", "t07 is in the other branch");
	cr_expect_str_eq(cell(&x, "t08", "t09"), "-", "t08's branch is cut");
	cr_expect_str_eq(cell(&x, "t11", "t12"), "-", "t11's branch is cut");
	unload(&x);
}
