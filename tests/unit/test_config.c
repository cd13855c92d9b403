/*
 * config/: the policy file parser, its diagnostics, and config_load's file checks.
 * Error output is compared as whole strings, caret lines included: it is what users see.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "policy/policy.h"

#define TIERS3 "tier front\ntier mid\ntier back internal\n"

/* Everything config_diags_print writes for d. */
static char *print_all(const struct config_diags *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	config_diags_print(d, f);
	cr_assert_eq(fclose(f), 0);
	return buf;
}

/* Parses text as "policy.conf", expects it to fail, and compares all the output. */
static void expect_errors(const char *text, const char *expected)
{
	struct config_diags d = { 0 };
	struct policy *pol = (struct policy *)1;
	char *out;
	int r;

	r = config_parse("policy.conf", text, strlen(text), &pol, &d);
	out = print_all(&d);
	cr_assert_eq(r, -EINVAL, "config_parse returned %d for:\n%s\noutput:\n%s", r, text, out);
	cr_assert_null(pol);
	cr_assert_str_eq(out, expected, "for input:\n%s\n", text);
	free(out);
	config_diags_free(&d);
}

static struct policy *parse_ok(const char *text)
{
	struct config_diags d = { 0 };
	struct policy *pol = NULL;
	char *out;
	int r;

	r = config_parse("policy.conf", text, strlen(text), &pol, &d);
	out = print_all(&d);
	cr_assert_eq(r, 0, "config_parse returned %d:\n%s", r, out);
	cr_assert_eq(d.n, 0);
	cr_assert_not_null(pol);
	free(out);
	config_diags_free(&d);
	return pol;
}

/* ------------------------------------------------------------------------------------ */

Test(config, default_policy)
{
	struct policy *pol = parse_ok(config_default_text);

	cr_assert_eq(pol->ntiers, 3);
	cr_assert_str_eq(pol->tiers[0].name, "front");
	cr_assert_str_eq(pol->tiers[1].name, "mid");
	cr_assert_str_eq(pol->tiers[2].name, "back");
	cr_assert(!pol->tiers[0].internal && !pol->tiers[0].isolated);
	cr_assert(!pol->tiers[1].internal && !pol->tiers[1].isolated);
	cr_assert(pol->tiers[2].internal && !pol->tiers[2].isolated);
	cr_assert_eq(pol->tiers[0].line, 2);
	cr_assert_eq(pol->tiers[2].line, 4);

	cr_assert_eq(pol->nedges, 3);
	cr_assert_eq(pol->edges[0].src, POLICY_WORLD);
	cr_assert_eq(pol->edges[0].dst, 0);
	cr_assert_eq(pol->edges[1].src, 0);
	cr_assert_eq(pol->edges[1].dst, 1);
	cr_assert_eq(pol->edges[2].src, 1);
	cr_assert_eq(pol->edges[2].dst, 2);
	cr_assert_eq(pol->edges[0].nports + pol->edges[1].nports + pol->edges[2].nports, 0);
	cr_assert_eq(pol->edges[0].line, 7);
	cr_assert_eq(pol->edges[2].line, 9);
	policy_free(pol);
}

Test(config, default_text_is_the_documented_one)
{
	cr_assert(
	    strstr(config_default_text, "tier back internal          # internal: no traffic"));
	cr_assert(
	    !strncmp(config_default_text, "# tiers: a network joins one with -o tier=NAME\n", 47));
	cr_assert_eq(config_default_text[strlen(config_default_text) - 1], '\n');
}

