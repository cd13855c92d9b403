/*
 * policy/ internals: the names of tiernet's chains and the shapes of its rules, known here
 * once, for the compilers that write them (compile.c, publish.c) and the code that reads
 * them back (matrix.c).  driver/ and plugin/ use policy.h only.
 */
#ifndef TIERNET_POLICY_INTERNAL_H
#define TIERNET_POLICY_INTERNAL_H

#include "lib/names.h"
#include "policy/policy.h"

#define CH_FWD	 TN_CHAIN_PREFIX "-FWD"	  /* filter: accept marked, drop the rest; mangle: mark */
#define CH_IN	 TN_CHAIN_PREFIX "-IN"	  /* filter INPUT: containers to the host */
#define CH_SRC	 TN_CHAIN_PREFIX "-SRC-"  /* mangle: where tier <name> may open connections */
#define CH_POST	 TN_CHAIN_PREFIX "-POST"  /* nat POSTROUTING: masquerade */
#define CH_WORLD TN_CHAIN_PREFIX "-WORLD" /* mangle: what counts as the world */
#define CH_DNS	 TN_CHAIN_PREFIX "-DNS"	  /* nat PREROUTING: queries to the resolver */
#define CH_DNY	 TN_CHAIN_PREFIX "-DNY-"  /* filter: counts tier <name>'s denied connections */
#define CH_DSP	 TN_CHAIN_PREFIX "-DSP-"  /* mangle: the dispatch by tier, past 8 tiers a tree */
#define CH_OK	 TN_CHAIN_PREFIX "-OK"	  /* mangle: the policy allows the packet: mark it */
#define CH_LOG	 TN_CHAIN_PREFIX "-LOG"	  /* mangle: nothing allowed it: audit, log the denial */

/* compile.c */
/* TIERNET-SRC-<tier>, the chain of a tier's new connections, into buf. */
void policy_src_chain(char *buf, size_t len, const struct policy_tier *t);
/* TIERNET-DNY-<tier>, the chain that counts the tier's denied new connections, into buf. */
void policy_dny_chain(char *buf, size_t len, const struct policy_tier *t);

/* logrules.c: the rules on the drop paths (see there); 0 or -ENOMEM */
/* Before the DROP of chain: "-m conntrack --ctstate NEW -m limit -j NFLOG prefix". */
int logrules_deny(struct rules_set *rs, enum rules_table t, const char *chain, const char *prefix);
/*
 * Audit mode, before filter TIERNET-IN's DROP: new connections from an audited tier (groups
 * gives each tier's bridge group, 0 for none; mask the part that names the tier) to the host
 * are logged and accepted.
 */
int logrules_audit_host(struct rules_set *rs, const struct policy *pol, const uint32_t *groups,
			uint32_t mask);
/*
 * mangle TIERNET-LOG, where what the policy does not allow goes (what it allows went to
 * TIERNET-OK): new connections from or to an audited tier are logged as would-deny and
 * marked (so that the filter chain and Docker's pass-through let them through); the
 * remaining new connections, which the filter chains will drop, are logged as denied.
 */
int logrules_fwd(struct rules_set *rs, const struct policy *pol, const uint32_t *groups,
		 uint32_t mask);

/* nft.c: libnftables, for nft.c and nft_nat.c */
struct nft_ctx;
struct cJSON;
/* A context with buffered output and errors, and the output flags; NULL on ENOMEM. */
struct nft_ctx *nft_open_ctx(unsigned int flags);
/* Runs cmd (one transaction); on failure -errno and libnftables' message in e (if not NULL). */
int nft_exec(struct nft_ctx *ctx, const char *cmd, struct err *e);
/* nft_exec in a context of its own: one batch (one transaction). */
int nft_batch(const char *cmd, struct err *e);
/* Runs a list command and parses its JSON output (stateless, with handles) into *out. */
int nft_list_json(const char *cmd, struct err *e, struct cJSON **out);
/* What a table holds, its elements not read (so the cost does not grow with them). */
struct nft_shape {
	unsigned sets, maps, chains, rules;
};
/* Counts table's ("bridge tiernet", ...) objects into *out, all 0 when it does not exist. */
int nft_table_shape(const char *table, struct nft_shape *out, struct err *e);

#endif
