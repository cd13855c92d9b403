/*
 * The kernel, stubbed for fuzz_admin: links always exist and every change succeeds, the
 * firewall "kernel" keeps a copy of the last ruleset applied, and xt_read() returns it (or
 * rules the fuzz input describes, fuzz_kernel_rules).  Linked instead of driver/link.c,
 * driver/nfgen.c, policy/xt_*.c, policy/nft.c and policy/ct.c (the Makefile leaves those out of
 * fuzz_admin, so a function added there shows up as an undefined reference to stub here), so
 * nothing touches a link, a rule, a table or the host's connections.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/internal.h"
#include "lib/names.h"
#include "tests/fuzz/stub_kernel.h"

const uint8_t *fuzz_kernel_rules;
size_t fuzz_kernel_rules_len;
static struct rules_set applied;

int link_bridge_add(const char *name, const uint8_t mac[6], int mtu, uint32_t addr, uint8_t prefix,
		    const struct link_v6 *v6, uint32_t group, struct err *err)
{
	(void)name, (void)mac, (void)mtu, (void)addr, (void)prefix, (void)v6, (void)group,
	    (void)err;
	return 0;
}

int link_bridge_addr6(const char *name, const uint8_t mac[6], const struct link_v6 *v6)
{
	(void)name, (void)mac, (void)v6;
	return 0;
}

int link_veth_add(const char *host, const char *peer, const char *bridge, const uint8_t mac[6],
		  int mtu, uint32_t group, struct err *err)
{
	(void)host, (void)peer, (void)bridge, (void)mac, (void)mtu, (void)group, (void)err;
	return 0;
}

bool link_group_ours(uint32_t group)
{
	return (group & TN_GROUP_MASK) == TN_GROUP;
}

int link_set_group(const char *name, uint32_t group)
{
	(void)name, (void)group;
	return 0;
}

int link_bridge_harden(const char *name)
{
	(void)name;
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

int link_dump_bridges(struct link_info **out, size_t *n)
{
	return link_dump(out, n);
}

/* No generation: the check lists the (stubbed) tables every time. */
int nfgen_read(uint32_t *gen)
{
	(void)gen;
	return -ENOSYS;
}

/* A deep copy of in appended to out; 0 or -ENOMEM. */
static int copy_set(const struct rules_set *in, struct rules_set *out)
{
	size_t i;
	int r = 0;

	for (i = 0; i < in->nchains && !r; i++)
		r = rules_add_chain(out, in->chains[i].table, in->chains[i].name, NULL);
	for (i = 0; i < in->nhooks && !r; i++)
		r = rules_add_hook(out, in->hooks[i].table, in->hooks[i].from, in->hooks[i].to);
	for (i = 0; i < in->nrules && !r; i++)
		r = rules_add(out, &in->rules[i]);
	return r;
}

int xt_apply(const struct rules_set *rs, const struct rules_set *old, struct err *err)
{
	(void)old;
	rules_clear(&applied);
	if (copy_set(rs, &applied))
		return err_set(err, ENOMEM, "tiernet: out of memory (stub)");
	return 0;
}

/* Names the fuzzer picks from: the shapes matrix.c reads, and some it must not. */
static const char *const chains[] = {
	"TIERNET-FWD",	    "TIERNET-IN",   "TIERNET-SRC-front", "TIERNET-SRC-mid",
	"TIERNET-SRC-back", "TIERNET-SRC-", "FORWARD",		 "TIERNET-POST",
};
static const char *const ifaces[] = {
	"", "tn+", "tnb0aaaaaaaaaaa", "tnb1aaaaaaaaaaa", "tnb2aaaaaaaaaaa", "eth0", "tnb9",
};

#define PICK(v, b) ((v)[(b) % (sizeof(v) / sizeof((v)[0]))])