Test(config, ports_parse_into_structs)
{
	struct policy *pol =
	    parse_ok(TIERS3 "allow front -> mid tcp/8080, udp/53 ,tcp/9000-9100,udp/1-65535\n"
			    "allow mid->host tcp/9100\n");
	const struct policy_edge *e = policy_edge_find(pol, 0, 1);

	cr_assert_not_null(e);
	cr_assert_eq(e->nports, 4);
	cr_assert_eq(e->ports[0].proto, IPPROTO_TCP);
	cr_assert_eq(e->ports[0].lo, 8080);
	cr_assert_eq(e->ports[0].hi, 8080);
	cr_assert_eq(e->ports[1].proto, IPPROTO_UDP);
	cr_assert_eq(e->ports[1].lo, 53);
	cr_assert_eq(e->ports[1].hi, 53);
	cr_assert_eq(e->ports[2].proto, IPPROTO_TCP);
	cr_assert_eq(e->ports[2].lo, 9000);
	cr_assert_eq(e->ports[2].hi, 9100);
	cr_assert_eq(e->ports[3].proto, IPPROTO_UDP);
	cr_assert_eq(e->ports[3].lo, 1);
	cr_assert_eq(e->ports[3].hi, 65535);
	e = policy_edge_find(pol, 1, POLICY_HOST);
	cr_assert_not_null(e);
	cr_assert_eq(e->nports, 1);
	cr_assert_eq(e->ports[0].lo, 9100);
	cr_assert_eq(e->line, 5);
	cr_assert_null(policy_edge_find(pol, 1, 0));
	policy_free(pol);
}

Test(config, flags_any_order_and_forward_references)
{
	struct policy *pol = parse_ok("allow world -> web\r\n"
				      "allow web -> db tcp/5432   # trailing comment\n"
				      "\t\n"
				      "allow db -> db tcp/5432\n"
				      "tier web\n"
				      "tier db isolated internal\n"
				      "tier Ops-2_x internal isolated#comment\n");

	cr_assert_eq(pol->ntiers, 3);
	cr_assert(pol->tiers[1].internal && pol->tiers[1].isolated);
	cr_assert(pol->tiers[2].internal && pol->tiers[2].isolated);
	cr_assert_str_eq(pol->tiers[2].name, "Ops-2_x");
	cr_assert_eq(pol->nedges, 3);
	cr_assert_eq(policy_tier_find(pol, "db"), 1);
	cr_assert_eq(policy_tier_find(pol, "nope"), -ENOENT);
	cr_assert_not_null(policy_edge_find(pol, 1, 1));
	policy_free(pol);
}

Test(config, tier_list)
{
	struct policy *pol = parse_ok(TIERS3);
	char buf[64], small[8];

	cr_assert_eq(policy_tier_list(pol, buf, sizeof(buf)), strlen("front, mid, back"));
	cr_assert_str_eq(buf, "front, mid, back");
	cr_assert_eq(policy_tier_list(pol, small, sizeof(small)), 16);
	cr_assert_str_eq(small, "front, ");
	policy_free(pol);
}

Test(config, no_networks_name_max_length)
{
	struct policy *pol = parse_ok("tier abcdefghijklmnop\n");

	cr_assert_eq(strlen(pol->tiers[0].name), 16);
	policy_free(pol);
}

/* ----- every error kind, exact text -------------------------------------------------- */

Test(config_errors, unknown_tier_lists_declared)
{
	expect_errors("tier front\ntier mid\ntier back\n\n\n\n\n\n\n\n\n"
		      "allow frontnd -> back\n",
		      "policy.conf:12:7: error: unknown tier \"frontnd\" (declared: front, mid, "
		      "back)\n"
		      "    allow frontnd -> back\n"
		      "          ^~~~~~~\n");
}

Test(config_errors, caret_copies_tabs)
{
	expect_errors("tier front\n\tallow\tfront ->\tbak\n",
		      "policy.conf:2:17: error: unknown tier \"bak\" (declared: front)\n"
		      "    \tallow\tfront ->\tbak\n"
		      "    \t     \t        \t^~~\n");
}

Test(config_errors, unknown_keyword)
{
	expect_errors("tier front\nalow front -> front\n",
		      "policy.conf:2:1: error: unknown keyword \"alow\": a line starts with "
		      "\"tier\", \"allow\" or \"audit\"\n"
		      "    alow front -> front\n"
		      "    ^~~~\n");
}

