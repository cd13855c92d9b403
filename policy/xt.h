/*
 * The legacy x_tables code of policy/ (libiptc), shared by its four files:
 *   xt_util.c   chain name lists, /proc lookups, libiptc's errors
 *   xt_build.c  struct rules_rule -> struct ipt_entry
 *   xt_read.c   struct ipt_entry -> struct rules_rule, and xt_read()
 *   xt_apply.c  xt_apply(): one snapshot and one commit per table
 * Only policy/ includes this header: it exposes libiptc's types.
 *
 * One source, two families, as iptables builds libip6tc from libiptc's source: the Makefile
 * compiles each xt_*.c a second time with XT_IPV6 defined, and the names below then mean
 * libip6tc's functions and types and give the IPv6 objects their own symbols (xt6_apply,
 * ...).  The few places where the families differ (the address part of an entry, ICMP, the
 * NAT targets' data, /proc names) say so with #ifdef XT_IPV6.
 */
#ifndef TIERNET_POLICY_XT_H
#define TIERNET_POLICY_XT_H

/* libiptc (linux/if.h) before net/if.h (policy.h): glibc's header defers to the kernel's. */
#ifdef XT_IPV6
#include <libiptc/libip6tc.h>
#else
#include <libiptc/libiptc.h>
#endif

#ifdef XT_IPV6
#define XT_FAMILY	      AF_INET6
#define XT_ICMP_MATCH	      "icmp6"
#define XT_LABEL_ACCEPT	      IP6TC_LABEL_ACCEPT
#define XT_LABEL_DROP	      IP6TC_LABEL_DROP
#define XT_LABEL_RETURN	      IP6TC_LABEL_RETURN
#define XT_PROC_TABLES	      "/proc/net/ip6_tables_names"
#define XT_PROC_MATCHES	      "/proc/net/ip6_tables_matches"
#define XT_PROC_TARGETS	      "/proc/net/ip6_tables_targets"
#define XT_IP(e)	      ((e)->ipv6)
#define XT_INV_SRCIP	      IP6T_INV_SRCIP
#define XT_INV_DSTIP	      IP6T_INV_DSTIP
#define XT_INV_VIA_IN	      IP6T_INV_VIA_IN
#define XT_INV_VIA_OUT	      IP6T_INV_VIA_OUT
#define XT_F_GOTO	      IP6T_F_GOTO
#define ipt_entry	      ip6t_entry
#define ipt_ip		      ip6t_ip6
#define iptc_append_entry     ip6tc_append_entry
#define iptc_builtin	      ip6tc_builtin
#define iptc_commit	      ip6tc_commit
#define iptc_create_chain     ip6tc_create_chain
#define iptc_delete_chain     ip6tc_delete_chain
#define iptc_delete_num_entry ip6tc_delete_num_entry
#define iptc_first_chain      ip6tc_first_chain
#define iptc_first_rule	      ip6tc_first_rule
#define iptc_flush_entries    ip6tc_flush_entries
#define iptc_free	      ip6tc_free
#define iptc_get_target	      ip6tc_get_target
#define iptc_init	      ip6tc_init
#define iptc_insert_entry     ip6tc_insert_entry
#define iptc_is_chain	      ip6tc_is_chain
#define iptc_next_chain	      ip6tc_next_chain
#define iptc_next_rule	      ip6tc_next_rule
#define iptc_strerror	      ip6tc_strerror
/* this family's symbols */
#define xt_apply	    xt6_apply
#define xt_apply_changed    xt6_apply_changed
#define xt_read		    xt6_read
#define xt_in_place	    xt6_in_place
#define xt_chain_ifnames    xt6_chain_ifnames
#define xt_table_present    xt6_table_present
#define xt_proc_has	    xt6_proc_has
#define xt_is_tiernet	    xt6_is_tiernet
#define xt_is_foreign_hook  xt6_is_foreign_hook
#define xt_errno	    xt6_errno
#define xt_fail		    xt6_fail
#define xt_list_chains	    xt6_list_chains
#define xt_entry_build	    xt6_entry_build
#define xt_entry_build_jump xt6_entry_build_jump
#define xt_build_iface	    xt6_build_iface
#define xt_ct_bits	    xt6_ct_bits
#define xt_ct_nbits	    xt6_ct_nbits
#define xt_target_of	    xt6_target_of
#define xt_is_plain_jump    xt6_is_plain_jump
#define xt_jumps_to_tiernet xt6_jumps_to_tiernet
#define xt_read_chain	    xt6_read_chain
#define names_add	    xt6_names_add
#define names_has	    xt6_names_has
#define names_sort	    xt6_names_sort
#define names_free	    xt6_names_free
#else
#define XT_FAMILY	AF_INET
#define XT_ICMP_MATCH	"icmp"
#define XT_LABEL_ACCEPT IPTC_LABEL_ACCEPT
#define XT_LABEL_DROP	IPTC_LABEL_DROP
#define XT_LABEL_RETURN IPTC_LABEL_RETURN
#define XT_PROC_TABLES	"/proc/net/ip_tables_names"
#define XT_PROC_MATCHES "/proc/net/ip_tables_matches"
#define XT_PROC_TARGETS "/proc/net/ip_tables_targets"
#define XT_IP(e)	((e)->ip)
#define XT_INV_SRCIP	IPT_INV_SRCIP
#define XT_INV_DSTIP	IPT_INV_DSTIP
#define XT_INV_VIA_IN	IPT_INV_VIA_IN
#define XT_INV_VIA_OUT	IPT_INV_VIA_OUT
#define XT_F_GOTO	IPT_F_GOTO
#endif

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
/* Is chain one of RULES_FOREIGN_HOOKS, someone else's chain tiernet may hook from? */
bool xt_is_foreign_hook(const char *chain);
/*
 * Collects the chains hooks come from (built-in ones, and the RULES_FOREIGN_HOOKS that
 * exist) and the tiernet chain names of a table (tiernet's sorted).  The names are copied
 * because libiptc's chain iterator does not survive changes to the handle.
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
const struct xt_entry_target *xt_target_of(const struct ipt_entry *e);
/* A rule with nothing but "-j TIERNET...": the shape of a hook jump; *to is its target. */
bool xt_is_plain_jump(const struct ipt_entry *e, struct xtc_handle *h, const char **to);
/* Does this rule (of a built-in chain) jump to a tiernet chain? */
bool xt_jumps_to_tiernet(const struct ipt_entry *e, struct xtc_handle *h);
/* Appends the rules of chain (table t) in snapshot h to rs, with their counters. */
int xt_read_chain(struct xtc_handle *h, enum rules_table t, const char *chain,
		  struct rules_set *rs);

#endif
