/*
 * The reachability matrix as the kernel enforces it: read back from the TIERNET chains that
 * are in the kernel now (iptc_dump), not from the policy file, so that `tiernet status` shows
 * what a packet would meet, including the effect of someone flushing or editing the chains.
 *
 * What each rule shape means (policy/compile.c writes them):
 *   mangle TIERNET-SRC-<T>  -o BR [ports] -j MARK         T may open connections to BR's tier
 *   mangle TIERNET-FWD      -i BR ! -o tn+ -j MARK        BR's tier reaches the world
 *   mangle TIERNET-FWD      ! -i tn+ -o BR [ports] ... DNAT -j MARK   the world reaches published ports
 *   filter TIERNET-IN       -i BR [ports] -j ACCEPT       BR's tier reaches the host
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/internal.h"

#define CELL_MAX 96

struct matrix {
	size_t ntiers;		/* rows and columns: tiers, then world (and host as a column) */
	char (*cell)[CELL_MAX];	/* (ntiers + 1) rows x (ntiers + 2) columns */
};

static char *cell(struct matrix *m, size_t row, size_t col)
{
	return m->cell[row * (m->ntiers + 2) + col];
}

static int tier_of_bridge(const char *bridge)
{
	const struct drv_net *n = drv_net_find_bridge(bridge);

	return n ? policy_tier_find(drv_policy, n->tier) : -1;
}

/* The value after `opt ` in line, copied into buf; "" when absent. */
static void word_after(const char *line, const char *opt, char *buf, size_t len)
{
	const char *p = strstr(line, opt);
	size_t n;

	buf[0] = '\0';
	if (!p)
		return;
	p += strlen(opt);
	n = strcspn(p, " ");
	snprintf(buf, len, "%.*s", (int)(n < len ? n : len - 1), p);
}

/* Adds "all" or "tcp/80" (from the rule's -p/--dport) to a cell; "all" absorbs the rest. */
static void add_ports(char *c, const char *line)
{
	char proto[8], port[16], item[32];

	word_after(line, " -p ", proto, sizeof(proto));
	word_after(line, "--dport ", port, sizeof(port));
	if (!strcmp(c, "all"))
		return;
	if (!proto[0] || !port[0]) {
		snprintf(c, CELL_MAX, "all");
		return;
	}
	for (char *q = strchr(port, ':'); q; q = NULL)
		*q = '-';
	snprintf(item, sizeof(item), "%s/%s", proto, port);
	if (strstr(c, item))
		return;
	if (strlen(c) + strlen(item) + 2 < CELL_MAX)
		snprintf(c + strlen(c), CELL_MAX - strlen(c), "%s%s", c[0] ? "," : "", item);
}

static void read_rule(struct matrix *m, const char *table, const char *line)
{
	char in[IFNAMSIZ + 2], out[IFNAMSIZ + 2], chain[RULES_CHAIN_MAX];
	size_t world = m->ntiers, host = m->ntiers + 1;
	int src, dst;

	word_after(line, "-A ", chain, sizeof(chain));
	word_after(line, " -i ", in, sizeof(in));
	word_after(line, " -o ", out, sizeof(out));
	if (!strcmp(table, "mangle") && !strncmp(chain, "TIERNET-SRC-", 12) &&
	    strstr(line, "-j MARK")) {
		src = policy_tier_find(drv_policy, chain + 12);
		dst = tier_of_bridge(out);
		if (src >= 0 && dst >= 0)
			add_ports(cell(m, (size_t)src, (size_t)dst), line);
	} else if (!strcmp(table, "mangle") && !strcmp(chain, "TIERNET-FWD") &&
		   strstr(line, "-j MARK")) {
		if (strstr(line, "! -o tn+") && (src = tier_of_bridge(in)) >= 0)
			add_ports(cell(m, (size_t)src, world), line);
		else if (strstr(line, "! -i tn+") && (dst = tier_of_bridge(out)) >= 0)
			add_ports(cell(m, world, (size_t)dst), line);
	} else if (!strcmp(table, "filter") && !strcmp(chain, "TIERNET-IN") &&
		   strstr(line, "-j ACCEPT") && !strstr(line, "--ctstate") &&
		   (src = tier_of_bridge(in)) >= 0) {
		add_ports(cell(m, (size_t)src, host), line);
	}
}

static int build(struct matrix *m, const char *dump)
{
	char table[16] = "", line[512];
	const char *p = dump;

	m->ntiers = drv_policy->ntiers;
	m->cell = calloc((m->ntiers + 1) * (m->ntiers + 2), CELL_MAX);
	if (!m->cell)
		return -1;
	while (p && *p) {
		size_t n = strcspn(p, "\n");

		snprintf(line, sizeof(line), "%.*s", (int)(n < sizeof(line) ? n : sizeof(line) - 1),
			 p);
		if (line[0] == '*')
			snprintf(table, sizeof(table), "%.15s", line + 1);
		else if (!strncmp(line, "-A ", 3))
			read_rule(m, table, line);
		p += n + (p[n] == '\n');
	}
	return 0;
}

static const char *name_of(const struct matrix *m, size_t i)
{
	if (i < m->ntiers)
		return drv_policy->tiers[i].name;
	return i == m->ntiers ? "world" : "host";
}

char *drv_matrix_text(const char *dump)
{
	struct matrix m;
	char *out = NULL;
	size_t len = 0, r, c;
	FILE *f;

	if (build(&m, dump) < 0)
		return NULL;
	f = open_memstream(&out, &len);
	if (f) {
		fprintf(f, "  %-16s", "FROM \\ TO");
		for (c = 0; c < m.ntiers + 2; c++)
			fprintf(f, " %-12s", name_of(&m, c));
		fprintf(f, "\n");
		for (r = 0; r < m.ntiers + 1; r++) {
			fprintf(f, "  %-16s", name_of(&m, r));
			for (c = 0; c < m.ntiers + 2; c++) {
				const char *v = cell(&m, r, c);

				if (r == m.ntiers && c >= m.ntiers)
					v = "";
				fprintf(f, " %-12s", *v ? v : (r == m.ntiers && c >= m.ntiers) ? "" : "-");
			}
			fprintf(f, "\n");
		}
		if (fclose(f) != 0) {
			free(out);
			out = NULL;
		}
	}
	free(m.cell);
	return out;
}

cJSON *drv_matrix_json(const char *dump)
{
	cJSON *o = cJSON_CreateObject(), *row;
	struct matrix m;
	size_t r, c;

	if (!o || build(&m, dump) < 0) {
		cJSON_Delete(o);
		return NULL;
	}
	for (r = 0; r < m.ntiers + 1; r++) {
		row = cJSON_AddObjectToObject(o, name_of(&m, r));
		for (c = 0; row && c < m.ntiers + 2; c++)
			if (*cell(&m, r, c))
				cJSON_AddStringToObject(row, name_of(&m, c), cell(&m, r, c));
	}
	free(m.cell);
	return o;
}