Test(config_errors, missing_tokens)
{
	expect_errors(TIERS3 "tier\nallow\nallow front\nallow front ->   # no dst\n",
		      "policy.conf:4:5: error: missing tier name: write \"tier NAME [internal] "
		      "[isolated] [audit]\"\n"
		      "    tier\n"
		      "        ^\n"
		      "policy.conf:5:6: error: missing source tier: write \"allow SRC -> DST "
		      "[PORTS]\"\n"
		      "    allow\n"
		      "         ^\n"
		      "policy.conf:6:12: error: missing \"->\" after \"front\"\n"
		      "    allow front\n"
		      "               ^\n"
		      "policy.conf:7:15: error: missing destination tier after \"->\"\n"
		      "    allow front ->   # no dst\n"
		      "                  ^\n");
}

Test(config_errors, arrow_missing_or_misplaced)
{
	expect_errors(TIERS3 "allow front mid\nallow -> mid\nallow front => mid\n",
		      "policy.conf:4:13: error: expected \"->\" after \"front\", found \"mid\"\n"
		      "    allow front mid\n"
		      "                ^~~\n"
		      "policy.conf:5:7: error: expected a source tier, found \"->\"\n"
		      "    allow -> mid\n"
		      "          ^~\n"
		      "policy.conf:6:13: error: expected \"->\" after \"front\", found \"=>\"\n"
		      "    allow front => mid\n"
		      "                ^~\n");
}

Test(config_errors, bad_tier_names)
{
	expect_errors("tier front\ntier 1st\ntier a.b\ntier world\ntier host\n"
		      "tier abcdefghijklmnopq\n",
		      "policy.conf:2:6: error: bad tier name \"1st\": use a letter, then letters, "
		      "digits, '_' or '-'\n"
		      "    tier 1st\n"
		      "         ^~~\n"
		      "policy.conf:3:6: error: bad tier name \"a.b\": use a letter, then letters, "
		      "digits, '_' or '-'\n"
		      "    tier a.b\n"
		      "         ^~~\n"
		      "policy.conf:4:6: error: \"world\" is a pseudo-tier and cannot be declared: "
		      "choose another name\n"
		      "    tier world\n"
		      "         ^~~~~\n"
		      "policy.conf:5:6: error: \"host\" is a pseudo-tier and cannot be declared: "
		      "choose another name\n"
		      "    tier host\n"
		      "         ^~~~\n"
		      "policy.conf:6:6: error: tier name \"abcdefghijklmnopq\" is too long (17 "
		      "characters, at most 16)\n"
		      "    tier abcdefghijklmnopq\n"
		      "         ^~~~~~~~~~~~~~~~~\n");
}

Test(config_errors, token_too_long)
{
	char text[256], expected[1024];
	char word[66];

	memset(word, 'x', 65);
	word[65] = '\0';
	snprintf(text, sizeof(text), "tier a\nallow a -> %s\n", word);
	snprintf(expected, sizeof(expected),
		 "policy.conf:2:12: error: word \"xxxxxxxxxxxxxxxxxxxx...\" is too long (65 "
		 "characters, at most 64)\n"
		 "    allow a -> %s\n"
		 "               ^%.64s\n",
		 word,
		 "~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~");
	expect_errors(text, expected);
}

Test(config_errors, duplicate_tier_and_flags)
{
	expect_errors("tier front\ntier mid\ntier front internal\ntier back internal isolated "
		      "internal\n"
		      "tier db intrnal\n",
		      "policy.conf:3:6: error: duplicate tier \"front\" (first declared on line "
		      "1)\n"
		      "    tier front internal\n"
		      "         ^~~~~\n"
		      "policy.conf:4:29: error: duplicate flag \"internal\"\n"
		      "    tier back internal isolated internal\n"
		      "                                ^~~~~~~~\n"
		      "policy.conf:5:9: error: unknown flag \"intrnal\" for tier \"db\": use "
		      "internal, isolated or audit\n"
		      "    tier db intrnal\n"
		      "            ^~~~~~~\n");
}

