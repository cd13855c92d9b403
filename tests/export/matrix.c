/*
 * k8s-matrix POLICY: the reachability matrix that tiernet's compiler enforces for a policy
 * file, as JSON, for tests/export/check.js to compare with what the Kubernetes export
 * allows.  Test code, built from the product objects; no root, no kernel.
 *
 * It does not re-read the policy: it compiles it with policy_compile over two networks per
 * tier (so that traffic between two networks of one tier is covered too) and sends test
 * packets through the compiled rules the way netfilter would, mangle then filter on the
 * FORWARD hook (container to container, container to world, world to a published port after
 * DNAT) and on INPUT (container to host).  Every rule field the compiler can set is
 * interpreted; a rule this interpreter does not understand (a NAT target in a
 * filtering chain) stops it with an error rather than a guess.
 *
 * For each ordered pair it prints the allowed destination ports of tcp and udp as inclusive
 * ranges, exact over 1-65535 (the ports only change verdicts at the edges of the rules' port
 * ranges, so one probe per stretch between edges decides the whole stretch), and whether a
 * protocol without ports (ICMP) passes:
 *
 *   {"policy": "...", "tiers": ["front", ...], "matrix": {"front": {"mid": {"tcp": [[1, 65535]],
 *    "udp": [...], "other": true}, "world": {...}, "host": {...}}, "world": {...}, "host": {...}}}
 *
 * Rows: tiers, world, host; columns: tiers, world (tier rows), host (tier rows).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "lib/names.h"
#include "policy/policy.h"

#define PORT_EDGES_MAX (2 * 65536)
#define DEPTH_MAX      16
#define WORLD_ADDR     0xcb007107u /* 203.0.113.7, TEST-NET-3 */
#define WORLD_IF       "eth0"

enum verdict { V_RETURN, V_ACCEPT, V_DROP };

struct pkt {
	const char *in, *out;
	uint32_t in_group, out_group; /* the interfaces' groups (IFLA_GROUP); the world's is 0 */
	uint32_t src, dst;	      /* host byte order */
	uint8_t proto;
	uint16_t dport;
	uint8_t ct;
	uint32_t mark;
	bool local_dst;
};

static const struct rules_set *rs;

static void die(const char *what, const struct rules_rule *r)
{
	char buf[512] = "";

	if (r)
		rules_format(r, buf, sizeof(buf));
	fprintf(stderr, "k8s-matrix: %s%s%s\n", what, r ? ": " : "", buf);
	exit(2);
}

static bool if_match(const char *pat, bool inv, const char *name)
{
	size_t n = strlen(pat);
	bool m;

	if (!n)
		return true;
	if (pat[n - 1] == '+')
		m = !strncmp(pat, name, n - 1);
	else
		m = !strcmp(pat, name);
	return m != inv;
}

static bool addr_match(uint32_t a, uint32_t net, uint32_t msk, bool inv)
{
	if (!msk && !inv)
		return true;
	return ((htonl(a) & msk) == net) != inv;
}

static bool group_match(const struct rules_group *g, uint32_t group)
{
	return !g->on || (!((group ^ g->id) & g->mask) != g->inv);
}

static bool rule_match(const struct rules_rule *r, const struct pkt *p)
{
	/* raw's anti-spoofing (rpfilter) never sees the walker's packets, which are not spoofed */
	if (r->rpf_invert)
		die("an rpfilter match outside the raw table", r);
	if (!if_match(r->in, r->in_inv, p->in) || !if_match(r->out, r->out_inv, p->out))
		return false;
	if (!addr_match(p->src, r->src, r->smsk, r->src_inv) ||
	    !addr_match(p->dst, r->dst, r->dmsk, r->dst_inv))
		return false;
	if (r->proto && r->proto != p->proto)
		return false;
	if ((r->dport_lo || r->dport_hi) && ((p->proto != IPPROTO_TCP && p->proto != IPPROTO_UDP) ||
					     p->dport < r->dport_lo || p->dport > r->dport_hi))
		return false;
	if (r->ctstate && !(r->ctstate & p->ct))
		return false;
	if (r->mark_match && (p->mark & r->mark_mask) != r->mark)
		return false;
	if (r->local_dst && !p->local_dst)
		return false;
	return group_match(&r->in_group, p->in_group) && group_match(&r->out_group, p->out_group);
}

static enum verdict walk(enum rules_table t, const char *chain, struct pkt *p, int depth)
{
	enum verdict v;
	size_t i;

	if (depth > DEPTH_MAX)
		die("chains jump deeper than 16", NULL);
	for (i = 0; i < rs->nrules; i++) {
		const struct rules_rule *r = &rs->rules[i];

		if (r->table != t || strcmp(r->chain, chain) || !rule_match(r, p))
			continue;
		switch (r->verdict) {
		case RULES_ACCEPT:
			return V_ACCEPT;
		case RULES_DROP:
			return V_DROP;
		case RULES_RETURN:
			return V_RETURN;
		case RULES_JUMP:
			v = walk(t, r->target, p, depth + 1);
			if (v != V_RETURN)
				return v;
			break;
		case RULES_GOTO: /* the target's RETURN returns from this chain too */
			return walk(t, r->target, p, depth + 1);
		case RULES_MARK:
			p->mark = (p->mark & ~r->set_mask) ^ r->set_mark;
			break;
		case RULES_NFLOG: /* logs (denied or audited connections), decides nothing */
			break;
		default:
			die("a NAT target in a filtering chain", r);
		}
	}
	return V_RETURN;
}

