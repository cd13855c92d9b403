/*
 * The protocol's paths and their handlers, one table (PROTOCOL.md §2-§3).  A handler returns
 * 0 with a JSON body, or -errno with a sentence in err that becomes {"Err": "..."} under
 * HTTP 200: dockerd then shows "remote: <sentence>" to the user.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "dns/dns.h"
#include "lib/log.h"
#include "lib/text.h"
#include "plugin/plugin.h"
#include "plugin/why.h"

typedef int (*route_fn)(const char *body, size_t len, char **reply, struct err *err);

static char *dup_json(const char *s)
{
	return strdup(s);
}

static int h_activate(const char *body, size_t len, char **reply, struct err *err)
{
	(void)body, (void)len, (void)err;
	*reply = dup_json("{\"Implements\":[\"NetworkDriver\"]}");
	return 0;
}

static int h_capabilities(const char *body, size_t len, char **reply, struct err *err)
{
	(void)body, (void)len, (void)err;
	*reply = dup_json("{\"Scope\":\"local\",\"ConnectivityScope\":\"local\"}");
	return 0;
}

static int h_create_network(const char *body, size_t len, char **reply, struct err *err)
{
	struct driver_net_req *req = malloc(sizeof(*req));
	int r;

	if (!req)
		return err_set(err, ENOMEM, "tiernet: out of memory");
	r = proto_decode_create_network(body, len, req, err);
	if (!r)
		r = driver_network_create(req, err);
	free(req);
	if (!r)
		*reply = dup_json("{}");
	return r;
}

static int h_delete_network(const char *body, size_t len, char **reply, struct err *err)
{
	char net[DRIVER_ID_LEN + 1];
	int r = proto_decode_ids(body, len, net, NULL, err);

	if (!r)
		r = driver_network_delete(net, err);
	if (!r)
		*reply = dup_json("{}");
	return r;
}

static int h_create_endpoint(const char *body, size_t len, char **reply, struct err *err)
{
	struct driver_ep_req *req = malloc(sizeof(*req));
	struct driver_ep_reply rep;
	int r;

	if (!req)
		return err_set(err, ENOMEM, "tiernet: out of memory");
	r = proto_decode_create_endpoint(body, len, req, err);
	if (!r)
		r = driver_endpoint_create(req, &rep, err);
	free(req);
	if (!r)
		*reply = proto_encode_create_endpoint(&rep);
	return r;
}

static int h_delete_endpoint(const char *body, size_t len, char **reply, struct err *err)
{
	char net[DRIVER_ID_LEN + 1], ep[DRIVER_ID_LEN + 1];
	int r = proto_decode_ids(body, len, net, ep, err);

	if (!r)
		r = driver_endpoint_delete(net, ep, err);
	if (!r)
		*reply = dup_json("{}");
	return r;
}

static int h_oper_info(const char *body, size_t len, char **reply, struct err *err)
{
	char net[DRIVER_ID_LEN + 1], ep[DRIVER_ID_LEN + 1];
	int r = proto_decode_ids(body, len, net, ep, err);

	if (!r)
		r = driver_endpoint_check(net, ep, err);
	if (!r)
		*reply = dup_json("{\"Value\":{}}");
	return r;
}

static int h_join(const char *body, size_t len, char **reply, struct err *err)
{
	struct driver_join_req *req = malloc(sizeof(*req));
	struct driver_join_reply rep;
	int r;

	if (!req)
		return err_set(err, ENOMEM, "tiernet: out of memory");
	r = proto_decode_join(body, len, req, err);
	if (!r)
		r = driver_join(req, &rep, err);
	free(req);
	if (!r)
		*reply = proto_encode_join(&rep);
	return r;
}

static int h_leave(const char *body, size_t len, char **reply, struct err *err)
{
	char net[DRIVER_ID_LEN + 1], ep[DRIVER_ID_LEN + 1];
	int r = proto_decode_ids(body, len, net, ep, err);

	if (!r)
		r = driver_leave(net, ep, err);
	if (!r)
		*reply = dup_json("{}");
	return r;
}

static int h_program(const char *body, size_t len, char **reply, struct err *err)
{
	struct driver_pec_req *req = malloc(sizeof(*req));
	int r;

	if (!req)
		return err_set(err, ENOMEM, "tiernet: out of memory");
	r = proto_decode_pec(body, len, req, err);
	if (!r)
		r = driver_publish(req, err);
	free(req);
	if (!r)
		*reply = dup_json("{}");
	return r;
}

/* Also sent to endpoints that never had a Program: then a harmless no-op. */
static int h_revoke(const char *body, size_t len, char **reply, struct err *err)
{
	char net[DRIVER_ID_LEN + 1], ep[DRIVER_ID_LEN + 1];
	int r = proto_decode_ids(body, len, net, ep, err);

	if (!r)
		r = driver_unpublish(net, ep, err);
	if (!r)
		*reply = dup_json("{}");
	return r;
}

