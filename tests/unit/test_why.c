/*
 * policy/why.c, golden-style: tests/golden/why.conf with every query of
 * tests/golden/why.cases, each answered as one line (verdict, reason, deciding line and its
 * statement, the line to change and the fix) and compared with the case's expectation.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "policy/policy.h"
#include "policy/why.h"

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

static struct policy *load(const char *path)
{
	struct config_diags d = { 0 };
	struct policy *pol = NULL;
	char *conf = slurp(path);

	cr_assert_eq(config_parse(path, conf, strlen(conf), &pol, &d), 0);
	config_diags_free(&d);
	free(conf);
	return pol;
}

static int tier(const struct policy *pol, const char *name)
{
	if (!strcmp(name, "world"))
		return POLICY_WORLD;
	if (!strcmp(name, "host"))
		return POLICY_HOST;
	return policy_tier_find(pol, name);
}

/* One query ("front mid tcp/8080 din=dst") answered as one line. */
static void answer(const struct policy *pol, char *query, char *out, size_t len)
{
	struct why_flow f = { 0 };
	struct why_verdict v;
	char *tok, *save = NULL, err[256];
	int i = 0;

	for (tok = strtok_r(query, " ", &save); tok; tok = strtok_r(NULL, " ", &save), i++) {
		if (i == 0)
			f.src = tier(pol, tok);
		else if (i == 1)
			f.dst = tier(pol, tok);
		else if (!strcmp(tok, "din=src"))
			f.src_dinternal = true;
		else if (!strcmp(tok, "din=dst"))
			f.dst_dinternal = true;
		else
			cr_assert_eq(why_port_parse(tok, &f.proto, &f.port, err, sizeof(err)), 0,
				     "%s", err);
	}
	if (why_decide(pol, &f, &v) < 0) {
		snprintf(out, len, "error");
		return;
	}
	snprintf(out, len, "%s %s %u \"%s\" | %u \"%s\"", v.allowed ? "allowed" : "denied",
		 why_reason_name(v.reason), v.line, v.rule, v.fix_at, v.fix);
	cr_expect(v.why[0], "every answer says why");
}

Test(why, golden_cases)
{
	struct policy *pol = load("tests/golden/why.conf");
	char *cases = slurp("tests/golden/why.cases"), *line, *save = NULL, got[1024];
	size_t n = 0;

	for (line = strtok_r(cases, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *arrow = strstr(line, " => ");

		if (line[0] == '#')
			continue;
		cr_assert_not_null(arrow, "no \" => \" in %s", line);
		char query[256];

		*arrow = '\0';
		snprintf(query, sizeof(query), "%s", line);
		answer(pol, query, got, sizeof(got));
		cr_expect_str_eq(got, arrow + 4, "%s:\n  got  %s\n  want %s", line, got, arrow + 4);
		n++;
	}
	cr_expect_geq(n, 25);
	free(cases);
	policy_free(pol);
}

Test(why, fix_line_for_the_log)
{
	struct policy *pol = load("tests/golden/why.conf");
	char reason[32], fix[256];

	cr_assert_eq(why_fix_line(pol, policy_tier_find(pol, "mid"), policy_tier_find(pol, "front"),
				  IPPROTO_TCP, 80, reason, sizeof(reason), fix, sizeof(fix)),
		     0);
	cr_expect_str_eq(reason, "no-edge");
	cr_expect_str_eq(fix, "allow mid -> front tcp/80");
	cr_assert_eq(why_fix_line(pol, policy_tier_find(pol, "front"), policy_tier_find(pol, "mid"),
				  IPPROTO_TCP, 8080, reason, sizeof(reason), fix, sizeof(fix)),
		     0);
	cr_expect_str_eq(reason, "allowed");
	cr_expect_str_eq(fix, "");
	cr_expect_eq(why_fix_line(pol, 99, 0, 0, 0, reason, sizeof(reason), fix, sizeof(fix)),
		     -EINVAL);
	policy_free(pol);
}

Test(why, port_parse)
{
	static const char *const bad[] = { "8080",    "tcp/",	"tcp/0", "tcp/65536", "sctp/80",
					   "tcp/80x", "tcp/-1", "",	 "tcp/ 80" };
	uint8_t proto;
	uint16_t port;
	char err[256];
	size_t i;

	cr_assert_eq(why_port_parse("udp/53", &proto, &port, err, sizeof(err)), 0);
	cr_expect_eq(proto, IPPROTO_UDP);
	cr_expect_eq(port, 53);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(why_port_parse(bad[i], &proto, &port, err, sizeof(err)), -EINVAL, "%s",
			     bad[i]);
		cr_expect(strstr(err, "like tcp/8080"), "%s", err);
	}
}