/*
 * The packet through the tiernet chains hooked on hook, mangle then filter.  The filter
 * table decides; a packet no tiernet chain decides is left to the built-in chain, whose
 * policy is the caller's answer (`undecided`).
 */
static bool traverse(const char *hook, struct pkt p, bool undecided)
{
	static const enum rules_table order[] = { RULES_MANGLE, RULES_FILTER };
	size_t k, i;
	enum verdict v;

	for (k = 0; k < 2; k++) {
		for (i = 0; i < rs->nhooks; i++) {
			const struct rules_hook *c = &rs->hooks[i];

			if (c->table != order[k] || strcmp(c->from, hook))
				continue;
			v = walk(c->table, c->to, &p, 0);
			if (v == V_DROP)
				return false;
			if (v == V_ACCEPT && order[k] == RULES_FILTER)
				return true;
			if (v == V_ACCEPT)
				break; /* ACCEPT in mangle ends the table, not the hook */
		}
	}
	return undecided;
}

/* ---- the test networks: two per tier ---- */

struct net {
	char bridge[IFNAMSIZ];
	uint32_t group; /* as the driver gives a tier's bridge */
	uint32_t base;	/* host byte order, /24 */
};

static struct net (*nets)[2];

static uint32_t addr(const struct net *n, unsigned host)
{
	return n->base | host;
}

/* Forwarded from network a to network b (either may be NULL: the world). */
static bool forward(const struct net *a, const struct net *b, uint8_t proto, uint16_t port)
{
	struct pkt p = { .proto = proto, .dport = port, .ct = RULES_CT_NEW };

	p.in = a ? a->bridge : WORLD_IF;
	p.out = b ? b->bridge : WORLD_IF;
	p.in_group = a ? a->group : 0;
	p.out_group = b ? b->group : 0;
	p.src = a ? addr(a, 2) : WORLD_ADDR;
	p.dst = b ? addr(b, 3) : WORLD_ADDR;
	if (!a)
		p.ct |= RULES_CT_DNAT; /* the world reaches containers through published ports */
	/* Docker's FORWARD policy is DROP: a packet tiernet leaves undecided is not allowed. */
	return traverse("FORWARD", p, false);
}

static bool to_host(const struct net *a, uint8_t proto, uint16_t port)
{
	struct pkt p = { .in = a->bridge,
			 .out = "",
			 .proto = proto,
			 .dport = port,
			 .ct = RULES_CT_NEW,
			 .local_dst = true,
			 .in_group = a->group };

	p.src = addr(a, 2);
	p.dst = addr(a, 1);
	return traverse("INPUT", p, true); /* INPUT's policy is ACCEPT on Docker hosts */
}

static bool from_host(const struct net *b, uint8_t proto, uint16_t port)
{
	struct pkt p = { .in = "",
			 .out = b->bridge,
			 .out_group = b->group,
			 .proto = proto,
			 .dport = port,
			 .ct = RULES_CT_NEW };

	p.src = addr(b, 1);
	p.dst = addr(b, 3);
	return traverse("OUTPUT", p, true);
}

/* ---- one pair: every combination of the two sides' networks must agree ---- */

enum end_kind { END_TIER, END_WORLD, END_HOST };

struct end {
	enum end_kind kind;
	size_t tier;
};

static bool verdict_one(const struct net *a, const struct net *b, const struct end *s,
			const struct end *d, uint8_t proto, uint16_t port)
{
	if (d->kind == END_HOST)
		return to_host(a, proto, port);
	if (s->kind == END_HOST)
		return from_host(b, proto, port);
	return forward(a, b, proto, port);
}

