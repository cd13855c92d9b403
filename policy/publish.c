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

/* Is the mapping bound to 127.0.0.1 (the host only)?  IPv6 has no such mapping: see below. */
static bool map_host_only(const struct policy_map *m, bool v6)
{
	return !v6 && m->host_ip == htonl(INADDR_LOOPBACK);
}

static struct rules_rule dnat(const char *chain, const struct policy_map *m, bool v6)
{
	struct rules_rule r = rules_rule_make(RULES_NAT, chain, RULES_DNAT);

	if (v6 && !IN6_IS_ADDR_UNSPECIFIED(&m->host_ip6)) {
		r.dst6 = m->host_ip6;
		memset(&r.dmsk6, 0xff, sizeof(r.dmsk6));
	} else if (!v6 && m->host_ip) {
		r.dst = m->host_ip;
		r.dmsk = 0xffffffffu;
	}
	r.proto = m->proto;
	r.dport_lo = m->host_port;
	r.to_addr = m->addr;
	r.to_addr6 = m->addr6;
	r.to_port_lo = m->port;
	return r;
}

/*
 * In a set of family AF_INET6 the maps are IPv6 ones: host_ip6 and addr6 (the caller gives
 * only the maps of containers with an IPv6 address whose binding takes IPv6).  IPv6 differs
 * in one place: Linux cannot forward ::1 to another interface (there is no IPv6
 * route_localnet: the reply, translated back to ::1, arrives on the bridge and is dropped),
 * so the host's own connections to ::1 are left alone (refused at once, not hung), and the
 * driver refuses a mapping bound to ::1.
 */
int policy_compile_maps(const struct policy_map *maps, size_t n, struct rules_set *out)
{
	bool v6 = out->family == AF_INET6;
	struct rules_rule r;
	size_t i;
	int ret = 0;

	if (!n)
		return 0;
	ret |= rules_add_chain(out, RULES_NAT, CH_PRE, "PREROUTING");
	ret |= rules_add_chain(out, RULES_NAT, CH_OUT, "OUTPUT");
	ret |= rules_add_chain(out, RULES_NAT, CH_DNAT, "");
	if (!v6 && !rules_has_chain(out, RULES_NAT, CH_POST))
		ret |= rules_add_chain(out, RULES_NAT, CH_POST, "POSTROUTING");
	/* From other hosts and from containers (hairpin): the host's addresses only. */
	r = rules_rule_make(RULES_NAT, CH_PRE, RULES_JUMP);
	r.local_dst = true;
	snprintf(r.target, sizeof(r.target), CH_DNAT);
	ret |= rules_add(out, &r);
	/* From the host itself: ports bound to 127.0.0.1 first, then the shared table. */
	if (v6) {
		r = rules_rule_make(RULES_NAT, CH_OUT, RULES_RETURN);
		r.dst6 = in6addr_loopback;
		memset(&r.dmsk6, 0xff, sizeof(r.dmsk6));
		ret |= rules_add(out, &r);
	}
	for (i = 0; i < n; i++) {
		if (!map_host_only(&maps[i], v6))
			continue;
		r = dnat(CH_OUT, &maps[i], v6);
		ret |= rules_add(out, &r);
	}
	r = rules_rule_make(RULES_NAT, CH_OUT, RULES_JUMP);
	r.local_dst = true;
	snprintf(r.target, sizeof(r.target), CH_DNAT);
	ret |= rules_add(out, &r);
	for (i = 0; i < n; i++) {
		if (map_host_only(&maps[i], v6))
			continue;
		r = dnat(CH_DNAT, &maps[i], v6);
		ret |= rules_add(out, &r);
	}
	if (v6)
		return ret ? -ENOMEM : 0;
	/* A connection from 127.0.0.1 needs a source the container can answer. */
	r = rules_rule_make(RULES_NAT, CH_POST, RULES_MASQUERADE);
	r.src = htonl(INADDR_LOOPBACK & 0xff000000u);
	r.smsk = htonl(0xff000000u);
	r.out_group = (struct rules_group){ .on = true,
					    .id = TN_GROUP | TN_GROUP_BRIDGE,
					    .mask = TN_GROUP_MASK | TN_GROUP_BRIDGE };
	ret |= rules_add(out, &r);
	return ret ? -ENOMEM : 0;
}
