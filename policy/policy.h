/*
 * policy/: the tier model, the reachability policy compiled to firewall rules as plain data,
 * the reachability matrix those rules enforce, and the code that applies rules to the kernel
 * and reads them back (libiptc for the legacy x_tables, libnftables for the pass-through in
 * Docker's nf_tables chain).  Nothing in this header exposes a libiptc or libnftables type.
 */
#ifndef TIERNET_POLICY_H
#define TIERNET_POLICY_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/err.h"

/* ---------------------------------------------------------------------------------------
 * The policy model (filled by config/, read by the compiler).  Plain data on purpose: the
 * parser builds it, the compiler and the unit tests read it, nobody hides anything.
 */

#define POLICY_NAME_MAX 32 /* tier name buffer, including the NUL */
/* A tier name's characters at most: "TIERNET-SRC-" plus it fits a chain name. */
#define POLICY_TIER_LEN	 16
#define POLICY_TIERS_MAX 256
#define POLICY_EDGES_MAX 4096
#define POLICY_PORTS_MAX 64 /* port items on one allow line */

/* Pseudo-tiers, used where a tier index is expected. */
#define POLICY_WORLD (-1)
#define POLICY_HOST  (-2)

struct policy_port {
	uint8_t proto;	 /* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t lo, hi; /* inclusive; lo == hi for a single port */
};

struct policy_tier {
	char name[POLICY_NAME_MAX];
	bool internal; /* no traffic to or from the world */
	bool isolated; /* no traffic between containers of the tier */
	bool audit;    /* flows from or to it that the policy denies: logged, let through */
	unsigned line; /* where it was declared, for messages */
};

struct policy_edge {
	int src, dst;  /* tier index, POLICY_WORLD or POLICY_HOST */
	size_t nports; /* 0: all ports and protocols */
	struct policy_port *ports;
	unsigned line;
};

struct policy {
	struct policy_tier *tiers;
	size_t ntiers;
	struct policy_edge *edges;
	size_t nedges;
	bool audit;	     /* the "audit" line: every tier in audit mode */
	unsigned audit_line; /* where it is, for messages */
};

/* policy.c */
/* Frees the policy and everything it owns; NULL is accepted. */
void policy_free(struct policy *pol);
/* Returns the index of the tier called name, or -ENOENT. */
int policy_tier_find(const struct policy *pol, const char *name);
/*
 * Writes the declared tier names as "front, mid, back" into buf (always NUL-terminated).
 * Returns the length the full list needs, excluding the NUL (snprintf-like).
 */
size_t policy_tier_list(const struct policy *pol, char *buf, size_t len);
/* Returns the edge from src to dst (tier indexes or pseudo-tiers), or NULL. */
const struct policy_edge *policy_edge_find(const struct policy *pol, int src, int dst);

/* ---------------------------------------------------------------------------------------
 * Firewall rules as data.  The compiler produces a rules_set; the appliers write it; the
 * formatter prints a rule the way iptables-save would, which is what the golden tests and
 * `tiernet status` compare and show.
 */

#define RULES_CHAIN_MAX 29 /* XT_EXTENSION_MAXNAMELEN: 28 characters plus NUL */

enum rules_table { RULES_FILTER, RULES_MANGLE, RULES_NAT, RULES_RAW, RULES_NTABLES };

enum rules_verdict {
	RULES_ACCEPT,
	RULES_DROP,
	RULES_RETURN,
	RULES_JUMP, /* to rule.target */
	RULES_GOTO, /* to rule.target, not coming back: its RETURN returns from this chain */
	RULES_MARK, /* MARK --set-xmark set_mark/set_mask */
	RULES_DNAT, /* DNAT --to-destination to_addr[:to_port_lo[-to_port_hi]] */
	RULES_MASQUERADE,
	RULES_NFLOG,   /* NFLOG --nflog-prefix nflog_prefix --nflog-group nflog_group */
	RULES_UNKNOWN, /* read back from the kernel: a target tiernet does not write */
};

