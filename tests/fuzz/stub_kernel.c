/*
 * The kernel, stubbed for fuzz_admin: links always exist and every change succeeds, the
 * firewall "kernel" keeps the text of the last ruleset applied, and iptc_dump() returns it
 * (or what the fuzz input put in fuzz_kernel_dump).  Linked instead of driver/link.c,
 * policy/iptc.c and policy/nft.c (the Makefile leaves those out of fuzz_admin, so a function
 * added there shows up as an undefined reference to stub here), so nothing touches a link, a
 * rule or a table.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "driver/internal.h"
#include "tests/fuzz/stub_kernel.h"

const char *fuzz_kernel_dump;
static char *applied;

int link_bridge_add(const char *name, const uint8_t mac[6], int mtu, uint32_t addr,
		    uint8_t prefix, struct err *err)
{
	(void)name, (void)mac, (void)mtu, (void)addr, (void)prefix, (void)err;
	return 0;
}

int link_veth_add(const char *host, const char *peer, const char *bridge, const uint8_t mac[6],
		  int mtu, struct err *err)
{
	(void)host, (void)peer, (void)bridge, (void)mac, (void)mtu, (void)err;
	return 0;
}

int link_del(const char *name)
{
	(void)name;
	return 0;
}

int link_up(const char *name)
{
	(void)name;
	return 0;
}

int link_set_master(const char *name, const char *bridge)
{
	(void)name, (void)bridge;
	return 0;
}

int link_route_localnet(const char *name)
{
	(void)name;
	return 0;
}

int link_index(const char *name)
{
	(void)name;
	return 1;
}

int link_dump(struct link_info **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	return 0;
}

int iptc_apply(const struct rules_set *rs)
{
	char *text = rules_dump(rs);

	if (!text)
		return -ENOMEM;
	free(applied);
	applied = text;
	return 0;
}

const char *iptc_error(void)
{
	return "stub";
}

char *iptc_dump(void)
{
	const char *s = fuzz_kernel_dump ? fuzz_kernel_dump : applied;

	return strdup(s ? s : "");
}

void fuzz_kernel_free(void)
{
	free(applied);
	applied = NULL;
}

enum nft_mode nft_detect(void)
{
	return NFT_MODE_LEGACY;
}

int nft_passthrough_ensure(void)
{
	return 0;
}

int nft_passthrough_remove(void)
{
	return 0;
}
