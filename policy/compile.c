/*
 * The compiler: policy plus live networks in, a rules_set out.  Pure: no kernel, no I/O.
 *
 * The legacy x_tables chains decide, and they do it by marking: mangle TIERNET-FWD sets
 * POLICY_FWMARK on every forwarded packet the policy allows (dispatching by the source
 * bridge's tier to mangle TIERNET-SRC-<tier>), and filter TIERNET-FWD accepts marked packets
 * and drops the rest of the traffic in or out of a tiernet link.  Docker's nf_tables
 * pass-through (nft.c) accepts only marked packets too, so flushed tiernet chains fail
 * closed.
 *
 * Links are recognised by their interface group (lib/names.h), never by name: a bridge's
 * group carries its tier id, so dispatch and every edge is one rule per tier and edge,
 * whatever the number of networks (-m devgroup compares a masked 32-bit number).  Per packet,
 * nothing grows with networks, endpoints or ports except what only a connection's first
 * packet meets (masquerade, the published ports, Docker's bridges in TIERNET-WORLD).
 * Anti-spoofing and the other guards of what a container may send at all are not here but
 * in the layer-2 guard (l2guard.c), before any of these chains.
 *
 *   filter TIERNET-FWD    accept marked tiernet traffic, drop the rest of it; hooked from
 *                         FORWARD and, where Docker keeps legacy rules, from DOCKER-USER too
 *   filter TIERNET-IN     containers open connections to the host only where declared;
 *                         the rest is logged and dropped, or in audit mode logged and let in
 *   mangle TIERNET-FWD    allow replies, dispatch by tier, allow published ports reached
 *                         from the world
 *   mangle TIERNET-SRC-T  where tier T may open connections
 *   mangle TIERNET-WORLD  the world: everything but Docker's own networks
 *   mangle TIERNET-OK     marks: every "allowed" above is a goto here
 *   mangle TIERNET-LOG    what nothing allowed: clear the mark bit, log (NFLOG,
 *                         rate-limited) the new connections, or in audit mode log and mark
 *                         what an audited tier would be denied (logrules.c)
 *   nat    TIERNET-POST   masquerade what leaves for the world
 *
 * One policy, two families: a rules_set of family AF_INET6 (ip6tables) gets the same chains
 * and the same group rules, since groups know no family.  What differs is where addresses
 * and ICMP appear: TIERNET-IN and TIERNET-FWD let neighbour discovery through
 * (conntrack does not track it, and isolated tiers still need their neighbours' addresses);
 * masquerade covers the dual-stack networks' IPv6 subnets.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/internal.h"

#define M_ANY	 TN_GROUP_MASK			   /* any tiernet link */
#define M_BRIDGE (TN_GROUP_MASK | TN_GROUP_BRIDGE) /* any tiernet bridge */
#define M_TIER	 (~TN_GROUP_INTERNAL)		   /* any bridge of one tier */
#define M_EXACT	 0xffffffffu			   /* ... that is not Docker --internal */
#define G_BRIDGE (TN_GROUP | TN_GROUP_BRIDGE)

struct compiler {
	bool v6; /* the set is ip6tables' (out->family AF_INET6) */
	const struct policy *pol;
	const struct policy_net *nets;
	size_t n;
	const struct policy_host *host;
	struct rules_set *rs;
	uint32_t *tier_group; /* per tier: its bridges' group without the internal bit, or 0 */
};

/* rules_rule_make, with "the policy allows this packet" as what a MARK sets. */
static struct rules_rule rule(enum rules_table t, const char *chain, enum rules_verdict v)
{
	struct rules_rule r = rules_rule_make(t, chain, v);

	if (v == RULES_MARK) {
		r.set_mark = POLICY_FWMARK;
		r.set_mask = POLICY_FWMARK;
	}
	return r;
}

static struct rules_group group(uint32_t id, uint32_t mask, bool inv)
{
	return (struct rules_group){ .on = true, .inv = inv, .id = id & mask, .mask = mask };
}

/* Neither the in- nor the out-interface is tiernet's. */
static void not_ours(struct rules_rule *r)
{
	r->in_group = group(TN_GROUP, M_ANY, true);
	r->out_group = group(TN_GROUP, M_ANY, true);
}

