/*
 * The name table and the matching rules, pure.  A query NAME.TIER belongs to tiernet
 * (TIER is a declared tier): answered when the asking tier may open connections to TIER,
 * NXDOMAIN otherwise, so a hidden tier's names never leak an address.  A bare NAME is
 * answered when exactly one tier the asker may reach has it; when several have it tiernet
 * cannot choose and the upstream gets it, as when nobody has it; when only hidden tiers
 * have it, NXDOMAIN.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns/dns.h"

static int entry_cmp(const void *a, const void *b)
{
	const struct nametab_entry *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (!c)
		c = strcmp(x->net_id, y->net_id);
	if (!c)
		c = strcmp(x->ct_id, y->ct_id);
	return c;
}

int nametab_build(struct nametab *t, struct nametab_entry *v, size_t n)
{
	size_t i, k = 0;

	if (n)
		qsort(v, n, sizeof(*v), entry_cmp);
	for (i = 0; i < n; i++) {
		/* a duplicate may be an alias that is the name in other case: still the name */
		if (!k || entry_cmp(&v[k - 1], &v[i]))
			v[k++] = v[i];
		else
			v[k - 1].primary |= v[i].primary;
	}
	t->v = v;
	t->n = k;
	return 0;
}

void nametab_free(struct nametab *t)
{
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

bool nametab_norm(const char *qname, char *buf, size_t len)
{
	size_t n = strlen(qname), i;

	if (n && qname[n - 1] == '.')
		n--;
	if (!n || n >= len)
		return false;
	for (i = 0; i < n; i++)
		buf[i] = (char)tolower((unsigned char)qname[i]);
	buf[n] = '\0';
	return true;
}

/* The first entry called name, or n when there is none. */
static size_t first_of(const struct nametab *t, const char *name)
{
	size_t lo = 0, hi = t->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(t->v[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < t->n && !strcmp(t->v[lo].name, name) ? lo : t->n;
}

static int tier_of(const struct nametab_view *view, const char *name)
{
	size_t i;

	for (i = 0; i < view->ntiers; i++)
		if (!strcasecmp(view->tiers[i], name))
			return (int)i;
	return -1;
}

static bool reaches(const struct nametab_view *view, int src, int dst)
{
	return view->reach[(size_t)src * view->ntiers + (size_t)dst];
}

/* Adds e's address of out->family to out (once each). */
static void add_addr(const struct nametab_entry *e, struct nametab_answer *out)
{
	struct in6_addr a = { 0 };
	size_t i;

	if (out->family == AF_INET && e->addr4)
		memcpy(&a, &e->addr4, 4);
	else if (out->family == AF_INET6 && e->has6)
		a = e->addr6;
	else
		return;
	for (i = 0; i < out->n; i++)
		if (!memcmp(&out->v[i], &a, sizeof(a)))
			return;
	if (out->n < DNS_ADDRS_MAX)
		out->v[out->n++] = a;
}

/* Every entry called name whose network is in tier dst, into out. */
static void collect(const struct nametab *t, const struct nametab_view *view, size_t first, int dst,
		    struct nametab_answer *out)
{
	size_t i;

	for (i = first; i < t->n && !strcmp(t->v[i].name, t->v[first].name); i++)
		if (view->net_tier(view->ctx, t->v[i].net_id) == dst)
			add_addr(&t->v[i], out);
}

static enum nametab_verdict bare(const struct nametab *t, const struct nametab_view *view, int src,
				 const char *name, struct nametab_answer *out)
{
	size_t first = first_of(t, name), i;
	int found = -1, tier;
	bool hidden = false;

	for (i = first; i < t->n && !strcmp(t->v[i].name, name); i++) {
		tier = view->net_tier(view->ctx, t->v[i].net_id);
		if (tier < 0)
			continue;
		if (!reaches(view, src, tier))
			hidden = true;
		else if (found >= 0 && found != tier)
			return NAMETAB_FORWARD; /* ambiguous: not tiernet's to choose */
		else
			found = tier;
	}
	if (found >= 0) {
		collect(t, view, first, found, out);
		return NAMETAB_ANSWER;
	}
	return hidden ? NAMETAB_NXDOMAIN : NAMETAB_FORWARD;
}

enum nametab_verdict nametab_resolve(const struct nametab *t, const struct nametab_view *view,
				     int src, const char *qname, int family,
				     struct nametab_answer *out)
{
	char name[DNS_NAME_MAX];
	char *dot;
	size_t first;
	int dst;

	memset(out, 0, sizeof(*out));
	out->family = family;
	if (src < 0 || (size_t)src >= view->ntiers || !nametab_norm(qname, name, sizeof(name)))
		return NAMETAB_FORWARD;
	dot = strrchr(name, '.');
	if (!dot)
		return bare(t, view, src, name, out);
	dst = tier_of(view, dot + 1);
	if (dst < 0 || dot == name)
		return NAMETAB_FORWARD;
	if (!reaches(view, src, dst))
		return NAMETAB_NXDOMAIN;
	*dot = '\0';
	first = first_of(t, name);
	if (first == t->n)
		return NAMETAB_NXDOMAIN;
	collect(t, view, first, dst, out);
	/* The name exists only on other tiers: not on this one. */
	if (!out->n) {
		size_t i;

		for (i = first; i < t->n && !strcmp(t->v[i].name, name); i++)
			if (view->net_tier(view->ctx, t->v[i].net_id) == dst)
				return NAMETAB_ANSWER; /* there, without this family: NODATA */
		return NAMETAB_NXDOMAIN;
	}
	return NAMETAB_ANSWER;
}

bool nametab_owner(const struct nametab *t, int family, const void *addr, char *buf, size_t len)
{
	const struct nametab_entry *e;
	size_t i;

	for (i = 0; i < t->n; i++) {
		e = &t->v[i];
		if (!e->primary)
			continue;
		if (family == AF_INET ? e->addr4 && !memcmp(&e->addr4, addr, 4)
				      : e->has6 && !memcmp(&e->addr6, addr, 16)) {
			snprintf(buf, len, "%s", e->name);
			return true;
		}
	}
	return false;
}

void nametab_count(const struct nametab *t, const struct nametab_view *view, size_t *counts)
{
	size_t i;
	int tier;

	memset(counts, 0, view->ntiers * sizeof(*counts));
	for (i = 0; i < t->n; i++) {
		tier = view->net_tier(view->ctx, t->v[i].net_id);
		if (tier >= 0)
			counts[tier]++;
	}
}
