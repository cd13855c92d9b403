/* Unit: the publishing gate and the NAT of published ports (policy/publish.c, natmap.c). */
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

/* natmap_full or natmap_diff's text, malloc'ed. */
static char *text_of(int family, const struct policy_map *old, size_t nold,
		     const struct policy_map *maps, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert(f);
	cr_assert_eq(old ? natmap_diff(f, family, old, nold, maps, n)
			 : natmap_full(f, family, maps, n),
		     0);
	cr_assert_eq(fclose(f), 0);
	return buf;
}

#define TABLE4                                                                                     \
	"add table ip tiernet\ndelete table ip tiernet\n"                                          \
	"table ip tiernet {\n"                                                                     \
	"\tmap local { type inet_proto . inet_service : ipv4_addr . inet_service; }\n"             \
	"\tmap bound { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }\n" \
	"\tmap any { type inet_proto . inet_service : ipv4_addr . inet_service; }\n"               \
	"\tchain prerouting {\n"                                                                   \
	"\t\ttype nat hook prerouting priority -100; policy accept;\n"                             \
	"\t\tfib daddr type local dnat ip to ip daddr . meta l4proto . th dport map @bound\n"      \
	"\t\tfib daddr type local dnat ip to meta l4proto . th dport map @any\n"                   \
	"\t}\n"                                                                                    \
	"\tchain output {\n"                                                                       \
	"\t\ttype nat hook output priority -100; policy accept;\n"                                 \
	"\t\tip daddr 127.0.0.1 dnat ip to meta l4proto . th dport map @local\n"                   \
	"\t\tfib daddr type local dnat ip to ip daddr . meta l4proto . th dport map @bound\n"      \
	"\t\tfib daddr type local dnat ip to meta l4proto . th dport map @any\n"                   \
	"\t}\n"                                                                                    \
	"}\n"

/*
 * The mappings as nf_tables map elements, sorted into their maps: 127.0.0.1 (the host only),
 * one host address, every address; the x_tables keep only the masquerade for 127.0.0.1.
 */
Test(publish, nat_maps_golden)
{
	struct policy_map maps[] = {
		{ .proto = IPPROTO_TCP, .host_port = 18080, .port = 80 },
		{ .proto = IPPROTO_UDP, .host_port = 18053, .port = 53 },
		{ .proto = IPPROTO_TCP, .host_port = 18081, .port = 81 },
		{ .proto = IPPROTO_TCP, .host_port = 18443, .port = 443 },
	};
	struct rules_set rs;
	char *text;

	maps[0].addr = maps[1].addr = ip("10.1.1.2");
	maps[2].host_ip = ip("127.0.0.1");
	maps[2].addr = ip("10.1.3.2");
	maps[3].host_ip = ip("192.0.2.10");
	maps[3].addr = ip("10.1.1.3");
	natmap_sort(maps, 4, AF_INET);
	text = text_of(AF_INET, NULL, 0, maps, 4);
	cr_assert_str_eq(text,
			 TABLE4 "add element ip tiernet local { tcp . 18081 : 10.1.3.2 . 81 }\n"
				"add element ip tiernet bound { 192.0.2.10 . tcp . 18443 : "
				"10.1.1.3 . 443 }\n"
				"add element ip tiernet any { tcp . 18080 : 10.1.1.2 . 80, "
				"udp . 18053 : 10.1.1.2 . 53 }\n");
	free(text);
	/* no mappings: the table goes */
	text = text_of(AF_INET, NULL, 0, maps, 0);
	cr_assert_str_eq(text, "add table ip tiernet\ndelete table ip tiernet\n");
	free(text);
	rules_init(&rs);
	cr_assert_eq(policy_compile_maps(maps, 4, &rs), 0);
	text = rules_dump(&rs);
	cr_assert_str_eq(text, "*nat\n"
			       ":TIERNET-POST\n"
			       "-I POSTROUTING -j TIERNET-POST\n"
			       "-A TIERNET-POST -s 127.0.0.0/8 -m devgroup --dst-group "
			       "0x746e8000/0xffff8000 -j MASQUERADE\n"
			       "COMMIT\n");
	free(text);
	rules_clear(&rs);
	cr_assert_eq(policy_compile_maps(maps, 0, &rs), 0);
	cr_assert_eq(rs.nrules, 0);
}

/*
 * A change is element by element, whatever the number of mappings: one removed, one added,
 * one whose container changed (deleted and added again: an add does not replace a value),
 * the rest untouched.  Both sides in any order before natmap_sort.
 */
