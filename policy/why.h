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
	WHY_NOT_PUBLISHED,   /* world -> an endpoint that publishes no such port (the driver's) */
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
/*
 * "allowed", "no-edge", "port", "isolated", "internal", "docker-internal", "publish-gate",
 * "not-published".
 */
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

/* why_graph.c */
/* What the graph shows of a tier besides the policy: its live networks and endpoints. */
struct why_graph_tier {
	size_t nets, eps;
};
/*
 * The tier graph of pol as Graphviz DOT (mermaid false) or a Mermaid flowchart, in a
 * malloc'ed *out: a node per tier (internal, isolated marked; stats[i] networks and
 * endpoints), world and host; an edge per allow line with its ports and line, a dashed
 * one per tier that reaches the world; and a red "enforced != declared" edge for each pair
 * whose cell differs between the matrices declared (what tiernet compiled) and enforced
 * (read back from the kernel), when both are given.  Returns 0 or -ENOMEM.
 */
int why_graph(const struct policy *pol, const struct why_graph_tier *stats,
	      const struct policy_matrix *declared, const struct policy_matrix *enforced,
	      bool mermaid, char **out);

/* why_counters.c */
/*
 * The kernel's counters by policy line and tier pair.  Allowed: per allow line (pol's
 * edges, in order), the packets and bytes of the rules that implement it, which only the
 * first packets of new connections meet (replies and later packets pass on conntrack's
 * shortcut, per packet cheaper than counting them per edge).  Denied: per ordered pair of
 * tiers (and tier -> host), the new connections the rules dropped.
 */
struct why_count {
	uint64_t pkts, bytes;
};
struct why_counters {
	size_t nedges, ntiers;
	struct why_count *edges; /* [nedges] */
	uint64_t *denied;	 /* [ntiers][ntiers + 1]; column ntiers is the host */
};
/* Zeroed counters for pol; 0 or -ENOMEM.  Free with why_counters_free. */
int why_counters_init(const struct policy *pol, struct why_counters *c);
void why_counters_free(struct why_counters *c);
/*
 * Adds the counters of rs (read back from the kernel: xt_read or xt6_read, so both
 * families can be summed) to c; nets[0..n) say which bridge group is which tier.
 */
void why_counters_add(const struct policy *pol, const struct policy_net *nets, size_t n,
		      const struct rules_set *rs, struct why_counters *c);

/* why_diff.c */
/* One ordered pair whose ports go from denied to allowed (allowed true) or back. */
struct why_change {
	char from[POLICY_NAME_MAX], to[POLICY_NAME_MAX]; /* tier names, "world", "host" */
	bool allowed;
	char ports[WHY_TEXT_MAX]; /* "all", or "tcp/22, udp/53, tcp/9000-9100[, other protocols]" */
};
/*
 * What replacing the policy old with new changes, as declared (Docker --internal networks
 * and which ports are published are the containers' business, not the policy's): for each
 * ordered pair of tiers (by name, either policy's), world and host, the ports it gains and
 * loses.  Returns 0 with a malloc'ed array in *out (*n entries, NULL when none), or -ENOMEM.
 */
int why_diff(const struct policy *old, const struct policy *new, struct why_change **out,
	     size_t *n);

#endif