static struct policy *parse_text(const char *text)
{
	struct config_diags d = { 0 };
	struct policy *pol = NULL;

	cr_assert_eq(config_parse("t.conf", text, strlen(text), &pol, &d), 0);
	config_diags_free(&d);
	return pol;
}

/* The changes as "from->to +ports" / "from->to -ports", joined by "|". */
static void diff_str(const char *a, const char *b, char *out, size_t len)
{
	struct policy *old = parse_text(a), *new = parse_text(b);
	struct why_change *v;
	size_t n, i, pos = 0;

	cr_assert_eq(why_diff(old, new, &v, &n), 0);
	out[0] = '\0';
	for (i = 0; i < n; i++)
		pos += (size_t)snprintf(out + pos, len - pos, "%s%s->%s %c%s", i ? "|" : "",
					v[i].from, v[i].to, v[i].allowed ? '+' : '-', v[i].ports);
	free(v);
	policy_free(old);
	policy_free(new);
}

Test(why, diff)
{
	char got[2048];

	diff_str(config_default_text, config_default_text, got, sizeof(got));
	cr_expect_str_eq(got, "", "the same policy changes nothing");
	diff_str("tier a\ntier b\nallow a -> b tcp/80\n",
		 "tier a\ntier b\nallow a -> b tcp/80-82, udp/53\n", got, sizeof(got));
	cr_expect_str_eq(got, "a->b +tcp/81-82, udp/53");
	diff_str("tier a\ntier b\nallow a -> b\n", "tier a\ntier b\nallow a -> b tcp/80\n", got,
		 sizeof(got));
	cr_expect_str_eq(got, "a->b -tcp/1-79, tcp/81-65535, udp/1-65535, other protocols");
	diff_str("tier a\ntier b\n", "tier a\ntier b\nallow a -> b\n", got, sizeof(got));
	cr_expect_str_eq(got, "a->b +all");
	diff_str("tier a\nallow world -> a tcp/80\n", "tier a internal\n", got, sizeof(got));
	cr_expect_str_eq(got, "a->world -all|world->a -tcp/80");
	diff_str("tier a\n", "tier a isolated\nallow a -> a udp/53\n", got, sizeof(got));
	cr_expect_str_eq(got, "a->a -tcp/1-65535, udp/1-52, udp/54-65535, other protocols");
	diff_str("tier a\n", "tier a\ntier n\nallow n -> host tcp/9100\n", got, sizeof(got));
	cr_expect_str_eq(got, "n->n +all|n->world +all|n->host +tcp/9100", "a new tier: %s", got);
}

Test(why, graph)
{
	struct policy *pol = parse_text(config_default_text);
	struct why_graph_tier st[3] = { { 2, 5 }, { 1, 1 }, { 0, 0 } };
	char *dot, *mm;

	cr_assert_eq(why_graph(pol, st, NULL, NULL, false, &dot), 0);
	cr_expect(strstr(dot, "digraph tiernet {"), "%s", dot);
	cr_expect(strstr(dot, "\"front\" [label=\"front\\n2 networks, 5 endpoints\"];"), "%s", dot);
	cr_expect(strstr(dot, "\"back\" [label=\"back (internal)\\n0 networks, 0 endpoints\", "
			      "style=\"rounded,dashed\"];"),
		  "%s", dot);
	cr_expect(strstr(dot, "\"world\" -> \"front\" [label=\"published: all (line 7)\"];"), "%s",
		  dot);
	cr_expect(strstr(dot, "\"mid\" -> \"back\" [label=\"all (line 9)\"];"), "%s", dot);
	cr_expect(strstr(dot, "\"mid\" -> \"world\" [label=\"egress\", style=dashed];"), "%s", dot);
	cr_expect_null(strstr(dot, "\"back\" -> \"world\""), "an internal tier has no egress");
	cr_assert_eq(why_graph(pol, st, NULL, NULL, true, &mm), 0);
	cr_expect(strstr(mm, "flowchart LR\n"), "%s", mm);
	cr_expect(strstr(mm, "  t0 -->|\"all (line 8)\"| t1\n"), "%s", mm);
	cr_expect(strstr(mm, "  t1 -.->|\"egress\"| world\n"), "%s", mm);
	free(dot);
	free(mm);
	policy_free(pol);
}