/* The prefix of bits as an IPv6 mask. */
static struct in6_addr mask6(unsigned bits)
{
	struct in6_addr m = { 0 };
	unsigned i;

	for (i = 0; i < bits && i < 128; i++)
		m.s6_addr[i / 8] |= (uint8_t)(0x80u >> (i % 8));
	return m;
}

static void rule_src(struct rules_rule *r, const struct policy_net *net, bool v6)
{
	size_t i;

	if (!v6) {
		r->src = net->addr & net->mask;
		r->smsk = net->mask;
		return;
	}
	r->smsk6 = mask6(net->prefix6);
	for (i = 0; i < 16; i++)
		r->src6.s6_addr[i] = net->addr6.s6_addr[i] & r->smsk6.s6_addr[i];
}

/* Does the network take part in this family's rules? */
static bool net_in(const struct compiler *c, const struct policy_net *net)
{
	return !c->v6 || net->dual;
}

/*
 * ICMPv6 a container may send to the host without an edge: neighbour discovery (router and
 * neighbour solicitations, neighbour advertisements) and the listener reports that go with
 * it (l2guard.c lets the same from a link-local or unspecified source).
 */
static const uint8_t icmp6_nd[] = { 133, 135, 136, 131, 132, 143 };
/* Neighbour solicitation and advertisement. */
static const uint8_t icmp6_neigh[] = { 135, 136 };

static int add_icmp6(struct compiler *c, struct rules_rule *r, const uint8_t *types, size_t n)
{
	size_t i;
	int ret = 0;

	r->proto = IPPROTO_ICMPV6;
	r->icmp_match = true;
	for (i = 0; i < n; i++) {
		r->icmp_type = types[i];
		ret |= rules_add(c->rs, r);
	}
	return ret;
}

#define NTYPES(a) (sizeof(a) / sizeof((a)[0]))

void policy_src_chain(char *buf, size_t len, const struct policy_tier *t)
{
	snprintf(buf, len, CH_SRC "%.*s", POLICY_TIER_LEN, t->name);
}

void policy_dny_chain(char *buf, size_t len, const struct policy_tier *t)
{
	snprintf(buf, len, CH_DNY "%.*s", POLICY_TIER_LEN, t->name);
}

/* Does the host run the resolver (IPv4 only: Docker forwards to IPv4 upstreams)? */
static bool dns_on(const struct compiler *c)
{
	return !c->v6 && c->host && c->host->dns_port;
}

/* A network may reach the world (and be reached from it) unless it or its tier is internal. */
static bool net_world(const struct compiler *c, const struct policy_net *net)
{
	return !net->internal && !c->pol->tiers[net->tier].internal;
}

/* Has the tier a network that reaches the world? */
static bool tier_world(const struct compiler *c, int tier)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->nets[i].tier == tier && net_in(c, &c->nets[i]) && net_world(c, &c->nets[i]))
			return true;
	return false;
}

static bool any_world(const struct compiler *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (net_in(c, &c->nets[i]) && net_world(c, &c->nets[i]))
			return true;
	return false;
}

/* Appends r once per port item of e, or once as it is when e has no ports. */
static int add_ports(struct compiler *c, struct rules_rule *r, const struct policy_edge *e)
{
	size_t i;
	int ret;

	if (!e || !e->nports)
		return rules_add(c->rs, r);
	for (i = 0; i < e->nports; i++) {
		r->proto = e->ports[i].proto;
		r->dport_lo = e->ports[i].lo;
		r->dport_hi = e->ports[i].hi;
		ret = rules_add(c->rs, r);
		if (ret)
			return ret;
	}
	return 0;
}

