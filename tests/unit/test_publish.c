/* Unit: the publishing gate and the NAT rules for published ports (policy/publish.c). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "policy/policy.h"

static struct policy *pol;

static void load(const char *text)
{
	struct config_diags d = { 0 };

	cr_assert_eq(config_parse("t.conf", text, strlen(text), &pol, &d), 0);
	config_diags_free(&d);
}

static void unload(void)
{
	policy_free(pol);
	pol = NULL;
}

static uint32_t ip(const char *s)
{
	uint32_t a;

	inet_pton(AF_INET, s, &a);
	return a;
}

TestSuite(publish, .fini = unload);

Test(publish, gate_messages_name_the_line_to_add)
{
	char msg[512];

	load("tier front\ntier mid\ntier back internal\nallow world -> front tcp/80\n");
	cr_assert_eq(policy_publish_check(pol, 0, false, IPPROTO_TCP, 80, 0, msg, sizeof(msg)), 0);
	cr_assert_eq(policy_publish_check(pol, 0, false, IPPROTO_TCP, 8080, 0, msg, sizeof(msg)),
		     -EPERM);
	cr_assert_str_eq(msg,
			 "tiernet: port 8080/tcp cannot be published on tier \"front\": line 4 "
			 "of the policy (allow world -> front) lists other ports; add tcp/8080 "
			 "to it");
	cr_assert_eq(policy_publish_check(pol, 1, false, IPPROTO_UDP, 53, 0, msg, sizeof(msg)),
		     -EPERM);
	cr_assert_str_eq(msg,
			 "tiernet: port 53/udp cannot be published on tier \"mid\": add the "
			 "line \"allow world -> mid\" (or \"allow world -> mid udp/53\") to the "
			 "policy, or bind it to the host only with -p 127.0.0.1:HOSTPORT:53");
	cr_assert_eq(policy_publish_check(pol, 2, true, IPPROTO_TCP, 80, 0, msg, sizeof(msg)),
		     -EPERM);
	cr_assert(strstr(msg, "the tier is internal"), "%s", msg);
	/* A Docker --internal network on a tier that may publish. */
	cr_assert_eq(policy_publish_check(pol, 0, true, IPPROTO_TCP, 80, 0, msg, sizeof(msg)),
		     -EPERM);
	cr_assert(strstr(msg, "the network is internal"), "%s", msg);
	/* 127.0.0.1 is host access: allowed everywhere. */
	cr_assert_eq(policy_publish_check(pol, 2, true, IPPROTO_TCP, 80, ip("127.0.0.1"), msg,
					  sizeof(msg)),
		     0);
}

Test(publish, nat_rules_golden)
{
	struct policy_map maps[] = {
		{ IPPROTO_TCP, 0, 18080, 0, 80 },
		{ IPPROTO_UDP, 0, 18053, 0, 53 },
		{ IPPROTO_TCP, 0, 18081, 0, 81 },
		{ IPPROTO_TCP, 0, 18443, 0, 443 },
	};
	struct rules_set rs;
	char *dump;

	maps[0].addr = maps[1].addr = ip("10.1.1.2");
	maps[2].host_ip = ip("127.0.0.1");
	maps[2].addr = ip("10.1.3.2");
	maps[3].host_ip = ip("192.0.2.10");
	maps[3].addr = ip("10.1.1.3");
	rules_init(&rs);
	cr_assert_eq(policy_compile_maps(maps, 4, &rs), 0);
	dump = rules_dump(&rs);
	cr_assert_str_eq(dump,
			 "*nat\n"
			 ":TIERNET-PRE\n:TIERNET-OUT\n:TIERNET-DNAT\n:TIERNET-POST\n"
			 "-I PREROUTING -j TIERNET-PRE\n"
			 "-I OUTPUT -j TIERNET-OUT\n"
			 "-I POSTROUTING -j TIERNET-POST\n"
			 "-A TIERNET-PRE -m addrtype --dst-type LOCAL -j TIERNET-DNAT\n"
			 "-A TIERNET-OUT -d 127.0.0.1/32 -p tcp -m tcp --dport 18081 -j DNAT "
			 "--to-destination 10.1.3.2:81\n"
			 "-A TIERNET-OUT -m addrtype --dst-type LOCAL -j TIERNET-DNAT\n"
			 "-A TIERNET-DNAT -p tcp -m tcp --dport 18080 -j DNAT --to-destination "
			 "10.1.1.2:80\n"
			 "-A TIERNET-DNAT -p udp -m udp --dport 18053 -j DNAT --to-destination "
			 "10.1.1.2:53\n"
			 "-A TIERNET-DNAT -d 192.0.2.10/32 -p tcp -m tcp --dport 18443 -j DNAT "
			 "--to-destination 10.1.1.3:443\n"
			 "-A TIERNET-POST -s 127.0.0.0/8 -o tn+ -j MASQUERADE\n"
			 "COMMIT\n");
	free(dump);
	rules_clear(&rs);
	cr_assert_eq(policy_compile_maps(maps, 0, &rs), 0);
	cr_assert_eq(rs.nrules, 0);
}
