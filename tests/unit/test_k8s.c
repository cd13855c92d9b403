/*
 * k8s_export (tiernet export kubernetes): golden files, names, address ranges, refusals and
 * warnings.  The golden cases are listed in tests/export/golden.list ("OUTPUT POLICY
 * OPTIONS..."); TIERNET_GOLDEN_UPDATE=1 rewrites the outputs instead of comparing.  Whether
 * the manifests are valid Kubernetes objects that allow what the compiled rules allow is
 * tests/export/check.js's job (README "More than one host").
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config/config.h"
#include "policy/policy.h"

#define GOLDEN_LIST "tests/export/golden.list"

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

static struct policy *parse(const char *name, const char *text)
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
	free(msg);
	return pol;
}

/* One line of golden.list: the options after the two paths, as the command takes them. */
struct golden_case {
	char output[256], policy[256];
	struct k8s_opts o;
	struct k8s_cidr cidrs[K8S_CIDRS_MAX];
	char ns[K8S_NAME_MAX];
};

static void parse_case(char *line, struct golden_case *c)
{
	char *save = NULL, *w, *v, err[256];

	memset(c, 0, sizeof(*c));
	c->o.cidrs = c->cidrs;
	w = strtok_r(line, " \t", &save);
	cr_assert_not_null(w);
	snprintf(c->output, sizeof(c->output), "%s", w);
	w = strtok_r(NULL, " \t", &save);
	cr_assert_not_null(w, "%s: no policy", c->output);
	snprintf(c->policy, sizeof(c->policy), "%s", w);
	c->o.source = c->policy;
	while ((w = strtok_r(NULL, " \t", &save))) {
		v = strtok_r(NULL, " \t", &save);
		cr_assert_not_null(v, "%s: %s needs a value", c->output, w);
		if (!strcmp(w, "--mode")) {
			cr_assert(!strcmp(v, "labels") || !strcmp(v, "namespaces"));
			c->o.mode = !strcmp(v, "labels") ? K8S_LABELS : K8S_NAMESPACES;
		} else if (!strcmp(w, "--namespace")) {
			snprintf(c->ns, sizeof(c->ns), "%s", v);
			c->o.ns = c->ns;
		} else if (!strcmp(w, "--cluster-cidr")) {
			cr_assert_lt(c->o.ncidrs, K8S_CIDRS_MAX);
			cr_assert_eq(k8s_cidr_parse(v, &c->cidrs[c->o.ncidrs], err, sizeof(err)), 0,
				     "%s", err);
			c->o.ncidrs++;
		} else {
			cr_assert_fail("%s: unknown option %s", c->output, w);
		}
	}
}

static void golden_case(struct golden_case *c)
{
	char *conf, *expected;
	struct k8s_result res;
	struct policy *pol;
	int r;

	conf = slurp(c->policy);
	cr_assert_not_null(conf, "missing %s", c->policy);
	pol = parse(c->policy, conf);
	r = k8s_export(pol, &c->o, &res);
	cr_assert_eq(r, 0, "%s: %s", c->output, res.err);
	if (getenv("TIERNET_GOLDEN_UPDATE") && !strcmp(getenv("TIERNET_GOLDEN_UPDATE"), "1")) {
		spit(c->output, res.yaml);
	} else {
		expected = slurp(c->output);
		cr_assert_not_null(expected, "missing %s (TIERNET_GOLDEN_UPDATE=1 writes it)",
				   c->output);
		cr_assert_str_eq(res.yaml, expected, "%s differs", c->output);
		free(expected);
	}
	k8s_result_free(&res);
	policy_free(pol);
	free(conf);
}