Test(config_errors, bad_protocol_port_range)
{
	expect_errors(TIERS3 "allow front -> mid sctp/80\n"
			     "allow mid -> back tcp/0, udp/65536, tcp/http\n"
			     "allow front -> host tcp/9100-9000\n"
			     "allow mid -> host tcp/80-\n"
			     "allow world -> front 8080\n",
		      "policy.conf:4:20: error: unknown protocol \"sctp\": use tcp or udp\n"
		      "    allow front -> mid sctp/80\n"
		      "                       ^~~~\n"
		      "policy.conf:5:23: error: bad port \"0\": use a number from 1 to 65535\n"
		      "    allow mid -> back tcp/0, udp/65536, tcp/http\n"
		      "                          ^\n"
		      "policy.conf:6:25: error: bad port range \"9100-9000\": 9100 is greater than "
		      "9000, write the lower port first\n"
		      "    allow front -> host tcp/9100-9000\n"
		      "                            ^~~~~~~~~\n"
		      "policy.conf:7:23: error: bad port range \"80-\": write LO-HI, e.g. "
		      "9000-9100\n"
		      "    allow mid -> host tcp/80-\n"
		      "                          ^~~\n"
		      "policy.conf:8:22: error: bad port \"8080\": write PROTO/PORT or "
		      "PROTO/LO-HI, e.g. tcp/8080 or udp/9000-9100\n"
		      "    allow world -> front 8080\n"
		      "                         ^~~~\n");
}

Test(config_errors, bad_port_values)
{
	expect_errors(TIERS3 "allow mid -> back udp/65536\nallow front -> mid tcp/http\n",
		      "policy.conf:4:23: error: bad port \"65536\": use a number from 1 to 65535\n"
		      "    allow mid -> back udp/65536\n"
		      "                          ^~~~~\n"
		      "policy.conf:5:24: error: bad port \"http\": use a number from 1 to 65535\n"
		      "    allow front -> mid tcp/http\n"
		      "                           ^~~~\n");
}

Test(config_errors, port_list_commas)
{
	expect_errors(TIERS3 "allow front -> mid tcp/80 tcp/81\nallow mid -> back tcp/80,\n",
		      "policy.conf:4:27: error: expected \",\" before \"tcp/81\"\n"
		      "    allow front -> mid tcp/80 tcp/81\n"
		      "                              ^~~~~~\n"
		      "policy.conf:5:26: error: missing port after \",\"\n"
		      "    allow mid -> back tcp/80,\n"
		      "                             ^\n");
}

Test(config_errors, duplicate_allow)
{
	expect_errors(TIERS3 "allow front -> mid tcp/80\nallow front  ->  mid udp/53\n",
		      "policy.conf:5:7: error: duplicate allow \"front -> mid\" (first on line 4): "
		      "merge the two lines\n"
		      "    allow front  ->  mid udp/53\n"
		      "          ^~~~~~~~~~~~~~\n");
}

Test(config_errors, world_to_internal)
{
	expect_errors(TIERS3 "allow world -> back tcp/443\n",
		      "policy.conf:4:16: error: tier \"back\" is internal: remove this line or "
		      "drop \"internal\" from line 3\n"
		      "    allow world -> back tcp/443\n"
		      "                   ^~~~\n");
}

Test(config_errors, egress_to_world_is_implicit)
{
	expect_errors(TIERS3 "allow front -> world\nallow back -> world\n",
		      "policy.conf:4:16: error: egress to the world is implicit for tiers that are "
		      "not internal: remove this line\n"
		      "    allow front -> world\n"
		      "                   ^~~~~\n"
		      "policy.conf:5:15: error: egress to the world is implicit for tiers that are "
		      "not internal: remove this line, or drop \"internal\" from line 3\n"
		      "    allow back -> world\n"
		      "                  ^~~~~\n");
}

Test(config_errors, host_to_tier)
{
	expect_errors(TIERS3 "allow host -> mid tcp/22\n",
		      "policy.conf:4:7: error: the host may always connect to containers: remove "
		      "this line\n"
		      "    allow host -> mid tcp/22\n"
		      "          ^~~~\n");
}

