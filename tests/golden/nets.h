/*
 * The .nets files of the golden cases, for every test that compiles them (unit/
 * test_compile.c, integration/fw_roundtrip.c, export/matrix.c):
 *   BRIDGE GATEWAY/PREFIX TIER [internal] [id=N] [v6=GATEWAY6/PREFIX6]
 *   docker BRIDGE
 * internal is Docker's --internal; the tier id (in the bridge's interface group) is the
 * tier's place among the tiers the file names first, unless given; v6= makes the network
 * dual-stack (its IPv6 gateway and prefix length); "docker" lines name the bridges of
 * Docker's own networks.
 */
#ifndef TIERNET_TESTS_GOLDEN_NETS_H
#define TIERNET_TESTS_GOLDEN_NETS_H

#include "policy/policy.h"

#define GOLDEN_NETS_MAX 64

struct golden_nets {
	struct policy_net nets[GOLDEN_NETS_MAX];
	size_t n;
	char docker[GOLDEN_NETS_MAX][IFNAMSIZ];
	struct policy_host host;
};

/*
 * Parses text (modified) under pol into out.  Returns 0, or -EINVAL with the bad line in
 * err[0..len).
 */
int golden_nets_parse(const struct policy *pol, char *text, struct golden_nets *out, char *err,
		      size_t len);

#endif
