/*
 * Unit: every limit of the request decoders and of the policy parser (README "Limits"), at
 * the limit (accepted) and one past it (refused with a sentence naming the limit).  The
 * request body size (413) and the caller check are server-side: tests/integration/limits.sh.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "plugin/plugin.h"
#include "policy/policy.h"

#define NET_ID "1a2b3c4d5e6f1a2b3c4d5e6f1a2b3c4d5e6f1a2b3c4d5e6f1a2b3c4d5e6f7a8b"
#define EP_ID  "e1e1e1e1e1e1aaaa0000000000000000000000000000000000000000000000aa"

/* A growing string, for bodies and policy files of any size. */
struct buf {
	char *s;
	size_t len, cap;
};

__attribute__((format(printf, 2, 3))) static void add(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	cr_assert(n >= 0);
	if (b->len + (size_t)n + 1 > b->cap) {
		b->cap = (b->len + (size_t)n + 1) * 2;
		b->s = realloc(b->s, b->cap);
		cr_assert_not_null(b->s);
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static void add_rep(struct buf *b, size_t n, const char *s)
{
	while (n--)
		add(b, "%s", s);
}

static struct err err;

/* ---- JSON depth and strings ---- */

static int delete_net_with(size_t depth_x)
{
	struct buf b = { 0 };
	char net[DRIVER_ID_LEN + 1];
	int r;

	add(&b, "{\"NetworkID\":\"%s\",\"x\":", NET_ID);
	add_rep(&b, depth_x, "[");
	add_rep(&b, depth_x, "]");
	add(&b, "}\n");
	r = proto_decode_ids(b.s, b.len, net, NULL, &err);
	free(b.s);
	return r;
}

Test(limits, json_depth_16_accepted_17_refused)
{
	/* The body's own object is level 1. */
	cr_assert_eq(delete_net_with(PLUGIN_JSON_DEPTH_MAX - 1), 0, "%s", err.msg);
	cr_assert_eq(delete_net_with(PLUGIN_JSON_DEPTH_MAX), -EINVAL);
	cr_assert_str_eq(err.msg, "tiernet: the request body nests deeper than 16 levels");
	cr_assert_eq(delete_net_with(100000), -EINVAL);
	cr_assert_str_eq(err.msg, "tiernet: the request body nests deeper than 16 levels");
}

Test(limits, brackets_in_strings_do_not_count)
{
	static const char body[] = "{\"NetworkID\":\"" NET_ID "\",\"x\":\"[[[[[[[[[[[[[[[[[[[[\","
				   "\"y\":\"\\\"[[[[[[[[[[[[[[[[[[[[\"}";
	char net[DRIVER_ID_LEN + 1];

	cr_assert_eq(proto_decode_ids(body, strlen(body), net, NULL, &err), 0, "%s", err.msg);
}

Test(limits, nul_and_raw_control_characters_refused)
{
	static const char nul[] = "{\"NetworkID\":\"" NET_ID "\",\"x\":\"a\\u0000b\"}";
	static const char esc[] = "{\"NetworkID\":\"" NET_ID "\",\"x\":\"a\\\\u0000b\"}";
	static const char raw[] = "{\"NetworkID\":\"" NET_ID "\",\"x\":\"a\nb\"}";
	char net[DRIVER_ID_LEN + 1];

	cr_assert_eq(proto_decode_ids(nul, strlen(nul), net, NULL, &err), -EINVAL);
	cr_assert(strstr(err.msg, "NUL character"), "%s", err.msg);
	cr_assert_eq(proto_decode_ids(esc, strlen(esc), net, NULL, &err), 0,
		     "an escaped backslash before u0000 is text: %s", err.msg);
	cr_assert_eq(proto_decode_ids(raw, strlen(raw), net, NULL, &err), -EINVAL);
	cr_assert(strstr(err.msg, "raw control character"), "%s", err.msg);
}

static int decode_id(const char *id)
{
	char body[256], net[DRIVER_ID_LEN + 1];

	snprintf(body, sizeof(body), "{\"NetworkID\":\"%s\"}", id);
	return proto_decode_ids(body, strlen(body), net, NULL, &err);
}

Test(limits, ids_exactly_64_hex)
{
	cr_assert_eq(decode_id(NET_ID), 0, "%s", err.msg);
	cr_assert_eq(decode_id(NET_ID "0"), -EINVAL);
	cr_assert(strstr(err.msg, "is not a 64-character hex ID"), "%s", err.msg);
	cr_assert_eq(decode_id(NET_ID + 1), -EINVAL);
	cr_assert(strstr(err.msg, "is not a 64-character hex ID"), "%s", err.msg);
}

Test(limits, quoted_values_show_no_control_characters)
{
	static const char body[] = "{\"NetworkID\":\"ab\\ncd\\u001b[31m\"}";
	char net[DRIVER_ID_LEN + 1];

	cr_assert_eq(proto_decode_ids(body, strlen(body), net, NULL, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "tiernet: field NetworkID \"ab?cd?[31m\" is not a "
				  "64-character hex ID");
}

/* ---- options ---- */

static struct driver_net_req net_req;
static struct driver_ep_req ep_req;

/* CreateNetwork with n options "KEY": "VALUE" (key and value made of klen / vlen letters). */
static int net_opts(size_t n, size_t klen, size_t vlen)
{
	struct buf b = { 0 };
	size_t i;
	int r;

	add(&b, "{\"NetworkID\":\"%s\",\"Options\":{\"com.docker.network.generic\":{", NET_ID);
	for (i = 0; i < n; i++) {
		add(&b, "%s\"", i ? "," : "");
		add_rep(&b, klen, "k");
		add(&b, "\":\"");
		add_rep(&b, vlen, "v");
		add(&b, "\"");
	}
	add(&b, "}}}\n");
	r = proto_decode_create_network(b.s, b.len, &net_req, &err);
	free(b.s);
	return r;
}

Test(limits, network_options_count)
{
	cr_assert_eq(net_opts(DRIVER_OPTS_MAX, 4, 4), 0, "%s", err.msg);
	cr_assert_eq(net_req.nopts, DRIVER_OPTS_MAX);
	cr_assert_eq(net_opts(DRIVER_OPTS_MAX + 1, 4, 4), -E2BIG);
	cr_assert_str_eq(err.msg, "tiernet: more than 32 network options");
}

Test(limits, network_option_name_and_value_length)
{
	cr_assert_eq(net_opts(1, DRIVER_OPT_KEYMAX - 1, 4), 0, "%s", err.msg);
	cr_assert_eq(strlen(net_req.opts[0].key), DRIVER_OPT_KEYMAX - 1);
	cr_assert_eq(net_opts(1, DRIVER_OPT_KEYMAX, 4), -EINVAL);
	cr_assert(strstr(err.msg, "network option name \"kkkk"), "%s", err.msg);
	cr_assert(strstr(err.msg, "is too long (at most 127 characters)"), "%s", err.msg);
	cr_assert_eq(net_opts(1, 4, DRIVER_OPT_VALMAX - 1), 0, "%s", err.msg);
	cr_assert_eq(strlen(net_req.opts[0].value), DRIVER_OPT_VALMAX - 1);
	cr_assert_eq(net_opts(1, 4, DRIVER_OPT_VALMAX), -EINVAL);
	cr_assert_str_eq(err.msg, "tiernet: the value of network option \"kkkk\" is too long "
				  "(at most 255 characters)");
}

static int ep_opts(size_t n, size_t klen, const char *value_json)
{
	struct buf b = { 0 };
	size_t i;
	int r;

	add(&b,
	    "{\"NetworkID\":\"%s\",\"EndpointID\":\"%s\",\"Options\":{"
	    "\"com.docker.network.portmap\":[],",
	    NET_ID, EP_ID);
	for (i = 0; i < n; i++) {
		add(&b, "%s\"%zu", i ? "," : "", i);
		add_rep(&b, klen, "k");
		add(&b, "\":%s", value_json);
	}
	add(&b, "}}\n");
	r = proto_decode_create_endpoint(b.s, b.len, &ep_req, &err);
	free(b.s);
	return r;
}

Test(limits, endpoint_options_like_network_options)
{
	cr_assert_eq(ep_opts(DRIVER_OPTS_MAX, 4, "\"v\""), 0, "%s", err.msg);
	cr_assert_eq(ep_req.nopts, DRIVER_OPTS_MAX, "com.docker.* keys are not counted");
	cr_assert_eq(ep_opts(DRIVER_OPTS_MAX + 1, 4, "\"v\""), -E2BIG);
	cr_assert_str_eq(err.msg, "tiernet: more than 32 endpoint options");
	cr_assert_eq(ep_opts(1, DRIVER_OPT_KEYMAX - 2, "\"v\""), 0, "%s", err.msg);
	cr_assert_eq(ep_opts(1, DRIVER_OPT_KEYMAX - 1, "\"v\""), -EINVAL);
	cr_assert(strstr(err.msg, "endpoint option name"), "%s", err.msg);
	cr_assert_eq(ep_opts(1, 4, "5"), -EINVAL, "a value that is not a string is refused");
	cr_assert_str_eq(err.msg, "tiernet: endpoint option \"0kkkk\" must be a string");
}

Test(limits, control_characters_in_options_and_paths_refused)
{
	static const char net[] =
	    "{\"NetworkID\":\"" NET_ID "\",\"Options\":{"
	    "\"com.docker.network.generic\":{\"tier\":\"front\\nfake log line\"}}}";
	static const char join[] = "{\"NetworkID\":\"" NET_ID "\",\"EndpointID\":\"" EP_ID "\","
				   "\"SandboxKey\":\"/var/run/docker/netns/\\u001b[2J\"}";
	struct driver_join_req *j = malloc(sizeof(*j));

	cr_assert_not_null(j);
	cr_assert_eq(proto_decode_create_network(net, strlen(net), &net_req, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "tiernet: network option \"tier\" has a control character in "
				  "its name or value");
	cr_assert_eq(proto_decode_join(join, strlen(join), j, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "tiernet: field SandboxKey has a control character");
	free(j);
}

/* ---- published ports ---- */

static char *portmap_body(size_t n, bool join)
{
	struct buf b = { 0 };
	size_t i;

	add(&b,
	    "{\"NetworkID\":\"%s\",\"EndpointID\":\"%s\",%s\"Options\":{"
	    "\"com.docker.network.portmap\":[",
	    NET_ID, EP_ID, join ? "\"SandboxKey\":\"/var/run/docker/netns/x\"," : "");
	for (i = 0; i < n; i++)
		add(&b,
		    "%s{\"Proto\":6,\"IP\":\"\",\"Port\":%zu,\"HostIP\":\"\",\"HostPort\":%zu,"
		    "\"HostPortEnd\":%zu}",
		    i ? "," : "", i + 1, 20001 + i, 20001 + i);
	add(&b, "]}}\n");
	return b.s;
}

Test(limits, published_ports_per_container)
{
	struct driver_pec_req *pec = malloc(sizeof(*pec));
	struct driver_join_req *join = malloc(sizeof(*join));
	char *s;

	cr_assert(pec && join);
	s = portmap_body(DRIVER_PORTS_MAX, false);
	cr_assert_eq(proto_decode_pec(s, strlen(s), pec, &err), 0, "%s", err.msg);
	cr_assert_eq(pec->nports, DRIVER_PORTS_MAX);
	cr_assert_eq(pec->ports[DRIVER_PORTS_MAX - 1].host_port, 20000 + DRIVER_PORTS_MAX);
	free(s);
	s = portmap_body(DRIVER_PORTS_MAX + 1, false);
	cr_assert_eq(proto_decode_pec(s, strlen(s), pec, &err), -E2BIG);
	cr_assert_str_eq(err.msg, "tiernet: more than 1024 published ports on one container");
	free(s);
	s = portmap_body(DRIVER_PORTS_MAX, true);
	cr_assert_eq(proto_decode_join(s, strlen(s), join, &err), 0, "%s", err.msg);
	cr_assert_eq(join->nports, DRIVER_PORTS_MAX);
	free(s);
	s = portmap_body(DRIVER_PORTS_MAX + 1, true);
	cr_assert_eq(proto_decode_join(s, strlen(s), join, &err), -E2BIG);
	free(s);
	free(pec);
	free(join);
}

/* ---- MAC addresses (strict form) ---- */

static int ep_mac(const char *mac)
{
	char body[512];

	snprintf(body, sizeof(body),
		 "{\"NetworkID\":\"%s\",\"EndpointID\":\"%s\",\"Interface\":"
		 "{\"Address\":\"10.1.1.2/24\",\"MacAddress\":\"%s\"}}",
		 NET_ID, EP_ID, mac);
	return proto_decode_create_endpoint(body, strlen(body), &ep_req, &err);
}

Test(limits, mac_address_strict)
{
	static const uint8_t want[6] = { 0x02, 0x42, 0x0a, 0xff, 0x00, 0x02 };

	cr_assert_eq(ep_mac("02:42:0a:FF:00:02"), 0, "%s", err.msg);
	cr_assert_arr_eq(ep_req.mac, want, 6);
	cr_assert_eq(ep_mac("-1:42:0a:00:00:02"), -EINVAL, "a sign");
	cr_assert_eq(ep_mac(" 2:42:0a:00:00:02"), -EINVAL, "a space");
	cr_assert_eq(ep_mac("2:42:a:0:0:2"), -EINVAL, "one-digit bytes");
	cr_assert_eq(ep_mac("02-42-0a-00-00-02"), -EINVAL, "dashes");
	cr_assert_eq(ep_mac("02:42:0a:00:00:02:"), -EINVAL, "trailing colon");
	cr_assert_eq(ep_mac("01:00:5e:00:00:01"), -EINVAL, "multicast");
	cr_assert_eq(ep_mac("00:00:00:00:00:00"), -EINVAL, "all zero");
	cr_assert(strstr(err.msg, "is not a MAC address such as 02:42:0a:00:00:02"), "%s", err.msg);
}

/* ---- the policy file ---- */

static struct config_diags diags;

static int parse(const struct buf *b)
{
	struct policy *pol = NULL;
	int r;

	config_diags_free(&diags);
	r = config_parse("limits.conf", b->s, b->len, &pol, &diags);
	policy_free(pol);
	return r;
}

static bool said(const char *needle)
{
	size_t i;

	for (i = 0; i < diags.n; i++)
		if (strstr(diags.v[i].message, needle))
			return true;
	return false;
}

static void tiers(struct buf *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		add(b, "tier t%zu\n", i);
}

Test(limits, policy_tiers)
{
	struct buf b = { 0 };

	tiers(&b, POLICY_TIERS_MAX);
	cr_assert_eq(parse(&b), 0);
	add(&b, "tier one_more\n");
	cr_assert_eq(parse(&b), -EINVAL);
	cr_assert(said("too many tiers (at most 256)"));
	free(b.s);
}

/* n allow lines between 65 tiers: t_i -> t_j, i != j (65 * 64 = 4160 pairs). */
static void allows(struct buf *b, size_t n)
{
	size_t i, j, k = 0;

	tiers(b, 65);
	for (i = 0; i < 65 && k < n; i++)
		for (j = 0; j < 65 && k < n; j++)
			if (i != j) {
				add(b, "allow t%zu -> t%zu\n", i, j);
				k++;
			}
}

Test(limits, policy_allow_lines)
{
	struct buf b = { 0 };

	allows(&b, POLICY_EDGES_MAX);
	cr_assert_eq(parse(&b), 0);
	free(b.s);
	memset(&b, 0, sizeof(b));
	allows(&b, POLICY_EDGES_MAX + 1);
	cr_assert_eq(parse(&b), -EINVAL);
	cr_assert(said("too many allow lines (at most 4096)"));
	free(b.s);
}

static void ports_line(struct buf *b, size_t n)
{
	size_t i;

	add(b, "tier a\ntier b\nallow a -> b ");
	for (i = 0; i < n; i++)
		add(b, "%stcp/%zu", i ? ", " : "", i + 1);
	add(b, "\n");
}

Test(limits, policy_ports_per_line)
{
	struct buf b = { 0 };

	ports_line(&b, POLICY_PORTS_MAX);
	cr_assert_eq(parse(&b), 0);
	free(b.s);
	memset(&b, 0, sizeof(b));
	ports_line(&b, POLICY_PORTS_MAX + 1);
	cr_assert_eq(parse(&b), -EINVAL);
	cr_assert(said("too many ports on one line (at most 64)"));
	free(b.s);
}

Test(limits, policy_token_and_name_length)
{
	struct buf b = { 0 };

	add(&b, "tier ");
	add_rep(&b, 16, "a");
	add(&b, "\n");
	cr_assert_eq(parse(&b), 0, "a 16-character tier name");
	b.len = 0;
	add(&b, "tier ");
	add_rep(&b, 17, "a");
	cr_assert_eq(parse(&b), -EINVAL);
	cr_assert(said("is too long (17 characters, at most 16)"));
	b.len = 0;
	add(&b, "tier ");
	add_rep(&b, CONFIG_TOKEN_MAX, "a");
	cr_assert_eq(parse(&b), -EINVAL);
	cr_assert(said("is too long (64 characters, at most 16)"), "a 64-character word is a word");
	b.len = 0;
	add(&b, "tier ");
	add_rep(&b, CONFIG_TOKEN_MAX + 1, "a");
	cr_assert_eq(parse(&b), -EINVAL);
	cr_assert(said("is too long (65 characters, at most 64)"));
	free(b.s);
}

Test(limits, policy_line_length)
{
	struct buf b = { 0 };

	add(&b, "tier a #");
	add_rep(&b, 4096 - 8, "x");
	cr_assert_eq(parse(&b), 0, "a 4096-character line");
	add(&b, "x");
	cr_assert_eq(parse(&b), -EINVAL);
	cr_assert(said("line is too long (4097 characters, at most 4096)"));
	free(b.s);
}

Test(limits, policy_words_per_line)
{
	struct buf b = { 0 };

	add(&b, "tier a");
	add_rep(&b, 254, " x");
	cr_assert_eq(parse(&b), -EINVAL);
	cr_assert(said("unknown flag \"x\""), "256 words are read (and their flags judged)");
	cr_assert(!said("too many words"));
	add(&b, " x");
	cr_assert_eq(parse(&b), -EINVAL);
	cr_assert(said("too many words on one line (at most 256)"));
	free(b.s);
}

/* config_load on a file of exactly size bytes: "tier a" and comment lines. */
static int load_sized(size_t size)
{
	char path[] = "/tmp/tiernet-limits.XXXXXX";
	struct policy *pol = NULL;
	struct buf b = { 0 };
	int fd, r;

	add(&b, "tier a\n");
	while (b.len + 1024 <= size) {
		add(&b, "#");
		add_rep(&b, 1022, "x");
		add(&b, "\n");
	}
	add_rep(&b, size - b.len, "#");
	cr_assert_eq(b.len, size);
	fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, b.s, b.len), (ssize_t)b.len);
	fchmod(fd, 0644);
	close(fd);
	config_diags_free(&diags);
	r = config_load(path, &pol, &diags);
	unlink(path);
	policy_free(pol);
	free(b.s);
	return r;
}

Test(limits, policy_file_size)
{
	cr_assert_eq(load_sized(CONFIG_FILE_MAX), 0, "a file of exactly 256 KiB");
	cr_assert_eq(load_sized(CONFIG_FILE_MAX + 1), -EFBIG);
	cr_assert(said("too big (262145 bytes, at most 262144)"));
}
