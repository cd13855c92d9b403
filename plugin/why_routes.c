/*
 * The admin routes behind `tiernet explain`, `tiernet graph` and `tiernet check --diff`
 * (routes.c lists them next to /tiernet.Status).  They decode the request; driver/why.c and
 * its neighbours answer.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "driver/why.h"
#include "plugin/plugin.h"
#include "plugin/why.h"

static cJSON *parse(const char *body, size_t len, struct err *err)
{
	cJSON *o = cJSON_ParseWithLength(body, len);

	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		err_set(err, EINVAL, "tiernet: the request is not a JSON object");
		return NULL;
	}
	return o;
}

static const char *str(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItem(o, key));
}

int why_route_explain(const char *body, size_t len, char **reply, struct err *err)
{
	cJSON *o = parse(body, len, err);
	int r;

	if (!o)
		return -EINVAL;
	if (!str(o, "from") || !str(o, "to"))
		r = err_set(err, EINVAL, "tiernet: explain needs \"from\" and \"to\"");
	else
		r = driver_explain(str(o, "from"), str(o, "to"), str(o, "port"), reply, err);
	cJSON_Delete(o);
	return r;
}

int why_route_graph(const char *body, size_t len, char **reply, struct err *err)
{
	cJSON *o = parse(body, len, err), *a;
	char *text = NULL;
	int r;

	if (!o)
		return -EINVAL;
	r = driver_graph(str(o, "format") ? str(o, "format") : "dot", &text, err);
	cJSON_Delete(o);
	if (r)
		return r;
	/* As JSON, like every answer on this socket: {"graph": "..."}. */
	a = cJSON_CreateObject();
	if (a && cJSON_AddStringToObject(a, "graph", text))
		*reply = cJSON_PrintUnformatted(a);
	cJSON_Delete(a);
	free(text);
	return *reply ? 0 : err_set(err, ENOMEM, "tiernet: out of memory");
}

int why_route_diff(const char *body, size_t len, char **reply, struct err *err)
{
	cJSON *o = parse(body, len, err);
	int r;

	if (!o)
		return -EINVAL;
	if (!str(o, "text"))
		r = err_set(err, EINVAL, "tiernet: check --diff needs the policy's \"text\"");
	else
		r = driver_diff(str(o, "name") ? str(o, "name") : "FILE", str(o, "text"), reply,
				err);
	cJSON_Delete(o);
	return r;
}
