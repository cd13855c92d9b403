/*
 * Published ports: the gate (may this tier publish?) and the NAT rules.  Docker does nothing
 * for -p on a remote driver (PROTOCOL.md §4), so tiernet maps ports itself with kernel DNAT:
 * no proxy process, and the client's source address reaches the container unchanged.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "policy/internal.h"

static const char *proto_name(uint8_t p)
{
	return p == IPPROTO_UDP ? "udp" : "tcp";
}

static bool edge_allows(const struct policy_edge *e, uint8_t proto, uint16_t port)
{
	size_t i;

	if (!e->nports)
		return true;
	for (i = 0; i < e->nports; i++)
		if (e->ports[i].proto == proto && port >= e->ports[i].lo && port <= e->ports[i].hi)
			return true;
	return false;
}

int policy_publish_check(const struct policy *pol, int tier, bool internal, uint8_t proto,
			 uint16_t port, bool host_only, char *msg, size_t len)
{
	const struct policy_tier *t = &pol->tiers[tier];
	const struct policy_edge *e;

	if (host_only)
		return 0;
	if (internal) {
		snprintf(msg, len,
			 "tiernet: port %u/%s cannot be published on tier \"%s\": the "
			 "%s is internal (no traffic from the world); bind it to the host only "
			 "with -p 127.0.0.1:HOSTPORT:%u",
			 port, proto_name(proto), t->name, t->internal ? "tier" : "network", port);
		return -EPERM;
	}
	e = policy_edge_find(pol, POLICY_WORLD, tier);
	if (!e) {
		snprintf(msg, len,
			 "tiernet: port %u/%s cannot be published on tier \"%s\": add "
			 "the line \"allow world -> %s\" (or \"allow world -> %s %s/%u\") to the "
			 "policy, or bind it to the host only with -p 127.0.0.1:HOSTPORT:%u",
			 port, proto_name(proto), t->name, t->name, t->name, proto_name(proto),
			 port, port);
		return -EPERM;
	}
	if (!edge_allows(e, proto, port)) {
		snprintf(msg, len,
			 "tiernet: port %u/%s cannot be published on tier \"%s\": line %u "
			 "of the policy (allow world -> %s) lists other ports; add %s/%u to it",
			 port, proto_name(proto), t->name, e->line, t->name, proto_name(proto),
			 port);
		return -EPERM;
	}
	return 0;
}

/*
 * The mappings themselves are nf_tables map elements (natmap.c, nft_nat.c): a change of one
 * is one element, where a DNAT rule would be a commit of the whole nat table.  What stays in
 * the legacy nat table is the rule that lets 127.0.0.1 reach a container: its source must be
 * one the container can answer.  IPv6 has no such rule: Linux cannot forward ::1 (the reply,
 * translated back to ::1, arrives on the bridge and is dropped), so the host's own
 * connections to ::1 are left alone and the driver refuses a mapping bound to ::1.
 */
int policy_compile_maps(const struct policy_map *maps, size_t n, struct rules_set *out)
{
	struct rules_rule r;
	int ret = 0;

	(void)maps;
	if (!n || out->family == AF_INET6)
		return 0;
	if (!rules_has_chain(out, RULES_NAT, CH_POST))
		ret |= rules_add_chain(out, RULES_NAT, CH_POST, "POSTROUTING");
	r = rules_rule_make(RULES_NAT, CH_POST, RULES_MASQUERADE);
	r.src = htonl(INADDR_LOOPBACK & 0xff000000u);
	r.smsk = htonl(0xff000000u);
	r.out_group = (struct rules_group){ .on = true,
					    .id = TN_GROUP | TN_GROUP_BRIDGE,
					    .mask = TN_GROUP_MASK | TN_GROUP_BRIDGE };
	ret |= rules_add(out, &r);
	return ret ? -ENOMEM : 0;
}