static int add_chains(struct compiler *c)
{
	char name[RULES_CHAIN_MAX];
	size_t i;
	int ret = 0;

	ret |= rules_add_chain(c->rs, RULES_FILTER, CH_FWD, "FORWARD");
	ret |= rules_add_hook(c->rs, RULES_FILTER, "DOCKER-USER", CH_FWD);
	ret |= rules_add_chain(c->rs, RULES_FILTER, CH_IN, "INPUT");
	ret |= rules_add_chain(c->rs, RULES_MANGLE, CH_FWD, "FORWARD");
	ret |= rules_add_chain(c->rs, RULES_MANGLE, CH_OK, "");
	ret |= rules_add_chain(c->rs, RULES_MANGLE, CH_LOG, "");
	for (i = 0; i < c->pol->ntiers; i++) {
		if (!c->tier_group[i])
			continue;
		policy_src_chain(name, sizeof(name), &c->pol->tiers[i]);
		ret |= rules_add_chain(c->rs, RULES_MANGLE, name, "");
		policy_dny_chain(name, sizeof(name), &c->pol->tiers[i]);
		ret |= rules_add_chain(c->rs, RULES_FILTER, name, "");
	}
	if (any_world(c)) {
		ret |= rules_add_chain(c->rs, RULES_MANGLE, CH_WORLD, "");
		ret |= rules_add_chain(c->rs, RULES_NAT, CH_POST, "POSTROUTING");
	}
	return ret ? -ENOMEM : 0;
}

/*
 * filter TIERNET-DNY-<tier>: the tier's denied new connections, dropped by destination tier
 * so that each rule's counter says how many went from this tier to that one (`tiernet
 * status`).  Only a denied packet gets here: per allowed packet, nothing changes.
 */
static int filter_dny(struct compiler *c, int tier)
{
	char chain[RULES_CHAIN_MAX];
	struct rules_rule r;
	size_t i;
	int ret = 0;

	policy_dny_chain(chain, sizeof(chain), &c->pol->tiers[tier]);
	for (i = 0; i < c->pol->ntiers; i++) {
		if (!c->tier_group[i])
			continue;
		r = rule(RULES_FILTER, chain, RULES_DROP);
		r.out_group = group(c->tier_group[i], M_TIER, false);
		ret |= rules_add(c->rs, &r);
	}
	return ret ? -ENOMEM : 0;
}

/*
 * filter TIERNET-FWD: tiernet traffic passes only when mangle marked it.  New connections
 * that were not go through their tier's TIERNET-DNY chain first (counted per pair).
 */
static int filter_fwd(struct compiler *c)
{
	char chain[RULES_CHAIN_MAX];
	struct rules_rule r;
	size_t i;
	int ret = 0;

	r = rule(RULES_FILTER, CH_FWD, RULES_RETURN);
	not_ours(&r);
	ret |= rules_add(c->rs, &r);
	r = rule(RULES_FILTER, CH_FWD, RULES_ACCEPT);
	r.mark_match = true;
	r.mark = r.mark_mask = POLICY_FWMARK;
	ret |= rules_add(c->rs, &r);
	for (i = 0; i < c->pol->ntiers; i++) {
		if (!c->tier_group[i])
			continue;
		r = rule(RULES_FILTER, CH_FWD, RULES_JUMP);
		r.in_group = group(c->tier_group[i], M_TIER, false);
		r.ctstate = RULES_CT_NEW;
		policy_dny_chain(chain, sizeof(chain), &c->pol->tiers[i]);
		snprintf(r.target, sizeof(r.target), "%s", chain);
		ret |= rules_add(c->rs, &r);
	}
	r = rule(RULES_FILTER, CH_FWD, RULES_DROP);
	ret |= rules_add(c->rs, &r);
	/* After TIERNET-FWD's, so that each chain's rules are together, as iptables-save has it. */
	for (i = 0; i < c->pol->ntiers; i++)
		if (c->tier_group[i])
			ret |= filter_dny(c, (int)i);
	return ret ? -ENOMEM : 0;
}

