/*
 * `tiernet check --diff FILE`: the daemon's side.  The command sends the file's text; the
 * daemon parses it as a reload would and compares it, pair by pair and port by port
 * (policy/why_diff.c), with the policy in force.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "driver/internal.h"
#include "driver/why.h"
#include "policy/why.h"

static int changes_json(const struct why_change *v, size_t n, char **json)
{
	cJSON *o = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(o, "changes");
	char pair[2 * POLICY_NAME_MAX + 8];
	size_t i;

	for (i = 0; a && i < n; i++) {
		cJSON *c = cJSON_CreateObject();

		snprintf(pair, sizeof(pair), "%s -> %s", v[i].from, v[i].to);
		cJSON_AddStringToObject(c, "pair", pair);
		cJSON_AddStringToObject(c, "from", v[i].from);
		cJSON_AddStringToObject(c, "to", v[i].to);
		cJSON_AddStringToObject(c, "change", v[i].allowed ? "allowed" : "denied");
		cJSON_AddStringToObject(c, "ports", v[i].ports);
		cJSON_AddItemToArray(a, c);
	}
	*json = a ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	return *json ? 0 : -ENOMEM;
}

int driver_diff(const char *name, const char *text, char **json, struct err *err)
{
	struct config_diags diags = { 0 };
	struct why_change *v = NULL;
	struct policy *pol = NULL;
	size_t n = 0;
	int r;

	*json = NULL;
	r = config_parse(name, text, strlen(text), &pol, &diags);
	if (r == -EINVAL && diags.n) {
		char *s = config_diag_format(&diags.v[0]);

		err_set(err, EINVAL, "%s%s", s ? s : diags.v[0].message,
			diags.n > 1 ? " (and more errors; `tiernet check --config FILE` lists them)"
				    : "");
		free(s);
		goto out;
	}
	if (r) {
		err_set(err, -r, "tiernet: cannot read the policy %.200s", name);
		goto out;
	}
	pthread_mutex_lock(&drv.lock);
	r = why_diff(drv.policy, pol, &v, &n);
	pthread_mutex_unlock(&drv.lock);
	if (!r)
		r = changes_json(v, n, json);
	if (r)
		err_set(err, -r, "tiernet: out of memory");
out:
	free(v);
	policy_free(pol);
	config_diags_free(&diags);
	return r;
}
