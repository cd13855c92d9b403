/* The golden cases' .nets files: see nets.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/names.h"
#include "tests/golden/nets.h"

/* The id of a tier the file names first, or the lowest one no network has yet. */
static unsigned tier_id(const struct golden_nets *g, int tier)
{
	unsigned id;
	size_t i;

	for (i = 0; i < g->n; i++)
		if (g->nets[i].tier == tier)
			return g->nets[i].group & TN_GROUP_TIER;
	for (id = 1;; id++) {
		for (i = 0; i < g->n && (g->nets[i].group & TN_GROUP_TIER) != id; i++)
			;
		if (i == g->n)
			return id;
	}
}

static int parse_net(const struct policy *pol, const char *line, struct golden_nets *g)
{
	char bridge[32], addr[64], tier[64], flag[3][64] = { "", "", "" };
	struct policy_net *net = &g->nets[g->n];
	unsigned id = 0;
	bool internal = false;
	char *slash;
	int n, k, prefix;

	n = sscanf(line, "%31s %63s %63s %63s %63s %63s", bridge, addr, tier, flag[0], flag[1],
		   flag[2]);
	slash = strchr(addr, '/');
	if (n < 3 || strlen(bridge) >= IFNAMSIZ || !slash)
		return -EINVAL;
	memset(net, 0, sizeof(*net));
	strcpy(net->bridge, bridge);
	*slash = '\0';
	prefix = atoi(slash + 1);
	if (prefix < 0 || prefix > 32 || inet_pton(AF_INET, addr, &net->addr) != 1)
		return -EINVAL;
	net->mask = prefix ? htonl(~0u << (32 - prefix)) : 0;
	net->tier = policy_tier_find(pol, tier);
	if (net->tier < 0)
		return -EINVAL;
	for (k = 0; k < n - 3; k++) {
		if (!strcmp(flag[k], "internal"))
			internal = true;
		else if (!strncmp(flag[k], "v6=", 3)) {
			slash = strchr(flag[k], '/');
			if (!slash)
				return -EINVAL;
			*slash = '\0';
			prefix = atoi(slash + 1);
			if (prefix < 1 || prefix > 128 ||
			    inet_pton(AF_INET6, flag[k] + 3, &net->addr6) != 1)
				return -EINVAL;
			net->prefix6 = (uint8_t)prefix;
			net->dual = true;
		} else if (sscanf(flag[k], "id=%u", &id) != 1 || !id || id > TN_TIER_ID_MAX)
			return -EINVAL;
	}
	if (!id)
		id = tier_id(g, net->tier);
	net->internal = internal;
	net->group = TN_GROUP | TN_GROUP_BRIDGE | (internal ? TN_GROUP_INTERNAL : 0) | id;
	g->n++;
	return 0;
}

int golden_nets_parse(const struct policy *pol, char *text, struct golden_nets *g, char *err,
		      size_t len)
{
	char *line, *save = NULL;
	size_t skip;

	memset(g, 0, sizeof(*g));
	g->host.docker = (const char(*)[IFNAMSIZ])g->docker;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		skip = strspn(line, " \t");
		if (line[skip] == '\0' || line[skip] == '#')
			continue;
		if (!strncmp(line, "docker ", 7) && g->host.ndocker < GOLDEN_NETS_MAX &&
		    strlen(line + 7) < IFNAMSIZ) {
			snprintf(g->docker[g->host.ndocker++], IFNAMSIZ, "%s", line + 7);
			continue;
		}
		if (g->n == GOLDEN_NETS_MAX || parse_net(pol, line, g) < 0) {
			snprintf(err, len, "%s", line);
			return -EINVAL;
		}
	}
	return 0;
}