/* conntrack states (match "-m conntrack --ctstate ...") */
#define RULES_CT_INVALID     0x01
#define RULES_CT_NEW	     0x02
#define RULES_CT_ESTABLISHED 0x04
#define RULES_CT_RELATED     0x08
#define RULES_CT_DNAT	     0x10 /* --ctstate DNAT: the connection was destination-NATed */

/* -m devgroup: the in (src) or out (dst) interface's group, masked, is (or is not) id. */
struct rules_group {
	bool on, inv;
	uint32_t id, mask;
};

struct rules_rule {
	enum rules_table table;
	char chain[RULES_CHAIN_MAX];

	char in[IFNAMSIZ], out[IFNAMSIZ]; /* "" any; a trailing '+' is a prefix match */
	bool in_inv, out_inv;
	uint32_t src, smsk, dst, dmsk;		  /* IPv4, network byte order; mask 0 = any */
	struct in6_addr src6, smsk6, dst6, dmsk6; /* IPv6 (family AF_INET6); mask :: = any */
	bool src_inv, dst_inv;
	uint8_t proto;		     /* 0 any, else IPPROTO_* */
	uint16_t dport_lo, dport_hi; /* tcp/udp destination port range; 0,0 = any */
	bool icmp_match;	     /* -m icmp --icmp-type / -m icmp6 --icmpv6-type icmp_type */
	uint8_t icmp_type;

	struct rules_group in_group, out_group; /* -m devgroup --src-group / --dst-group */
	bool rpf_invert; /* -m rpfilter --invert: the source does not route back via in */

	uint8_t ctstate; /* RULES_CT_* bits; 0 = no conntrack match */
	bool mark_match; /* -m mark --mark mark/mark_mask */
	uint32_t mark, mark_mask;
	bool local_dst; /* -m addrtype --dst-type LOCAL */
	uint16_t limit; /* -m limit --limit limit/sec --limit-burst limit_burst; 0 none */
	uint16_t limit_burst;
	char comment[64]; /* "" none: -m comment --comment */
	/*
	 * Read back from the kernel only: what tiernet could not decode, shown as it would be
	 * printed (" -m NAME ?", " ?" for an address part), so that status never hides a rule.
	 */
	char unknown[64];
	uint64_t pkts, bytes; /* read back from the kernel only: the rule's counters */

	enum rules_verdict verdict;
	char target[RULES_CHAIN_MAX];	 /* RULES_JUMP, _GOTO; RULES_UNKNOWN: the target's name */
	uint32_t set_mark, set_mask;	 /* RULES_MARK */
	uint32_t to_addr;		 /* RULES_DNAT, network byte order */
	struct in6_addr to_addr6;	 /* RULES_DNAT, IPv6 */
	uint16_t to_port_lo, to_port_hi; /* RULES_DNAT, 0 = keep */
	uint16_t nflog_group;		 /* RULES_NFLOG */
	char nflog_prefix[32];		 /* RULES_NFLOG: what the daemon decodes (logrules.c) */

	uint8_t family; /* AF_INET or AF_INET6, the set's (rules_add sets it) */
};

/* A chain tiernet owns. */
struct rules_chain {
	enum rules_table table;
	char name[RULES_CHAIN_MAX];
};

/*
 * A hook: the built-in chain `from` of the table jumps to tiernet's chain `to` with a plain
 * "-j to", inserted first (the hooks of one built-in chain first, in the order given).
 * `from` may also be one of the chains RULES_FOREIGN_HOOKS names, which belong to someone
 * else (Docker): hooked while the chain exists, skipped while it does not.
 */
struct rules_hook {
	enum rules_table table;
	char from[RULES_CHAIN_MAX];
	char to[RULES_CHAIN_MAX];
};

/* Docker keeps DOCKER-USER first in FORWARD whatever it inserts (see compile.c). */
#define RULES_FOREIGN_HOOKS                                                                        \
	{                                                                                          \
		"DOCKER-USER"                                                                      \
	}

/* The rules of one family: iptables' or ip6tables' tables (rules_init gives AF_INET). */
struct rules_set {
	int family;
	struct rules_chain *chains;
	size_t nchains, chains_cap;
	struct rules_hook *hooks;
	size_t nhooks, hooks_cap;
	struct rules_rule *rules;
	size_t nrules, rules_cap;
};