/* Audit mode is marked on its tier and over the whole picture; without it, nothing is. */
Test(why, graph_audit)
{
	struct policy *pol = parse_text("tier front\ntier mid audit\nallow front -> mid tcp/80\n");
	struct policy *plain = parse_text("tier front\ntier mid\nallow front -> mid tcp/80\n");
	char *dot, *mm, *none;

	cr_assert_eq(why_graph(pol, NULL, NULL, NULL, false, &dot), 0);
	cr_expect(strstr(dot, "label=\"AUDIT MODE: flows the policy denies are logged and let "
			      "through\";"),
		  "%s", dot);
	cr_expect(strstr(dot, "\"mid\" [label=\"mid (AUDIT: denials logged, let through)\\n0 "
			      "networks, 0 endpoints\", color=orange"),
		  "%s", dot);
	cr_expect(strstr(dot, "\"front\" [label=\"front\\n0 networks, 0 endpoints\"];"), "%s", dot);
	cr_assert_eq(why_graph(pol, NULL, NULL, NULL, true, &mm), 0);
	cr_expect(strstr(mm, "  audit[\"AUDIT MODE"), "%s", mm);
	cr_expect(strstr(mm, "  style t1 stroke:orange"), "%s", mm);
	cr_assert_eq(why_graph(plain, NULL, NULL, NULL, false, &none), 0);
	cr_expect_null(strstr(none, "AUDIT"), "%s", none);
	free(dot);
	free(mm);
	free(none);
	policy_free(pol);
	policy_free(plain);
}

#include "tests/golden/nets.h"

/* The counters of golden "default" with a count put on the rules of some shapes. */
Test(why, counters)
{
	struct policy *pol = load("tests/golden/default.conf");
	char *nets = slurp("tests/golden/default.nets"), bad[256], buf[512];
	struct golden_nets g;
	struct why_counters c;
	struct rules_set rs;
	size_t i;

	cr_assert_eq(golden_nets_parse(pol, nets, &g, bad, sizeof(bad)), 0, "%s", bad);
	rules_init(&rs);
	cr_assert_eq(policy_compile(pol, g.nets, g.n, &g.host, &rs), 0);
	for (i = 0; i < rs.nrules; i++) {
		rules_format(&rs.rules[i], buf, sizeof(buf));
		/* front -> mid (mark in TIERNET-SRC-front to mid's group), and a denial. */
		if (strstr(buf, "-A TIERNET-SRC-front --dst-group 0x746e8002") ||
		    (strstr(buf, "-A TIERNET-SRC-front") && strstr(buf, "0x746e8002"))) {
			rs.rules[i].pkts = 3;
			rs.rules[i].bytes = 180;
		}
		if (strstr(buf, "-A TIERNET-DNY-front") && strstr(buf, "0x746e8003"))
			rs.rules[i].pkts = 7;
		if (strstr(buf, "-A TIERNET-IN") && strstr(buf, "0x746e8002") && strstr(buf, "NEW"))
			rs.rules[i].pkts = 2;
	}
	cr_assert_eq(why_counters_init(pol, &c), 0);
	why_counters_add(pol, g.nets, g.n, &rs, &c);
	why_counters_add(pol, g.nets, g.n, &rs, &c); /* the other family: summed */
	cr_expect_eq(c.edges[1].pkts, 6, "allow front -> mid: %llu",
		     (unsigned long long)c.edges[1].pkts);
	cr_expect_eq(c.edges[1].bytes, 360);
	cr_expect_eq(c.edges[0].pkts, 0);
	cr_expect_eq(c.denied[0 * 4 + 2], 14, "front -> back denied");
	cr_expect_eq(c.denied[1 * 4 + 3], 4, "mid -> host denied");
	cr_expect_eq(c.denied[2 * 4 + 0], 0);
	why_counters_free(&c);
	rules_clear(&rs);
	free(nets);
	policy_free(pol);
}
