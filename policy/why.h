/*
 * policy/why.c: why a new connection is allowed or denied under a policy, which line of the
 * policy decides it, and the line that would allow a denied one.  Pure: a struct policy in,
 * sentences out; no kernel, no driver.  `tiernet explain`, `tiernet log` and `tiernet check
 * --diff` all say "why" with it, so they never disagree.
 */
#ifndef TIERNET_POLICY_WHY_H
#define TIERNET_POLICY_WHY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"

enum why_reason {
	/* allowed */
	WHY_ALLOWED_EDGE,   /* an allow line */
	WHY_ALLOWED_TIER,   /* intra-tier traffic of a tier that is not isolated */
	WHY_ALLOWED_EGRESS, /* a tier that is not internal reaches the world */
	WHY_ALLOWED_HOST,   /* the host may always open connections to containers */
	/* denied */
	WHY_NO_EDGE,	     /* no allow line from the source to the destination */
	WHY_PORT,	     /* there is one, for other ports */
	WHY_ISOLATED,	     /* an isolated tier's containers do not talk to each other */
	WHY_INTERNAL,	     /* the tier is declared internal: no world traffic */
	WHY_DOCKER_INTERNAL, /* the network was created with Docker's --internal */
	WHY_GATE,	     /* world -> T without an "allow world -> T" line: nothing published */
};

/* A new connection: from src to dst, protocol and destination port (0, 0: any). */
struct why_flow {
	int src, dst;	    /* tier index, POLICY_WORLD or POLICY_HOST */
	uint8_t proto;	    /* IPPROTO_TCP, IPPROTO_UDP, or 0 for "any" */
	uint16_t port;	    /* destination port, 0 with proto 0 */
	bool src_dinternal; /* the source endpoint's network is Docker --internal */
	bool dst_dinternal; /* ... the destination's */
};

#define WHY_TEXT_MAX 320

struct why_verdict {
	bool allowed;
	enum why_reason reason;
	unsigned line;		 /* the deciding line (allow or tier line); 0: a built-in rule */
	char rule[WHY_TEXT_MAX]; /* that line as a statement: "allow front -> mid tcp/8080" */
	char why[WHY_TEXT_MAX];	 /* one sentence */
	unsigned fix_at;	 /* the fix replaces this line; 0: add it as a new line */
	char fix[WHY_TEXT_MAX];	 /* the line that would allow it; "" when no policy line can */
};

/* why.c */
/*
 * Decides flow f under pol as the compiler enforces it (README "The policy file").
 * Returns 0 with v filled, or -EINVAL when f names a tier outside pol or a pair tiernet does
 * not decide (world -> world, world -> host, host -> world, host -> host); then v->why says so.
 */
int why_decide(const struct policy *pol, const struct why_flow *f, struct why_verdict *v);
/*
 * For a denied new connection from tier src to tier dst (indexes, POLICY_WORLD or
 * POLICY_HOST), protocol proto (IPPROTO_TCP/UDP, 0 any) and port: the reason as a short
 * name (why_reason_name) into reason and the policy line that would allow it into fix
 * (both always NUL-terminated; fix "" when no policy line can, or when the flow is
 * allowed).  Returns 0, or -EINVAL as why_decide.  This is what a denied-flow log shows.
 */
int why_fix_line(const struct policy *pol, int src, int dst, uint8_t proto, uint16_t port,
		 char *reason, size_t rlen, char *fix, size_t flen);
/* "allowed", "no-edge", "port", "isolated", "internal", "docker-internal", "publish-gate". */
const char *why_reason_name(enum why_reason r);
/* A tier's name, "world" or "host". */
const char *why_tier_name(const struct policy *pol, int tier);
/*
 * Prints edge e as its policy line ("allow front -> mid tcp/8080, udp/53") into buf (always
 * NUL-terminated); returns the length needed (snprintf-like).
 */
size_t why_edge_format(const struct policy *pol, const struct policy_edge *e, char *buf,
		       size_t len);
/*
 * Parses "tcp/8080" or "udp/53" (a port 1..65535).  Returns 0, or -EINVAL with a sentence
 * quoting text in err.
 */
int why_port_parse(const char *text, uint8_t *proto, uint16_t *port, char *err, size_t len);

#endif
