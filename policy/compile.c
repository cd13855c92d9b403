/*
 * The compiler: policy plus live networks in, a rules_set out.  Pure: no kernel, no I/O.
 *
 * The legacy x_tables chains decide, and they do it by marking: mangle TIERNET-FWD sets
 * POLICY_FWMARK on every forwarded packet the policy allows (dispatching per source bridge to
 * mangle TIERNET-SRC-<tier>), and filter TIERNET-FWD accepts marked packets and drops the rest
 * of the traffic in or out of a tn* bridge.  Docker's nf_tables pass-through (nft.c) accepts
 * only marked packets too, so flushed tiernet chains fail closed.  Rule count depends on tiers,
 * networks and edges, never on containers.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "policy/internal.h"

struct compiler {
	const struct policy *pol;
	const struct policy_net *nets;
	size_t n;
	struct rules_set *rs;
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

static void rule_in(struct rules_rule *r, const char *ifname, bool inv)
{
	snprintf(r->in, sizeof(r->in), "%s", ifname);
	r->in_inv = inv;
}

static void rule_out(struct rules_rule *r, const char *ifname, bool inv)
{
	snprintf(r->out, sizeof(r->out), "%s", ifname);
	r->out_inv = inv;
}

static void rule_src(struct rules_rule *r, const struct policy_net *net, bool inv)
{
	r->src = net->addr & net->mask;
	r->smsk = net->mask;
	r->src_inv = inv;
}

void policy_src_chain(char *buf, size_t len, const struct policy_tier *t)
{
	snprintf(buf, len, CH_SRC "%.*s", POLICY_TIER_LEN, t->name);
}

/* A network may reach the world (and be reached from it) unless it or its tier is internal. */
static bool net_world(const struct compiler *c, const struct policy_net *net)
{
	return !net->internal && !c->pol->tiers[net->tier].internal;
}

static bool tier_has_net(const struct compiler *c, size_t tier)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if ((size_t)c->nets[i].tier == tier)
			return true;
	return false;
}

