/*
 * struct rules_rule -> struct ipt_entry.  Entries are built by hand with the same match
 * order, names and revisions the iptables command uses, so that iptables-legacy-save prints
 * a rule exactly as rules_format() does.  Nothing here execs iptables.
 */
#include "policy/xt.h" /* first: libiptc's kernel headers before glibc's net/if.h */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/xt_NFLOG.h>
#include <linux/netfilter/xt_addrtype.h>
#include <linux/netfilter/xt_comment.h>
#include <linux/netfilter/xt_conntrack.h>
#include <linux/netfilter/xt_devgroup.h>
#include <linux/netfilter/xt_limit.h>
#include <linux/netfilter/xt_mark.h>
#include <linux/netfilter/xt_rpfilter.h>

const struct xt_ct_bit xt_ct_bits[] = {
	{ RULES_CT_INVALID, XT_CONNTRACK_STATE_INVALID },
	{ RULES_CT_NEW, XT_CONNTRACK_STATE_BIT(IP_CT_NEW) },
	{ RULES_CT_ESTABLISHED, XT_CONNTRACK_STATE_BIT(IP_CT_ESTABLISHED) },
	{ RULES_CT_RELATED, XT_CONNTRACK_STATE_BIT(IP_CT_RELATED) },
	{ RULES_CT_DNAT, XT_CONNTRACK_STATE_DNAT },
};

const size_t xt_ct_nbits = sizeof(xt_ct_bits) / sizeof(xt_ct_bits[0]);

/*
 * Appends a match (or, with target set, the target) called name to the entry and returns
 * its zeroed data area of infosize bytes.  Sizes are XT_ALIGNed as the kernel requires.
 */
static void *entry_add(struct xt_entry *en, const char *name, uint8_t rev, size_t infosize,
		       bool target)
{
	struct xt_entry_match *m = (struct xt_entry_match *)(en->buf + en->len);
	size_t size = XT_ALIGN(sizeof(*m)) + XT_ALIGN(infosize);

	if (en->len + size > sizeof(en->buf))
		return NULL;
	memset(m, 0, size);
	if (target)
		en->e.target_offset = en->len;
	/* xt_entry_target has the same layout as xt_entry_match */
	m->u.user.match_size = size;
	snprintf(m->u.user.name, sizeof(m->u.user.name), "%s", name);
	m->u.user.revision = rev;
	en->len += size;
	if (target)
		en->e.next_offset = en->len;
	return m->data;
}

/*
 * As iptables' xtables_parse_interface(): the mask covers the name and its NUL, or only
 * the prefix before a trailing '+'.
 */
void xt_build_iface(const char *name, char *via, unsigned char *mask)
{
	size_t n = strlen(name);

	memcpy(via, name, n + 1);
	if (!n)
		return;
	if (name[n - 1] == '+')
		memset(mask, 0xff, n - 1);
	else
		memset(mask, 0xff, n + 1);
}

