/*
 * libFuzzer: the policy file.  config_parse (every diagnostic also formatted as the user sees
 * it), then, for a policy that parses, policy_compile over a fixed set of networks (one per
 * tier, up to eight, some Docker --internal), published ports, the publishing gate, and
 * rules_dump: the whole pure path from text to the rules tiernet would apply.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "config/config.h"
#include "lib/names.h"
#include "policy/policy.h"
#include "tests/fuzz/fuzz.h"

#define NETS_MAX 8

static void check_diags(const struct config_diags *ds)
{
	size_t i;
	char *s;

	for (i = 0; i < ds->n; i++) {
		const struct config_diag *d = &ds->v[i];

		FUZZ_ASSERT(fuzz_terminated(d->message, sizeof(d->message)));
		FUZZ_ASSERT(fuzz_terminated(d->text, sizeof(d->text)));
		FUZZ_ASSERT(fuzz_printable(d->message));
		FUZZ_ASSERT(d->span >= 1);
		s = config_diag_format(d);
		free(s);
	}
}

static void check_policy(const struct policy *pol)
{
	size_t i;

	FUZZ_ASSERT(pol->ntiers >= 1 && pol->ntiers <= POLICY_TIERS_MAX);
	FUZZ_ASSERT(pol->nedges <= POLICY_EDGES_MAX);
	for (i = 0; i < pol->ntiers; i++) {
		FUZZ_ASSERT(fuzz_terminated(pol->tiers[i].name, POLICY_NAME_MAX));
		FUZZ_ASSERT(strlen(pol->tiers[i].name) >= 1 && strlen(pol->tiers[i].name) <= 16);
		FUZZ_ASSERT(policy_tier_find(pol, pol->tiers[i].name) == (int)i);
	}
	for (i = 0; i < pol->nedges; i++) {
		const struct policy_edge *e = &pol->edges[i];
		size_t k;

		FUZZ_ASSERT(e->nports <= POLICY_PORTS_MAX);
		FUZZ_ASSERT(e->src >= POLICY_HOST && e->src < (int)pol->ntiers);
		FUZZ_ASSERT(e->dst >= POLICY_HOST && e->dst < (int)pol->ntiers);
		FUZZ_ASSERT(e->src >= 0 || e->dst >= 0);
		for (k = 0; k < e->nports; k++) {
			FUZZ_ASSERT(e->ports[k].proto == IPPROTO_TCP ||
				    e->ports[k].proto == IPPROTO_UDP);
			FUZZ_ASSERT(e->ports[k].lo >= 1 && e->ports[k].lo <= e->ports[k].hi);
		}
	}
}

static void compile(const struct policy *pol)
{
	static const char docker[][IFNAMSIZ] = { "docker0", "br-0123456789ab" };
	struct policy_host host = { .docker = docker, .ndocker = 2 };
	struct policy_net nets[NETS_MAX];
	struct policy_map maps[3];
	struct rules_set rs;
	char msg[512], line[512]; /* rules_dump formats each rule into 512 bytes */
	size_t i, n = pol->ntiers < NETS_MAX ? pol->ntiers : NETS_MAX;
	char *dump;

	memset(nets, 0, sizeof(nets));
	for (i = 0; i < n; i++) {
		snprintf(nets[i].bridge, sizeof(nets[i].bridge), "tnfuzz%zu", i);
		nets[i].addr = htonl(0x0a000001u | (uint32_t)i << 8);
		nets[i].mask = htonl(0xffffff00u);
		nets[i].tier = (int)i;
		nets[i].internal = i % 3 == 2 || pol->tiers[i].internal;
		nets[i].group = TN_GROUP | TN_GROUP_BRIDGE | (i % 3 == 2 ? TN_GROUP_INTERNAL : 0) |
				(uint32_t)(i + 1);
		/* The gate the driver asks before publishing, on every tier with a network. */
		msg[0] = '\0';
		if (policy_publish_check(pol, (int)i, nets[i].internal, IPPROTO_TCP, 80, false, msg,
					 sizeof(msg)) < 0)
			FUZZ_ASSERT(!strncmp(msg, "tiernet: ", 9));
	}
	memset(maps, 0, sizeof(maps));
	maps[0] = (struct policy_map){
		.proto = IPPROTO_TCP, .host_port = 8080, .addr = htonl(0x0a000002u), .port = 80
	};
	maps[1] = (struct policy_map){ .proto = IPPROTO_UDP,
				       .host_ip = htonl(INADDR_LOOPBACK),
				       .host_port = 5353,
				       .addr = htonl(0x0a000102u),
				       .port = 53 };
	maps[2] = (struct policy_map){ .proto = IPPROTO_TCP,
				       .host_ip = htonl(0xc0a80001u),
				       .host_port = 443,
				       .addr = htonl(0x0a000203u),
				       .port = 8443 };
	/* every other network dual-stack, and the same maps in IPv6 form */
	for (i = 0; i < n; i += 2) {
		nets[i].dual = true;
		inet_pton(AF_INET6, "fd00:f:0:1::1", &nets[i].addr6);
		nets[i].addr6.s6_addr[7] = (uint8_t)i;
		nets[i].prefix6 = (uint8_t)(48 + i % 81);
	}
	inet_pton(AF_INET6, "fd00:f::2", &maps[0].addr6);
	inet_pton(AF_INET6, "::1", &maps[1].host_ip6);
	inet_pton(AF_INET6, "fd00:f::3", &maps[1].addr6);
	for (int family = AF_INET; family; family = family == AF_INET ? AF_INET6 : 0) {
		rules_init_family(&rs, family);
		FUZZ_ASSERT(policy_compile(pol, nets, n, &host, &rs) == 0);
		if (n)
			FUZZ_ASSERT(policy_compile_maps(maps, 3, &rs) == 0);
		for (i = 0; i < rs.nrules; i++)
			FUZZ_ASSERT(rules_format(&rs.rules[i], line, sizeof(line)) < sizeof(line));
		dump = rules_dump(&rs);
		FUZZ_ASSERT(dump);
		free(dump);
		rules_clear(&rs);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_diags diags = { 0 };
	struct policy *pol = NULL;
	int r;

	r = config_parse("fuzz.conf", (const char *)data, size, &pol, &diags);
	FUZZ_ASSERT(r == 0 || r == -EINVAL || r == -ENOMEM);
	FUZZ_ASSERT((r == 0) == (pol != NULL));
	FUZZ_ASSERT(r != -EINVAL || diags.n > 0);
	check_diags(&diags);
	if (pol) {
		check_policy(pol);
		compile(pol);
	}
	policy_free(pol);
	config_diags_free(&diags);
	return 0;
}