static bool any_world(const struct compiler *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (net_world(c, &c->nets[i]))
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

/* Appends r with out = each bridge of tier (ports of e as add_ports), in network order. */
static int add_to_tier(struct compiler *c, struct rules_rule *r, int tier,
		       const struct policy_edge *e, bool world_only)
{
	size_t i;
	int ret;

	for (i = 0; i < c->n; i++) {
		if (c->nets[i].tier != tier || (world_only && !net_world(c, &c->nets[i])))
			continue;
		rule_out(r, c->nets[i].bridge, false);
		ret = add_ports(c, r, e);
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
	ret |= rules_add_chain(c->rs, RULES_FILTER, CH_IN, "INPUT");
	ret |= rules_add_chain(c->rs, RULES_MANGLE, CH_FWD, "FORWARD");
	for (i = 0; i < c->pol->ntiers; i++) {
		if (!tier_has_net(c, i))
			continue;
		policy_src_chain(name, sizeof(name), &c->pol->tiers[i]);
		ret |= rules_add_chain(c->rs, RULES_MANGLE, name, "");
	}
	if (any_world(c))
		ret |= rules_add_chain(c->rs, RULES_NAT, CH_POST, "POSTROUTING");
	return ret ? -ENOMEM : 0;
}

/* filter TIERNET-FWD: tiernet traffic passes only when mangle marked it. */
static int filter_fwd(struct compiler *c)
{
	struct rules_rule r;
	int ret = 0;

	r = rule(RULES_FILTER, CH_FWD, RULES_RETURN);
	rule_in(&r, TN_ANY, true);
	rule_out(&r, TN_ANY, true);
	ret |= rules_add(c->rs, &r);
	r = rule(RULES_FILTER, CH_FWD, RULES_ACCEPT);
	r.mark_match = true;
	r.mark = r.mark_mask = POLICY_FWMARK;
	ret |= rules_add(c->rs, &r);
	r = rule(RULES_FILTER, CH_FWD, RULES_DROP);
	ret |= rules_add(c->rs, &r);
	return ret ? -ENOMEM : 0;
}

/* filter TIERNET-IN, per "allow T -> host" edge: each network of T may reach those ports. */
static int filter_in_host(struct compiler *c, const struct policy_edge *e)
{
	struct rules_rule r;
	size_t i;
	int ret;

	for (i = 0; i < c->n; i++) {
		if (c->nets[i].tier != e->src)
			continue;
		r = rule(RULES_FILTER, CH_IN, RULES_ACCEPT);
		rule_in(&r, c->nets[i].bridge, false);
		ret = add_ports(c, &r, e);
		if (ret)
			return ret;
	}
	return 0;
}

/* filter TIERNET-IN: containers open connections to the host only where declared. */
static int filter_in(struct compiler *c)
{
	struct rules_rule r;
	size_t i;
	int ret = 0;

	r = rule(RULES_FILTER, CH_IN, RULES_RETURN);
	rule_in(&r, TN_ANY, true);
	ret |= rules_add(c->rs, &r);
	/*
	 * Anti-spoofing before the conntrack shortcut: a packet that borrows the addresses and
	 * ports of a live connection would otherwise pass as part of it.
	 */
	for (i = 0; i < c->n; i++) {
		r = rule(RULES_FILTER, CH_IN, RULES_DROP);
		rule_src(&r, &c->nets[i], true);
		rule_in(&r, c->nets[i].bridge, false);
		ret |= rules_add(c->rs, &r);
	}
	r = rule(RULES_FILTER, CH_IN, RULES_ACCEPT);
	r.ctstate = RULES_CT_RELATED | RULES_CT_ESTABLISHED;
	ret |= rules_add(c->rs, &r);
	for (i = 0; i < c->pol->nedges && !ret; i++)
		if (c->pol->edges[i].dst == POLICY_HOST && c->pol->edges[i].src >= 0)
			ret = filter_in_host(c, &c->pol->edges[i]);
	r = rule(RULES_FILTER, CH_IN, RULES_DROP);
	ret |= rules_add(c->rs, &r);
	return ret ? -ENOMEM : 0;
}

/* mangle TIERNET-FWD: replies, anti-spoofing, world egress and per-bridge dispatch. */
static int mangle_fwd_head(struct compiler *c)
{
	struct rules_rule r;
	size_t i;
	int ret = 0;

	r = rule(RULES_MANGLE, CH_FWD, RULES_RETURN);
	rule_in(&r, TN_ANY, true);
	rule_out(&r, TN_ANY, true);
	ret |= rules_add(c->rs, &r);
	/*
	 * A packet from a container must carry an address of its own network, checked before
	 * the conntrack shortcut so that borrowing a live connection's addresses gains nothing.
	 */
	for (i = 0; i < c->n; i++) {
		r = rule(RULES_MANGLE, CH_FWD, RULES_RETURN);
		rule_src(&r, &c->nets[i], true);
		rule_in(&r, c->nets[i].bridge, false);
		ret |= rules_add(c->rs, &r);
	}
	r = rule(RULES_MANGLE, CH_FWD, RULES_MARK);
	r.ctstate = RULES_CT_RELATED | RULES_CT_ESTABLISHED;
	ret |= rules_add(c->rs, &r);
	r = rule(RULES_MANGLE, CH_FWD, RULES_RETURN);
	r.mark_match = true;
	r.mark = r.mark_mask = POLICY_FWMARK;
	ret |= rules_add(c->rs, &r);
	return ret ? -ENOMEM : 0;
}

static int mangle_fwd_dispatch(struct compiler *c, const struct policy_net *net)
{
	struct rules_rule r;
	int ret = 0;

	if (net_world(c, net)) {
		r = rule(RULES_MANGLE, CH_FWD, RULES_MARK);
		rule_in(&r, net->bridge, false);
		rule_out(&r, TN_ANY, true);
		ret |= rules_add(c->rs, &r);
	}
	r = rule(RULES_MANGLE, CH_FWD, RULES_JUMP);
	rule_in(&r, net->bridge, false);
	policy_src_chain(r.target, sizeof(r.target), &c->pol->tiers[net->tier]);
	ret |= rules_add(c->rs, &r);
	return ret ? -ENOMEM : 0;
}

static int mangle_fwd(struct compiler *c)
{
	const struct policy_edge *e;
	struct rules_rule r;
	size_t i;
	int ret;

	ret = mangle_fwd_head(c);
	for (i = 0; i < c->n && !ret; i++)
		ret = mangle_fwd_dispatch(c, &c->nets[i]);
	/* Published ports: the world reaches the container port after DNAT. */
	for (i = 0; i < c->pol->nedges && !ret; i++) {
		e = &c->pol->edges[i];
		if (e->src != POLICY_WORLD || e->dst < 0)
			continue;
		r = rule(RULES_MANGLE, CH_FWD, RULES_MARK);
		rule_in(&r, TN_ANY, true);
		r.ctstate = RULES_CT_DNAT;
		ret = add_to_tier(c, &r, e->dst, e, true);
	}
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
	r = rule(RULES_MANGLE, chain, RULES_MARK);
	if (!t->isolated)
		ret = add_to_tier(c, &r, tier, NULL, false);
	else if (self)
		ret = add_to_tier(c, &r, tier, self, false);
	for (i = 0; i < c->pol->nedges && !ret; i++) {
		e = &c->pol->edges[i];
		if (e->src != tier || e->dst < 0 || e->dst == tier)
			continue;
		r = rule(RULES_MANGLE, chain, RULES_MARK);
		ret = add_to_tier(c, &r, e->dst, e, false);
	}
	return ret;
}

/* nat TIERNET-POST: masquerade what leaves for the world. */
static int nat_post(struct compiler *c)
{
	struct rules_rule r;
	size_t i;
	int ret = 0;

	for (i = 0; i < c->n; i++) {
		if (!net_world(c, &c->nets[i]))
			continue;
		r = rule(RULES_NAT, CH_POST, RULES_MASQUERADE);
		rule_src(&r, &c->nets[i], false);
		rule_out(&r, TN_ANY, true);
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

/* Every index the compiler follows must be in range, every chain name must fit. */
static bool valid(const struct policy *pol, const struct policy_net *nets, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!tier_ok(pol, nets[i].tier, false))
			return false;
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
		   struct rules_set *out)
{
	struct compiler c = { .pol = pol, .nets = nets, .n = n, .rs = out };
	size_t i;
	int ret;

	if (!valid(pol, nets, n))
		return -EINVAL;
	if (!n)
		return 0;
	ret = add_chains(&c);
	if (!ret)
		ret = filter_fwd(&c);
	if (!ret)
		ret = filter_in(&c);
	if (!ret)
		ret = mangle_fwd(&c);
	for (i = 0; i < pol->ntiers && !ret; i++)
		if (tier_has_net(&c, i))
			ret = mangle_src(&c, (int)i);
	if (!ret)
		ret = nat_post(&c);
	if (ret)
		rules_clear(out);
	return ret;
}
