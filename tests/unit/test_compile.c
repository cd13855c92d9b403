/*
 * policy_compile golden tests, in the manner of nftables tests/py (rule in, payload out):
 * tests/golden/NAME.conf (a policy) plus NAME.nets (the networks, tests/golden/nets.h) must
 * compile to exactly NAME.rules.
 * TIERNET_GOLDEN_UPDATE=1 rewrites the .rules files instead; read every changed one before
 * committing it, the golden files are the specification.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "lib/names.h"
#include "policy/policy.h"
#include "tests/golden/nets.h"

static const char *golden_dir(void)
{
	const char *d = getenv("TIERNET_GOLDEN_DIR");

	return d ? d : "tests/golden";
}

/* The whole file, NUL-terminated, or NULL when it does not exist. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long len;

	if (!f)
		return NULL;
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	cr_assert_geq(len, 0);
	rewind(f);
	buf = malloc((size_t)len + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

static void spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "cannot write %s", path);
	cr_assert_eq(fputs(text, f) >= 0, 1);
	cr_assert_eq(fclose(f), 0);
}

static struct policy *parse_policy(const char *name, const char *text)
{
	struct config_diags d = { 0 };
	struct policy *pol = NULL;
	char *msg = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	r = config_parse(name, text, strlen(text), &pol, &d);
	if (r) {
		f = open_memstream(&msg, &len);
		config_diags_print(&d, f);
		fclose(f);
	}
	cr_assert_eq(r, 0, "%s", msg ? msg : "");
	config_diags_free(&d);
	return pol;
}

/* dump must equal the file at path, or (TIERNET_GOLDEN_UPDATE=1) becomes it. */
static void golden_compare(const char *path, const char *dump)
{
	char *expected;

	if (getenv("TIERNET_GOLDEN_UPDATE") && !strcmp(getenv("TIERNET_GOLDEN_UPDATE"), "1")) {
		spit(path, dump);
		return;
	}
	expected = slurp(path);
	cr_assert_not_null(expected, "missing %s (TIERNET_GOLDEN_UPDATE=1 writes it)", path);
	cr_assert_str_eq(dump, expected, "%s differs", path);
	free(expected);
}

/*
 * NAME.rules, and with a dual-stack network in NAME.nets the IPv6 set in NAME.rules6 (else
 * there must be no such file: an IPv4-only host gets no ip6tables rules).
 */
static void golden(const char *name)
{
	char path[512], *conf, *nets_text, *dump, bad[256];
	struct golden_nets g;
	struct rules_set rs, rs6;
	struct policy *pol;
	bool dual = false;
	size_t i;

	snprintf(path, sizeof(path), "%s/%s.conf", golden_dir(), name);
	conf = slurp(path);
	cr_assert_not_null(conf, "missing %s", path);
	pol = parse_policy(path, conf);
	snprintf(path, sizeof(path), "%s/%s.nets", golden_dir(), name);
	nets_text = slurp(path);
	cr_assert_not_null(nets_text, "missing %s", path);
	cr_assert_eq(golden_nets_parse(pol, nets_text, &g, bad, sizeof(bad)), 0, "%s: bad line: %s",
		     path, bad);

	rules_init(&rs);
	cr_assert_eq(policy_compile(pol, g.nets, g.n, &g.host, &rs), 0);
	dump = rules_dump(&rs);
	cr_assert_not_null(dump);
	snprintf(path, sizeof(path), "%s/%s.rules", golden_dir(), name);
	golden_compare(path, dump);
	free(dump);
	rules_clear(&rs);

	for (i = 0; i < g.n; i++)
		dual |= g.nets[i].dual;
	snprintf(path, sizeof(path), "%s/%s.rules6", golden_dir(), name);
	if (dual) {
		rules_init_family(&rs6, AF_INET6);
		cr_assert_eq(policy_compile(pol, g.nets, g.n, &g.host, &rs6), 0);
		dump = rules_dump(&rs6);
		cr_assert_not_null(dump);
		golden_compare(path, dump);
		free(dump);
		rules_clear(&rs6);
	} else {
		cr_assert_null(slurp(path), "%s exists but no network of %s.nets is dual-stack",
			       path, name);
	}
	policy_free(pol);
	free(nets_text);
	free(conf);
}