static int build_ip(struct ipt_ip *ip, const struct rules_rule *r)
{
	if (strnlen(r->in, IFNAMSIZ) >= IFNAMSIZ || strnlen(r->out, IFNAMSIZ) >= IFNAMSIZ)
		return -EINVAL;
#ifdef XT_IPV6
	size_t i;

	if (r->family != AF_INET6)
		return -EINVAL;
	for (i = 0; i < 16; i++) {
		ip->src.s6_addr[i] = r->src6.s6_addr[i] & r->smsk6.s6_addr[i];
		ip->dst.s6_addr[i] = r->dst6.s6_addr[i] & r->dmsk6.s6_addr[i];
	}
	ip->smsk = r->smsk6;
	ip->dmsk = r->dmsk6;
	/* as ip6tables: without the flag the kernel does not look for the protocol header */
	if (r->proto)
		ip->flags |= IP6T_F_PROTO;
	if (r->src_inv && rules_prefix6(&r->smsk6))
		ip->invflags |= XT_INV_SRCIP;
	if (r->dst_inv && rules_prefix6(&r->dmsk6))
		ip->invflags |= XT_INV_DSTIP;
#else
	if (r->family == AF_INET6)
		return -EINVAL;
	ip->src.s_addr = r->src & r->smsk;
	ip->smsk.s_addr = r->smsk;
	ip->dst.s_addr = r->dst & r->dmsk;
	ip->dmsk.s_addr = r->dmsk;
	/* rules_format ignores an inversion of "any"; so do we (iptables would match nothing) */
	if (r->src_inv && r->smsk)
		ip->invflags |= XT_INV_SRCIP;
	if (r->dst_inv && r->dmsk)
		ip->invflags |= XT_INV_DSTIP;
#endif
	xt_build_iface(r->in, ip->iniface, ip->iniface_mask);
	xt_build_iface(r->out, ip->outiface, ip->outiface_mask);
	if (r->in_inv && r->in[0])
		ip->invflags |= XT_INV_VIA_IN;
	if (r->out_inv && r->out[0])
		ip->invflags |= XT_INV_VIA_OUT;
	ip->proto = r->proto;
	return 0;
}

static int build_ports(struct xt_entry *en, const struct rules_rule *r)
{
	uint16_t hi = r->dport_hi > r->dport_lo ? r->dport_hi : r->dport_lo;
	struct xt_tcp *tcp;
	struct xt_udp *udp;

	if (!r->dport_lo)
		return 0;
	if (r->proto == IPPROTO_TCP) {
		tcp = entry_add(en, "tcp", 0, sizeof(*tcp), false);
		if (!tcp)
			return -E2BIG;
		tcp->spts[1] = 0xffff;
		tcp->dpts[0] = r->dport_lo;
		tcp->dpts[1] = hi;
	} else if (r->proto == IPPROTO_UDP) {
		udp = entry_add(en, "udp", 0, sizeof(*udp), false);
		if (!udp)
			return -E2BIG;
		udp->spts[1] = 0xffff;
		udp->dpts[0] = r->dport_lo;
		udp->dpts[1] = hi;
	}
	return 0;
}

/* "-m icmp --icmp-type N" or "-m icmp6 --icmpv6-type N", any code, as the commands build it */
static int build_icmp(struct xt_entry *en, const struct rules_rule *r)
{
#ifdef XT_IPV6
	struct ip6t_icmp *ic;
	const char *name = "icmp6";
	const uint8_t proto = IPPROTO_ICMPV6;
#else
	struct ipt_icmp *ic;
	const char *name = "icmp";
	const uint8_t proto = IPPROTO_ICMP;
#endif

	if (!r->icmp_match)
		return 0;
	if (r->proto != proto)
		return -EINVAL;
	ic = entry_add(en, name, 0, sizeof(*ic), false);
	if (!ic)
		return -E2BIG;
	ic->type = r->icmp_type;
	ic->code[0] = 0;
	ic->code[1] = 0xff;
	return 0;
}

static int build_conntrack(struct xt_entry *en, const struct rules_rule *r)
{
	struct xt_conntrack_mtinfo3 *ct;
	uint8_t left = r->ctstate;
	size_t i;

	if (!r->ctstate)
		return 0;
	ct = entry_add(en, "conntrack", 3, sizeof(*ct), false);
	if (!ct)
		return -E2BIG;
	ct->match_flags = XT_CONNTRACK_STATE;
	for (i = 0; i < xt_ct_nbits; i++) {
		if (r->ctstate & xt_ct_bits[i].rule)
			ct->state_mask |= xt_ct_bits[i].xt;
		left &= (uint8_t)~xt_ct_bits[i].rule;
	}
	return left ? -EINVAL : 0;
}