Test(k8s_golden, every_case_of_golden_list)
{
	char *list = slurp(GOLDEN_LIST), *line, *save = NULL;
	struct golden_case c;
	size_t n = 0;

	cr_assert_not_null(list, "missing %s", GOLDEN_LIST);
	for (line = strtok_r(list, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#' || !line[strspn(line, " \t")])
			continue;
		parse_case(line, &c);
		golden_case(&c);
		n++;
	}
	cr_assert_geq(n, 12, "only %zu golden cases", n);
	free(list);
}

/* ----- names and ranges ---------------------------------------------------------------- */

Test(k8s_names, tier_names_map_to_dns_labels)
{
	char buf[K8S_NAME_MAX];

	cr_assert_eq(k8s_tier_name("front", buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "front");
	cr_assert_eq(k8s_tier_name("Web_Front", buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "web-front");
	cr_assert_eq(k8s_tier_name("t01", buf, sizeof(buf)), 0);
	cr_assert_eq(k8s_tier_name("back_", buf, sizeof(buf)), -EINVAL);
	cr_assert_eq(k8s_tier_name("back-", buf, sizeof(buf)), -EINVAL);
	cr_assert_eq(k8s_tier_name("abcdef", buf, 4), -EINVAL); /* does not fit */
}

Test(k8s_names, labels)
{
	cr_assert(k8s_label_ok("a"));
	cr_assert(k8s_label_ok("0abc-9"));
	cr_assert(!k8s_label_ok(""));
	cr_assert(!k8s_label_ok("-a"));
	cr_assert(!k8s_label_ok("a-"));
	cr_assert(!k8s_label_ok("A"));
	cr_assert(!k8s_label_ok("a_b"));
	cr_assert(!k8s_label_ok("a.b"));
	cr_assert(k8s_label_ok("a23456789012345678901234567890123456789012345678901234567890123"));
	cr_assert(
	    !k8s_label_ok("a234567890123456789012345678901234567890123456789012345678901234"));
}

static void cidr_ok(const char *text, int family, const char *canon)
{
	struct k8s_cidr c;
	char err[256], buf[K8S_CIDR_TEXT_MAX];

	cr_assert_eq(k8s_cidr_parse(text, &c, err, sizeof(err)), 0, "%s: %s", text, err);
	cr_assert_eq(c.family, family);
	k8s_cidr_format(&c, buf, sizeof(buf));
	cr_assert_str_eq(buf, canon);
}

static void cidr_bad(const char *text, const char *needle)
{
	struct k8s_cidr c;
	char err[256];

	cr_assert_eq(k8s_cidr_parse(text, &c, err, sizeof(err)), -EINVAL, "%s accepted", text);
	cr_assert(strstr(err, needle), "%s: \"%s\" lacks \"%s\"", text, err, needle);
}

Test(k8s_names, cluster_cidrs)
{
	cidr_ok("10.244.0.0/16", AF_INET, "10.244.0.0/16");
	cidr_ok("192.168.49.0/24", AF_INET, "192.168.49.0/24");
	cidr_ok("10.0.0.1/32", AF_INET, "10.0.0.1/32");
	cidr_ok("fd00:10:244:0::/56", AF_INET6, "fd00:10:244::/56");
	cidr_ok("2001:db8::1/128", AF_INET6, "2001:db8::1/128");
	cidr_bad("10.244.0.1/16", "did you mean 10.244.0.0/16?");
	cidr_bad("fd00::1/64", "did you mean fd00::/64?");
	cidr_bad("10.244.0.0", "\"10.244.0.0\" is not an address range");
	cidr_bad("10.244.0.0/0", "from 1 to 32");
	cidr_bad("::/0", "from 1 to 128");
	cidr_bad("10.244.0.0/33", "from 1 to 32");
	cidr_bad("10.244.0.0/1x", "from 1 to 32");
	cidr_bad("10.244.0.0/", "from 1 to 32");
	cidr_bad("10.244.0.0/-8", "from 1 to 32");
	cidr_bad("front/16", "\"front\" is not an IPv4 or IPv6 address");
	cidr_bad("", "is not an address range");
	/* a terminal would obey the escape sequence: shown as '?' (found by fuzz_export) */
	cidr_bad("10.0.0.0\x1b[2J/8", "\"10.0.0.0?[2J/8\"");
	cidr_bad("10.24\t/16", "\"10.24?/16\"");
}

/* ----- refusals and warnings ----------------------------------------------------------- */

static int export(const char *text, const struct k8s_opts *o, struct k8s_result *res)
{
	struct policy *pol = parse("t.conf", text);
	int r = k8s_export(pol, o, res);

	policy_free(pol);
	return r;
}

static void refused(const char *text, const struct k8s_opts *o, const char *needle)
{
	struct k8s_result res;

	cr_assert_eq(export(text, o, &res), -EINVAL, "accepted: %s", text);
	cr_assert_null(res.yaml);
	cr_assert(strstr(res.err, needle), "\"%s\" lacks \"%s\"", res.err, needle);
}

Test(k8s_export, refusals)
{
	struct k8s_opts o = { .mode = K8S_NAMESPACES };
	struct k8s_cidr two[2];
	char err[128];

	refused("tier front_\n", &o, "tier \"front_\" (line 1) has no Kubernetes name");
	refused("tier Front\ntier front\n", &o,
		"tiers \"Front\" (line 1) and \"front\" (line 2) are both \"front\"");
	refused("tier a_b\ntier a-b\n", &o, "are both \"a-b\"");
	refused("tier kube-x\n", &o, "namespaces starting with \"kube-\" are Kubernetes' own");
	o.ns = "Shop";
	refused("tier front\n", &o, "--namespace \"Shop\" is not a Kubernetes namespace name");
	o.ns = "shop-";
	refused("tier front\n", &o, "--namespace \"shop-\"");
	o.ns = "s2345678901234567890123456789012345678901234567890";
	refused("tier abcdefghijklmnop\n", &o, "longer than 63 characters: use a shorter");
	o.ns = "kube";
	refused("tier system\n", &o, "would be the namespace \"kube-system\"");
	o.mode = K8S_LABELS;
	o.ns = "kube-system";
	refused("tier front\n", &o, "--namespace \"kube-system\"");
	o.ns = NULL;
	/* "a-to-b" -> "c" and "a" -> "b-to-c" both give tiernet-a-to-b-to-c in one namespace */
	refused("tier a-to-b\ntier c\ntier a\ntier b-to-c\nallow a-to-b -> c\nallow a -> b-to-c\n",
		&o, "two NetworkPolicies would be called \"default/tiernet-a-to-b-to-c\"");
	o.mode = K8S_NAMESPACES;
	cr_assert_eq(k8s_cidr_parse("10.244.0.0/16", &two[0], err, sizeof(err)), 0);
	cr_assert_eq(k8s_cidr_parse("10.244.0.0/16", &two[1], err, sizeof(err)), 0);
	o.cidrs = two;
	o.ncidrs = 2;
	refused("tier front\n", &o, "--cluster-cidr 10.244.0.0/16 is given twice");
}

/* In namespaces mode the same tiers are fine: each object lives in its tier's namespace. */
Test(k8s_export, names_that_meet_only_in_labels_mode)
{
	struct k8s_opts o = { .mode = K8S_NAMESPACES };
	struct k8s_result res;

	cr_assert_eq(export("tier a-to-b\ntier c\ntier a\ntier b-to-c\nallow a-to-b -> c\n"
			    "allow a -> b-to-c\n",
			    &o, &res),
		     0, "%s", res.err);
	k8s_result_free(&res);
}

static bool contains(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

Test(k8s_export, warnings_name_every_gap)
{
	struct k8s_opts o = { .mode = K8S_NAMESPACES, .source = "t.conf" };
	struct k8s_result res;

	cr_assert_eq(export("tier Web_Front\ntier db internal\nallow world -> Web_Front tcp/443\n"
			    "allow Web_Front -> db tcp/5432\nallow db -> host udp/514\n",
			    &o, &res),
		     0);
	cr_assert(contains(res.warnings, "tier \"Web_Front\" is called \"web-front\""));
	cr_assert(contains(res.warnings,
			   "line 3: allow world -> Web_Front tcp/443: becomes "
			   "ingress from outside addresses on those container ports"));
	cr_assert(contains(res.warnings, "line 5: allow db -> host udp/514: a NetworkPolicy "
					 "cannot select the node"));
	cr_assert(contains(res.warnings, "the host may always open connections"));
	cr_assert(contains(res.warnings, "no --cluster-cidr given"));
	/* each warning also heads the manifests, as a comment */
	cr_assert(contains(res.yaml, "# What NetworkPolicy cannot say (also printed on stderr):"));
	cr_assert(contains(res.yaml, "# - line 5: allow db -> host udp/514: a NetworkPolicy"));
	cr_assert(contains(res.yaml, "# line 5: allow db -> host udp/514: nothing a "
				     "NetworkPolicy can say"));
	cr_assert(!contains(res.yaml, "tiernet-db-to-world"), "internal: no world egress");
	cr_assert(contains(res.yaml, "tiernet-web-front-to-world"));
	k8s_result_free(&res);
}

Test(k8s_export, no_cidr_warning_with_cidrs_or_without_world)
{
	struct k8s_opts o = { .mode = K8S_NAMESPACES };
	struct k8s_cidr c;
	struct k8s_result res;
	char err[128];

	cr_assert_eq(export("tier back internal\n", &o, &res), 0);
	cr_assert(!contains(res.warnings, "--cluster-cidr"), "%s", res.warnings);
	k8s_result_free(&res);
	cr_assert_eq(k8s_cidr_parse("10.244.0.0/16", &c, err, sizeof(err)), 0);
	o.cidrs = &c;
	o.ncidrs = 1;
	cr_assert_eq(export("tier front\n", &o, &res), 0);
	cr_assert(!contains(res.warnings, "--cluster-cidr"), "%s", res.warnings);
	cr_assert(contains(res.yaml, "        except:\n        - \"10.244.0.0/16\"\n"));
	k8s_result_free(&res);
}

/* YAML 1.1 reads on/no/yes/... as bools, and a leading digit may read as a number. */
Test(k8s_export, ambiguous_names_are_quoted)
{
	struct k8s_opts o = { .mode = K8S_NAMESPACES };
	struct k8s_result res;

	cr_assert_eq(export("tier on\ntier no\n", &o, &res), 0);
	cr_assert(contains(res.yaml, "  name: \"on\"\n"));
	cr_assert(contains(res.yaml, "  namespace: \"no\"\n"));
	cr_assert(contains(res.yaml, "  name: tiernet-on-default-deny\n"));
	k8s_result_free(&res);
	o.mode = K8S_LABELS;
	o.ns = "123";
	cr_assert_eq(export("tier on\n", &o, &res), 0);
	cr_assert(contains(res.yaml, "  namespace: \"123\"\n"));
	cr_assert(contains(res.yaml, "      tier: \"on\"\n"));
	k8s_result_free(&res);
}

Test(k8s_export, no_tiers_no_objects)
{
	struct k8s_opts o = { .mode = K8S_NAMESPACES };
	struct policy empty = { 0 }; /* the parser wants a tier; the translator copes */
	struct k8s_result res;

	cr_assert_eq(k8s_export(&empty, &o, &res), 0);
	cr_assert(!contains(res.yaml, "---"));
	cr_assert_str_eq(res.warnings, "");
	k8s_result_free(&res);
}

Test(k8s_export, the_same_input_gives_the_same_output)
{
	struct k8s_opts o = { .mode = K8S_NAMESPACES, .source = "default" };
	struct k8s_result a, b;
	struct policy *pol = parse("default", config_default_text);

	cr_assert_eq(k8s_export(pol, &o, &a), 0);
	cr_assert_eq(k8s_export(pol, &o, &b), 0);
	cr_assert_str_eq(a.yaml, b.yaml);
	cr_assert_str_eq(a.warnings, b.warnings);
	k8s_result_free(&a);
	k8s_result_free(&b);
	policy_free(pol);
}

/* A policy at the limits: 256 tiers and long lines of ports still translate. */
Test(k8s_export, limits)
{
	struct k8s_opts o = { .mode = K8S_LABELS };
	struct k8s_result res;
	char *text = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&text, &len);

	cr_assert_not_null(f);
	for (i = 0; i < POLICY_TIERS_MAX; i++)
		fprintf(f, "tier t%zu\n", i);
	fprintf(f, "allow t0 -> t1 tcp/1");
	for (i = 2; i <= POLICY_PORTS_MAX; i++)
		fprintf(f, ", tcp/%zu-%zu", i * 100, i * 100 + 50);
	fprintf(f, "\n");
	for (i = 1; i < POLICY_TIERS_MAX; i++)
		fprintf(f, "allow t%zu -> t%zu udp/53\n", i, i - 1);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(export(text, &o, &res), 0, "%s", res.err);
	cr_assert(contains(res.yaml, "      port: 6400\n      endPort: 6450\n"));
	cr_assert(contains(res.yaml, "  name: tiernet-t255-to-t254\n"));
	k8s_result_free(&res);
	free(text);
}