/* rules.c */
const char *rules_table_name(enum rules_table t);
void rules_init(struct rules_set *rs);
/* rules_init for family AF_INET or AF_INET6. */
void rules_init_family(struct rules_set *rs, int family);
void rules_clear(struct rules_set *rs);
/* Adds a chain, hooked from built-in chain hook unless hook is NULL or "".  0 or -ENOMEM. */
int rules_add_chain(struct rules_set *rs, enum rules_table t, const char *name, const char *hook);
/* The prefix length of an IPv6 mask (the number of bits set). */
int rules_prefix6(const struct in6_addr *m);
/* Adds a hook: built-in chain from jumps to tiernet's chain to.  0 or -ENOMEM. */
int rules_add_hook(struct rules_set *rs, enum rules_table t, const char *from, const char *to);
/* Does rs have the chain name in table t? */
bool rules_has_chain(const struct rules_set *rs, enum rules_table t, const char *name);
/* Does rs have a chain or a rule in table t? */
bool rules_uses_table(const struct rules_set *rs, enum rules_table t);
/* A rule in chain of table t with verdict v and nothing to match yet. */
struct rules_rule rules_rule_make(enum rules_table t, const char *chain, enum rules_verdict v);
/* Appends a copy of r; returns 0 or -ENOMEM. */
int rules_add(struct rules_set *rs, const struct rules_rule *r);
/*
 * Prints r in iptables-save syntax without the table ("-A CHAIN -i br0 ... -j ACCEPT") into
 * buf (always NUL-terminated).  Returns the length needed, excluding the NUL.
 */
size_t rules_format(const struct rules_rule *r, char *buf, size_t len);
/*
 * Prints the whole set as "*table" sections with ":CHAIN" lines, "-I FROM -j TO" hooks and
 * "-A" rules, tables in filter, mangle, nat order, rules in order.  Returns a malloc'ed
 * string or NULL.
 */
char *rules_dump(const struct rules_set *rs);

/* rules_cmp.c */
/* Do a and b match the same packets the same way and do the same with them? */
bool rules_rule_equal(const struct rules_rule *a, const struct rules_rule *b);
/* Do a and b have the same chains, hooks and rules (in order) in table t, family alike? */
bool rules_table_equal(const struct rules_set *a, const struct rules_set *b, enum rules_table t);

/* ---------------------------------------------------------------------------------------
 * The compiler: policy plus the live networks in, rules out.  Pure.
 */

#define POLICY_FWMARK 0x01000000u /* "tiernet allowed this packet"; see README, firewall */

struct policy_net {
	char bridge[IFNAMSIZ];
	uint32_t addr, mask; /* gateway address and subnet mask, network byte order */
	bool dual;	     /* dual-stack: addr6/prefix6 are its IPv6 gateway and subnet */
	struct in6_addr addr6;
	uint8_t prefix6;
	int tier;	/* index into policy.tiers */
	bool internal;	/* Docker's --internal, or'ed with the tier's flag */
	uint32_t group; /* the bridge's interface group (lib/names.h) */
};

/*
 * What else on the host the rules must know: the bridges of Docker's own networks, which
 * are not the world (tiers and Docker's networks are isolated from each other both ways).
 */
struct policy_host {
	const char (*docker)[IFNAMSIZ];
	size_t ndocker;
	/* The resolver's UDP port on every gateway (names across tiers), 0 when it is off. */
	uint16_t dns_port;
};

/* A published port: host_ip:host_port on the host to addr:port in a container. */
struct policy_map {
	uint8_t proto;	  /* IPPROTO_TCP or IPPROTO_UDP */
	uint32_t host_ip; /* network byte order; 0 = every local address */
	uint16_t host_port;
	uint32_t addr; /* the container's address */
	uint16_t port;
	/* the IPv6 form, for a set of family AF_INET6: host_ip6 :: = every local address */
	struct in6_addr host_ip6, addr6;
};

/*
 * Denied new connections go to the daemon through NFLOG (policy/logrules.c writes the rules,
 * plugin/denylog.c reads them): one netlink group, a prefix saying what happened, and a rate
 * limit per rule so that a flood costs the daemon a few records a second.
 */