static int build_devgroup(struct xt_entry *en, const struct rules_rule *r)
{
	struct xt_devgroup_info *dg;

	if (!r->in_group.on && !r->out_group.on)
		return 0;
	dg = entry_add(en, "devgroup", 0, sizeof(*dg), false);
	if (!dg)
		return -E2BIG;
	if (r->in_group.on) {
		dg->flags |= XT_DEVGROUP_MATCH_SRC | (r->in_group.inv ? XT_DEVGROUP_INVERT_SRC : 0);
		dg->src_group = r->in_group.id;
		dg->src_mask = r->in_group.mask;
	}
	if (r->out_group.on) {
		dg->flags |=
		    XT_DEVGROUP_MATCH_DST | (r->out_group.inv ? XT_DEVGROUP_INVERT_DST : 0);
		dg->dst_group = r->out_group.id;
		dg->dst_mask = r->out_group.mask;
	}
	return 0;
}

static int build_rpfilter(struct xt_entry *en, const struct rules_rule *r)
{
	struct xt_rpfilter_info *rpf;

	if (!r->rpf_invert)
		return 0;
	rpf = entry_add(en, "rpfilter", 0, sizeof(*rpf), false);
	if (!rpf)
		return -E2BIG;
	rpf->flags = XT_RPFILTER_INVERT;
	return 0;
}

/*
 * "-m limit --limit N/sec --limit-burst B" as iptables builds it: avg is the time between
 * packets in 1/XT_LIMIT_SCALE seconds; the kernel fills in the rest at check time.
 */
static int build_limit(struct xt_entry *en, const struct rules_rule *r)
{
	struct xt_rateinfo *ri;

	if (r->limit > XT_LIMIT_SCALE || !r->limit_burst)
		return -EINVAL;
	ri = entry_add(en, "limit", 0, sizeof(*ri), false);
	if (!ri)
		return -E2BIG;
	ri->avg = XT_LIMIT_SCALE / r->limit;
	ri->burst = r->limit_burst;
	return 0;
}

/*
 * NFLOG to a group with a prefix, revision 0, as iptables builds it: threshold 0 leaves the
 * batching to the group's listener (plugin/denylog.c asks for every record at once).
 */
static int build_nflog(struct xt_entry *en, const struct rules_rule *r)
{
	struct xt_nflog_info *nl;

	if (!r->nflog_prefix[0])
		return -EINVAL;
	nl = entry_add(en, "NFLOG", 0, sizeof(*nl), true);
	if (!nl)
		return -E2BIG;
	nl->group = r->nflog_group;
	snprintf(nl->prefix, sizeof(nl->prefix), "%s", r->nflog_prefix);
	return 0;
}

static int build_matches(struct xt_entry *en, const struct rules_rule *r)
{
	struct xt_mark_mtinfo1 *mark;
	struct xt_addrtype_info_v1 *at;
	struct xt_comment_info *com;
	int err;

	err = build_ports(en, r);
	if (!err)
		err = build_icmp(en, r);
	if (!err)
		err = build_devgroup(en, r);
	if (!err)
		err = build_rpfilter(en, r);
	if (!err)
		err = build_conntrack(en, r);
	if (err)
		return err;
	if (r->mark_match) {
		mark = entry_add(en, "mark", 1, sizeof(*mark), false);
		if (!mark)
			return -E2BIG;
		mark->mark = r->mark;
		mark->mask = r->mark_mask;
	}
	if (r->local_dst) {
		at = entry_add(en, "addrtype", 1, sizeof(*at), false);
		if (!at)
			return -E2BIG;
		at->dest = XT_ADDRTYPE_LOCAL;
	}
	if (r->limit) {
		err = build_limit(en, r);
		if (err)
			return err;
	}
	if (r->comment[0]) {
		com = entry_add(en, "comment", 0, sizeof(*com), false);
		if (!com)
			return -E2BIG;
		snprintf(com->comment, sizeof(com->comment), "%.*s", (int)sizeof(r->comment),
			 r->comment);
	}
	return 0;
}

