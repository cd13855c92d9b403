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

#include "lib/text.h"
#include "plugin/plugin.h"

/*
 * Checks the raw text before cJSON sees it, so that a hostile body costs one linear pass: at
 * most PLUGIN_JSON_DEPTH_MAX nested objects and arrays (cJSON itself recurses up to 1000
 * levels), and no NUL in a string (cJSON would cut the string there, so "front\u0000x" would
 * read as "front").  Text that is not JSON passes here and is refused by the parser.
 */
static int prescan(const char *body, size_t len, struct err *err)
{
	bool in_str = false;
	size_t i, depth = 0;

	for (i = 0; i < len; i++) {
		char c = body[i];

		if (in_str && c == '\\' && i + 1 < len) {
			if (body[i + 1] == 'u' && len - i >= 6 && !memcmp(body + i + 2, "0000", 4))
				return err_set(err, EINVAL,
					       "tiernet: the request body has a NUL "
					       "character (\\u0000) in a string");
			i++;
		} else if (c == '"') {
			in_str = !in_str;
		} else if (in_str && (unsigned char)c < 0x20) {
			/* RFC 8259 §7; Go's encoder escapes them, cJSON would take them raw */
			return err_set(err, EINVAL,
				       "tiernet: the request body is not valid JSON: "
				       "a string holds a raw control character");
		} else if (!in_str && (c == '{' || c == '[') && ++depth > PLUGIN_JSON_DEPTH_MAX) {
			return err_set(err, EINVAL,
				       "tiernet: the request body nests deeper than "
				       "%d levels",
				       PLUGIN_JSON_DEPTH_MAX);
		} else if (!in_str && (c == '}' || c == ']') && depth) {
			depth--;
		}
	}
	return 0;
}