Test(compile_golden, default_policy)
{
	golden("default");
}
Test(compile_golden, ports)
{
	golden("ports");
}
Test(compile_golden, isolated_with_ports)
{
	golden("isolated-ports");
}
Test(compile_golden, isolated_without_self_edge)
{
	golden("isolated");
}
Test(compile_golden, internal_tier)
{
	golden("internal-tier");
}
Test(compile_golden, docker_internal_network)
{
	golden("docker-internal");
}
Test(compile_golden, host_access)
{
	golden("host");
}
Test(compile_golden, several_networks_per_tier)
{
	golden("multi-net");
}
Test(compile_golden, twelve_tiers_chained)
{
	golden("chain12");
}
Test(compile_golden, no_networks)
{
	golden("empty");
}
Test(compile_golden, tiers_without_networks)
{
	golden("sparse");
}
Test(compile_golden, no_network_reaches_the_world)
{
	golden("all-internal");
}
/* Audit mode (policy/nflog.c): one tier, both families; the whole policy. */
Test(compile_golden, audit_one_tier)
{
	golden("audit-tier");
}
Test(compile_golden, audit_whole_policy)
{
	golden("audit-all");
}

/* ----- direct checks ----------------------------------------------------------------- */

static struct policy *default_policy(void)
{
	return parse_policy("default", config_default_text);
}

Test(compile, tier_index_out_of_range)
{
	struct policy *pol = default_policy();
	struct policy_net net = { .bridge = "tn0",
				  .addr = htonl(0x0a000001),
				  .mask = htonl(0xffffff00),
				  .group = TN_GROUP | TN_GROUP_BRIDGE | 1 };
	struct rules_set rs;

	rules_init(&rs);
	net.tier = 3;
	cr_assert_eq(policy_compile(pol, &net, 1, NULL, &rs), -EINVAL);
	net.tier = -1;
	cr_assert_eq(policy_compile(pol, &net, 1, NULL, &rs), -EINVAL);
	net.tier = POLICY_HOST;
	cr_assert_eq(policy_compile(pol, &net, 1, NULL, &rs), -EINVAL);
	cr_assert_eq(rs.nrules, 0);
	cr_assert_eq(rs.nchains, 0);
	net.tier = 2;
	cr_assert_eq(policy_compile(pol, &net, 1, NULL, &rs), 0);
	cr_assert_gt(rs.nrules, 0);
	rules_clear(&rs);
	policy_free(pol);
}

Test(compile, no_networks_is_empty)
{
	struct policy *pol = default_policy();
	struct rules_set rs;

	rules_init(&rs);
	cr_assert_eq(policy_compile(pol, NULL, 0, NULL, &rs), 0);
	cr_assert_eq(rs.nrules, 0);
	cr_assert_eq(rs.nchains, 0);
	policy_free(pol);
}

Test(compile, mark_fields)
{
	struct policy *pol = default_policy();
	struct policy_net net = {
		.bridge = "tnfront",
		.addr = htonl(0x0a000101),
		.mask = htonl(0xffffff00),
		.tier = 0,
		.group = TN_GROUP | TN_GROUP_BRIDGE | 1,
	};
	struct rules_set rs;
	size_t i, marks = 0, clears = 0;

	rules_init(&rs);
	cr_assert_eq(policy_compile(pol, &net, 1, NULL, &rs), 0);
	for (i = 0; i < rs.nrules; i++) {
		if (rs.rules[i].verdict == RULES_MARK) {
			/* tiernet's bit only: set it, or clear it (what others left there) */
			cr_assert(rs.rules[i].set_mark == POLICY_FWMARK ||
				  rs.rules[i].set_mark == 0);
			cr_assert_eq(rs.rules[i].set_mask, POLICY_FWMARK);
			marks += rs.rules[i].set_mark != 0;
			clears += rs.rules[i].set_mark == 0;
		}
		if (rs.rules[i].mark_match)
			cr_assert_eq(rs.rules[i].mark & rs.rules[i].mark_mask, POLICY_FWMARK);
	}
	cr_assert_gt(marks, 0);
	cr_assert_eq(clears, 1, "the bit is cleared once, first thing in mangle TIERNET-FWD");
	rules_clear(&rs);
	policy_free(pol);
}

/* ---- the layer-2 guard's text (policy/l2guard.c): golden files tests/golden/l2-*.nft ---- */

static void l2_golden(const char *name, const char *text)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", golden_dir(), name);
	golden_compare(path, text);
}