/*
 * DNAT uses revision 2 (struct nf_nat_range2), again because that is what iptables picks
 * and therefore what iptables-legacy-save can print.  MASQUERADE has only revision 0 (the
 * IPv4 compat range, one range, no flags: masquerade to the outgoing address).
 */
static int build_masquerade(struct xt_entry *en)
{
#ifdef XT_IPV6
	/* ip6t_MASQUERADE takes a struct nf_nat_range, no flags: the outgoing address */
	if (!entry_add(en, "MASQUERADE", 0, sizeof(struct nf_nat_range), true))
		return -E2BIG;
#else
	struct nf_nat_ipv4_multi_range_compat *nat;

	nat = entry_add(en, "MASQUERADE", 0, sizeof(*nat), true);
	if (!nat)
		return -E2BIG;
	nat->rangesize = 1;
#endif
	return 0;
}

static int build_dnat(struct xt_entry *en, const struct rules_rule *r)
{
	uint16_t hi = r->to_port_hi > r->to_port_lo ? r->to_port_hi : r->to_port_lo;
	struct nf_nat_range2 *nat;

	nat = entry_add(en, "DNAT", 2, sizeof(*nat), true);
	if (!nat)
		return -E2BIG;
	nat->flags = NF_NAT_RANGE_MAP_IPS;
#ifdef XT_IPV6
	nat->min_addr.in6 = r->to_addr6;
	nat->max_addr.in6 = r->to_addr6;
#else
	nat->min_addr.ip = r->to_addr;
	nat->max_addr.ip = r->to_addr;
#endif
	if (r->to_port_lo) {
		nat->flags |= NF_NAT_RANGE_PROTO_SPECIFIED;
		nat->min_proto.all = htons(r->to_port_lo);
		nat->max_proto.all = htons(hi);
	}
	return 0;
}

/* Standard verdicts and jumps: libiptc maps the label to a verdict or chain at append. */
static int build_standard(struct xt_entry *en, const char *label)
{
	const struct xt_standard_target *st;

	/* the data is the verdict, left 0: libiptc fills it in from the label */
	if (!entry_add(en, label, 0, sizeof(*st) - sizeof(st->target), true))
		return -E2BIG;
	return 0;
}

static int build_target(struct xt_entry *en, const struct rules_rule *r)
{
	struct xt_mark_tginfo2 *mark;

	switch (r->verdict) {
	case RULES_ACCEPT:
		return build_standard(en, XT_LABEL_ACCEPT);
	case RULES_DROP:
		return build_standard(en, XT_LABEL_DROP);
	case RULES_RETURN:
		return build_standard(en, XT_LABEL_RETURN);
	case RULES_JUMP:
		return build_standard(en, r->target);
	case RULES_GOTO:
		/* as iptables -g: a jump whose entry carries the goto flag */
		XT_IP(&en->e).flags |= XT_F_GOTO;
		return build_standard(en, r->target);
	case RULES_MARK:
		mark = entry_add(en, "MARK", 2, sizeof(*mark), true);
		if (!mark)
			return -E2BIG;
		mark->mark = r->set_mark;
		mark->mask = r->set_mask;
		return 0;
	case RULES_DNAT:
		return build_dnat(en, r);
	case RULES_MASQUERADE:
		return build_masquerade(en);
	case RULES_NFLOG:
		return build_nflog(en, r);
	case RULES_UNKNOWN:
		break;
	}
	return -EINVAL;
}

int xt_entry_build(struct xt_entry *en, const struct rules_rule *r)
{
	int err;

	memset(en->buf, 0, sizeof(struct ipt_entry));
	en->len = sizeof(struct ipt_entry);
	err = build_ip(&XT_IP(&en->e), r);
	if (!err)
		err = build_matches(en, r);
	if (!err)
		err = build_target(en, r);
	return err;
}

int xt_entry_build_jump(struct xt_entry *en, const char *chain)
{
	memset(en->buf, 0, sizeof(struct ipt_entry));
	en->len = sizeof(struct ipt_entry);
	return build_standard(en, chain);
}