Test(publish, nat_maps_diff)
{
	struct policy_map old[3] = { 0 }, now[3] = { 0 };
	char *text;
	int i;

	for (i = 0; i < 3; i++) {
		old[i].proto = IPPROTO_TCP;
		old[i].host_port = (uint16_t)(18000 + i);
		old[i].addr = ip("10.1.1.2");
		old[i].port = 80;
	}
	now[0] = old[2]; /* unchanged */
	now[1] = old[1]; /* moved to another container */
	now[1].addr = ip("10.1.1.9");
	now[2] = old[0]; /* a new one; old[0] goes */
	now[2].host_port = 19000;
	now[2].proto = IPPROTO_UDP;
	natmap_sort(old, 3, AF_INET);
	natmap_sort(now, 3, AF_INET);
	text = text_of(AF_INET, old, 3, now, 3);
	cr_assert_str_eq(text, "delete element ip tiernet any { tcp . 18000, tcp . 18001 }\n"
			       "add element ip tiernet any { tcp . 18001 : 10.1.1.9 . 80, "
			       "udp . 19000 : 10.1.1.2 . 80 }\n");
	free(text);
	/* the same set: nothing at all */
	text = text_of(AF_INET, old, 3, old, 3);
	cr_assert_str_eq(text, "");
	free(text);
	/* from none, or to none: the whole table */
	text = text_of(AF_INET, old, 0, now, 1);
	cr_assert_str_eq(text,
			 TABLE4 "add element ip tiernet any { tcp . 18001 : 10.1.1.9 . 80 }\n");
	free(text);
	text = text_of(AF_INET, old, 3, now, 0);
	cr_assert_str_eq(text, "add table ip tiernet\ndelete table ip tiernet\n");
	free(text);
}

static struct in6_addr ip6(const char *s)
{
	struct in6_addr a;

	cr_assert_eq(inet_pton(AF_INET6, s, &a), 1);
	return a;
}

/* IPv6: no map for the loopback (::1 is never translated), IPv6 addresses in the elements. */
Test(publish, nat_maps_golden_ipv6)
{
	struct policy_map maps[] = {
		{ .proto = IPPROTO_TCP, .host_port = 18080, .port = 80 },
		{ .proto = IPPROTO_TCP, .host_port = 18443, .port = 443 },
	};
	struct rules_set rs;
	char *text;

	maps[0].addr6 = ip6("fd00:1:1::2");
	maps[1].host_ip6 = ip6("2001:db8::10");
	maps[1].addr6 = ip6("fd00:1:1::3");
	/* the IPv4 fields are not looked at in an IPv6 set */
	maps[0].host_ip = maps[1].host_ip = ip("127.0.0.1");
	natmap_sort(maps, 2, AF_INET6);
	text = text_of(AF_INET6, NULL, 0, maps, 2);
	cr_assert_str_eq(text,
			 "add table ip6 tiernet\ndelete table ip6 tiernet\n"
			 "table ip6 tiernet {\n"
			 "\tmap bound { type ipv6_addr . inet_proto . inet_service : ipv6_addr . "
			 "inet_service; }\n"
			 "\tmap any { type inet_proto . inet_service : ipv6_addr . inet_service; "
			 "}\n"
			 "\tchain prerouting {\n"
			 "\t\ttype nat hook prerouting priority -100; policy accept;\n"
			 "\t\tfib daddr type local dnat ip6 to ip6 daddr . meta l4proto . th dport "
			 "map @bound\n"
			 "\t\tfib daddr type local dnat ip6 to meta l4proto . th dport map @any\n"
			 "\t}\n"
			 "\tchain output {\n"
			 "\t\ttype nat hook output priority -100; policy accept;\n"
			 "\t\tip6 daddr ::1 return\n"
			 "\t\tfib daddr type local dnat ip6 to ip6 daddr . meta l4proto . th dport "
			 "map @bound\n"
			 "\t\tfib daddr type local dnat ip6 to meta l4proto . th dport map @any\n"
			 "\t}\n"
			 "}\n"
			 "add element ip6 tiernet bound { 2001:db8::10 . tcp . 18443 : fd00:1:1::3 "
			 ". 443 }\n"
			 "add element ip6 tiernet any { tcp . 18080 : fd00:1:1::2 . 80 }\n");
	free(text);
	rules_init_family(&rs, AF_INET6);
	cr_assert_eq(policy_compile_maps(maps, 2, &rs), 0);
	cr_assert_eq(rs.nrules, 0);
	rules_clear(&rs);
}
