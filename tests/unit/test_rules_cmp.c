/* Unit: comparing rule sets table by table (policy/rules_cmp.c), what a port change commits by. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "policy/policy.h"

/* A filter chain with one rule, plus the x_tables nat rules of nmaps published ports. */
static void build(struct rules_set *rs, int family, size_t nmaps)
{
	struct policy_map maps[3] = {
		{ .proto = IPPROTO_TCP, .host_port = 18080, .port = 80 },
		{ .proto = IPPROTO_UDP, .host_port = 18053, .port = 53 },
		{ .proto = IPPROTO_TCP, .host_port = 18081, .port = 81 },
	};
	struct rules_rule r = rules_rule_make(RULES_FILTER, "TIERNET-FWD", RULES_ACCEPT);
	size_t i;

	for (i = 0; i < 3; i++)
		inet_pton(AF_INET, "10.98.1.2", &maps[i].addr);
	rules_init_family(rs, family);
	cr_assert_eq(rules_add_chain(rs, RULES_FILTER, "TIERNET-FWD", "FORWARD"), 0);
	snprintf(r.in, sizeof(r.in), "tn+");
	r.ctstate = RULES_CT_ESTABLISHED;
	cr_assert_eq(rules_add(rs, &r), 0);
	if (nmaps)
		cr_assert_eq(policy_compile_maps(maps, nmaps, rs), 0);
}

Test(rules_cmp, a_port_changes_nat_only_first_and_last)
{
	struct rules_set a, b;

	build(&a, AF_INET, 2);
	build(&b, AF_INET, 2);
	cr_assert(rules_table_equal(&a, &b, RULES_FILTER));
	cr_assert(rules_table_equal(&a, &b, RULES_NAT));
	cr_assert(rules_table_equal(&a, &b, RULES_MANGLE));
	rules_clear(&b);
	build(&b, AF_INET, 3);
	cr_assert(rules_table_equal(&a, &b, RULES_FILTER));
	cr_assert(rules_table_equal(&a, &b, RULES_NAT),
		  "one more port is no x_tables change: it is an nf_tables map element");
	rules_clear(&b);
	build(&b, AF_INET, 0);
	cr_assert_not(rules_table_equal(&a, &b, RULES_NAT),
		      "no port left takes the masquerade for 127.0.0.1 away");
	cr_assert_not(rules_table_equal(&b, &a, RULES_NAT));
	rules_clear(&a);
	rules_clear(&b);
}

Test(rules_cmp, every_field_counts_and_only_fields)
{
	struct rules_set a, b;

	build(&a, AF_INET, 1);
	build(&b, AF_INET, 1);
	/* bytes after a name's NUL are not part of it */
	memset(b.rules[0].comment + 1, 'x', sizeof(b.rules[0].comment) - 2);
	b.rules[0].comment[0] = '\0';
	cr_assert(rules_table_equal(&a, &b, RULES_FILTER));
	b.rules[0].ctstate |= RULES_CT_RELATED;
	cr_assert_not(rules_table_equal(&a, &b, RULES_FILTER));
	b.rules[0].ctstate = a.rules[0].ctstate;
	b.rules[0].in_inv = true;
	cr_assert_not(rules_table_equal(&a, &b, RULES_FILTER));
	b.rules[0].in_inv = false;
	snprintf(b.hooks[0].from, sizeof(b.hooks[0].from), "INPUT");
	cr_assert_not(rules_table_equal(&a, &b, RULES_FILTER), "a hook from elsewhere");
	rules_clear(&a);
	rules_clear(&b);
}

Test(rules_cmp, families_and_chains)
{
	struct rules_set a, b;

	build(&a, AF_INET, 1);
	build(&b, AF_INET6, 1);
	cr_assert_not(rules_table_equal(&a, &b, RULES_FILTER));
	rules_clear(&b);
	build(&b, AF_INET, 1);
	cr_assert_eq(rules_add_chain(&b, RULES_FILTER, "TIERNET-EXTRA", NULL), 0);
	cr_assert_not(rules_table_equal(&a, &b, RULES_FILTER), "an extra empty chain");
	cr_assert(rules_table_equal(&a, &b, RULES_NAT));
	rules_clear(&a);
	rules_clear(&b);
}