Test(config_errors, pseudo_to_pseudo)
{
	expect_errors(TIERS3 "allow world -> host\nallow host -> world\n",
		      "policy.conf:4:7: error: \"world -> host\" names no tier: one side of an "
		      "allow line must be a tier\n"
		      "    allow world -> host\n"
		      "          ^~~~~~~~~~~~~\n"
		      "policy.conf:5:7: error: \"host -> world\" names no tier: one side of an "
		      "allow line must be a tier\n"
		      "    allow host -> world\n"
		      "          ^~~~~~~~~~~~~\n");
}

Test(config_errors, self_edges)
{
	expect_errors("tier web\ntier db isolated\nallow web -> web tcp/80\nallow db -> db\n",
		      "policy.conf:3:14: error: tier \"web\" is not isolated, so its containers "
		      "already reach each other: remove this line, or add \"isolated\" to line 1\n"
		      "    allow web -> web tcp/80\n"
		      "                 ^~~\n"
		      "policy.conf:4:7: error: \"db -> db\" without ports undoes \"isolated\": "
		      "list the ports (e.g. tcp/5432), or drop \"isolated\" from line 2\n"
		      "    allow db -> db\n"
		      "          ^~~~~~~~\n");
}

Test(config_errors, no_tier)
{
	expect_errors("",
		      "policy.conf: error: no tier declared: add a line such as \"tier front\"\n");
	expect_errors("# nothing\n\n   \n",
		      "policy.conf: error: no tier declared: add a line such as \"tier front\"\n");
}

Test(config_errors, nul_byte)
{
	static const char text[] = "tier front\ntier m\0d\n";
	struct config_diags d = { 0 };
	struct policy *pol;
	char *out;

	cr_assert_eq(config_parse("policy.conf", text, sizeof(text) - 1, &pol, &d), -EINVAL);
	out = print_all(&d);
	cr_assert_str_eq(out, "policy.conf:2:7: error: NUL byte: a policy file is text\n"
			      "    tier m\n"
			      "          ^\n");
	free(out);
	config_diags_free(&d);
}

Test(config_errors, overlong_line)
{
	size_t len = 5000;
	char *text = malloc(len + 32);
	char *out;
	struct config_diags d = { 0 };
	struct policy *pol;

	cr_assert_not_null(text);
	strcpy(text, "tier a\n#");
	memset(text + 8, 'x', len);
	strcpy(text + 8 + len, "\n");
	cr_assert_eq(config_parse("p", text, strlen(text), &pol, &d), -EINVAL);
	cr_assert_eq(d.n, 1);
	cr_assert_eq(d.v[0].line, 2);
	cr_assert_str_eq(d.v[0].message, "line is too long (5001 characters, at most 4096)");
	out = config_diag_format(&d.v[0]);
	/* The line is cut to fit the diag; no caret can point past it. */
	cr_assert_eq(strlen(out),
		     strlen("p:2:4097: error: line is too long (5001 characters, at most 4096)\n") +
			 4 + 255 + 1);
	free(out);
	free(text);
	config_diags_free(&d);
}

Test(config_errors, control_characters_are_not_echoed)
{
	expect_errors("tier a\x1b[31m\n",
		      "policy.conf:1:6: error: bad tier name \"a?[31m\": use a letter, then "
		      "letters, digits, '_' or '-'\n"
		      "    tier a?[31m\n"
		      "         ^~~~~~\n"
		      "policy.conf: error: no tier declared: add a line such as \"tier front\"\n");
}

