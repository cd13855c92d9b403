/*
 * policy_compile golden tests, in the manner of nftables tests/py (rule in, payload out):
 * tests/golden/NAME.conf (a policy) plus NAME.nets (one network per line:
 * "BRIDGE GATEWAY/PREFIX TIER [internal]") must compile to exactly NAME.rules.
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
#include "policy/policy.h"

#define NETS_MAX 64

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

static void parse_net(const struct policy *pol, const char *line, struct policy_net *net)
{
	char bridge[32], addr[64], tier[64], flag[32] = "";
	char *slash;
	int n, prefix;

	n = sscanf(line, "%31s %63s %63s %31s", bridge, addr, tier, flag);
	cr_assert_geq(n, 3, "bad nets line: %s", line);
	memset(net, 0, sizeof(*net));
	cr_assert_lt(strlen(bridge), sizeof(net->bridge));
	strcpy(net->bridge, bridge);
	slash = strchr(addr, '/');
	cr_assert_not_null(slash, "no prefix: %s", line);
	*slash = '\0';
	prefix = atoi(slash + 1);
	cr_assert(prefix >= 0 && prefix <= 32);
	cr_assert_eq(inet_pton(AF_INET, addr, &net->addr), 1, "bad address: %s", line);
	net->mask = prefix ? htonl(~0u << (32 - prefix)) : 0;
	net->tier = policy_tier_find(pol, tier);
	cr_assert_geq(net->tier, 0, "unknown tier: %s", line);
	cr_assert(n == 3 || !strcmp(flag, "internal"), "bad flag: %s", line);
	net->internal = n == 4;
}

static size_t parse_nets(const struct policy *pol, char *text, struct policy_net *nets)
{
	char *line, *save = NULL;
	size_t n = 0;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[strspn(line, " \t")] == '\0' || line[strspn(line, " \t")] == '#')
			continue;
		cr_assert_lt(n, NETS_MAX);
		parse_net(pol, line, &nets[n++]);
	}
	return n;
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

static void golden(const char *name)
{
	char path[512], *conf, *nets_text, *expected, *dump;
	struct policy_net nets[NETS_MAX];
	struct rules_set rs;
	struct policy *pol;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s.conf", golden_dir(), name);
	conf = slurp(path);
	cr_assert_not_null(conf, "missing %s", path);
	pol = parse_policy(path, conf);
	snprintf(path, sizeof(path), "%s/%s.nets", golden_dir(), name);
	nets_text = slurp(path);
	cr_assert_not_null(nets_text, "missing %s", path);
	n = parse_nets(pol, nets_text, nets);

	rules_init(&rs);
	cr_assert_eq(policy_compile(pol, nets, n, &rs), 0);
	dump = rules_dump(&rs);
	cr_assert_not_null(dump);

	snprintf(path, sizeof(path), "%s/%s.rules", golden_dir(), name);
	if (getenv("TIERNET_GOLDEN_UPDATE") && !strcmp(getenv("TIERNET_GOLDEN_UPDATE"), "1")) {
		spit(path, dump);
	} else {
		expected = slurp(path);
		cr_assert_not_null(expected, "missing %s (TIERNET_GOLDEN_UPDATE=1 writes it)",
				   path);
		cr_assert_str_eq(dump, expected, "%s differs", path);
		free(expected);
	}
	free(dump);
	rules_clear(&rs);
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
				  .mask = htonl(0xffffff00) };
	struct rules_set rs;

	rules_init(&rs);
	net.tier = 3;
	cr_assert_eq(policy_compile(pol, &net, 1, &rs), -EINVAL);
	net.tier = -1;
	cr_assert_eq(policy_compile(pol, &net, 1, &rs), -EINVAL);
	net.tier = POLICY_HOST;
	cr_assert_eq(policy_compile(pol, &net, 1, &rs), -EINVAL);
	cr_assert_eq(rs.nrules, 0);
	cr_assert_eq(rs.nchains, 0);
	net.tier = 2;
	cr_assert_eq(policy_compile(pol, &net, 1, &rs), 0);
	cr_assert_gt(rs.nrules, 0);
	rules_clear(&rs);
	policy_free(pol);
}

Test(compile, no_networks_is_empty)
{
	struct policy *pol = default_policy();
	struct rules_set rs;

	rules_init(&rs);
	cr_assert_eq(policy_compile(pol, NULL, 0, &rs), 0);
	cr_assert_eq(rs.nrules, 0);
	cr_assert_eq(rs.nchains, 0);
	policy_free(pol);
}

Test(compile, mark_fields)
{
	struct policy *pol = default_policy();
	struct policy_net net = {
		.bridge = "tnfront", .addr = htonl(0x0a000101), .mask = htonl(0xffffff00), .tier = 0
	};
	struct rules_set rs;
	size_t i, marks = 0;

	rules_init(&rs);
	cr_assert_eq(policy_compile(pol, &net, 1, &rs), 0);
	for (i = 0; i < rs.nrules; i++) {
		if (rs.rules[i].verdict == RULES_MARK) {
			cr_assert_eq(rs.rules[i].set_mark, POLICY_FWMARK);
			cr_assert_eq(rs.rules[i].set_mask, POLICY_FWMARK);
			marks++;
		}
		if (rs.rules[i].mark_match)
			cr_assert_eq(rs.rules[i].mark & rs.rules[i].mark_mask, POLICY_FWMARK);
	}
	cr_assert_gt(marks, 0);
	rules_clear(&rs);
	policy_free(pol);
}
