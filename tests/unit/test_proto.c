/* Unit: protocol decode/encode on the bodies a real dockerd sent (tests/fixtures). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/plugin.h"

/* Reads a fixture and compacts nothing: cJSON accepts the pretty form dockerd's bytes had. */
static char *fixture(const char *name, size_t *len)
{
	char path[256];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "tests/fixtures/%s", name);
	f = fopen(path, "r");
	cr_assert_not_null(f, "fixture %s missing (run from the repository root)", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 2);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = '\n'; /* dockerd appends a newline to every body */
	*len = (size_t)n + 1;
	return buf;
}

static const char *ip(uint32_t a)
{
	static char s[INET_ADDRSTRLEN];

	return inet_ntop(AF_INET, &a, s, sizeof(s));
}

static struct driver_net_req net_req;
static struct driver_ep_req ep_req;
static struct err err;

static void decode_net(const char *name, int expect)
{
	size_t len;
	char *b = fixture(name, &len);

	cr_assert_eq(proto_decode_create_network(b, len, &net_req, &err), expect, "%s: %s", name,
		     err.msg);
	free(b);
}

static void decode_ep(const char *name, int expect)
{
	size_t len;
	char *b = fixture(name, &len);

	cr_assert_eq(proto_decode_create_endpoint(b, len, &ep_req, &err), expect, "%s: %s", name,
		     err.msg);
	free(b);
}

Test(proto, create_network_subnet)
{
	decode_net("create-network.subnet.json", 0);
	cr_assert_str_eq(net_req.id,
			 "b1789726b3954cbae6494eb342665e5f59f6c3c13a067c47f25dd30a203cf9e6");
	cr_assert_eq(net_req.nipv4, 1);
	cr_assert_str_eq(ip(net_req.gw), "10.200.1.1");
	cr_assert_eq(net_req.gw_prefix, 24);
	cr_assert_str_eq(ip(net_req.pool), "10.200.1.0");
	cr_assert_eq(net_req.nopts, 0);
	cr_assert(!net_req.internal);
	cr_assert(!net_req.ipv6);
}

Test(proto, create_network_driver_options_keep_every_key)
{
	decode_net("create-network.driver-options.json", 0);
	cr_assert_eq(net_req.nopts, 4);
	cr_assert_str_eq(net_req.opts[0].key, "com.docker.network.driver.mtu");
	cr_assert_str_eq(net_req.opts[0].value, "1450");
	cr_assert_str_eq(net_req.opts[1].key, "foo");
	cr_assert_str_eq(net_req.opts[3].value, "1400");
}

Test(proto, create_network_internal_and_ipv6)
{
	decode_net("create-network.internal.json", 0);
	cr_assert(net_req.internal);
	decode_net("create-network.compose-internal.json", 0);
	cr_assert(net_req.internal);
	decode_net("create-network.config-from.json", 0);
	cr_assert(!net_req.internal);
	decode_net("create-network.ipv6.json", 0);
	cr_assert(net_req.ipv6);
}

Test(proto, create_network_gateway_and_two_subnets)
{
	decode_net("create-network.subnet-gateway-iprange-aux.json", 0);
	cr_assert_str_eq(ip(net_req.gw), "10.200.2.254");
	decode_net("create-network.two-ipv4-subnets.json", 0);
	cr_assert_eq(net_req.nipv4, 2);
	decode_net("create-network.no-subnet-default-pool.json", 0);
	cr_assert_eq(net_req.gw_prefix, 16);
}

Test(proto, create_network_compose_and_managed)
{
	decode_net("create-network.compose-driver_opts-ipam.json", 0);
	cr_assert_gt(net_req.nopts, 0);
	decode_net("create-network.managed-plugin.json", 0);
	decode_net("create-network.labels.json", 0);
	decode_net("create-network.attachable.json", 0);
	decode_net("create-network.ipam-opt.json", 0);
}

Test(proto, empty_body_of_a_retry_is_an_error_sentence)
{
	cr_assert_eq(proto_decode_create_network("", 0, &net_req, &err), -EINVAL);
	cr_assert(strstr(err.msg, "has no body"), "%s", err.msg);
	cr_assert_eq(proto_decode_create_endpoint("", 0, &ep_req, &err), -EINVAL);
}

Test(proto, wrong_types_name_the_field)
{
	const char *b =
	    "{\"NetworkID\":\"b1789726b3954cbae6494eb342665e5f59f6c3c13a067c47f25dd30a203cf9e6\","
	    "\"Options\":{\"com.docker.network.internal\":\"yes\"}}";

	cr_assert_eq(proto_decode_create_network(b, strlen(b), &net_req, &err), -EINVAL);
	cr_assert_str_eq(err.msg,
			 "tiernet: field com.docker.network.internal must be true or false");
	b = "{\"NetworkID\":\"B1789726b3954cbae6494eb342665e5f59f6c3c13a067c47f25dd30a203cf9e6\"}";
	cr_assert_eq(proto_decode_ids(b, strlen(b), net_req.id, NULL, &err), -EINVAL);
	cr_assert(strstr(err.msg, "not a 64-character hex ID"), "%s", err.msg);
}

