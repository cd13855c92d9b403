/* Checks shared by the harnesses of the two requests that carry published ports. */
#ifndef TIERNET_FUZZ_PORTS_H
#define TIERNET_FUZZ_PORTS_H

#include <netinet/in.h>

#include "tests/fuzz/fuzz.h"

/* Decoded ports: tcp or udp, a container port, one host port (no range), at most the cap. */
static inline void fuzz_check_ports(const struct driver_port *p, size_t n)
{
	size_t i;

	FUZZ_ASSERT(n <= DRIVER_PORTS_MAX);
	for (i = 0; i < n; i++) {
		FUZZ_ASSERT(p[i].proto == IPPROTO_TCP || p[i].proto == IPPROTO_UDP);
		FUZZ_ASSERT(p[i].port >= 1);
		FUZZ_ASSERT(p[i].host_port_end == p[i].host_port);
	}
}

#endif
