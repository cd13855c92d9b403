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
	cr_assert_eq(policy_publish_check(pol, 0, false, IPPROTO_TCP, 80, false, msg, sizeof(msg)),
		     0);
	cr_assert_eq(policy_publish_check(pol, 0, false, IPPROTO_TCP, 8080, false, msg,
					  sizeof(msg)),
		     -EPERM);
	cr_assert_str_eq(msg,
			 "tiernet: port 8080/tcp cannot be published on tier \"front\": line 4 "
			 "of the policy (allow world -> front) lists other ports; add tcp/8080 "
			 "to it");
	cr_assert_eq(policy_publish_check(pol, 1, false, IPPROTO_UDP, 53, false, msg, sizeof(msg)),
		     -EPERM);
	cr_assert_str_eq(msg,
			 "tiernet: port 53/udp cannot be published on tier \"mid\": add the "
			 "line \"allow world -> mid\" (or \"allow world -> mid udp/53\") to the "
			 "policy, or bind it to the host only with -p 127.0.0.1:HOSTPORT:53");
	cr_assert_eq(policy_publish_check(pol, 2, true, IPPROTO_TCP, 80, false, msg, sizeof(msg)),
		     -EPERM);
	cr_assert(strstr(msg, "the tier is internal"), "%s", msg);
	/* A Docker --internal network on a tier that may publish. */
	cr_assert_eq(policy_publish_check(pol, 0, true, IPPROTO_TCP, 80, false, msg, sizeof(msg)),
		     -EPERM);
	cr_assert(strstr(msg, "the network is internal"), "%s", msg);
	/* 127.0.0.1 is host access: allowed everywhere. */
	cr_assert_eq(policy_publish_check(pol, 2, true, IPPROTO_TCP, 80, true, msg, sizeof(msg)),
		     0);
}

Test(publish, nat_rules_golden)
{
	struct policy_map maps[] = {
		{ .proto = IPPROTO_TCP, .host_port = 18080, .port = 80 },
		{ .proto = IPPROTO_UDP, .host_port = 18053, .port = 53 },
		{ .proto = IPPROTO_TCP, .host_port = 18081, .port = 81 },
		{ .proto = IPPROTO_TCP, .host_port = 18443, .port = 443 },
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
			 "-A TIERNET-POST -s 127.0.0.0/8 -m devgroup --dst-group "
			 "0x746e8000/0xffff8000 -j MASQUERADE\n"
			 "COMMIT\n");
	free(dump);
	rules_clear(&rs);
	cr_assert_eq(policy_compile_maps(maps, 0, &rs), 0);
	cr_assert_eq(rs.nrules, 0);
}

static struct in6_addr ip6(const char *s)
{
	struct in6_addr a;

	cr_assert_eq(inet_pton(AF_INET6, s, &a), 1);
	return a;
}

/* The same in an IPv6 set: [addr]:port targets, and ::1 is never translated. */
Test(publish, nat_rules_golden_ipv6)
{
	struct policy_map maps[] = {
		{ .proto = IPPROTO_TCP, .host_port = 18080, .port = 80 },
		{ .proto = IPPROTO_TCP, .host_port = 18443, .port = 443 },
	};
	struct rules_set rs;
	char *dump;

	maps[0].addr6 = ip6("fd00:1:1::2");
	maps[1].host_ip6 = ip6("2001:db8::10");
	maps[1].addr6 = ip6("fd00:1:1::3");
	/* the IPv4 fields are not looked at in an IPv6 set */
	maps[0].host_ip = maps[1].host_ip = ip("127.0.0.1");
	rules_init_family(&rs, AF_INET6);
	cr_assert_eq(policy_compile_maps(maps, 2, &rs), 0);
	dump = rules_dump(&rs);
	cr_assert_str_eq(dump,
			 "*nat\n"
			 ":TIERNET-PRE\n:TIERNET-OUT\n:TIERNET-DNAT\n"
			 "-I PREROUTING -j TIERNET-PRE\n"
			 "-I OUTPUT -j TIERNET-OUT\n"
			 "-A TIERNET-PRE -m addrtype --dst-type LOCAL -j TIERNET-DNAT\n"
			 "-A TIERNET-OUT -d ::1/128 -j RETURN\n"
			 "-A TIERNET-OUT -m addrtype --dst-type LOCAL -j TIERNET-DNAT\n"
			 "-A TIERNET-DNAT -p tcp -m tcp --dport 18080 -j DNAT --to-destination "
			 "[fd00:1:1::2]:80\n"
			 "-A TIERNET-DNAT -d 2001:db8::10/128 -p tcp -m tcp --dport 18443 -j DNAT "
			 "--to-destination [fd00:1:1::3]:443\n"
			 "COMMIT\n");
	free(dump);
	rules_clear(&rs);
}
