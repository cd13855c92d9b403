/*
 * The reachability matrix a rules_set enforces.  Given the rules read back from the kernel
 * (xt_read), it tells what a packet would meet now, including the effect of someone
 * flushing or editing tiernet's chains; given the compiler's output, what tiernet means to
 * enforce.  It knows exactly the rule shapes the compiler writes (G(T): the interface group
 * of tier T's bridges, compile.c):
 *
 *   filter TIERNET-FWD    -m mark --mark F/F -j ACCEPT         forwarded traffic can pass at all
 *   mangle TIERNET-OK     -j MARK --set-xmark F/F              "allow" (-g TIERNET-OK) marks
 *   mangle TIERNET-FWD    --src-group G(T) -g TIERNET-SRC-T    T's new connections are judged
 *                         (or the same in a TIERNET-DSP chain that TIERNET-FWD reaches for
 *                         G(T): past 8 tiers the dispatch is a tree)
 *   mangle TIERNET-SRC-T  --dst-group G(U) [ports] -g TIERNET-OK   T may open connections to U
 *   mangle TIERNET-SRC-T  ! --dst-group tn -g TIERNET-WORLD    T reaches the world, when
 *   mangle TIERNET-WORLD  -g TIERNET-OK                        ... the world chain allows
 *   mangle TIERNET-FWD    ! --src-group tn --dst-group G(T) [ports] --ctstate DNAT -g TIERNET-OK
 *                                                              the world reaches T's published
 *                                                              ports
 *   filter TIERNET-IN     --src-group G(T) [ports] -j ACCEPT   T reaches the host
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/internal.h"

#define M_ANY  TN_GROUP_MASK
#define M_TIER (~TN_GROUP_INTERNAL)

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

/* The tier whose bridges carry group g (under mask M_TIER), or -ENOENT. */
static int tier_of_group(const struct reader *rd, const struct rules_group *g)
{
	size_t i;

	if (!g->on || g->inv || (g->mask != M_TIER && g->mask != 0xffffffffu))
		return -ENOENT;
	for (i = 0; i < rd->n; i++)
		if ((rd->nets[i].group & M_TIER) == (g->id & M_TIER))
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

/* "Not a tiernet link": the group match the compiler writes for the world side. */
static bool not_tiernet(const struct rules_group *g)
{
	return g->on && g->inv && g->id == TN_GROUP && g->mask == M_ANY;
}

/* Nothing but the verdict and the fields the shape names: no address, interface, state. */
static bool plain(const struct rules_rule *r)
{
	return !r->unknown[0] && !r->smsk && !r->dmsk && !rules_prefix6(&r->smsk6) &&
	       !rules_prefix6(&r->dmsk6) && !r->icmp_match && !r->in[0] && !r->out[0] &&
	       !r->mark_match && !r->local_dst && !r->rpf_invert;
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

/* What the whole set says, before the cells: see the shapes at the top. */
struct frame {
	bool forward;	  /* filter TIERNET-FWD accepts marked packets */
	bool ok;	  /* TIERNET-OK marks */
	bool world;	  /* TIERNET-WORLD allows */
	bool *dispatched; /* per tier: TIERNET-FWD goes to its TIERNET-SRC chain */
};

static bool sets_mark(const struct rules_rule *r)
{
	return r->verdict == RULES_MARK && (r->set_mark & POLICY_FWMARK) &&
	       (r->set_mask & POLICY_FWMARK);
}

/* r allows what it matches: it hands it to TIERNET-OK, and that marks. */
static bool allows(const struct frame *f, const struct rules_rule *r)
{
	return f->ok && r->verdict == RULES_GOTO && !strcmp(r->target, CH_OK);
}

/*
 * Does a packet from a bridge of group gid reach chain of mangle from TIERNET-FWD: it is that
 * chain, or a rule of a chain it reaches jumps or goes there for gid (the dispatch tree of
 * compile.c)?  Depth-limited, so that a loop made by hand ends.
 */
static bool reached(const struct rules_set *rs, const char *chain, uint32_t gid, int depth)
{
	const struct rules_rule *r;
	size_t i;

	if (!strcmp(chain, CH_FWD))
		return true;
	for (i = 0; depth < 8 && i < rs->nrules; i++) {
		r = &rs->rules[i];
		if (r->table == RULES_MANGLE &&
		    (r->verdict == RULES_JUMP || r->verdict == RULES_GOTO) &&
		    !strcmp(r->target, chain) && plain(r) && !r->ctstate && !r->proto &&
		    !r->out_group.on && r->in_group.on && !r->in_group.inv &&
		    (gid & r->in_group.mask) == r->in_group.id &&
		    reached(rs, r->chain, gid, depth + 1))
			return true;
	}
	return false;
}

static void read_frame(const struct reader *rd, const struct rules_set *rs, struct frame *f)
{
	const struct rules_rule *r;
	size_t i;
	int t;

	for (i = 0; i < rs->nrules; i++) {
		r = &rs->rules[i];
		if (r->table == RULES_MANGLE && !strcmp(r->chain, CH_OK) && plain(r) &&
		    !r->ctstate && !r->proto && !r->in_group.on && !r->out_group.on && sets_mark(r))
			f->ok = true;
	}
	for (i = 0; i < rs->nrules; i++) {
		r = &rs->rules[i];
		if (r->unknown[0] || r->ctstate || r->proto || r->out_group.on)
			continue;
		if (r->table == RULES_FILTER && !strcmp(r->chain, CH_FWD) &&
		    r->verdict == RULES_ACCEPT && !r->in_group.on && r->mark_match &&
		    (r->mark & r->mark_mask) == POLICY_FWMARK && !r->smsk && !r->dmsk &&
		    !r->in[0] && !r->out[0] && !r->local_dst && !r->rpf_invert)
			f->forward = true;
		else if (r->table == RULES_MANGLE && !strcmp(r->chain, CH_WORLD) && plain(r) &&
			 !r->in_group.on && allows(f, r))
			f->world = true;
		else if (r->table == RULES_MANGLE && r->verdict == RULES_GOTO && plain(r) &&
			 (t = tier_of_src_chain(rd, r->target)) >= 0 &&
			 tier_of_group(rd, &r->in_group) == t &&
			 reached(rs, r->chain, r->in_group.id, 0))
			f->dispatched[t] = true;
	}
}

/* The cell r opens, or NULL when r is not one of the shapes above. */
static struct policy_cell *cell_of(const struct reader *rd, const struct frame *f,
				   const struct rules_rule *r)
{
	int src, dst;

	if (!plain(r))
		return NULL;
	if (r->table == RULES_FILTER && !strcmp(r->chain, CH_IN) && r->verdict == RULES_ACCEPT &&
	    !r->ctstate && !r->out_group.on && (src = tier_of_group(rd, &r->in_group)) >= 0)
		return policy_matrix_cell(rd->m, src, POLICY_HOST);
	if (r->table != RULES_MANGLE || !f->forward)
		return NULL;
	src = tier_of_src_chain(rd, r->chain);
	if (src >= 0 && f->dispatched[src] && !r->ctstate && allows(f, r) && !r->in_group.on &&
	    (dst = tier_of_group(rd, &r->out_group)) >= 0)
		return policy_matrix_cell(rd->m, src, dst);
	if (src >= 0 && f->dispatched[src] && f->world && r->verdict == RULES_GOTO &&
	    !strcmp(r->target, CH_WORLD) && !r->ctstate && !r->proto &&
	    tier_of_group(rd, &r->in_group) == src && not_tiernet(&r->out_group))
		return policy_matrix_cell(rd->m, src, POLICY_WORLD);
	if (!strcmp(r->chain, CH_FWD) && allows(f, r) && r->ctstate == RULES_CT_DNAT &&
	    not_tiernet(&r->in_group) && (dst = tier_of_group(rd, &r->out_group)) >= 0)
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

	struct frame f = { 0 };

	out->ntiers = pol->ntiers;
	out->cells = calloc((out->ntiers + 1) * (out->ntiers + 2), sizeof(*out->cells));
	f.dispatched = calloc(pol->ntiers ? pol->ntiers : 1, sizeof(*f.dispatched));
	if (!out->cells || !f.dispatched) {
		free(f.dispatched);
		policy_matrix_free(out);
		return -ENOMEM;
	}
	read_frame(&rd, rs, &f);
	for (i = 0; i < rs->nrules && !r; i++) {
		c = cell_of(&rd, &f, &rs->rules[i]);
		if (c)
			r = cell_add(c, &rs->rules[i]);
	}
	free(f.dispatched);
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

bool policy_flow_allowed(const struct policy_matrix *m, int from, int to, uint8_t proto,
			 uint16_t dport)
{
	const struct policy_cell *c;
	size_t i;

	if (from == POLICY_HOST)
		return true;
	if ((from == POLICY_WORLD && to < 0) || (from >= 0 && (size_t)from >= m->ntiers) ||
	    (to >= 0 && (size_t)to >= m->ntiers))
		return false;
	c = policy_matrix_cell(m, from, to);
	if (c->all)
		return true;
	for (i = 0; dport && i < c->nports; i++)
		if (c->ports[i].proto == proto && dport >= c->ports[i].lo &&
		    dport <= c->ports[i].hi)
			return true;
	return false;
}