/* filter TIERNET-IN: containers open connections to the host only where declared. */
static int filter_in(struct compiler *c)
{
	const struct policy_edge *e;
	struct rules_rule r;
	size_t i;
	int ret = 0;

	r = rule(RULES_FILTER, CH_IN, RULES_RETURN);
	r.in_group = group(G_BRIDGE, M_BRIDGE, true);
	ret |= rules_add(c->rs, &r);
	r = rule(RULES_FILTER, CH_IN, RULES_ACCEPT);
	r.ctstate = RULES_CT_RELATED | RULES_CT_ESTABLISHED;
	ret |= rules_add(c->rs, &r);
	if (c->v6) {
		r = rule(RULES_FILTER, CH_IN, RULES_ACCEPT);
		ret |= add_icmp6(c, &r, icmp6_nd, NTYPES(icmp6_nd));
	}
	for (i = 0; i < c->pol->nedges && !ret; i++) {
		e = &c->pol->edges[i];
		if (e->dst != POLICY_HOST || e->src < 0 || !c->tier_group[e->src])
			continue;
		r = rule(RULES_FILTER, CH_IN, RULES_ACCEPT);
		r.in_group = group(c->tier_group[e->src], M_TIER, false);
		ret = add_ports(c, &r, e);
	}
	if (dns_on(c)) {
		/* The queries TIERNET-DNS redirected to the resolver, and only those. */
		r = rule(RULES_FILTER, CH_IN, RULES_ACCEPT);
		r.proto = IPPROTO_UDP;
		r.dport_lo = c->host->dns_port;
		r.ctstate = RULES_CT_DNAT;
		ret |= rules_add(c->rs, &r);
	}
	if (!ret)
		ret = logrules_audit_host(c->rs, c->pol, c->tier_group, M_TIER);
	ret |= logrules_deny(c->rs, RULES_FILTER, CH_IN, POLICY_LOG_DENY_HOST);
	/* Denied new connections to the host, one counter per tier (`tiernet status`). */
	for (i = 0; i < c->pol->ntiers && !ret; i++) {
		if (!c->tier_group[i])
			continue;
		r = rule(RULES_FILTER, CH_IN, RULES_DROP);
		r.in_group = group(c->tier_group[i], M_TIER, false);
		r.ctstate = RULES_CT_NEW;
		ret = rules_add(c->rs, &r);
	}
	r = rule(RULES_FILTER, CH_IN, RULES_DROP);
	ret |= rules_add(c->rs, &r);
	return ret ? -ENOMEM : 0;
}

/*
 * nat TIERNET-DNS: names across tiers.  Docker's embedded resolver forwards the names it
 * does not know from the container's namespace, out of eth0, to the container's upstream
 * server; here those queries go to tiernet's resolver on the bridge's gateway instead, which
 * answers tiernet's names and relays the rest to the original server (conntrack keeps it).
 * UDP only: a TCP query (after a truncated answer) goes to the upstream untouched.
 */
static int nat_dns(struct compiler *c)
{
	struct rules_rule r;
	size_t i;
	int ret = 0;

	ret |= rules_add_chain(c->rs, RULES_NAT, CH_DNS, "PREROUTING");
	for (i = 0; i < c->n; i++) {
		r = rule(RULES_NAT, CH_DNS, RULES_DNAT);
		snprintf(r.in, sizeof(r.in), "%s", c->nets[i].bridge);
		r.proto = IPPROTO_UDP;
		r.dport_lo = 53;
		r.to_addr = c->nets[i].addr;
		r.to_port_lo = c->host->dns_port;
		ret |= rules_add(c->rs, &r);
	}
	return ret ? -ENOMEM : 0;
}

/* A rule of mangle chain that hands the packet to target (-g): nothing comes back. */
static struct rules_rule go(const char *chain, const char *target)
{
	struct rules_rule r = rule(RULES_MANGLE, chain, RULES_GOTO);

	snprintf(r.target, sizeof(r.target), "%s", target);
	return r;
}

/*
 * mangle TIERNET-FWD's dispatch by the source bridge's tier.  In one list, every allowed new
 * packet would meet a rule for each tier listed before its own (about 30 ns a rule here: with
 * 48 tiers before it, a quarter of a small datagram's path).  Past DISPATCH_LEAF tiers the
 * list becomes a tree keyed by the tier id, 3 bits a level (TIERNET-DSP-<shift>-<prefix>:
 * the tiers whose id >> shift is prefix), so that a packet meets at most 8 rules a level, 4
 * levels at most; ids are small numbers, so 50 tiers make one level of 7 chains.  Each
 * rule is a goto: the groups are disjoint, so past its tier's rule a packet has nothing
 * left to meet in the dispatch, and its tier's chain ends every way with a decision.
 */
#define DISPATCH_LEAF 8
#define DISPATCH_TOP  12 /* the top level's shift: levels at bits 12, 9, 6, 3 of 13 */