Test(proto, create_endpoint_plain)
{
	decode_ep("create-endpoint.run-plain.json", 0);
	cr_assert(ep_req.addr != 0);
	cr_assert(!ep_req.has_mac);
	cr_assert(!ep_req.has_ipv6);
	cr_assert_eq(ep_req.nopts, 0);
}

Test(proto, create_endpoint_ip_ip6_mac)
{
	static const uint8_t mac[6] = { 0x02, 0x42, 0x0a, 0xc8, 0x05, 0x32 };

	decode_ep("create-endpoint.run-ip-ip6-mac-alias.json", 0);
	cr_assert_str_eq(ip(ep_req.addr), "10.200.5.50");
	cr_assert(ep_req.has_ipv6);
	cr_assert(ep_req.has_mac);
	cr_assert_arr_eq(ep_req.mac, mac, 6);
}

Test(proto, create_endpoint_user_driver_opts_only)
{
	decode_ep("create-endpoint.connect-alias-ip-driver-opt.json", 0);
	cr_assert_eq(ep_req.nopts, 1);
	cr_assert_str_eq(ep_req.opts[0].key, "tiernet.tier");
	cr_assert_str_eq(ep_req.opts[0].value, "gold");
}

Test(proto, create_endpoint_every_fixture_decodes)
{
	decode_ep("create-endpoint.run-ports-expose-dns.json", 0);
	decode_ep("create-endpoint.run-publish-all.json", 0);
	decode_ep("create-endpoint.compose-empty-options.json", 0);
	decode_ep("create-endpoint.compose-ipv4_address-ports.json", 0);
	decode_ep("create-endpoint.internal-network-no-port-options.json", 0);
	decode_ep("create-endpoint.start-after-connect-on-created-container.json", 0);
	decode_ep("create-endpoint.connect-plain.json", 0);
}

Test(proto, join_and_id_only_calls)
{
	struct driver_join_req j;
	char net[DRIVER_ID_LEN + 1], ep[DRIVER_ID_LEN + 1];
	size_t len;
	char *b = fixture("join.run-plain.json", &len);

	cr_assert_eq(proto_decode_join(b, len, &j, &err), 0, "%s", err.msg);
	cr_assert_str_eq(j.sandbox, "/var/run/docker/netns/088e580fb38d");
	free(b);
	b = fixture("leave.disconnect.json", &len);
	cr_assert_eq(proto_decode_ids(b, len, net, ep, &err), 0, "%s", err.msg);
	free(b);
	b = fixture("delete-network.json", &len);
	cr_assert_eq(proto_decode_ids(b, len, net, NULL, &err), 0, "%s", err.msg);
	free(b);
	b = fixture("endpoint-oper-info.json", &len);
	cr_assert_eq(proto_decode_ids(b, len, net, ep, &err), 0, "%s", err.msg);
	free(b);
}

Test(proto, encode_replies)
{
	struct driver_join_reply j = { .src_name = "tncabc", .disable_gateway_service = true };
	struct driver_ep_reply e = { .mac_set = true, .mac = { 2, 0x42, 10, 0, 0, 2 } };
	char *s;

	inet_pton(AF_INET, "10.0.0.1", &j.gateway);
	s = proto_encode_join(&j);
	cr_assert_str_eq(s, "{\"InterfaceName\":{\"SrcName\":\"tncabc\",\"DstPrefix\":\"eth\"},"
			    "\"Gateway\":\"10.0.0.1\",\"DisableGatewayService\":true}");
	free(s);
	s = proto_encode_create_endpoint(&e);
	cr_assert_str_eq(s, "{\"Interface\":{\"MacAddress\":\"02:42:0a:00:00:02\"}}");
	free(s);
	s = proto_encode_err("tiernet: \"quoted\" value");
	cr_assert_str_eq(s, "{\"Err\":\"tiernet: \\\"quoted\\\" value\"}");
	free(s);
}

Test(names, derived_names_and_checks)
{
	char br[IFNAMSIZ], h[IFNAMSIZ], p[IFNAMSIZ];
	uint8_t mac[6];
	uint32_t a;
	static const uint8_t want[6] = { 0x02, 0x42, 10, 1, 2, 3 };

	driver_bridge_name("b1789726b3954cbae6494eb342665e5f59f6c3c13a067c47f25dd30a203cf9e6", br);
	cr_assert_str_eq(br, "tnbb1789726b395");
	driver_veth_names("4e3ba01017262b8972066d822a933cb421c50d557f69936e51380207f8f2540d", h, p);
	cr_assert_str_eq(h, "tnv4e3ba0101726");
	cr_assert_str_eq(p, "tnc4e3ba0101726");
	inet_pton(AF_INET, "10.1.2.3", &a);
	driver_mac_from_ip(a, mac);
	cr_assert_arr_eq(mac, want, 6);
	cr_assert(driver_ifname_valid("tnfront0"));
	cr_assert(!driver_ifname_valid("eth0"));
	cr_assert(!driver_ifname_valid("tnfront0123456789"));
	cr_assert(!driver_ifname_valid("tn/x"));
	cr_assert(!driver_id_valid("abc"));
	cr_assert(
	    !driver_id_valid("B1789726b3954cbae6494eb342665e5f59f6c3c13a067c47f25dd30a203cf9e6"));
}