#define POLICY_NFLOG_GROUP    0x746e /* "tn" */
#define POLICY_NFLOG_RATE     20     /* records per second and rule, after the burst */
#define POLICY_NFLOG_BURST    40
#define POLICY_LOG_DENY_FWD   "tiernet-deny-fwd"   /* filter TIERNET-FWD drops it */
#define POLICY_LOG_DENY_HOST  "tiernet-deny-host"  /* filter TIERNET-IN drops it */
#define POLICY_LOG_AUDIT_FWD  "tiernet-audit-fwd"  /* would be dropped; audit lets it pass */
#define POLICY_LOG_AUDIT_HOST "tiernet-audit-host" /* ... on its way to the host */

/* logrules.c */
/* Is tier index t in audit mode (its own flag, or the policy's "audit" line)? */
bool policy_audited(const struct policy *pol, int t);
/* Has the policy any tier in audit mode? */
bool policy_audit_any(const struct policy *pol);

/* compile.c */
/*
 * Builds the complete tiernet ruleset for pol and the networks nets[0..n) into out (which
 * the caller initialised with rules_init).  Returns 0, -ENOMEM, or -EINVAL when a network
 * names a tier index outside pol.
 */
int policy_compile(const struct policy *pol, const struct policy_net *nets, size_t n,
		   const struct policy_host *host, struct rules_set *out);
/*
 * Appends to out (compiled by policy_compile) what the published ports maps[0..n) need in the
 * x_tables: the masquerade that lets 127.0.0.1 reach a container (IPv4).  The mappings
 * themselves are nf_tables map elements (natmap.c).  Whether a tier may publish is the
 * caller's check (policy_publish_check).  Returns 0 or -ENOMEM; no-op when n is 0.
 */
int policy_compile_maps(const struct policy_map *maps, size_t n, struct rules_set *out);
/*
 * May tier publish container port `port`/proto?  A port bound to 127.0.0.1 (host_only) is
 * host access and always allowed; anything else needs an
 * `allow world -> TIER` line (whose ports, if any, must include it) and a tier that is not
 * internal (internal: the tier's or Docker's flag).  Returns 0, or -EPERM with a sentence
 * naming the line to add in msg.
 */
int policy_publish_check(const struct policy *pol, int tier, bool internal, uint8_t proto,
			 uint16_t port, bool host_only, char *msg, size_t len);

/* ---------------------------------------------------------------------------------------
 * Export: the policy as Kubernetes NetworkPolicy manifests (`tiernet export kubernetes`).
 * Pure: a policy in, YAML text and warnings out.  README "More than one host" has the
 * mapping and what NetworkPolicy cannot say.
 */

#define K8S_LABEL_MAX	  63 /* a DNS-1123 label: namespace names, label values */
#define K8S_NAME_MAX	  64 /* buffer for one such label, with the NUL */
#define K8S_CIDRS_MAX	  32 /* --cluster-cidr given at most this often */
#define K8S_CIDR_TEXT_MAX 56 /* "ffff:...:ffff/128" with the NUL */

enum k8s_mode {
	K8S_NAMESPACES, /* one namespace per tier */
	K8S_LABELS,	/* one namespace, pods labelled tier=NAME */
};

/* An address range of the cluster (pods, Services, nodes): never part of "world". */
struct k8s_cidr {
	int family;		/* AF_INET or AF_INET6 */
	unsigned char addr[16]; /* network byte order; AF_INET uses the first 4 bytes */
	unsigned prefix;
};

struct k8s_opts {
	enum k8s_mode mode;
	const char *ns;	    /* K8S_NAMESPACES: prefix of every namespace ("NS-TIER"), or
			       NULL; K8S_LABELS: the namespace, NULL for "default" */
	const char *source; /* the policy file's name, shown in the header comment */
	const struct k8s_cidr *cidrs;
	size_t ncidrs;
};

struct k8s_result {
	char *yaml;	/* malloc'ed: the manifests */
	char *warnings; /* malloc'ed: what NetworkPolicy cannot say, one per line */
	char err[512];	/* why k8s_export refused */
};