/* Eight bytes a rule: table, chain, in, out, flags, verdict, port (two bytes). */
static int rules_from_bytes(const uint8_t *b, size_t n, struct rules_set *out)
{
	static const enum rules_verdict verdicts[] = {
		RULES_ACCEPT, RULES_DROP,	RULES_RETURN,  RULES_JUMP, RULES_MARK,
		RULES_DNAT,   RULES_MASQUERADE, RULES_UNKNOWN, RULES_GOTO,
	};
	struct rules_rule r;
	int ret = 0;

	for (; n >= 8 && !ret; b += 8, n -= 8) {
		r = rules_rule_make((enum rules_table)(b[0] % RULES_NTABLES), PICK(chains, b[1]),
				    PICK(verdicts, b[5]));
		snprintf(r.in, sizeof(r.in), "%s", PICK(ifaces, b[2]));
		snprintf(r.out, sizeof(r.out), "%s", PICK(ifaces, b[3]));
		r.in_inv = b[4] & 1;
		r.out_inv = b[4] & 2;
		r.proto = b[4] & 4 ? IPPROTO_TCP : b[4] & 8 ? IPPROTO_UDP : (uint8_t)(b[4] >> 6);
		r.dport_lo = (uint16_t)(b[6] << 8 | b[7]);
		r.dport_hi = b[4] & 16 ? (uint16_t)(r.dport_lo + b[6]) : 0;
		r.ctstate = b[4] & 32 ? RULES_CT_DNAT : 0;
		if (b[5] & 0x80)
			snprintf(r.unknown, sizeof(r.unknown), " -m limit ?");
		ret = rules_add(out, &r);
	}
	return ret;
}

/* IPv6: the stub keeps nothing; the fuzzed paths are the IPv4 ones. */
int xt6_apply(const struct rules_set *rs, const struct rules_set *old, struct err *err)
{
	(void)rs, (void)old, (void)err;
	return 0;
}

/* A Program/Revoke that changes ports commits only the tables that differ: the stub keeps all. */
int xt_apply_changed(const struct rules_set *rs, const struct rules_set *last, struct err *err)
{
	return xt_apply(rs, last, err);
}

int xt6_apply_changed(const struct rules_set *rs, const struct rules_set *last, struct err *err)
{
	(void)rs, (void)last, (void)err;
	return 0;
}

int xt6_in_place(const struct rules_set *rs, struct err *err)
{
	(void)rs, (void)err;
	return 1;
}

int xt6_read(struct rules_set *out, struct err *err)
{
	(void)out, (void)err;
	return 0;
}

int xt_read(struct rules_set *out, struct err *err)
{
	int r = fuzz_kernel_rules ? rules_from_bytes(fuzz_kernel_rules, fuzz_kernel_rules_len, out)
				  : copy_set(&applied, out);

	return r ? err_set(err, ENOMEM, "tiernet: out of memory (stub)") : 0;
}

void fuzz_kernel_free(void)
{
	rules_clear(&applied);
}

int xt_in_place(const struct rules_set *rs, struct err *err)
{
	(void)rs, (void)err;
	return 1;
}

int xt_chain_ifnames(enum rules_table t, const char *chain,
		     void (*fn)(const char *ifname, void *arg), void *arg)
{
	(void)t, (void)chain, (void)fn, (void)arg;
	return 0;
}

int nft_chain_ifnames(const char *chain, void (*fn)(const char *ifname, void *arg), void *arg)
{
	(void)chain, (void)fn, (void)arg;
	return 0;
}

int nft_l2_apply(bool on, const uint32_t *isolated, size_t niso, const struct l2_ep *eps,
		 size_t neps, struct err *err)
{
	(void)on, (void)isolated, (void)niso, (void)eps, (void)neps, (void)err;
	return 0;
}

int nft_l2_element(bool add, const struct l2_ep *ep, struct err *err)
{
	(void)add, (void)ep, (void)err;
	return 0;
}

int nft_l2_in_place(bool isolated, struct err *err)
{
	(void)isolated, (void)err;
	return 1;
}

/* Never the host's conntrack table: a fuzzed policy change must not cut real connections. */
int ct_sweep(const struct policy_flows *f, struct err *err)
{
	(void)f, (void)err;
	return 0;
}

enum nft_mode nft_detect(void)
{
	return NFT_MODE_LEGACY;
}

int nft_passthrough_ensure(struct err *err)
{
	(void)err;
	return 0;
}

int nft_passthrough_remove(struct err *err)
{
	(void)err;
	return 0;
}

int nat_apply(const struct nat_maps *old, const struct nat_maps *want, struct err *err)
{
	(void)old, (void)want, (void)err;
	return 0;
}

int nat_in_place(const struct nat_maps *want, struct err *err)
{
	(void)want, (void)err;
	return 1;
}
