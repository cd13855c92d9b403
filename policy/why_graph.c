/*
 * `tiernet graph`: the policy as a picture, in DOT for Graphviz or as a Mermaid flowchart
 * for Markdown.  Tier names are letters, digits, '_' and '-' (config/parse.c), so they need
 * no quoting beyond DOT's double quotes; Mermaid gets index-based node ids, since it takes
 * '-' in an id for an arrow.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/why.h"

struct graph {
	const struct policy *pol;
	bool mermaid;
	FILE *f;
	unsigned links; /* Mermaid numbers its links, for linkStyle */
};

/* A node id: the quoted name (DOT), or t<index>/world/host (Mermaid). */
static const char *node(const struct graph *g, int t, char *buf, size_t len)
{
	if (g->mermaid) {
		if (t < 0)
			snprintf(buf, len, "%s", why_tier_name(g->pol, t));
		else
			snprintf(buf, len, "t%d", t);
	} else {
		snprintf(buf, len, "\"%s\"", why_tier_name(g->pol, t));
	}
	return buf;
}

static void tier_node(struct graph *g, int i, const struct why_graph_tier *st)
{
	const struct policy_tier *t = &g->pol->tiers[i];
	bool audit = policy_audited(g->pol, i);
	char id[64], label[256];

	snprintf(label, sizeof(label), "%s%s%s%s%s%zu network%s, %zu endpoint%s", t->name,
		 t->internal ? " (internal)" : "", t->isolated ? " (isolated)" : "",
		 audit ? " (AUDIT: denials logged, let through)" : "", g->mermaid ? "<br/>" : "\\n",
		 st ? st->nets : 0, st && st->nets == 1 ? "" : "s", st ? st->eps : 0,
		 st && st->eps == 1 ? "" : "s");
	node(g, i, id, sizeof(id));
	if (g->mermaid) {
		fprintf(g->f, "  %s[\"%s\"]\n", id, label);
		if (audit)
			fprintf(g->f, "  style %s stroke:orange,stroke-width:3px\n", id);
	} else {
		fprintf(g->f, "  %s [label=\"%s\"%s%s];\n", id, label,
			t->internal ? ", style=\"rounded,dashed\"" : "",
			audit ? ", color=orange, fontcolor=orange, penwidth=3" : "");
	}
}

/* An edge; style: 0 solid, 1 dashed, 2 red (enforced != declared). */
static void edge(struct graph *g, int s, int d, const char *label, int style)
{
	char a[64], b[64];

	node(g, s, a, sizeof(a));
	node(g, d, b, sizeof(b));
	if (!g->mermaid) {
		fprintf(g->f, "  %s -> %s [label=\"%s\"%s];\n", a, b, label,
			style == 1   ? ", style=dashed"
			: style == 2 ? ", color=red, fontcolor=red, penwidth=2"
				     : "");
		return;
	}
	fprintf(g->f, "  %s %s|\"%s\"| %s\n", a, style == 1 ? "-.->" : "-->", label, b);
	if (style == 2)
		fprintf(g->f, "  linkStyle %u stroke:red,stroke-width:3px\n", g->links);
	g->links++;
}

static void policy_edges(struct graph *g)
{
	const struct policy *pol = g->pol;
	char ports[WHY_TEXT_MAX], label[WHY_TEXT_MAX + 32];
	size_t i;

	for (i = 0; i < pol->nedges; i++) {
		const struct policy_edge *e = &pol->edges[i];
		const char *p;

		why_edge_format(pol, e, ports, sizeof(ports));
		/* "allow a -> b tcp/80, ..." minus its head: just the ports, or "all". */
		p = strchr(ports, '>');
		p = p ? strchr(p + 2, ' ') : NULL;
		/* From the world: only to published ports (the publishing gate). */
		snprintf(label, sizeof(label), "%s%s (line %u)",
			 e->src == POLICY_WORLD ? "published: " : "", p ? p + 1 : "all", e->line);
		edge(g, e->src, e->dst, label, 0);
	}
	for (i = 0; i < pol->ntiers; i++)
		if (!pol->tiers[i].internal)
			edge(g, (int)i, POLICY_WORLD, "egress", 1);
}

/* Pairs whose enforced cell is not the declared one. */
static void mismatches(struct graph *g, const struct policy_matrix *d,
		       const struct policy_matrix *e)
{
	char a[WHY_TEXT_MAX], b[WHY_TEXT_MAX], label[2 * WHY_TEXT_MAX + 64];
	int r, c, from, to, n = (int)g->pol->ntiers;

	for (r = 0; r <= n; r++) {
		from = r == n ? POLICY_WORLD : r;
		for (c = 0; c < n + 2; c++) {
			to = c < n ? c : c == n ? POLICY_WORLD : POLICY_HOST;
			if (from == POLICY_WORLD && to < 0)
				continue;
			policy_cell_str(policy_matrix_cell(d, from, to), a, sizeof(a));
			policy_cell_str(policy_matrix_cell(e, from, to), b, sizeof(b));
			if (strcmp(a, b)) {
				snprintf(label, sizeof(label),
					 "enforced != declared: kernel %s, policy %s", b, a);
				edge(g, from, to, label, 2);
			}
		}
	}
}

int why_graph(const struct policy *pol, const struct why_graph_tier *stats,
	      const struct policy_matrix *declared, const struct policy_matrix *enforced,
	      bool mermaid, char **out)
{
	struct graph g = { .pol = pol, .mermaid = mermaid };
	size_t len = 0, i;

	*out = NULL;
	g.f = open_memstream(out, &len);
	if (!g.f)
		return -ENOMEM;
	if (mermaid)
		fprintf(g.f, "flowchart LR\n  world((world))\n  host((host))\n");
	else
		fprintf(g.f, "digraph tiernet {\n  rankdir=LR;\n"
			     "  node [shape=box, style=rounded, fontname=\"sans-serif\"];\n"
			     "  edge [fontname=\"sans-serif\", fontsize=10];\n"
			     "  \"world\" [shape=ellipse];\n  \"host\" [shape=ellipse];\n");
	/* Audit mode is a hole on purpose: the picture says so before anything else. */
	if (policy_audit_any(pol))
		fputs(mermaid ? "  audit[\"AUDIT MODE: flows the policy denies are logged and let "
				"through\"]\n  style audit stroke:orange,stroke-width:3px\n"
			      : "  label=\"AUDIT MODE: flows the policy denies are logged and let "
				"through\";\n  labelloc=t;\n  fontcolor=orange;\n",
		      g.f);
	for (i = 0; i < pol->ntiers; i++)
		tier_node(&g, (int)i, stats ? &stats[i] : NULL);
	policy_edges(&g);
	if (declared && enforced)
		mismatches(&g, declared, enforced);
	if (!mermaid)
		fprintf(g.f, "}\n");
	if (fclose(g.f) != 0) {
		free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}