/* k8s_names.c */
/* Is s a DNS-1123 label (lowercase letters, digits, '-'; alphanumeric at both ends)? */
bool k8s_label_ok(const char *s);
/*
 * Writes tier's Kubernetes name into buf (always NUL-terminated): lowercase, '_' becomes
 * '-'.  Returns 0, or -EINVAL when that is not a DNS-1123 label (a name ending in '_' or
 * '-') or does not fit len.
 */
int k8s_tier_name(const char *tier, char *buf, size_t len);
/*
 * Parses "ADDRESS/PREFIX" (IPv4 or IPv6, prefix 1 or more, no bits set after the prefix).
 * Returns 0, or -EINVAL with a sentence quoting text in err.
 */
int k8s_cidr_parse(const char *text, struct k8s_cidr *out, char *err, size_t len);
/* Prints c as "10.244.0.0/16" into buf; returns the length needed (snprintf-like). */
size_t k8s_cidr_format(const struct k8s_cidr *c, char *buf, size_t len);
bool k8s_cidr_equal(const struct k8s_cidr *a, const struct k8s_cidr *b);

/* k8s.c */
/*
 * Translates pol into NetworkPolicy (and Namespace) manifests as o says.  Returns 0 and
 * fills res->yaml and res->warnings (free both with k8s_result_free), -EINVAL with a
 * sentence in res->err (a bad --namespace, a repeated range, a tier name Kubernetes cannot
 * take, two objects that would get one name), or -ENOMEM.
 */
int k8s_export(const struct policy *pol, const struct k8s_opts *o, struct k8s_result *res);
void k8s_result_free(struct k8s_result *res);

/* ---------------------------------------------------------------------------------------
 * The reachability matrix a rules_set enforces, for `tiernet status` (and whoever must tell
 * what the kernel does rather than what the policy file says).
 */

/* matrix.c */
/*
 * One cell: may the row open connections to the column?  none, all (every port and
 * protocol), or the listed tcp/udp destination port ranges.
 */
struct policy_cell {
	bool all;
	size_t nports;
	struct policy_port *ports; /* malloc'ed, distinct, in the order first met */
};

/* Rows: the tiers, then world; columns: the tiers, world, host (see policy_matrix_cell). */
struct policy_matrix {
	size_t ntiers;
	struct policy_cell *cells; /* (ntiers + 1) x (ntiers + 2) */
};

/*
 * Computes the matrix that rs enforces, reading only rules the compiler writes: which
 * network's bridge belongs to which tier comes from nets[0..n).  Rules with parts tiernet
 * could not decode (rules_rule.unknown) open nothing.  Returns 0 or -ENOMEM; free with
 * policy_matrix_free.
 */
int policy_matrix(const struct policy *pol, const struct policy_net *nets, size_t n,
		  const struct rules_set *rs, struct policy_matrix *out);
void policy_matrix_free(struct policy_matrix *m);
/* The cell of row from (tier index or POLICY_WORLD) and column to (tier index, POLICY_WORLD
 * or POLICY_HOST). */
struct policy_cell *policy_matrix_cell(const struct policy_matrix *m, int from, int to);
/* The cell as "-" (none), "all" or "tcp/80,udp/53" into buf; returns buf. */
const char *policy_cell_str(const struct policy_cell *c, char *buf, size_t len);

/*
 * May a connection opened from `from` (a tier index, POLICY_WORLD or POLICY_HOST) to `to`,
 * protocol proto (IPPROTO_*), destination port dport (0 for other protocols), pass under
 * m?  The host may always open connections; from the world only to published ports, which
 * the caller checks (the world's row holds their container ports).
 */
bool policy_flow_allowed(const struct policy_matrix *m, int from, int to, uint8_t proto,
			 uint16_t dport);

/* ---------------------------------------------------------------------------------------
 * Applying to the kernel, and reading back.
 */