Test(config_errors, many_errors_all_reported_in_line_order)
{
	expect_errors("allow front -> mdi\n"
		      "tier front\n"
		      "tier mid\n"
		      "tier front\n"
		      "allow front -> mid tcp/99999\n"
		      "frob\n"
		      "allow world -> front\n"
		      "allow world -> front\n",
		      "policy.conf:1:16: error: unknown tier \"mdi\" (declared: front, mid)\n"
		      "    allow front -> mdi\n"
		      "                   ^~~\n"
		      "policy.conf:4:6: error: duplicate tier \"front\" (first declared on line "
		      "2)\n"
		      "    tier front\n"
		      "         ^~~~~\n"
		      "policy.conf:5:24: error: bad port \"99999\": use a number from 1 to 65535\n"
		      "    allow front -> mid tcp/99999\n"
		      "                           ^~~~~\n"
		      "policy.conf:6:1: error: unknown keyword \"frob\": a line starts with "
		      "\"tier\", \"allow\" or \"audit\"\n"
		      "    frob\n"
		      "    ^~~~\n"
		      "policy.conf:8:7: error: duplicate allow \"world -> front\" (first on line "
		      "7): merge the two lines\n"
		      "    allow world -> front\n"
		      "          ^~~~~~~~~~~~~~\n");
}

Test(config_errors, error_count_is_bounded)
{
	size_t i, n = 150;
	char *text = malloc(n * 8 + 1), *p = text;
	struct config_diags d = { 0 };
	struct policy *pol;

	cr_assert_not_null(text);
	for (i = 0; i < n; i++)
		p += sprintf(p, "bogus\n");
	cr_assert_eq(config_parse("p", text, strlen(text), &pol, &d), -EINVAL);
	cr_assert_eq(d.n, 101);
	cr_assert_eq(d.v[99].line, 100);
	cr_assert_str_eq(d.v[100].message, "51 more errors not shown");
	free(text);
	config_diags_free(&d);
}

/* ----- limits ------------------------------------------------------------------------ */

static char *grow_text(size_t cap)
{
	char *t = calloc(1, cap);

	cr_assert_not_null(t);
	return t;
}

Test(config_limits, tiers)
{
	char *text = grow_text(POLICY_TIERS_MAX * 16 + 64), *p = text;
	struct config_diags d = { 0 };
	struct policy *pol;
	int i;

	for (i = 0; i <= POLICY_TIERS_MAX; i++)
		p += sprintf(p, "tier t%d\n", i);
	cr_assert_eq(config_parse("p", text, strlen(text), &pol, &d), -EINVAL);
	cr_assert_eq(d.n, 1);
	cr_assert_eq(d.v[0].line, 257);
	cr_assert_str_eq(d.v[0].message, "too many tiers (at most 256)");
	config_diags_free(&d);
	/* exactly the maximum is fine */
	*strstr(text, "tier t256\n") = '\0';
	cr_assert_eq(config_parse("p", text, strlen(text), &pol, &d), 0);
	cr_assert_eq(pol->ntiers, POLICY_TIERS_MAX);
	policy_free(pol);
	free(text);
}

Test(config_limits, edges)
{
	char *text = grow_text(80 * 16 + (POLICY_EDGES_MAX + 1) * 24), *p = text;
	struct config_diags d = { 0 };
	struct policy *pol;
	int i, j, n = 0;

	for (i = 0; i < 70; i++)
		p += sprintf(p, "tier t%d\n", i);
	for (i = 0; i < 70 && n <= POLICY_EDGES_MAX; i++)
		for (j = 0; j < 70 && n <= POLICY_EDGES_MAX; j++)
			if (i != j && ++n)
				p += sprintf(p, "allow t%d -> t%d\n", i, j);
	cr_assert_eq(config_parse("p", text, strlen(text), &pol, &d), -EINVAL);
	cr_assert_eq(d.n, 1);
	cr_assert_eq(d.v[0].line, 70 + POLICY_EDGES_MAX + 1);
	cr_assert_str_eq(d.v[0].message, "too many allow lines (at most 4096)");
	config_diags_free(&d);
	*strrchr(text, 'a') = '\0';
	cr_assert_eq(config_parse("p", text, strlen(text), &pol, &d), 0);
	cr_assert_eq(pol->nedges, POLICY_EDGES_MAX);
	policy_free(pol);
	free(text);
}