static uint32_t tier_id(const struct compiler *c, int tier)
{
	return c->tier_group[tier] & TN_GROUP_TIER;
}

static int dispatch_leaf(struct compiler *c, const char *chain, int tier)
{
	struct rules_rule r = rule(RULES_MANGLE, chain, RULES_GOTO);

	r.in_group = group(c->tier_group[tier], M_TIER, false);
	policy_src_chain(r.target, sizeof(r.target), &c->pol->tiers[tier]);
	return rules_add(c->rs, &r);
}

/* tiers[0..n), sorted by id, into chain: a list, or a tree below shift. */
static int dispatch(struct compiler *c, const char *chain, const int *tiers, size_t n, int shift)
{
	struct rules_rule r;
	uint32_t prefix;
	size_t i, run;
	int ret = 0;

	if (n <= DISPATCH_LEAF) {
		for (i = 0; i < n && !ret; i++)
			ret = dispatch_leaf(c, chain, tiers[i]);
		return ret;
	}
	/* A level where all share the prefix would be a chain of one rule: skip it. */
	while (shift > 0 && tier_id(c, tiers[0]) >> shift == tier_id(c, tiers[n - 1]) >> shift)
		shift -= 3;
	for (i = 0; i < n && !ret; i += run) {
		prefix = tier_id(c, tiers[i]) >> shift;
		for (run = 1; i + run < n && tier_id(c, tiers[i + run]) >> shift == prefix; run++)
			;
		if (run == 1) {
			ret = dispatch_leaf(c, chain, tiers[i]);
			continue;
		}
		r = rule(RULES_MANGLE, chain, RULES_GOTO);
		r.in_group = group(G_BRIDGE | prefix << shift,
				   TN_GROUP_MASK | TN_GROUP_BRIDGE | TN_GROUP_DUAL |
				       (TN_GROUP_TIER >> shift << shift),
				   false);
		snprintf(r.target, sizeof(r.target), CH_DSP "%d-%x", shift, prefix);
		ret = rules_add_chain(c->rs, RULES_MANGLE, r.target, "");
		if (!ret)
			ret = rules_add(c->rs, &r);
		if (!ret)
			ret = dispatch(c, r.target, tiers + i, run, shift - 3);
		/* A bridge of the prefix but of no tier listed (none the compiler writes): denied
		 * and logged, like anything else nothing allows, not returned unmarked unlogged. */
		if (!ret) {
			struct rules_rule end = go(r.target, CH_LOG);

			ret = rules_add(c->rs, &end);
		}
	}
	return ret;
}

static int cmp_tier_id(const void *a, const void *b, void *arg)
{
	uint32_t x = tier_id(arg, *(const int *)a), y = tier_id(arg, *(const int *)b);

	return (x > y) - (x < y);
}

static int dispatch_all(struct compiler *c)
{
	size_t i, n = 0;
	int *tiers, ret;

	tiers = calloc(c->pol->ntiers ? c->pol->ntiers : 1, sizeof(*tiers));
	if (!tiers)
		return -ENOMEM;
	for (i = 0; i < c->pol->ntiers; i++)
		if (c->tier_group[i])
			tiers[n++] = (int)i;
	/* A short list keeps the policy's order (and the rules their golden form). */
	if (n > DISPATCH_LEAF)
		qsort_r(tiers, n, sizeof(*tiers), cmp_tier_id, c);
	ret = dispatch(c, CH_FWD, tiers, n, DISPATCH_TOP);
	free(tiers);
	return ret;
}

/* A rule of mangle's chain that goes to target and does not come back. */
/* It hands the packet to TIERNET-OK, which marks it: the policy allows it. */
static struct rules_rule allow(const char *chain)
{
	return go(chain, CH_OK);
}

/* The chain's last rule: what got this far, nothing allowed; to TIERNET-LOG. */
static int deny_rest(struct compiler *c, const char *chain)
{
	struct rules_rule r = go(chain, CH_LOG);

	return rules_add(c->rs, &r);
}

/*
 * mangle TIERNET-FWD: the mark cleared, replies, dispatch by tier, published ports.
 *
 * Every decision is a goto, so a packet leaves the chains at its first decision instead of
 * walking back through the rest of the dispatch: an allowed packet goes to TIERNET-OK
 * (marked, then back to FORWARD), a packet nothing allowed to TIERNET-LOG.  A packet of a
 * tier meets the not-ours test, the reply test, the dispatch rules before its tier's, and its
 * own chain's rules up to the first that allows it.
 */
