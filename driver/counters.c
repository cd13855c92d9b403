/*
 * The counters `tiernet status` shows, from the rules read back from the kernel (both
 * families summed): per allow line, what it let through; per ordered pair of tiers, the new
 * connections denied (policy/why_counters.c reads them).
 */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "driver/internal.h"
#include "driver/why.h"
#include "policy/why.h"

void drv_counters_json(cJSON *o, const struct rules_set *rs, const struct rules_set *rs6)
{
	struct why_counters c;
	struct policy_net *pn;
	cJSON *j, *a, *d;
	char line[WHY_TEXT_MAX];
	size_t npn, i, k;

	pn = drv_fw_nets(drv.policy, &npn);
	if (!pn || why_counters_init(drv.policy, &c) < 0) {
		free(pn);
		return;
	}
	if (rs)
		why_counters_add(drv.policy, pn, npn, rs, &c);
	if (rs6)
		why_counters_add(drv.policy, pn, npn, rs6, &c);
	j = cJSON_AddObjectToObject(o, "counters");
	a = cJSON_AddArrayToObject(j, "allowed");
	for (i = 0; a && i < c.nedges; i++) {
		cJSON *e = cJSON_CreateObject();

		why_edge_format(drv.policy, &drv.policy->edges[i], line, sizeof(line));
		cJSON_AddNumberToObject(e, "line", drv.policy->edges[i].line);
		cJSON_AddStringToObject(e, "edge", line);
		cJSON_AddNumberToObject(e, "packets", (double)c.edges[i].pkts);
		cJSON_AddNumberToObject(e, "bytes", (double)c.edges[i].bytes);
		cJSON_AddItemToArray(a, e);
	}
	d = cJSON_AddArrayToObject(j, "denied");
	for (i = 0; d && i < c.ntiers; i++) {
		for (k = 0; k <= c.ntiers; k++) {
			uint64_t v = c.denied[i * (c.ntiers + 1) + k];
			cJSON *e;

			if (!v)
				continue;
			e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "from", drv.policy->tiers[i].name);
			cJSON_AddStringToObject(e, "to",
						k == c.ntiers ? "host" : drv.policy->tiers[k].name);
			cJSON_AddNumberToObject(e, "connections", (double)v);
			cJSON_AddItemToArray(d, e);
		}
	}
	why_counters_free(&c);
	free(pn);
}

void drv_counters_text(FILE *f, const cJSON *o)
{
	const cJSON *j = cJSON_GetObjectItem(o, "counters"), *e;

	if (!j)
		return;
	fprintf(f,
		"\ncounters, read back from the kernel's rules (allowed: the first packets of "
		"new connections; denied: new connections):\n  %-5s  %-36s  %10s  %12s\n",
		"LINE", "ALLOWED BY", "PACKETS", "BYTES");
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(j, "allowed"))
	    fprintf(f, "  %-5d  %-36s  %10.0f  %12.0f\n",
		    (int)cJSON_GetNumberValue(cJSON_GetObjectItem(e, "line")),
		    cJSON_GetStringValue(cJSON_GetObjectItem(e, "edge")),
		    cJSON_GetNumberValue(cJSON_GetObjectItem(e, "packets")),
		    cJSON_GetNumberValue(cJSON_GetObjectItem(e, "bytes")));
	fprintf(f, "  %-36s  %10s\n", "DENIED FROM -> TO", "NEW CONNS");
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(j, "denied"))
	{
		char pair[2 * POLICY_NAME_MAX + 8];

		snprintf(pair, sizeof(pair), "%s -> %s",
			 cJSON_GetStringValue(cJSON_GetObjectItem(e, "from")),
			 cJSON_GetStringValue(cJSON_GetObjectItem(e, "to")));
		fprintf(f, "  %-36s  %10.0f\n", pair,
			cJSON_GetNumberValue(cJSON_GetObjectItem(e, "connections")));
	}
}