/* xt_apply.c */
/*
 * Makes the legacy x_tables match rs: in every table rs uses (and every table where a
 * TIERNET chain exists), tiernet's chains are flushed and refilled, missing chains are
 * created, chains that rs no longer has are deleted, and the hooks are present exactly
 * once each, first in their chains.  One libiptc commit per table; a commit that fails with
 * EAGAIN (someone else changed the table) is retried a bounded number of times.  When a
 * table fails, the tables already committed are put back to old (the set in force, or NULL
 * when unknown), so the change is all-or-nothing.  Returns 0 or -errno with the sentence in
 * err; -ENOTRECOVERABLE when putting back failed too, or when tables were committed and old
 * is NULL (the tables are mixed; the sentence names them).  An empty rs removes every
 * tiernet chain and hook.
 */
int xt_apply(const struct rules_set *rs, const struct rules_set *old, struct err *err);

/*
 * xt_apply for a change from last, the set this family last committed (never NULL): commits
 * only the tables whose chains, hooks or rules differ between rs and last, so a published
 * port costs one commit of the nat table, not a snapshot and a commit of every table.  It
 * trusts last to be what the kernel holds: the full xt_apply (start-up, SIGHUP, and the
 * tick when a hook or chain is missing) is what repairs a table someone else changed.
 */
int xt_apply_changed(const struct rules_set *rs, const struct rules_set *last, struct err *err);

/*
 * Are rs's chains all there and its hooks exactly in place, first in their chains (dockerd
 * inserts its own rules at the top of FORWARD when it starts or creates a network, and
 * creates DOCKER-USER after tiernet when started later)?  Rule contents are not compared.
 * Returns 1, 0, or -errno with the sentence in err.
 */
int xt_in_place(const struct rules_set *rs, struct err *err);

/* xt_read.c */
/*
 * Reads every tiernet chain of every table back into out (initialised by the caller): the
 * chains (sorted by name), the plain jumps to them from built-in chains as hooks, other
 * rules of built-in chains that jump to them, and their rules in order.  Returns 0 or
 * -errno with the sentence in err.
 */
int xt_read(struct rules_set *out, struct err *err);

/*
 * Calls fn with every interface name a rule of chain (in table, legacy x_tables) matches,
 * -i or -o, inverted or not.  0 when the table or chain does not exist, else 0 or -errno.
 */
int xt_chain_ifnames(enum rules_table t, const char *chain,
		     void (*fn)(const char *ifname, void *arg), void *arg);

/* The same four for ip6tables' tables (rs of family AF_INET6): policy/xt6_*.c. */
int xt6_apply(const struct rules_set *rs, const struct rules_set *old, struct err *err);
int xt6_apply_changed(const struct rules_set *rs, const struct rules_set *last, struct err *err);
int xt6_in_place(const struct rules_set *rs, struct err *err);
int xt6_read(struct rules_set *out, struct err *err);
int xt6_chain_ifnames(enum rules_table t, const char *chain,
		      void (*fn)(const char *ifname, void *arg), void *arg);

/* ct.c */
/* What ct_sweep judges connections by. */
struct policy_flows {
	int family;		       /* AF_INET or AF_INET6: the entries swept */
	const struct policy_net *nets; /* the networks now */
	size_t n;
	const struct policy_matrix *m; /* what the rules now enforce */
	const struct policy_map *maps; /* the published ports now */
	size_t nmaps;
	const struct policy_net *gone; /* networks just removed: their connections go */
	size_t ngone;
	uint16_t dns_port; /* the resolver's port (names across tiers), 0 when off */
};
/*
 * Deletes the conntrack entries of f's family of the connections f no longer allows (ct.c says how
 * they are judged).  Returns how many it cut, or -errno with the sentence in err.
 */
int ct_sweep(const struct policy_flows *f, struct err *err);

/* nft.c: the pass-through in Docker's nf_tables DOCKER-USER chain */
enum nft_mode { NFT_MODE_LEGACY, NFT_MODE_NFT };
/*
 * Detects where Docker keeps its rules: NFT_MODE_NFT when the nf_tables table "ip filter"
 * has a DOCKER-USER chain, else NFT_MODE_LEGACY.
 */
enum nft_mode nft_detect(void);
/*
 * Makes sure Docker's nf_tables DOCKER-USER chain starts with tiernet's pass-through (accept
 * packets in or out of a tiernet link that carry POLICY_FWMARK), exactly once.  No-op and 0
 * when that chain does not exist.  Returns 0 or -errno with the sentence in err.
 */