static int h_accept(const char *body, size_t len, char **reply, struct err *err)
{
	(void)body, (void)len, (void)err;
	*reply = dup_json("{}");
	return 0;
}

static int h_global_scope(const char *body, size_t len, char **reply, struct err *err)
{
	(void)body, (void)len, (void)reply;
	return err_set(err, EOPNOTSUPP,
		       "tiernet: is a local-scope driver and cannot "
		       "allocate swarm-wide (global) networks; use it without swarm scope");
}

/* The driver's status with the name service's: a "names" member, or a section at the end. */
static char *status_with_names(char *s, bool json)
{
	char *names = s ? dns_status(json) : NULL, *out = NULL;
	cJSON *o = NULL, *n = NULL;

	if (!names)
		goto out;
	if (!json) {
		if (asprintf(&out, "%s%s", s, names) < 0)
			out = NULL;
		goto out;
	}
	o = cJSON_Parse(s);
	n = cJSON_Parse(names);
	if (o && n && cJSON_AddItemToObject(o, "names", n)) {
		n = NULL;
		out = cJSON_Print(o);
	}
out:
	cJSON_Delete(o);
	cJSON_Delete(n);
	free(names);
	free(s);
	return out;
}

static int h_status(const char *body, size_t len, char **reply, struct err *err)
{
	bool json = memmem(body, len, "\"json\":true", 11) != NULL;

	*reply = status_with_names(driver_status(json), json);
	return *reply ? 0 : err_set(err, ENOMEM, "tiernet: out of memory");
}

static const struct route {
	const char *path;
	route_fn fn;
} routes[] = {
	{ "/Plugin.Activate", h_activate },
	{ "/NetworkDriver.GetCapabilities", h_capabilities },
	{ "/NetworkDriver.CreateNetwork", h_create_network },
	{ "/NetworkDriver.DeleteNetwork", h_delete_network },
	{ "/NetworkDriver.CreateEndpoint", h_create_endpoint },
	{ "/NetworkDriver.DeleteEndpoint", h_delete_endpoint },
	{ "/NetworkDriver.EndpointOperInfo", h_oper_info },
	{ "/NetworkDriver.Join", h_join },
	{ "/NetworkDriver.Leave", h_leave },
	{ "/NetworkDriver.ProgramExternalConnectivity", h_program },
	{ "/NetworkDriver.RevokeExternalConnectivity", h_revoke },
	{ "/NetworkDriver.DiscoverNew", h_accept },
	{ "/NetworkDriver.DiscoverDelete", h_accept },
	{ "/NetworkDriver.AllocateNetwork", h_global_scope },
	{ "/NetworkDriver.FreeNetwork", h_global_scope },
	{ "/tiernet.Status", h_status },	   /* admin route: `tiernet status` */
	{ "/tiernet.Explain", why_route_explain }, /* `tiernet explain` (why_routes.c) */
	{ "/tiernet.Graph", why_route_graph },	   /* `tiernet graph` */
	{ "/tiernet.Diff", why_route_diff },	   /* `tiernet check --diff` */
	{ "/tiernet.Log", denials_route },	   /* `tiernet log` (denials.c) */
};

static int reply_err(unsigned status, const char *msg, struct route_reply *out)
{
	out->status = status;
	out->body = proto_encode_err(msg);
	return out->body ? 0 : -ENOMEM;
}

int route_handle(const char *path, const char *body, size_t len, struct route_reply *out)
{
	struct err err = { .msg = "tiernet: internal error" };
	char *reply = NULL;
	size_t i;
	int r;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (!strcmp(path, routes[i].path))
			break;
	if (i == sizeof(routes) / sizeof(routes[0])) {
		snprintf(err.msg, sizeof(err.msg), "tiernet: unknown path \"%.128s\"", path);
		/* libmicrohttpd decodes %0a: a path must not forge lines in the log. */
		text_sanitize(err.msg, false);
		log_warnx("%s", err.msg);
		return reply_err(404, err.msg, out);
	}
	r = routes[i].fn(body, len, &reply, &err);
	if (r == 0 && !reply)
		return reply_err(500, "tiernet: out of memory", out);
	if (r < 0) {
		log_warnx("%s: %s", path + 1, err.msg);
		return reply_err(200, err.msg, out);
	}
	log_debug("%s: ok", path + 1);
	out->status = 200;
	out->body = reply;
	return 0;
}