static int mangle_fwd(struct compiler *c)
{
	const struct policy_edge *e;
	struct rules_rule r;
	size_t i;
	int ret = 0;

	r = rule(RULES_MANGLE, CH_FWD, RULES_RETURN);
	not_ours(&r);
	ret |= rules_add(c->rs, &r);
	r = allow(CH_FWD);
	r.ctstate = RULES_CT_RELATED | RULES_CT_ESTABLISHED;
	ret |= rules_add(c->rs, &r);
	/*
	 * Neighbour discovery between two containers of one bridge (br_netfilter hands it to
	 * FORWARD): never routed, since receivers drop ND whose hop limit is not 255.
	 */
	if (c->v6) {
		r = allow(CH_FWD);
		ret |= add_icmp6(c, &r, icmp6_neigh, NTYPES(icmp6_neigh));
	}
	if (!ret)
		ret = dispatch_all(c);
	/* Published ports: the world reaches the container port after DNAT. */
	for (i = 0; i < c->pol->nedges && !ret; i++) {
		e = &c->pol->edges[i];
		if (e->src != POLICY_WORLD || e->dst < 0 || !c->tier_group[e->dst] ||
		    c->pol->tiers[e->dst].internal)
			continue;
		r = allow(CH_FWD);
		r.in_group = group(TN_GROUP, M_ANY, true);
		r.out_group = group(c->tier_group[e->dst], M_EXACT, false);
		r.ctstate = RULES_CT_DNAT;
		ret = add_ports(c, &r, e);
	}
	if (!ret)
		ret = deny_rest(c, CH_FWD);
	/*
	 * TIERNET-OK marks.  TIERNET-LOG first clears the bit, so that whoever else set it
	 * (CONNMARK restore, policy routing) gets no say here: every packet of a tiernet link
	 * ends in one of the two, and clearing only on the way to LOG spares the allowed
	 * packets, nearly all of them replies, a MARK and a rule.  Then it logs, or in audit
	 * mode logs and marks (logrules.c).
	 */
	r = rule(RULES_MANGLE, CH_OK, RULES_MARK);
	ret |= rules_add(c->rs, &r);
	r = rule(RULES_MANGLE, CH_LOG, RULES_MARK);
	r.set_mark = 0;
	ret |= rules_add(c->rs, &r);
	if (!ret)
		ret = logrules_fwd(c->rs, c->pol, c->tier_group, M_TIER);
	return ret;
}

/* mangle TIERNET-SRC-<tier>: where new connections from the tier may go. */
static int mangle_src(struct compiler *c, int tier)
{
	const struct policy_tier *t = &c->pol->tiers[tier];
	const struct policy_edge *self, *e;
	char chain[RULES_CHAIN_MAX];
	struct rules_rule r;
	size_t i;
	int ret = 0;

	policy_src_chain(chain, sizeof(chain), t);
	self = policy_edge_find(c->pol, tier, tier);
	r = allow(chain);
	r.out_group = group(c->tier_group[tier], M_TIER, false);
	if (!t->isolated)
		ret = rules_add(c->rs, &r);
	else if (self)
		ret = add_ports(c, &r, self);
	for (i = 0; i < c->pol->nedges && !ret; i++) {
		e = &c->pol->edges[i];
		if (e->src != tier || e->dst < 0 || e->dst == tier || !c->tier_group[e->dst])
			continue;
		r = allow(chain);
		r.out_group = group(c->tier_group[e->dst], M_TIER, false);
		ret = add_ports(c, &r, e);
	}
	if (!ret && tier_world(c, tier)) {
		/* The world, from the tier's networks that are not Docker --internal. */
		r = go(chain, CH_WORLD);
		r.in_group = group(c->tier_group[tier], M_EXACT, false);
		r.out_group = group(TN_GROUP, M_ANY, true);
		ret = rules_add(c->rs, &r);
	}
	return ret ? ret : deny_rest(c, chain);
}

