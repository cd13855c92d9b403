/*
 * JSON decode and encode for the remote-driver protocol (PROTOCOL.md §3).  dockerd's bodies
 * are compact JSON plus a newline; unknown fields are tolerated, fields of the wrong type are
 * refused with a sentence naming the field, and nothing reaches the driver half-decoded.
 */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/plugin.h"

static int depth_of(const cJSON *o)
{
	const cJSON *c;
	int d, max = 0;

	for (c = o ? o->child : NULL; c; c = c->next) {
		d = depth_of(c);
		if (d > max)
			max = d;
		if (max > PLUGIN_JSON_DEPTH_MAX)
			break;
	}
	return max + 1;
}

/* Parses body as one JSON object; cJSON does not need the NUL since the length is given. */
static cJSON *parse(const char *body, size_t len, struct driver_err *err)
{
	cJSON *o;

	if (len == 0) {
		driver_errf(err, EINVAL, "tiernet: the request has no body (dockerd resends a "
			    "request without its body after a dropped connection); run the command "
			    "again");
		return NULL;
	}
	o = cJSON_ParseWithLength(body, len);
	if (!o) {
		driver_errf(err, EINVAL, "tiernet: the request body is not valid JSON");
		return NULL;
	}
	if (!cJSON_IsObject(o)) {
		driver_errf(err, EINVAL, "tiernet: the request body is not a JSON object");
		goto fail;
	}
	if (depth_of(o) > PLUGIN_JSON_DEPTH_MAX) {
		driver_errf(err, EINVAL, "tiernet: the request body nests deeper than %d levels",
			    PLUGIN_JSON_DEPTH_MAX);
		goto fail;
	}
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

static const cJSON *field(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

/* A required string field copied into dst[max]; the message names the field. */
static int get_string(const cJSON *o, const char *key, bool required, char *dst, size_t max,
		      struct driver_err *err)
{
	const cJSON *v = field(o, key);

	dst[0] = '\0';
	if (!v || cJSON_IsNull(v)) {
		if (required)
			return driver_errf(err, EINVAL, "tiernet: the request lacks the field %s",
					   key);
		return 0;
	}
	if (!cJSON_IsString(v))
		return driver_errf(err, EINVAL, "tiernet: field %s must be a string", key);
	if (strlen(v->valuestring) >= max)
		return driver_errf(err, EINVAL, "tiernet: field %s is longer than %zu characters",
				   key, max - 1);
	memcpy(dst, v->valuestring, strlen(v->valuestring) + 1);
	return 0;
}

static int get_id(const cJSON *o, const char *key, char dst[DRIVER_ID_LEN + 1],
		  struct driver_err *err)
{
	char tmp[DRIVER_ID_LEN + 2];
	int r = get_string(o, key, true, tmp, sizeof(tmp), err);

	if (r == 0 && !driver_id_valid(tmp))
		r = driver_errf(err, EINVAL, "tiernet: field %s \"%s\" is not a 64-character hex "
				"ID", key, tmp);
	if (r < 0 && strstr(err->msg, "longer than"))
		r = driver_errf(err, EINVAL, "tiernet: field %s is not a 64-character hex ID", key);
	if (r == 0)
		memcpy(dst, tmp, DRIVER_ID_LEN + 1);
	return r;
}

static int get_bool(const cJSON *o, const char *key, bool *out, struct driver_err *err)
{
	const cJSON *v = field(o, key);

	*out = false;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsBool(v))
		return driver_errf(err, EINVAL, "tiernet: field %s must be true or false", key);
	*out = cJSON_IsTrue(v);
	return 0;
}

/* "10.1.2.3/24" into addr (network order) and prefix. */
static int parse_cidr(const char *s, uint32_t *addr, uint8_t *prefix)
{
	char ip[INET_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	char *end;
	long p;

	if (!slash || (size_t)(slash - s) >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	errno = 0;
	p = strtol(slash + 1, &end, 10);
	if (errno || end == slash + 1 || *end || p < 0 || p > 32)
		return -EINVAL;
	if (inet_pton(AF_INET, ip, addr) != 1)
		return -EINVAL;
	*prefix = (uint8_t)p;
	return 0;
}

static int get_cidr(const cJSON *o, const char *key, bool required, uint32_t *addr,
		    uint8_t *prefix, struct driver_err *err)
{
	char s[64];
	int r = get_string(o, key, required, s, sizeof(s), err);

	*addr = 0;
	*prefix = 0;
	if (r < 0 || !s[0])
		return r;
	if (parse_cidr(s, addr, prefix))
		return driver_errf(err, EINVAL, "tiernet: field %s \"%s\" is not an IPv4 address "
				   "with a prefix length such as 10.1.2.3/24", key, s);
	return 0;
}

static int decode_generic(const cJSON *g, struct driver_net_req *req, struct driver_err *err)
{
	const cJSON *c;

	if (!g || cJSON_IsNull(g))
		return 0;
	if (!cJSON_IsObject(g))
		return driver_errf(err, EINVAL, "tiernet: field com.docker.network.generic must "
				   "be an object");
	cJSON_ArrayForEach(c, g) {
		struct driver_opt *o = &req->opts[req->nopts];

		if (req->nopts == DRIVER_OPTS_MAX)
			return driver_errf(err, E2BIG, "tiernet: more than %d network options",
					   DRIVER_OPTS_MAX);
		if (!cJSON_IsString(c))
			return driver_errf(err, EINVAL, "tiernet: network option \"%.64s\" must "
					   "be a string", c->string);
		if (strlen(c->string) >= sizeof(o->key) || strlen(c->valuestring) >= sizeof(o->value))
			return driver_errf(err, EINVAL, "tiernet: network option \"%.64s\" is too "
					   "long", c->string);
		snprintf(o->key, sizeof(o->key), "%s", c->string);
		snprintf(o->value, sizeof(o->value), "%s", c->valuestring);
		req->nopts++;
	}
	return 0;
}

static int decode_ipv4data(const cJSON *a, struct driver_net_req *req, struct driver_err *err)
{
	const cJSON *first;
	int r;

	if (!a || cJSON_IsNull(a))
		return 0;
	if (!cJSON_IsArray(a))
		return driver_errf(err, EINVAL, "tiernet: field IPv4Data must be an array");
	req->nipv4 = (size_t)cJSON_GetArraySize(a);
	first = cJSON_GetArrayItem(a, 0);
	if (!first)
		return 0;
	if (!cJSON_IsObject(first))
		return driver_errf(err, EINVAL, "tiernet: IPv4Data entries must be objects");
	r = get_cidr(first, "Gateway", true, &req->gw, &req->gw_prefix, err);
	if (!r)
		r = get_cidr(first, "Pool", true, &req->pool, &req->pool_prefix, err);
	return r;
}

int proto_decode_create_network(const char *body, size_t len, struct driver_net_req *req,
				struct driver_err *err)
{
	cJSON *o = parse(body, len, err);
	const cJSON *opts, *v6;
	bool enable_v6 = false;
	int r;

	memset(req, 0, sizeof(*req));
	if (!o)
		return -EINVAL;
	r = get_id(o, "NetworkID", req->id, err);
	opts = field(o, "Options");
	if (!r && opts && !cJSON_IsNull(opts) && !cJSON_IsObject(opts))
		r = driver_errf(err, EINVAL, "tiernet: field Options must be an object");
	if (!r && cJSON_IsObject(opts)) {
		r = decode_generic(field(opts, "com.docker.network.generic"), req, err);
		if (!r)
			r = get_bool(opts, "com.docker.network.internal", &req->internal, err);
		if (!r)
			r = get_bool(opts, "com.docker.network.enable_ipv6", &enable_v6, err);
	}
	if (!r)
		r = decode_ipv4data(field(o, "IPv4Data"), req, err);
	v6 = field(o, "IPv6Data");
	if (!r && v6 && !cJSON_IsNull(v6) && !cJSON_IsArray(v6))
		r = driver_errf(err, EINVAL, "tiernet: field IPv6Data must be an array");
	req->ipv6 = enable_v6 || cJSON_GetArraySize(v6) > 0;
	cJSON_Delete(o);
	return r;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;
	int i;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &tail) != 6)
		return -EINVAL;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

static int decode_interface(const cJSON *ifc, struct driver_ep_req *req, struct driver_err *err)
{
	char v6[64], mac[32];
	int r;

	if (!ifc || cJSON_IsNull(ifc))
		return 0;
	if (!cJSON_IsObject(ifc))
		return driver_errf(err, EINVAL, "tiernet: field Interface must be an object");
	r = get_cidr(ifc, "Address", false, &req->addr, &req->prefix, err);
	if (!r)
		r = get_string(ifc, "AddressIPv6", false, v6, sizeof(v6), err);
	if (!r)
		r = get_string(ifc, "MacAddress", false, mac, sizeof(mac), err);
	if (r)
		return r;
	req->has_ipv6 = v6[0] != '\0';
	if (mac[0]) {
		if (parse_mac(mac, req->mac))
			return driver_errf(err, EINVAL, "tiernet: MacAddress \"%s\" is not a MAC "
					   "address such as 02:42:0a:00:00:02", mac);
		req->has_mac = true;
	}
	return 0;
}

/* Endpoint options mix dockerd's keys (com.docker.*) with the user's --driver-opt keys. */
static int decode_ep_options(const cJSON *opts, struct driver_ep_req *req, struct driver_err *err)
{
	const cJSON *c;

	if (!opts || cJSON_IsNull(opts))
		return 0;
	if (!cJSON_IsObject(opts))
		return driver_errf(err, EINVAL, "tiernet: field Options must be an object");
	cJSON_ArrayForEach(c, opts) {
		struct driver_opt *o = &req->opts[req->nopts];

		if (!strncmp(c->string, "com.docker.", 11))
			continue;
		if (req->nopts == DRIVER_OPTS_MAX)
			return driver_errf(err, E2BIG, "tiernet: more than %d endpoint options",
					   DRIVER_OPTS_MAX);
		snprintf(o->key, sizeof(o->key), "%s", c->string);
		snprintf(o->value, sizeof(o->value), "%s",
			 cJSON_IsString(c) ? c->valuestring : "");
		req->nopts++;
	}
	return 0;
}

int proto_decode_create_endpoint(const char *body, size_t len, struct driver_ep_req *req,
				 struct driver_err *err)
{
	cJSON *o = parse(body, len, err);
	int r;

	memset(req, 0, sizeof(*req));
	if (!o)
		return -EINVAL;
	r = get_id(o, "NetworkID", req->net_id, err);
	if (!r)
		r = get_id(o, "EndpointID", req->id, err);
	if (!r)
		r = decode_interface(field(o, "Interface"), req, err);
	if (!r)
		r = decode_ep_options(field(o, "Options"), req, err);
	cJSON_Delete(o);
	return r;
}

static int get_port(const cJSON *o, const char *key, int lo, int hi, int *out,
		    struct driver_err *err)
{
	const cJSON *v = field(o, key);

	if (!cJSON_IsNumber(v) || v->valuedouble != (double)v->valueint || v->valueint < lo ||
	    v->valueint > hi)
		return driver_errf(err, EINVAL, "tiernet: portmap field %s must be a whole number "
				   "from %d to %d", key, lo, hi);
	*out = v->valueint;
	return 0;
}

static int decode_port(const cJSON *e, struct driver_port *p, struct driver_err *err)
{
	char host_ip[64];
	int proto = 0, port = 0, hp = 0, hpe = 0, r;

	if (!cJSON_IsObject(e))
		return driver_errf(err, EINVAL, "tiernet: portmap entries must be objects");
	r = get_port(e, "Proto", 0, 255, &proto, err);
	if (!r)
		r = get_port(e, "Port", 1, 65535, &port, err);
	if (!r)
		r = get_port(e, "HostPort", 0, 65535, &hp, err);
	if (!r)
		r = get_port(e, "HostPortEnd", 0, 65535, &hpe, err);
	if (!r)
		r = get_string(e, "HostIP", false, host_ip, sizeof(host_ip), err);
	if (r)
		return r;
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return driver_errf(err, EINVAL, "tiernet: port %d uses protocol %d; tiernet "
				   "publishes tcp and udp ports only", port, proto);
	if (host_ip[0] && inet_pton(AF_INET, host_ip, &p->host_ip) != 1)
		return driver_errf(err, EINVAL, "tiernet: host address \"%s\" of port %d is not an "
				   "IPv4 address; tiernet publishes IPv4 only", host_ip, port);
	if (hpe && hpe != hp)
		return driver_errf(err, EINVAL, "tiernet: host port range %d-%d for one container "
				   "port is not supported; give one host port per container port",
				   hp, hpe);
	p->proto = (uint8_t)proto;
	p->port = (uint16_t)port;
	p->host_port = (uint16_t)hp;
	p->host_port_end = (uint16_t)hp;
	return 0;
}

/* com.docker.network.portmap: one entry per published port, ranges already expanded. */
static int decode_portmap(const cJSON *opts, struct driver_port *ports, size_t *n,
			  struct driver_err *err)
{
	const cJSON *pm = cJSON_IsObject(opts) ? field(opts, "com.docker.network.portmap") : NULL;
	const cJSON *e;
	int r;

	*n = 0;
	if (!pm || cJSON_IsNull(pm))
		return 0;
	if (!cJSON_IsArray(pm))
		return driver_errf(err, EINVAL, "tiernet: com.docker.network.portmap must be an "
				   "array");
	cJSON_ArrayForEach(e, pm) {
		if (*n == DRIVER_PORTS_MAX)
			return driver_errf(err, E2BIG, "tiernet: more than %d published ports on "
					   "one container", DRIVER_PORTS_MAX);
		memset(&ports[*n], 0, sizeof(ports[*n]));
		r = decode_port(e, &ports[*n], err);
		if (r)
			return r;
		(*n)++;
	}
	return 0;
}

int proto_decode_pec(const char *body, size_t len, struct driver_pec_req *req,
		     struct driver_err *err)
{
	cJSON *o = parse(body, len, err);
	int r;

	memset(req, 0, sizeof(*req));
	if (!o)
		return -EINVAL;
	r = get_id(o, "NetworkID", req->net_id, err);
	if (!r)
		r = get_id(o, "EndpointID", req->id, err);
	if (!r)
		r = decode_portmap(field(o, "Options"), req->ports, &req->nports, err);
	cJSON_Delete(o);
	return r;
}

int proto_decode_join(const char *body, size_t len, struct driver_join_req *req,
		      struct driver_err *err)
{
	cJSON *o = parse(body, len, err);
	int r;

	memset(req, 0, sizeof(*req));
	if (!o)
		return -EINVAL;
	r = get_id(o, "NetworkID", req->net_id, err);
	if (!r)
		r = get_id(o, "EndpointID", req->id, err);
	if (!r)
		r = get_string(o, "SandboxKey", false, req->sandbox, sizeof(req->sandbox), err);
	if (!r)
		r = decode_portmap(field(o, "Options"), req->ports, &req->nports, err);
	cJSON_Delete(o);
	return r;
}

int proto_decode_ids(const char *body, size_t len, char net_id[DRIVER_ID_LEN + 1],
		     char ep_id[DRIVER_ID_LEN + 1], struct driver_err *err)
{
	cJSON *o = parse(body, len, err);
	int r;

	if (!o)
		return -EINVAL;
	r = get_id(o, "NetworkID", net_id, err);
	if (!r && ep_id)
		r = get_id(o, "EndpointID", ep_id, err);
	cJSON_Delete(o);
	return r;
}

static char *print_delete(cJSON *o)
{
	char *s = o ? cJSON_PrintUnformatted(o) : NULL;

	cJSON_Delete(o);
	return s;
}

char *proto_encode_err(const char *msg)
{
	cJSON *o = cJSON_CreateObject();

	if (o && !cJSON_AddStringToObject(o, "Err", msg)) {
		cJSON_Delete(o);
		return NULL;
	}
	return print_delete(o);
}

char *proto_encode_create_endpoint(const struct driver_ep_reply *reply)
{
	cJSON *o = cJSON_CreateObject(), *ifc = cJSON_AddObjectToObject(o, "Interface");
	char mac[18];

	if (!ifc) {
		cJSON_Delete(o);
		return NULL;
	}
	if (reply->mac_set) {
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", reply->mac[0],
			 reply->mac[1], reply->mac[2], reply->mac[3], reply->mac[4], reply->mac[5]);
		if (!cJSON_AddStringToObject(ifc, "MacAddress", mac)) {
			cJSON_Delete(o);
			return NULL;
		}
	}
	return print_delete(o);
}

char *proto_encode_join(const struct driver_join_reply *reply)
{
	cJSON *o = cJSON_CreateObject(), *ifn = cJSON_AddObjectToObject(o, "InterfaceName");
	char gw[INET_ADDRSTRLEN];
	bool ok;

	inet_ntop(AF_INET, &reply->gateway, gw, sizeof(gw));
	ok = ifn && cJSON_AddStringToObject(ifn, "SrcName", reply->src_name) &&
	     cJSON_AddStringToObject(ifn, "DstPrefix", "eth") &&
	     cJSON_AddStringToObject(o, "Gateway", reply->gateway ? gw : "") &&
	     (!reply->disable_gateway_service ||
	      cJSON_AddBoolToObject(o, "DisableGatewayService", true));
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return print_delete(o);
}