/* Parses body as one JSON object; cJSON does not need the NUL since the length is given. */
static cJSON *parse(const char *body, size_t len, struct err *err)
{
	cJSON *o;

	if (len == 0) {
		err_set(err, EINVAL,
			"tiernet: the request has no body (dockerd resends a "
			"request without its body after a dropped connection); run the command "
			"again");
		return NULL;
	}
	if (prescan(body, len, err) < 0)
		return NULL;
	o = cJSON_ParseWithLength(body, len);
	if (!o) {
		err_set(err, EINVAL, "tiernet: the request body is not valid JSON");
		return NULL;
	}
	if (!cJSON_IsObject(o)) {
		err_set(err, EINVAL, "tiernet: the request body is not a JSON object");
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static const cJSON *field(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

/* A required string field copied into dst[max]; the message names the field. */
static int get_string(const cJSON *o, const char *key, bool required, char *dst, size_t max,
		      struct err *err)
{
	const cJSON *v = field(o, key);

	dst[0] = '\0';
	if (!v || cJSON_IsNull(v)) {
		if (required)
			return err_set(err, EINVAL, "tiernet: the request lacks the field %s", key);
		return 0;
	}
	if (!cJSON_IsString(v))
		return err_set(err, EINVAL, "tiernet: field %s must be a string", key);
	if (strlen(v->valuestring) >= max)
		return err_set(err, EINVAL, "tiernet: field %s is longer than %zu characters", key,
			       max - 1);
	memcpy(dst, v->valuestring, strlen(v->valuestring) + 1);
	return 0;
}

static int get_id(const cJSON *o, const char *key, char dst[DRIVER_ID_LEN + 1], struct err *err)
{
	char tmp[DRIVER_ID_LEN + 2], q[sizeof(tmp)];
	int r = get_string(o, key, true, tmp, sizeof(tmp), err);

	if (r == 0 && !driver_id_valid(tmp))
		r = err_set(err, EINVAL,
			    "tiernet: field %s \"%s\" is not a 64-character hex "
			    "ID",
			    key, text_shown(tmp, q, sizeof(q)));
	if (r < 0 && strstr(err->msg, "longer than"))
		r = err_set(err, EINVAL, "tiernet: field %s is not a 64-character hex ID", key);
	if (r == 0)
		memcpy(dst, tmp, DRIVER_ID_LEN + 1);
	return r;
}

static int get_bool(const cJSON *o, const char *key, bool *out, struct err *err)
{
	const cJSON *v = field(o, key);

	*out = false;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsBool(v))
		return err_set(err, EINVAL, "tiernet: field %s must be true or false", key);
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
	/* strtol would also take a sign and leading spaces: one or two digits only */
	if (slash[1] < '0' || slash[1] > '9' || strlen(slash + 1) > 2)
		return -EINVAL;
	errno = 0;
	p = strtol(slash + 1, &end, 10);
	if (errno || end == slash + 1 || *end || p < 0 || p > 32)
		return -EINVAL;
	if (inet_pton(AF_INET, ip, addr) != 1)
		return -EINVAL;
	*prefix = (uint8_t)p;
	return 0;
}

static int get_cidr(const cJSON *o, const char *key, bool required, uint32_t *addr, uint8_t *prefix,
		    struct err *err)
{
	char s[64], q[sizeof(s)];
	int r = get_string(o, key, required, s, sizeof(s), err);

	*addr = 0;
	*prefix = 0;
	if (r < 0 || !s[0])
		return r;
	if (parse_cidr(s, addr, prefix))
		return err_set(err, EINVAL,
			       "tiernet: field %s \"%s\" is not an IPv4 address "
			       "with a prefix length such as 10.1.2.3/24",
			       key, text_shown(s, q, sizeof(q)));
	return 0;
}

/* "fd00:1::2/64" into addr and prefix. */
static int parse_cidr6(const char *s, struct in6_addr *addr, uint8_t *prefix)
{
	char ip[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t n;
	long p;

	if (!slash || (size_t)(slash - s) >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	/* one to three digits only: strtol would also take a sign and spaces */
	n = strlen(slash + 1);
	if (!n || n > 3 || strspn(slash + 1, "0123456789") != n)
		return -EINVAL;
	p = strtol(slash + 1, NULL, 10);
	if (p > 128 || inet_pton(AF_INET6, ip, addr) != 1)
		return -EINVAL;
	*prefix = (uint8_t)p;
	return 0;
}

static int get_cidr6(const cJSON *o, const char *key, bool required, struct in6_addr *addr,
		     uint8_t *prefix, struct err *err)
{
	char s[80], q[sizeof(s)];
	int r = get_string(o, key, required, s, sizeof(s), err);

	memset(addr, 0, sizeof(*addr));
	*prefix = 0;
	if (r < 0 || !s[0])
		return r;
	if (parse_cidr6(s, addr, prefix))
		return err_set(err, EINVAL,
			       "tiernet: field %s \"%s\" is not an IPv6 address "
			       "with a prefix length such as fd00:1:2::3/64",
			       key, text_shown(s, q, sizeof(q)));
	return 0;
}

/* Has s a control character?  Such text has no place in a name, a value or a path. */
static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/*
 * One -o KEY=VALUE option (kind "network" or "endpoint") into o: the value a string, the key
 * shorter than DRIVER_OPT_KEYMAX and the value shorter than DRIVER_OPT_VALMAX, neither with
 * a control character (the driver quotes them in messages and the log).
 */
static int get_opt(const cJSON *c, const char *kind, struct driver_opt *o, struct err *err)
{
	char q[65];

	if (!cJSON_IsString(c))
		return err_set(err, EINVAL, "tiernet: %s option \"%s\" must be a string", kind,
			       text_shown(c->string, q, sizeof(q)));
	if (strlen(c->string) >= sizeof(o->key))
		return err_set(err, EINVAL,
			       "tiernet: %s option name \"%s...\" is too long (at "
			       "most %zu characters)",
			       kind, text_shown(c->string, q, sizeof(q)), sizeof(o->key) - 1);
	if (strlen(c->valuestring) >= sizeof(o->value))
		return err_set(err, EINVAL,
			       "tiernet: the value of %s option \"%s\" is too long "
			       "(at most %zu characters)",
			       kind, text_shown(c->string, q, sizeof(q)), sizeof(o->value) - 1);
	if (has_control(c->string) || has_control(c->valuestring))
		return err_set(err, EINVAL,
			       "tiernet: %s option \"%s\" has a control "
			       "character in its name or value",
			       kind, text_shown(c->string, q, sizeof(q)));
	memcpy(o->key, c->string, strlen(c->string) + 1);
	memcpy(o->value, c->valuestring, strlen(c->valuestring) + 1);
	return 0;
}

static int decode_generic(const cJSON *g, struct driver_net_req *req, struct err *err)
{
	const cJSON *c;
	int r;

	if (!g || cJSON_IsNull(g))
		return 0;
	if (!cJSON_IsObject(g))
		return err_set(err, EINVAL,
			       "tiernet: field com.docker.network.generic must "
			       "be an object");
	cJSON_ArrayForEach(c, g)
	{
		if (req->nopts == DRIVER_OPTS_MAX)
			return err_set(err, E2BIG, "tiernet: more than %d network options",
				       DRIVER_OPTS_MAX);
		r = get_opt(c, "network", &req->opts[req->nopts], err);
		if (r)
			return r;
		req->nopts++;
	}
	return 0;
}

static int decode_ipv4data(const cJSON *a, struct driver_net_req *req, struct err *err)
{
	const cJSON *first;
	int r;

	if (!a || cJSON_IsNull(a))
		return 0;
	if (!cJSON_IsArray(a))
		return err_set(err, EINVAL, "tiernet: field IPv4Data must be an array");
	req->nipv4 = (size_t)cJSON_GetArraySize(a);
	first = cJSON_GetArrayItem(a, 0);
	if (!first)
		return 0;
	if (!cJSON_IsObject(first))
		return err_set(err, EINVAL, "tiernet: IPv4Data entries must be objects");
	r = get_cidr(first, "Gateway", true, &req->gw, &req->gw_prefix, err);
	if (!r)
		r = get_cidr(first, "Pool", true, &req->pool, &req->pool_prefix, err);
	return r;
}

static int decode_ipv6data(const cJSON *a, struct driver_net_req *req, struct err *err)
{
	const cJSON *first;
	int r;

	if (!a || cJSON_IsNull(a))
		return 0;
	if (!cJSON_IsArray(a))
		return err_set(err, EINVAL, "tiernet: field IPv6Data must be an array");
	req->nipv6 = (size_t)cJSON_GetArraySize(a);
	first = cJSON_GetArrayItem(a, 0);
	if (!first)
		return 0;
	if (!cJSON_IsObject(first))
		return err_set(err, EINVAL, "tiernet: IPv6Data entries must be objects");
	r = get_cidr6(first, "Gateway", true, &req->gw6, &req->gw6_prefix, err);
	if (!r)
		r = get_cidr6(first, "Pool", true, &req->pool6, &req->pool6_prefix, err);
	return r;
}

int proto_decode_create_network(const char *body, size_t len, struct driver_net_req *req,
				struct err *err)
{
	cJSON *o = parse(body, len, err);
	const cJSON *opts;
	bool enable_v6 = false;
	int r;

	memset(req, 0, sizeof(*req));
	if (!o)
		return -EINVAL;
	r = get_id(o, "NetworkID", req->id, err);
	opts = field(o, "Options");
	if (!r && opts && !cJSON_IsNull(opts) && !cJSON_IsObject(opts))
		r = err_set(err, EINVAL, "tiernet: field Options must be an object");
	if (!r && cJSON_IsObject(opts)) {
		r = decode_generic(field(opts, "com.docker.network.generic"), req, err);
		if (!r)
			r = get_bool(opts, "com.docker.network.internal", &req->internal, err);
		if (!r)
			r = get_bool(opts, "com.docker.network.enable_ipv6", &enable_v6, err);
	}
	if (!r)
		r = decode_ipv4data(field(o, "IPv4Data"), req, err);
	if (!r)
		r = decode_ipv6data(field(o, "IPv6Data"), req, err);
	req->ipv6 = enable_v6 || req->nipv6 > 0;
	cJSON_Delete(o);
	return r;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Exactly "hh:hh:hh:hh:hh:hh" (sscanf's %x would also take signs, spaces and single digits),
 * and a unicast address other than 00:00:00:00:00:00: the kernel refuses the others on a veth.
 */
static int parse_mac(const char *s, uint8_t mac[6])
{
	int i, hi, lo;

	if (strlen(s) != 17)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		hi = hex_digit(s[3 * i]);
		lo = hex_digit(s[3 * i + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	if (mac[0] & 1 || !(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
		return -EINVAL;
	return 0;
}

static int decode_interface(const cJSON *ifc, struct driver_ep_req *req, struct err *err)
{
	char mac[32], q[sizeof(mac)];
	int r;

	if (!ifc || cJSON_IsNull(ifc))
		return 0;
	if (!cJSON_IsObject(ifc))
		return err_set(err, EINVAL, "tiernet: field Interface must be an object");
	r = get_cidr(ifc, "Address", false, &req->addr, &req->prefix, err);
	if (!r)
		r = get_cidr6(ifc, "AddressIPv6", false, &req->addr6, &req->prefix6, err);
	if (!r)
		r = get_string(ifc, "MacAddress", false, mac, sizeof(mac), err);
	if (r)
		return r;
	req->has_ipv6 = !IN6_IS_ADDR_UNSPECIFIED(&req->addr6);
	if (mac[0]) {
		if (parse_mac(mac, req->mac))
			return err_set(err, EINVAL,
				       "tiernet: MacAddress \"%s\" is not a MAC "
				       "address such as 02:42:0a:00:00:02 (six two-digit hex "
				       "bytes, unicast, not all zero)",
				       text_shown(mac, q, sizeof(q)));
		req->has_mac = true;
	}
	return 0;
}

/* Endpoint options mix dockerd's keys (com.docker.*) with the user's --driver-opt keys. */
static int decode_ep_options(const cJSON *opts, struct driver_ep_req *req, struct err *err)
{
	const cJSON *c;
	int r;

	if (!opts || cJSON_IsNull(opts))
		return 0;
	if (!cJSON_IsObject(opts))
		return err_set(err, EINVAL, "tiernet: field Options must be an object");
	cJSON_ArrayForEach(c, opts)
	{
		if (!strncmp(c->string, "com.docker.", 11))
			continue;
		if (req->nopts == DRIVER_OPTS_MAX)
			return err_set(err, E2BIG, "tiernet: more than %d endpoint options",
				       DRIVER_OPTS_MAX);
		r = get_opt(c, "endpoint", &req->opts[req->nopts], err);
		if (r)
			return r;
		req->nopts++;
	}
	return 0;
}

/* Parses a call about one endpoint and decodes its two IDs; NULL (err filled) on failure. */
static cJSON *parse_endpoint_call(const char *body, size_t len, char net_id[DRIVER_ID_LEN + 1],
				  char ep_id[DRIVER_ID_LEN + 1], struct err *err)
{
	cJSON *o = parse(body, len, err);

	if (o && (get_id(o, "NetworkID", net_id, err) || get_id(o, "EndpointID", ep_id, err))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int proto_decode_create_endpoint(const char *body, size_t len, struct driver_ep_req *req,
				 struct err *err)
{
	cJSON *o;
	int r;

	memset(req, 0, sizeof(*req));
	o = parse_endpoint_call(body, len, req->net_id, req->id, err);
	if (!o)
		return -EINVAL;
	r = decode_interface(field(o, "Interface"), req, err);
	if (!r)
		r = decode_ep_options(field(o, "Options"), req, err);
	cJSON_Delete(o);
	return r;
}

static int get_port(const cJSON *o, const char *key, int lo, int hi, int *out, struct err *err)
{
	const cJSON *v = field(o, key);

	if (!cJSON_IsNumber(v) || v->valuedouble != (double)v->valueint || v->valueint < lo ||
	    v->valueint > hi)
		return err_set(err, EINVAL,
			       "tiernet: portmap field %s must be a whole number "
			       "from %d to %d",
			       key, lo, hi);
	*out = v->valueint;
	return 0;
}

static int decode_port(const cJSON *e, struct driver_port *p, struct err *err)
{
	char host_ip[64], q[sizeof(host_ip)];
	int proto = 0, port = 0, hp = 0, hpe = 0, r;

	if (!cJSON_IsObject(e))
		return err_set(err, EINVAL, "tiernet: portmap entries must be objects");
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
		return err_set(err, EINVAL,
			       "tiernet: port %d uses protocol %d; tiernet "
			       "publishes tcp and udp ports only",
			       port, proto);
	if (!host_ip[0])
		p->family = 0;
	else if (inet_pton(AF_INET, host_ip, &p->host_ip) == 1)
		p->family = AF_INET;
	else if (inet_pton(AF_INET6, host_ip, &p->host_ip6) == 1)
		p->family = AF_INET6;
	else
		return err_set(err, EINVAL,
			       "tiernet: host address \"%s\" of port %d is neither an IPv4 nor "
			       "an IPv6 address; give one such as 127.0.0.1 or ::1",
			       text_shown(host_ip, q, sizeof(q)), port);
	if (hpe && hpe != hp)
		return err_set(err, EINVAL,
			       "tiernet: host port range %d-%d for one container "
			       "port is not supported; give one host port per container port",
			       hp, hpe);
	p->proto = (uint8_t)proto;
	p->port = (uint16_t)port;
	p->host_port = (uint16_t)hp;
	p->host_port_end = (uint16_t)hp;
	return 0;
}

/* com.docker.network.portmap: one entry per published port, ranges already expanded. */
static int decode_portmap(const cJSON *opts, struct driver_port *ports, size_t *n, struct err *err)
{
	const cJSON *pm = cJSON_IsObject(opts) ? field(opts, "com.docker.network.portmap") : NULL;
	const cJSON *e;
	int r;

	*n = 0;
	if (!pm || cJSON_IsNull(pm))
		return 0;
	if (!cJSON_IsArray(pm))
		return err_set(err, EINVAL,
			       "tiernet: com.docker.network.portmap must be an "
			       "array");
	cJSON_ArrayForEach(e, pm)
	{
		if (*n == DRIVER_PORTS_MAX)
			return err_set(err, E2BIG,
				       "tiernet: more than %d published ports on "
				       "one container",
				       DRIVER_PORTS_MAX);
		memset(&ports[*n], 0, sizeof(ports[*n]));
		r = decode_port(e, &ports[*n], err);
		if (r)
			return r;
		(*n)++;
	}
	return 0;
}

int proto_decode_pec(const char *body, size_t len, struct driver_pec_req *req, struct err *err)
{
	cJSON *o;
	int r;

	memset(req, 0, sizeof(*req));
	o = parse_endpoint_call(body, len, req->net_id, req->id, err);
	if (!o)
		return -EINVAL;
	r = decode_portmap(field(o, "Options"), req->ports, &req->nports, err);
	cJSON_Delete(o);
	return r;
}

int proto_decode_join(const char *body, size_t len, struct driver_join_req *req, struct err *err)
{
	cJSON *o;
	int r;

	memset(req, 0, sizeof(*req));
	o = parse_endpoint_call(body, len, req->net_id, req->id, err);
	if (!o)
		return -EINVAL;
	r = get_string(o, "SandboxKey", false, req->sandbox, sizeof(req->sandbox), err);
	if (!r && has_control(req->sandbox))
		r = err_set(err, EINVAL, "tiernet: field SandboxKey has a control character");
	if (!r)
		r = decode_portmap(field(o, "Options"), req->ports, &req->nports, err);
	cJSON_Delete(o);
	return r;
}

int proto_decode_ids(const char *body, size_t len, char net_id[DRIVER_ID_LEN + 1],
		     char ep_id[DRIVER_ID_LEN + 1], struct err *err)
{
	cJSON *o;
	int r = 0;

	if (ep_id) {
		o = parse_endpoint_call(body, len, net_id, ep_id, err);
		if (!o)
			return -EINVAL;
	} else {
		o = parse(body, len, err);
		if (!o)
			return -EINVAL;
		r = get_id(o, "NetworkID", net_id, err);
	}
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
	char gw[INET_ADDRSTRLEN], gw6[INET6_ADDRSTRLEN];
	bool ok;

	inet_ntop(AF_INET, &reply->gateway, gw, sizeof(gw));
	inet_ntop(AF_INET6, &reply->gateway6, gw6, sizeof(gw6));
	ok = ifn && cJSON_AddStringToObject(ifn, "SrcName", reply->src_name) &&
	     cJSON_AddStringToObject(ifn, "DstPrefix", "eth") &&
	     cJSON_AddStringToObject(o, "Gateway", reply->gateway ? gw : "") &&
	     (!reply->has_gateway6 || cJSON_AddStringToObject(o, "GatewayIPv6", gw6)) &&
	     (!reply->disable_gateway_service ||
	      cJSON_AddBoolToObject(o, "DisableGatewayService", true));
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return print_delete(o);
}
