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
