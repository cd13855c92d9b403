/*
 * Counters by policy line and tier pair, read from the rules' own packet counters.  It
 * knows the shapes the compiler writes (compile.c; G(T) is tier T's bridge group):
 *
 *   mangle TIERNET-SRC-T  --dst-group G(U) [ports] -g TIERNET-OK    allow T -> U (U may be T)
 *   filter TIERNET-IN     --src-group G(T) [ports] -j ACCEPT        allow T -> host
 *   mangle TIERNET-FWD    ! --src-group tn --dst-group G(T) [ports] --ctstate DNAT -g TIERNET-OK
 *                                                                   allow world -> T
 *   filter TIERNET-DNY-T  --dst-group G(U) -j DROP            denied T -> U
 *   filter TIERNET-IN     --src-group G(T) --ctstate NEW -j DROP   denied T -> host
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/internal.h"
#include "policy/why.h"

#define M_TIER (~TN_GROUP_INTERNAL)

int why_counters_init(const struct policy *pol, struct why_counters *c)
{
	c->nedges = pol->nedges;
	c->ntiers = pol->ntiers;
	c->edges = calloc(pol->nedges ? pol->nedges : 1, sizeof(*c->edges));
	c->denied = calloc(pol->ntiers ? pol->ntiers * (pol->ntiers + 1) : 1, sizeof(*c->denied));
	if (c->edges && c->denied)
		return 0;
	why_counters_free(c);
	return -ENOMEM;
}

void why_counters_free(struct why_counters *c)
{
	free(c->edges);
	free(c->denied);
	c->edges = NULL;
	c->denied = NULL;
}

/* The tier whose bridges carry group g, or -1. */
static int tier_of(const struct policy_net *nets, size_t n, const struct rules_group *g)
{
	size_t i;

	if (!g->on || g->inv)
		return -1;
	for (i = 0; i < n; i++)
		if ((nets[i].group & M_TIER) == (g->id & M_TIER))
			return nets[i].tier;
	return -1;
}

/* The tier whose chain (TIERNET-SRC-T, TIERNET-DNY-T as fmt makes it) this is, or -1. */
static int tier_of_chain(const struct policy *pol, const char *chain,
			 void (*fmt)(char *, size_t, const struct policy_tier *))
{
	char name[RULES_CHAIN_MAX];
	size_t i;

	for (i = 0; i < pol->ntiers; i++) {
		fmt(name, sizeof(name), &pol->tiers[i]);
		if (!strcmp(name, chain))
			return (int)i;
	}
	return -1;
}

static void count_edge(const struct policy *pol, int src, int dst, const struct rules_rule *r,
		       struct why_counters *c)
{
	size_t i;

	for (i = 0; i < pol->nedges; i++)
		if (pol->edges[i].src == src && pol->edges[i].dst == dst) {
			c->edges[i].pkts += r->pkts;
			c->edges[i].bytes += r->bytes;
			return;
		}
}

/* The rule allows: it hands the packet to TIERNET-OK, which marks it (compile.c). */
static bool is_mark(const struct rules_rule *r)
{
	return r->verdict == RULES_GOTO && !strcmp(r->target, CH_OK);
}

static void count_rule(const struct policy *pol, const struct policy_net *nets, size_t n,
		       const struct rules_rule *r, struct why_counters *c)
{
	size_t cols = pol->ntiers + 1;
	int s, d;

	if (r->unknown[0] || r->pkts == 0)
		return;
	if (r->table == RULES_MANGLE && is_mark(r) && !r->ctstate &&
	    (s = tier_of_chain(pol, r->chain, policy_src_chain)) >= 0 &&
	    (d = tier_of(nets, n, &r->out_group)) >= 0)
		count_edge(pol, s, d, r, c);
	else if (r->table == RULES_MANGLE && is_mark(r) && r->ctstate == RULES_CT_DNAT &&
		 !strcmp(r->chain, CH_FWD) && (d = tier_of(nets, n, &r->out_group)) >= 0)
		count_edge(pol, POLICY_WORLD, d, r, c);
	else if (r->table == RULES_FILTER && !strcmp(r->chain, CH_IN) &&
		 (s = tier_of(nets, n, &r->in_group)) >= 0) {
		if (r->verdict == RULES_ACCEPT && !r->ctstate)
			count_edge(pol, s, POLICY_HOST, r, c);
		else if (r->verdict == RULES_DROP && r->ctstate == RULES_CT_NEW)
			c->denied[(size_t)s * cols + pol->ntiers] += r->pkts;
	} else if (r->table == RULES_FILTER && r->verdict == RULES_DROP &&
		   (s = tier_of_chain(pol, r->chain, policy_dny_chain)) >= 0 &&
		   (d = tier_of(nets, n, &r->out_group)) >= 0)
		c->denied[(size_t)s * cols + (size_t)d] += r->pkts;
}

void why_counters_add(const struct policy *pol, const struct policy_net *nets, size_t n,
		      const struct rules_set *rs, struct why_counters *c)
{
	size_t i;

	if (c->nedges != pol->nedges || c->ntiers != pol->ntiers)
		return;
	for (i = 0; i < rs->nrules; i++)
		count_rule(pol, nets, n, &rs->rules[i], c);
}
