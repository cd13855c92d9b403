/*
 * The reachability matrix a rules_set enforces.  Given the rules read back from the kernel
 * (xt_read), it tells what a packet would meet now, including the effect of someone
 * flushing or editing tiernet's chains; given the compiler's output, what tiernet means to
 * enforce.  It knows exactly the rule shapes the compilers write (internal.h has the names):
 *
 *   mangle TIERNET-SRC-<T>  -o BR [ports] -j MARK              T may open connections to BR's tier
 *   mangle TIERNET-FWD      -i BR ! -o tn+ -j MARK             BR's tier reaches the world
 *   mangle TIERNET-FWD      ! -i tn+ -o BR [ports] --ctstate DNAT -j MARK
 *                                                              the world reaches BR's published
 * ports filter TIERNET-IN       -i BR [ports] -j ACCEPT            BR's tier reaches the host
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/internal.h"

struct reader {
	const struct policy *pol;
	const struct policy_net *nets;
	size_t n;
	struct policy_matrix *m;
};

struct policy_cell *policy_matrix_cell(const struct policy_matrix *m, int from, int to)
{
	size_t row = from == POLICY_WORLD ? m->ntiers : (size_t)from;
	size_t col = to == POLICY_WORLD	 ? m->ntiers
		     : to == POLICY_HOST ? m->ntiers + 1
					 : (size_t)to;

	return &m->cells[row * (m->ntiers + 2) + col];
}

static int tier_of_bridge(const struct reader *rd, const char *bridge)
{
	size_t i;

	for (i = 0; i < rd->n; i++)
		if (!strcmp(rd->nets[i].bridge, bridge))
			return rd->nets[i].tier;
	return -ENOENT;
}

static int tier_of_src_chain(const struct reader *rd, const char *chain)
{
	char name[RULES_CHAIN_MAX];
	size_t i;

	for (i = 0; i < rd->pol->ntiers; i++) {
		policy_src_chain(name, sizeof(name), &rd->pol->tiers[i]);
		if (!strcmp(name, chain))
			return (int)i;
	}
	return -ENOENT;
}

static bool is_any_tiernet(const char *ifname, bool inv)
{
	return inv && !strcmp(ifname, TN_ANY);
}

/* Adds what r opens (every port, or its one port range) to c; "all" absorbs the rest. */
static int cell_add(struct policy_cell *c, const struct rules_rule *r)
{
	struct policy_port p = { .proto = r->proto, .lo = r->dport_lo };
	struct policy_port *v;
	size_t i;

	if (c->all)
		return 0;
	if (!r->dport_lo || (r->proto != IPPROTO_TCP && r->proto != IPPROTO_UDP)) {
		c->all = true;
		free(c->ports);
		c->ports = NULL;
		c->nports = 0;
		return 0;
	}
	p.hi = r->dport_hi > r->dport_lo ? r->dport_hi : r->dport_lo;
	for (i = 0; i < c->nports; i++)
		if (c->ports[i].proto == p.proto && c->ports[i].lo == p.lo &&
		    c->ports[i].hi == p.hi)
			return 0;
	v = reallocarray(c->ports, c->nports + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	c->ports = v;
	c->ports[c->nports++] = p;
	return 0;
}

/* The cell r opens, or NULL when r is not one of the shapes above. */
static struct policy_cell *cell_of(const struct reader *rd, const struct rules_rule *r)
{
	int src, dst;

	if (r->unknown[0])
		return NULL;
	if (r->table == RULES_MANGLE && r->verdict == RULES_MARK && !r->in[0] && r->out[0] &&
	    !r->out_inv && (src = tier_of_src_chain(rd, r->chain)) >= 0 &&
	    (dst = tier_of_bridge(rd, r->out)) >= 0)
		return policy_matrix_cell(rd->m, src, dst);
	if (r->table != RULES_MANGLE || r->verdict != RULES_MARK || strcmp(r->chain, CH_FWD)) {
		if (r->table == RULES_FILTER && r->verdict == RULES_ACCEPT &&
		    !strcmp(r->chain, CH_IN) && !r->ctstate && !r->in_inv &&
		    (src = tier_of_bridge(rd, r->in)) >= 0)
			return policy_matrix_cell(rd->m, src, POLICY_HOST);
		return NULL;
	}
	if (!r->in_inv && is_any_tiernet(r->out, r->out_inv) && !r->ctstate &&
	    (src = tier_of_bridge(rd, r->in)) >= 0)
		return policy_matrix_cell(rd->m, src, POLICY_WORLD);
	if (is_any_tiernet(r->in, r->in_inv) && !r->out_inv && r->ctstate == RULES_CT_DNAT &&
	    (dst = tier_of_bridge(rd, r->out)) >= 0)
		return policy_matrix_cell(rd->m, POLICY_WORLD, dst);
	return NULL;
}

void policy_matrix_free(struct policy_matrix *m)
{
	size_t i, ncells = (m->ntiers + 1) * (m->ntiers + 2);

	for (i = 0; m->cells && i < ncells; i++)
		free(m->cells[i].ports);
	free(m->cells);
	m->cells = NULL;
}

int policy_matrix(const struct policy *pol, const struct policy_net *nets, size_t n,
		  const struct rules_set *rs, struct policy_matrix *out)
{
	struct reader rd = { .pol = pol, .nets = nets, .n = n, .m = out };
	struct policy_cell *c;
	size_t i;
	int r = 0;

	out->ntiers = pol->ntiers;
	out->cells = calloc((out->ntiers + 1) * (out->ntiers + 2), sizeof(*out->cells));
	if (!out->cells)
		return -ENOMEM;
	for (i = 0; i < rs->nrules && !r; i++) {
		c = cell_of(&rd, &rs->rules[i]);
		if (c)
			r = cell_add(c, &rs->rules[i]);
	}
	if (r)
		policy_matrix_free(out);
	return r;
}

const char *policy_cell_str(const struct policy_cell *c, char *buf, size_t len)
{
	size_t i, pos = 0;
	int k;

	snprintf(buf, len, "%s", c->all ? "all" : c->nports ? "" : "-");
	for (i = 0; !c->all && i < c->nports && pos < len; i++) {
		const struct policy_port *p = &c->ports[i];

		if (p->hi > p->lo)
			k = snprintf(buf + pos, len - pos, "%s%s/%u-%u", i ? "," : "",
				     p->proto == IPPROTO_UDP ? "udp" : "tcp", p->lo, p->hi);
		else
			k = snprintf(buf + pos, len - pos, "%s%s/%u", i ? "," : "",
				     p->proto == IPPROTO_UDP ? "udp" : "tcp", p->lo);
		if (k < 0)
			break;
		pos += (size_t)k;
	}
	return buf;
}