Test(config_limits, ports)
{
	char text[2048], *p = text;
	struct config_diags d = { 0 };
	struct policy *pol;
	int i;

	p += sprintf(p, "tier a\ntier b\nallow a -> b tcp/1");
	for (i = 2; i <= POLICY_PORTS_MAX; i++)
		p += sprintf(p, ", tcp/%d", i);
	cr_assert_eq(config_parse("p", text, strlen(text), &pol, &d), 0);
	cr_assert_eq(pol->edges[0].nports, POLICY_PORTS_MAX);
	policy_free(pol);
	sprintf(p, ", udp/%d\n", i);
	cr_assert_eq(config_parse("p", text, strlen(text), &pol, &d), -EINVAL);
	cr_assert_eq(d.n, 1);
	cr_assert_str_eq(d.v[0].message, "too many ports on one line (at most 64)");
	cr_assert_eq(d.v[0].column, (unsigned)(p - text) - 14 + 3);
	config_diags_free(&d);
}

/* ----- config_load ------------------------------------------------------------------- */

struct tmp {
	char dir[64];
	char path[128];
};

static void tmp_file(struct tmp *t, const char *text, size_t len, mode_t mode)
{
	int fd;

	snprintf(t->dir, sizeof(t->dir), "/tmp/tiernet-test-XXXXXX");
	cr_assert_not_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/tiernet.conf", t->dir);
	fd = open(t->path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	cr_assert_eq(fchmod(fd, mode), 0);
	close(fd);
}

static void tmp_cleanup(struct tmp *t)
{
	unlink(t->path);
	rmdir(t->dir);
}

static char *load_err(const char *path, int expect)
{
	struct config_diags d = { 0 };
	struct policy *pol = (struct policy *)1;
	char *out;

	cr_assert_eq(config_load(path, &pol, &d), expect);
	cr_assert_null(pol);
	cr_assert_geq(d.n, 1);
	out = print_all(&d);
	config_diags_free(&d);
	return out;
}

Test(config_load, valid_file)
{
	struct config_diags d = { 0 };
	struct policy *pol;
	struct tmp t;

	tmp_file(&t, TIERS3, strlen(TIERS3), 0644);
	cr_assert_eq(config_load(t.path, &pol, &d), 0);
	cr_assert_eq(d.n, 0);
	cr_assert_eq(pol->ntiers, 3);
	policy_free(pol);
	tmp_cleanup(&t);
}

Test(config_load, explicit_path_missing)
{
	char *out = load_err("/nonexistent/tiernet.conf", -ENOENT);

	cr_assert_str_eq(out, "/nonexistent/tiernet.conf: error: cannot open: No such file or "
			      "directory\n");
	free(out);
}

Test(config_load, group_writable_refused)
{
	char expected[512], *out;
	struct tmp t;

	tmp_file(&t, TIERS3, strlen(TIERS3), 0664);
	out = load_err(t.path, -EPERM);
	snprintf(expected, sizeof(expected),
		 "%s: error: writable by group or others, refused: run \"chmod go-w %s\"\n", t.path,
		 t.path);
	cr_assert_str_eq(out, expected);
	free(out);
	tmp_cleanup(&t);
}

Test(config_load, world_writable_refused)
{
	char *out;
	struct tmp t;

	tmp_file(&t, TIERS3, strlen(TIERS3), 0602);
	out = load_err(t.path, -EPERM);
	cr_assert(strstr(out, "chmod go-w"));
	free(out);
	tmp_cleanup(&t);
}

/* Root without CAP_DAC_OVERRIDE (the daemon) cannot read it: refused the same way by all. */
Test(config_load, owner_unreadable_refused)
{
	char expected[512], *out;
	struct tmp t;

	tmp_file(&t, TIERS3, strlen(TIERS3), 0244);
	out = load_err(t.path, -EACCES);
	snprintf(expected, sizeof(expected),
		 "%s: error: not readable by its owner (mode 0244): tiernet reads it without "
		 "CAP_DAC_OVERRIDE; run \"chmod u+r %s\"\n",
		 t.path, t.path);
	cr_assert_str_eq(out, expected);
	free(out);
	tmp_cleanup(&t);
}

Test(config_load, oversized_file)
{
	size_t len = CONFIG_FILE_MAX + 1;
	char *text = malloc(len), expected[512], *out;
	struct tmp t;

	cr_assert_not_null(text);
	memset(text, '\n', len);
	memcpy(text, TIERS3, strlen(TIERS3));
	tmp_file(&t, text, len, 0644);
	out = load_err(t.path, -EFBIG);
	snprintf(expected, sizeof(expected), "%s: error: too big (262145 bytes, at most 262144)\n",
		 t.path);
	cr_assert_str_eq(out, expected);
	free(out);
	free(text);
	tmp_cleanup(&t);
}

Test(config_load, not_a_regular_file)
{
	char expected[256], *out;
	struct tmp t;

	tmp_file(&t, "", 0, 0644);
	out = load_err(t.dir, -EINVAL);
	snprintf(expected, sizeof(expected), "%s: error: not a regular file\n", t.dir);
	cr_assert_str_eq(out, expected);
	free(out);
	tmp_cleanup(&t);
}

Test(config_load, parse_errors_name_the_file)
{
	static const char text[] = "tier front\nallow front -> bak\n";
	char expected[512], *out;
	struct tmp t;

	tmp_file(&t, text, strlen(text), 0600);
	out = load_err(t.path, -EINVAL);
	snprintf(expected, sizeof(expected),
		 "%s:2:16: error: unknown tier \"bak\" (declared: front)\n"
		 "    allow front -> bak\n"
		 "                   ^~~\n",
		 t.path);
	cr_assert_str_eq(out, expected);
	free(out);
	tmp_cleanup(&t);
}

Test(config_load, diag_format_matches_print)
{
	struct config_diags d = { 0 };
	struct policy *pol;
	char *one, *all;

	cr_assert_eq(config_parse("x.conf", "tier a\nallow a -> b\n", 20, &pol, &d), -EINVAL);
	cr_assert_eq(d.n, 1);
	one = config_diag_format(&d.v[0]);
	all = print_all(&d);
	cr_assert_str_eq(one, all);
	cr_assert_str_eq(one, "x.conf:2:12: error: unknown tier \"b\" (declared: a)\n"
			      "    allow a -> b\n"
			      "               ^\n");
	free(one);
	free(all);
	config_diags_free(&d);
}

/* Audit mode (README "Audit mode"): "tier NAME audit" and a global "audit" line. */
Test(config, audit_tier_and_global)
{
	struct policy *pol = parse_ok("tier front\ntier mid audit\ntier back internal audit\n");

	cr_assert_not(pol->audit);
	cr_assert_not(pol->tiers[0].audit);
	cr_assert(pol->tiers[1].audit);
	cr_assert(pol->tiers[2].audit && pol->tiers[2].internal);
	policy_free(pol);
	pol = parse_ok("# roll out\naudit\ntier front\n");
	policy_free(pol);
	pol = parse_ok("tier front isolated\n\n  audit   # everything\n");
	cr_assert(pol->audit);
	cr_assert_eq(pol->audit_line, 3);
	cr_assert_not(pol->tiers[0].audit);
	policy_free(pol);
}

Test(config_errors, audit_mistakes)
{
	expect_errors("tier front\naudit front\n",
		      "policy.conf:2:7: error: \"audit\" takes nothing after it, not \"front\": "
		      "write \"audit\" alone to audit the whole policy, or \"tier NAME audit\" "
		      "for one tier\n"
		      "    audit front\n"
		      "          ^~~~~\n");
	expect_errors("audit\ntier front\naudit\n",
		      "policy.conf:3:1: error: duplicate \"audit\" (first on line 1): remove this "
		      "line\n"
		      "    audit\n"
		      "    ^~~~~\n");
	expect_errors("tier front audit audit\n",
		      "policy.conf:1:18: error: duplicate flag \"audit\"\n"
		      "    tier front audit audit\n"
		      "                     ^~~~~\n");
	expect_errors("tier front audited\n",
		      "policy.conf:1:12: error: unknown flag \"audited\" for tier \"front\": use "
		      "internal, isolated or audit\n"
		      "    tier front audited\n"
		      "               ^~~~~~~\n");
}
