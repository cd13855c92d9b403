/*
 * The tier model: lookups over the plain struct policy that config/ builds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

void policy_free(struct policy *pol)
{
	size_t i;

	if (!pol)
		return;
	for (i = 0; i < pol->nedges; i++)
		free(pol->edges[i].ports);
	free(pol->edges);
	free(pol->tiers);
	free(pol);
}

int policy_tier_find(const struct policy *pol, const char *name)
{
	size_t i;

	for (i = 0; i < pol->ntiers; i++)
		if (!strcmp(pol->tiers[i].name, name))
			return (int)i;
	return -ENOENT;
}

size_t policy_tier_list(const struct policy *pol, char *buf, size_t len)
{
	size_t i, pos = 0;
	int n;

	if (len)
		buf[0] = '\0';
	for (i = 0; i < pol->ntiers; i++) {
		n = snprintf(pos < len ? buf + pos : NULL, pos < len ? len - pos : 0, "%s%s",
			     i ? ", " : "", pol->tiers[i].name);
		if (n > 0)
			pos += (size_t)n;
	}
	return pos;
}

const struct policy_edge *policy_edge_find(const struct policy *pol, int src, int dst)
{
	size_t i;

	for (i = 0; i < pol->nedges; i++)
		if (pol->edges[i].src == src && pol->edges[i].dst == dst)
			return &pol->edges[i];
	return NULL;
}
