/*
 * `tiernet check --diff`: what a new policy changes, pair by pair and port by port.  Each
 * pair's declared cell is a set of ports per protocol (two 65536-bit maps, plus "other
 * protocols" for an all-ports cell), so gained and lost ports are plain set differences
 * whatever ranges and lines the two files use.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/why.h"

struct cell {
	bool other;
	uint8_t bits[2][65536 / 8]; /* [0] tcp, [1] udp */
};

static void set_range(struct cell *c, int p, unsigned lo, unsigned hi)
{
	unsigned i;

	for (i = lo; i <= hi; i++)
		c->bits[p][i / 8] |= (uint8_t)(1u << (i % 8));
}

static bool has(const struct cell *c, int p, unsigned i)
{
	return c->bits[p][i / 8] & (1u << (i % 8));
}

static void fill_all(struct cell *c)
{
	c->other = true;
	set_range(c, 0, 1, 65535);
	set_range(c, 1, 1, 65535);
}

static void fill_edge(struct cell *c, const struct policy_edge *e)
{
	size_t i;

	if (!e)
		return;
	if (!e->nports) {
		fill_all(c);
		return;
	}
	for (i = 0; i < e->nports; i++)
		set_range(c, e->ports[i].proto == IPPROTO_UDP, e->ports[i].lo, e->ports[i].hi);
}

#define NO_TIER (-1000) /* not -ENOENT: that is POLICY_HOST */

/* A tier's index by name, a pseudo-tier, or NO_TIER when pol does not declare it. */
static int index_of(const struct policy *pol, const char *name)
{
	int t;

	if (!strcmp(name, "world"))
		return POLICY_WORLD;
	if (!strcmp(name, "host"))
		return POLICY_HOST;
	t = policy_tier_find(pol, name);
	return t >= 0 ? t : NO_TIER;
}

/* The declared cell of from -> to under pol (README "The policy file"). */
static void declared(const struct policy *pol, const char *from, const char *to, struct cell *c)
{
	int s = index_of(pol, from), d = index_of(pol, to);

	memset(c, 0, sizeof(*c));
	if (s == NO_TIER || d == NO_TIER || s == POLICY_HOST)
		return;
	if (s == POLICY_WORLD) {
		if (d >= 0 && !pol->tiers[d].internal)
			fill_edge(c, policy_edge_find(pol, s, d));
	} else if (d == POLICY_WORLD) {
		if (!pol->tiers[s].internal)
			fill_all(c);
	} else if (s == d && !pol->tiers[s].isolated) {
		fill_all(c);
	} else {
		fill_edge(c, policy_edge_find(pol, s, d));
	}
}

/* The ports in a but not in b, as text into buf; false when there are none. */
static bool minus(const struct cell *a, const struct cell *b, char *buf, size_t len)
{
	static const char *const names[] = { "tcp", "udp" };
	size_t pos = 0;
	bool total = a->other && !b->other;
	unsigned i, lo;
	int p, k;

	buf[0] = '\0';
	for (p = 0; p < 2; p++)
		for (i = 1; i <= 65535; i++)
			if (!(has(a, p, i) && !has(b, p, i)))
				total = false;
	if (total) {
		snprintf(buf, len, "all");
		return true;
	}
	for (p = 0; p < 2; p++) {
		for (i = 1; i <= 65535; i++) {
			if (!has(a, p, i) || has(b, p, i))
				continue;
			for (lo = i; i < 65535 && has(a, p, i + 1) && !has(b, p, i + 1); i++)
				;
			k = lo == i ? snprintf(buf + pos, len - pos, "%s%s/%u", pos ? ", " : "",
					       names[p], lo)
				    : snprintf(buf + pos, len - pos, "%s%s/%u-%u", pos ? ", " : "",
					       names[p], lo, i);
			if (k < 0 || (size_t)k >= len - pos)
				return true; /* truncated: the start says enough */
			pos += (size_t)k;
		}
	}
	if (a->other && !b->other)
		snprintf(buf + pos, len - pos, "%sother protocols", pos ? ", " : "");
	return buf[0] != '\0';
}

/* The tier names of both policies, old's first, then world and host. */
static const char **tier_names(const struct policy *old, const struct policy *new, size_t *n)
{
	const char **v = calloc(old->ntiers + new->ntiers + 2, sizeof(*v));
	size_t i;

	*n = 0;
	if (!v)
		return NULL;
	for (i = 0; i < old->ntiers; i++)
		v[(*n)++] = old->tiers[i].name;
	for (i = 0; i < new->ntiers; i++)
		if (policy_tier_find(old, new->tiers[i].name) < 0)
			v[(*n)++] = new->tiers[i].name;
	v[(*n)++] = "world";
	v[(*n)++] = "host";
	return v;
}

static int push(struct why_change **out, size_t *n, const char *from, const char *to, bool allowed,
		const char *ports)
{
	struct why_change *v = reallocarray(*out, *n + 1, sizeof(**out));

	if (!v)
		return -ENOMEM;
	*out = v;
	v += (*n)++;
	snprintf(v->from, sizeof(v->from), "%s", from);
	snprintf(v->to, sizeof(v->to), "%s", to);
	v->allowed = allowed;
	snprintf(v->ports, sizeof(v->ports), "%s", ports);
	return 0;
}

int why_diff(const struct policy *old, const struct policy *new, struct why_change **out, size_t *n)
{
	struct cell *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	char ports[WHY_TEXT_MAX];
	const char **v = tier_names(old, new, n);
	size_t nn = *n, i, j;
	int r = 0;

	*out = NULL;
	*n = 0;
	if (!a || !b || !v) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < nn && !r; i++) {
		for (j = 0; j < nn && !r; j++) {
			/* The host opens connections anywhere; world <-> host is not tiernet's. */
			if (!strcmp(v[i], "host") || (!strcmp(v[i], "world") && j >= nn - 2))
				continue;
			declared(old, v[i], v[j], a);
			declared(new, v[i], v[j], b);
			if (!memcmp(a, b, sizeof(*a)))
				continue; /* the common case, without scanning ports */
			if (minus(b, a, ports, sizeof(ports)))
				r = push(out, n, v[i], v[j], true, ports);
			if (!r && minus(a, b, ports, sizeof(ports)))
				r = push(out, n, v[i], v[j], false, ports);
		}
	}
	if (r) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
out:
	free(v);
	free(a);
	free(b);
	return r;
}