/*
 * mangle TIERNET-WORLD: everything that is neither a tier nor the host nor one of Docker's
 * own networks.  Docker isolates its networks from each other; tiers and Docker's networks
 * are isolated both ways (Docker's published ports stay reachable through the host's
 * addresses, as for any client).
 */
static int mangle_world(struct compiler *c)
{
	struct rules_rule r;
	size_t i;
	int ret = 0;

	/* Ports published by anyone through the host's addresses, Docker included. */
	r = allow(CH_WORLD);
	r.ctstate = RULES_CT_DNAT;
	ret |= rules_add(c->rs, &r);
	for (i = 0; c->host && i < c->host->ndocker; i++) {
		r = go(CH_WORLD, CH_LOG);
		snprintf(r.out, sizeof(r.out), "%.*s", IFNAMSIZ - 1, c->host->docker[i]);
		ret |= rules_add(c->rs, &r);
	}
	r = allow(CH_WORLD);
	ret |= rules_add(c->rs, &r);
	return ret ? -ENOMEM : 0;
}

/* nat TIERNET-POST: masquerade what leaves for the world. */
static int nat_post(struct compiler *c)
{
	struct rules_rule r;
	size_t i;
	int ret = 0;

	for (i = 0; i < c->n; i++) {
		if (!net_in(c, &c->nets[i]) || !net_world(c, &c->nets[i]))
			continue;
		r = rule(RULES_NAT, CH_POST, RULES_MASQUERADE);
		rule_src(&r, &c->nets[i], c->v6);
		r.out_group = group(TN_GROUP, M_ANY, true);
		ret |= rules_add(c->rs, &r);
	}
	return ret ? -ENOMEM : 0;
}

static bool tier_ok(const struct policy *pol, int t, bool pseudo)
{
	if (t >= 0)
		return (size_t)t < pol->ntiers;
	return pseudo && (t == POLICY_WORLD || t == POLICY_HOST);
}

/*
 * Every index the compiler follows must be in range, every chain name must fit, every
 * bridge must carry a tiernet bridge group, and the networks of one tier one tier id.
 */
static bool valid(const struct policy *pol, const struct policy_net *nets, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		if (!tier_ok(pol, nets[i].tier, false) || (nets[i].group & M_BRIDGE) != G_BRIDGE ||
		    !(nets[i].group & TN_GROUP_TIER))
			return false;
		for (j = 0; j < i; j++)
			if ((nets[i].tier == nets[j].tier) !=
			    ((nets[i].group & M_TIER) == (nets[j].group & M_TIER)))
				return false;
	}
	for (i = 0; i < pol->nedges; i++) {
		if (!tier_ok(pol, pol->edges[i].src, true) ||
		    !tier_ok(pol, pol->edges[i].dst, true))
			return false;
	}
	for (i = 0; i < pol->ntiers; i++)
		if (strnlen(pol->tiers[i].name, POLICY_NAME_MAX) > POLICY_TIER_LEN)
			return false;
	return true;
}

int policy_compile(const struct policy *pol, const struct policy_net *nets, size_t n,
		   const struct policy_host *host, struct rules_set *out)
{
	struct compiler c = { .v6 = out->family == AF_INET6,
			      .pol = pol,
			      .nets = nets,
			      .n = n,
			      .host = host,
			      .rs = out };
	size_t i;
	int ret;

	if (!valid(pol, nets, n))
		return -EINVAL;
	if (!n)
		return 0;
	c.tier_group = calloc(pol->ntiers ? pol->ntiers : 1, sizeof(*c.tier_group));
	if (!c.tier_group)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		c.tier_group[nets[i].tier] = nets[i].group & M_TIER;
	ret = add_chains(&c);
	if (!ret)
		ret = filter_fwd(&c);
	if (!ret)
		ret = filter_in(&c);
	if (!ret)
		ret = mangle_fwd(&c);
	for (i = 0; i < pol->ntiers && !ret; i++)
		if (c.tier_group[i])
			ret = mangle_src(&c, (int)i);
	if (!ret && any_world(&c))
		ret = mangle_world(&c);
	if (!ret)
		ret = nat_post(&c);
	if (!ret && dns_on(&c))
		ret = nat_dns(&c);
	if (ret)
		rules_clear(out);
	free(c.tier_group);
	return ret;
}