int nft_passthrough_ensure(struct err *err);
/* Removes every tiernet pass-through rule; returns 0 or -errno with the sentence in err. */
int nft_passthrough_remove(struct err *err);
/*
 * l2guard.c: tiernet's own nf_tables table "bridge tiernet", the guard at layer 2 (see there
 * what it drops), as text for libnftables.
 */
struct l2_ep {
	char ifname[IFNAMSIZ]; /* the host end of the endpoint's veth, a port of its bridge */
	uint32_t addr;	       /* network byte order */
	bool has6;
	struct in6_addr addr6;
	/*
	 * A veth whose endpoint's state was lost while its container runs on: addr/prefix and
	 * addr6/prefix6 are its network's subnets, any address of which passes (what the
	 * reverse-path check allowed before the guard knew each endpoint's address).
	 */
	bool lost;
	uint8_t prefix, prefix6;
};
/*
 * Writes to f the commands that replace the table whole (with on) or remove it: isolated[0..n)
 * are the veth groups of the isolated tiers, eps[0..neps) the endpoints whose sources pass.
 */
void l2_table_text(FILE *f, bool on, const uint32_t *isolated, size_t niso, const struct l2_ep *eps,
		   size_t neps);
/* Writes to f the commands that add (or delete) ep's elements. */
void l2_element_text(FILE *f, bool add, const struct l2_ep *ep);
/* What the table holds when whole (its elements aside). */
struct l2_shape {
	unsigned sets, chains, rules;
};
void l2_table_shape(bool isolated, struct l2_shape *s);

/*
 * nft.c: the table in the kernel.  nft_l2_apply replaces it whole (or removes it, without
 * on), in one atomic batch; nft_l2_element adds or deletes one endpoint's elements (-ENOENT
 * when the table is gone); nft_l2_in_place: 1 when the table has the shape of
 * l2_table_shape(isolated), 0 when not (or it is gone), -errno.  0 or -errno with err.
 */
int nft_l2_apply(bool on, const uint32_t *isolated, size_t niso, const struct l2_ep *eps,
		 size_t neps, struct err *err);
int nft_l2_element(bool add, const struct l2_ep *ep, struct err *err);
int nft_l2_in_place(bool isolated, struct err *err);
/*
 * natmap.c: published ports as the elements of tiernet's nf_tables nat maps, as text for
 * libnftables (see there why maps).
 */
/* Sorts maps[0..n) of family into the order natmap_diff walks. */
void natmap_sort(struct policy_map *maps, size_t n, int family);
/*
 * Writes to f the commands that make family's table "tiernet" hold exactly maps[0..n), in
 * one transaction whatever is there now; with n 0 they remove the table.  0 or -ENOMEM.
 */
int natmap_full(FILE *f, int family, const struct policy_map *maps, size_t n);
/*
 * Writes to f the element changes that take family's maps from old[0..nold) to maps[0..n),
 * both sorted by natmap_sort; the full form when either is empty.  0 or -ENOMEM.
 */
int natmap_diff(FILE *f, int family, const struct policy_map *old, size_t nold,
		const struct policy_map *maps, size_t n);

/* nft_nat.c: those tables in the kernel */
struct nat_maps {
	const struct policy_map *v4, *v6; /* sorted by natmap_sort */
	size_t n4, n6;
};
/*
 * Makes the kernel's tables hold want: from old by element changes, or replaced whole when
 * old is NULL (or the tables are gone).  Both families in one transaction.  0 or -errno with
 * the sentence in err.
 */
int nat_apply(const struct nat_maps *old, const struct nat_maps *want, struct err *err);
/*
 * Are want's tables in place: a family with mappings has its table with all its maps and
 * rules (the elements are not read: that would cost a listing of every mapping), one without
 * has none?  1 yes, 0 no, -errno with err.
 */
int nat_in_place(const struct nat_maps *want, struct err *err);

/*
 * Calls fn with every interface name (iifname, oifname) a rule of nf_tables chain
 * chain of table "ip filter" compares with.  0 when it does not exist, else 0 or -errno.
 */
int nft_chain_ifnames(const char *chain, void (*fn)(const char *ifname, void *arg), void *arg);

#endif