static struct l2_ep ep(const char *ifname, const char *a4, const char *a6)
{
	struct l2_ep e = { 0 };

	snprintf(e.ifname, sizeof(e.ifname), "%s", ifname);
	cr_assert_eq(inet_pton(AF_INET, a4, &e.addr), 1);
	if (a6) {
		e.has6 = true;
		cr_assert_eq(inet_pton(AF_INET6, a6, &e.addr6), 1);
	}
	return e;
}

#define TEXT(call)                                                                                 \
	({                                                                                         \
		char *buf_ = NULL;                                                                 \
		size_t len_ = 0;                                                                   \
		FILE *f_ = open_memstream(&buf_, &len_);                                           \
		cr_assert_not_null(f_);                                                            \
		call;                                                                              \
		fclose(f_);                                                                        \
		buf_;                                                                              \
	})

Test(l2guard, table_with_endpoints_of_both_kinds)
{
	struct l2_ep eps[] = {
		ep("tnv0123456789a", "10.1.1.2", NULL),
		ep("tnv0123456789b", "10.1.2.2", "fd00:1:2::2"),
		ep("tnv0123456789c", "10.1.2.3", "fd00:1:2::3"),
		ep("tnv0123456789d", "10.1.2.0", "fd00:1:2::"), /* its state was lost */
	};
	const uint32_t iso[] = { 0x746e0004 };
	char *t;

	eps[3].lost = true;
	eps[3].prefix = 24;
	eps[3].prefix6 = 64;
	t = TEXT(l2_table_text(f_, true, iso, 1, eps, 4));

	l2_golden("l2-table.nft", t);
	free(t);
}

Test(l2guard, no_endpoint_no_element_and_no_isolated_chain)
{
	char *t = TEXT(l2_table_text(f_, true, NULL, 0, NULL, 0));

	l2_golden("l2-empty.nft", t);
	cr_expect_null(strstr(t, "element"));
	cr_expect_null(strstr(t, "chain isolated"));
	free(t);
}

Test(l2guard, off_removes_the_table)
{
	char *t = TEXT(l2_table_text(f_, false, NULL, 0, NULL, 0));

	cr_expect_str_eq(t, "add table bridge tiernet\ndelete table bridge tiernet\n");
	free(t);
}

Test(l2guard, one_endpoints_elements)
{
	struct l2_ep v4 = ep("tnv0123456789a", "10.1.1.2", NULL);
	struct l2_ep v6 = ep("tnv0123456789b", "10.1.2.2", "fd00:1:2::2");
	char *t;

	t = TEXT(l2_element_text(f_, true, &v4));
	cr_expect_str_eq(t, "add element bridge tiernet src4 { \"tnv0123456789a\" . 10.1.1.2 }\n");
	free(t);
	t = TEXT(l2_element_text(f_, false, &v6));
	cr_expect_str_eq(t, "delete element bridge tiernet src4 { \"tnv0123456789b\" . 10.1.2.2 }\n"
			    "delete element bridge tiernet src6 { \"tnv0123456789b\" . fd00:1:2::2 "
			    "}\n");
	free(t);
}

/* What the tick compares with the kernel's listing: the chains and rules of the text. */
Test(l2guard, shape_counts_the_text)
{
	const uint32_t iso[] = { 0x746e0004 };
	struct l2_shape s;
	char *t, *p;
	unsigned chains = 0, rules = 0, sets = 0;
	bool in_chain = false;

	for (int isolated = 0; isolated < 2; isolated++) {
		t = TEXT(l2_table_text(f_, true, iso, (size_t)isolated, NULL, 0));
		chains = rules = sets = 0;
		for (p = strtok(t, "\n"); p; p = strtok(NULL, "\n")) {
			while (*p == '\t')
				p++;
			if (!strncmp(p, "set ", 4))
				sets++;
			else if (!strncmp(p, "chain ", 6))
				chains++, in_chain = true;
			else if (!strcmp(p, "}"))
				in_chain = false;
			else if (in_chain && strncmp(p, "type ", 5))
				rules++;
		}
		l2_table_shape(isolated, &s);
		cr_expect_eq(s.sets, sets);
		cr_expect_eq(s.chains, chains);
		cr_expect_eq(s.rules, rules, "isolated %d: %u rules in the text", isolated, rules);
		free(t);
	}
}