static bool verdict(const struct end *s, const struct end *d, uint8_t proto, uint16_t port)
{
	const struct net *a, *b;
	int first = -1, i, j;
	bool v;

	for (i = 0; i < 2; i++) {
		for (j = 0; j < 2; j++) {
			a = s->kind == END_TIER ? &nets[s->tier][i] : NULL;
			b = d->kind == END_TIER ? &nets[d->tier][j] : NULL;
			v = verdict_one(a, b, s, d, proto, port);
			if (first >= 0 && v != (bool)first)
				die("two networks of one tier disagree", NULL);
			first = v;
		}
	}
	return first > 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static uint32_t *edges;
static size_t nedges;

/* Where a verdict can change: 1, 65536, and the first port in and after every range. */
static void port_edges(void)
{
	size_t i, n = 0;

	edges = calloc(2 * rs->nrules + 2, sizeof(*edges));
	if (!edges)
		die("out of memory", NULL);
	edges[n++] = 1;
	edges[n++] = 65536;
	for (i = 0; i < rs->nrules; i++) {
		if (!rs->rules[i].dport_lo && !rs->rules[i].dport_hi)
			continue;
		edges[n++] = rs->rules[i].dport_lo;
		edges[n++] = (uint32_t)rs->rules[i].dport_hi + 1;
	}
	qsort(edges, n, sizeof(*edges), cmp_u32);
	for (i = 0, nedges = 0; i < n; i++)
		if (!nedges || edges[nedges - 1] != edges[i])
			edges[nedges++] = edges[i];
}

static void print_ranges(const struct end *s, const struct end *d, uint8_t proto)
{
	uint32_t lo = 0, hi = 0;
	bool open = false, first = true;
	size_t k;

	printf("[");
	for (k = 0; k + 1 < nedges; k++) {
		bool v = verdict(s, d, proto, (uint16_t)edges[k]);

		if (v && !open) {
			lo = edges[k];
			open = true;
		}
		if (v)
			hi = edges[k + 1] - 1;
		if ((!v || k + 2 == nedges) && open) {
			printf("%s[%u, %u]", first ? "" : ", ", lo, hi);
			first = false;
			open = false;
		}
	}
	printf("]");
}

static void print_cell(const struct end *s, const struct end *d)
{
	printf("{\"tcp\": ");
	print_ranges(s, d, IPPROTO_TCP);
	printf(", \"udp\": ");
	print_ranges(s, d, IPPROTO_UDP);
	printf(", \"other\": %s}", verdict(s, d, IPPROTO_ICMP, 0) ? "true" : "false");
}

static const char *end_name(const struct policy *pol, const struct end *e)
{
	if (e->kind == END_TIER)
		return pol->tiers[e->tier].name;
	return e->kind == END_WORLD ? "world" : "host";
}

static void print_row(const struct policy *pol, const struct end *s)
{
	struct end d;
	bool first = true;
	size_t t;

	printf("    \"%s\": {", end_name(pol, s));
	for (t = 0; t < pol->ntiers + 2; t++) {
		d.kind = t < pol->ntiers ? END_TIER : t == pol->ntiers ? END_WORLD : END_HOST;
		d.tier = t;
		if (s->kind != END_TIER && d.kind != END_TIER)
			continue; /* world and host to each other: not tiernet's business */
		printf("%s\n      \"%s\": ", first ? "" : ",", end_name(pol, &d));
		print_cell(s, &d);
		first = false;
	}
	printf("\n    }");
}

int main(int argc, char **argv)
{
	struct config_diags diags = { 0 };
	const struct policy_host host = { 0 }; /* no Docker bridges */
	struct policy_net *pn;
	struct rules_set set;
	struct policy *pol = NULL;
	struct end s;
	size_t i, n;

	if (argc != 2) {
		fprintf(stderr, "usage: k8s-matrix POLICY-FILE\n");
		return 2;
	}
	if (config_load(argv[1], &pol, &diags) < 0) {
		config_diags_print(&diags, stderr);
		return 2;
	}
	n = pol->ntiers;
	nets = calloc(n + 1, sizeof(*nets));
	pn = calloc(2 * n + 1, sizeof(*pn));
	if (!nets || !pn)
		die("out of memory", NULL);
	for (i = 0; i < n; i++) {
		for (int k = 0; k < 2; k++) {
			struct net *t = &nets[i][k];
			struct policy_net *p = &pn[2 * i + (size_t)k];

			snprintf(t->bridge, sizeof(t->bridge), "tnx%c%u", 'a' + k,
				 (unsigned)(i & 0xff));
			t->base = (10u << 24) | ((unsigned)(k + 1) << 16) | ((unsigned)i << 8);
			t->group = TN_GROUP | TN_GROUP_BRIDGE | (uint32_t)(i + 1);
			memcpy(p->bridge, t->bridge, sizeof(p->bridge));
			p->addr = htonl(addr(t, 1));
			p->mask = htonl(0xffffff00u);
			p->tier = (int)i;
			p->group = t->group;
		}
	}
	rules_init(&set);
	if (policy_compile(pol, pn, 2 * n, &host, &set) < 0)
		die("policy_compile failed", NULL);
	rs = &set;
	port_edges();
	printf("{\n  \"policy\": \"%s\",\n  \"tiers\": [", argv[1]);
	for (i = 0; i < n; i++)
		printf("%s\"%s\"", i ? ", " : "", pol->tiers[i].name);
	printf("],\n  \"matrix\": {\n");
	for (i = 0; i < n + 2; i++) {
		s.kind = i < n ? END_TIER : i == n ? END_WORLD : END_HOST;
		s.tier = i;
		print_row(pol, &s);
		printf("%s\n", i + 1 < n + 2 ? "," : "");
	}
	printf("  }\n}\n");
	free(edges);
	rules_clear(&set);
	free(pn);
	free(nets);
	config_diags_free(&diags);
	policy_free(pol);
	return 0;
}
