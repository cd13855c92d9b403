/*
 * The legacy x_tables code of policy/ (libiptc), shared by its four files:
 *   xt_util.c   chain name lists, /proc lookups, libiptc's errors
 *   xt_build.c  struct rules_rule -> struct ipt_entry
 *   xt_read.c   struct ipt_entry -> struct rules_rule, and xt_read()
 *   xt_apply.c  xt_apply(): one snapshot and one commit per table
 * Only policy/ includes this header: it exposes libiptc's types.
 */
#ifndef TIERNET_POLICY_XT_H
#define TIERNET_POLICY_XT_H

/* libiptc (linux/if.h) before net/if.h (policy.h): glibc's header defers to the kernel's. */
#include <libiptc/libiptc.h>

#include "lib/err.h"
#include "policy/policy.h"

#define XT_ENTRY_MAX 1024 /* the largest entry we build is about 600 bytes */
#define XT_LINE_MAX  1024

/* xt_util.c */
struct names {
	xt_chainlabel *v;
	size_t n, cap;
};
int names_add(struct names *l, const char *name);
bool names_has(const struct names *l, const char *name);
void names_sort(struct names *l);
void names_free(struct names *l);
/* Is name one line of a /proc/net list such as ip_tables_names or ip_tables_matches? */
bool xt_proc_has(const char *path, const char *name);
/* Does the kernel hold table t in this namespace (else opening it would only create it)? */
bool xt_table_present(enum rules_table t);
/* Is chain one of tiernet's (by its prefix)? */
bool xt_is_tiernet(const char *chain);
/* -errno after a libiptc call failed (libiptc says 0 for a library/kernel mismatch). */
int xt_errno(void);
/*
 * After a libiptc call failed: "what: libiptc's explanation" into e, returns -errno.  Call
 * it first thing, before anything can change errno.
 */
int xt_fail(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * Collects the built-in and the tiernet chain names of a table (tiernet's sorted).  The
 * names are copied because libiptc's chain iterator does not survive changes to the handle.
 */
int xt_list_chains(struct xtc_handle *h, struct names *builtin, struct names *ours);

/* xt_build.c */
/* The union last: ipt_entry ends in a flexible array (elems), which belongs at the end. */
struct xt_entry {
	size_t len;
	union {
		struct ipt_entry e;
		unsigned char buf[XT_ENTRY_MAX];
	};
};
/* Builds the entry for r.  Returns 0, -EINVAL (r cannot be expressed) or -E2BIG. */
int xt_entry_build(struct xt_entry *en, const struct rules_rule *r);
/* The plain hook jump "-j chain", with nothing to match. */
int xt_entry_build_jump(struct xt_entry *en, const char *chain);
/* The same as the interface part of an entry: name and the mask iptables would give it. */
void xt_build_iface(const char *name, char *via, unsigned char *mask);
/* Conntrack state bits: ours (RULES_CT_*) and the kernel's XT_CONNTRACK_STATE_* mask. */
struct xt_ct_bit {
	uint8_t rule;
	uint16_t xt;
};
extern const struct xt_ct_bit xt_ct_bits[];
extern const size_t xt_ct_nbits;

/* xt_read.c */
const struct xt_entry_target *xt_entry_target(const struct ipt_entry *e);
/* A rule with nothing but "-j TIERNET...": the shape of a hook jump; *to is its target. */
bool xt_is_plain_jump(const struct ipt_entry *e, struct xtc_handle *h, const char **to);
/* Does this rule (of a built-in chain) jump to a tiernet chain? */
bool xt_jumps_to_tiernet(const struct ipt_entry *e, struct xtc_handle *h);

#endif
