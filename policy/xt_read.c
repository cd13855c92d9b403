/*
 * Reading tiernet's chains back from the kernel: struct ipt_entry -> struct rules_rule.  What
 * does not fit a rules_rule is kept as text in rule.unknown ("-m NAME ?", "-j NAME ?"), so
 * that `tiernet status` never hides a rule, and opens nothing in the matrix.
 */
#include "policy/xt.h" /* first: libiptc's kernel headers before glibc's net/if.h */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
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

const struct xt_entry_target *xt_target_of(const struct ipt_entry *e)
{
	return (const struct xt_entry_target *)((const char *)e + e->target_offset);
}

static bool decode_iface(const char *via, const unsigned char *mask, char *out)
{
	char want[IFNAMSIZ] = { 0 };
	unsigned char wmask[IFNAMSIZ] = { 0 };
	size_t n = strnlen(via, IFNAMSIZ);

	if (n >= IFNAMSIZ)
		return false;
	xt_build_iface(via, want, wmask);
	memcpy(out, via, n + 1);
	return !memcmp(mask, wmask, IFNAMSIZ);
}

static bool decode_ip(const struct ipt_ip *ip, struct rules_rule *r)
{
	const uint32_t inv = XT_INV_SRCIP | XT_INV_DSTIP | XT_INV_VIA_IN | XT_INV_VIA_OUT;
	bool ok;

#ifdef XT_IPV6
	r->src6 = ip->src;
	r->smsk6 = ip->smsk;
	r->dst6 = ip->dst;
	r->dmsk6 = ip->dmsk;
	/* ip6tables sets the protocol flag with -p; nothing else (no tos, no -f) is ours */
	ok = (ip->flags & ~XT_F_GOTO) == (ip->proto ? IP6T_F_PROTO : 0) && !ip->tos;
	ok &= (!(ip->invflags & XT_INV_SRCIP) || rules_prefix6(&ip->smsk)) &&
	      (!(ip->invflags & XT_INV_DSTIP) || rules_prefix6(&ip->dmsk));
#else
	r->src = ip->src.s_addr;
	r->smsk = ip->smsk.s_addr;
	r->dst = ip->dst.s_addr;
	r->dmsk = ip->dmsk.s_addr;
	ok = !(ip->flags & ~XT_F_GOTO); /* the goto flag: decode_target */
	ok &= (!(ip->invflags & XT_INV_SRCIP) || r->smsk) &&
	      (!(ip->invflags & XT_INV_DSTIP) || r->dmsk);
#endif
	r->src_inv = ip->invflags & XT_INV_SRCIP;
	r->dst_inv = ip->invflags & XT_INV_DSTIP;
	r->in_inv = ip->invflags & XT_INV_VIA_IN;
	r->out_inv = ip->invflags & XT_INV_VIA_OUT;
	r->proto = (uint8_t)ip->proto;
	ok &= decode_iface(ip->iniface, ip->iniface_mask, r->in);
	ok &= decode_iface(ip->outiface, ip->outiface_mask, r->out);
	ok &= !(ip->invflags & ~inv) && ip->proto <= 0xff;
	return ok;
}

static bool decode_ports(struct rules_rule *r, const uint16_t *spts, const uint16_t *dpts)
{
	if (spts[0] != 0 || spts[1] != 0xffff || !dpts[0] || dpts[1] < dpts[0])
		return false;
	r->dport_lo = dpts[0];
	r->dport_hi = dpts[1] > dpts[0] ? dpts[1] : 0;
	return true;
}

static bool decode_tcp(struct rules_rule *r, const void *data)
{
	const struct xt_tcp *tcp = data;

	if (r->proto != IPPROTO_TCP || r->dport_lo || tcp->option || tcp->flg_mask || tcp->invflags)
		return false;
	return decode_ports(r, tcp->spts, tcp->dpts);
}

static bool decode_udp(struct rules_rule *r, const void *data)
{
	const struct xt_udp *udp = data;

	if (r->proto != IPPROTO_UDP || r->dport_lo || udp->invflags)
		return false;
	return decode_ports(r, udp->spts, udp->dpts);
}

static bool decode_icmp(struct rules_rule *r, const void *data)
{
#ifdef XT_IPV6
	const struct ip6t_icmp *ic = data;
	const uint8_t proto = IPPROTO_ICMPV6;
#else
	const struct ipt_icmp *ic = data;
	const uint8_t proto = IPPROTO_ICMP;
#endif

	if (r->icmp_match || r->proto != proto || ic->code[0] || ic->code[1] != 0xff ||
	    ic->invflags)
		return false;
	r->icmp_match = true;
	r->icmp_type = ic->type;
	return true;
}

static bool decode_conntrack(struct rules_rule *r, const void *data)
{
	const struct xt_conntrack_mtinfo3 *ct = data;
	uint16_t left = ct->state_mask;
	size_t i;

	if (r->ctstate || ct->match_flags != XT_CONNTRACK_STATE || ct->invert_flags ||
	    !ct->state_mask)
		return false;
	for (i = 0; i < xt_ct_nbits; i++) {
		if (ct->state_mask & xt_ct_bits[i].xt)
			r->ctstate |= xt_ct_bits[i].rule;
		left &= (uint16_t)~xt_ct_bits[i].xt;
	}
	return !left;
}

static bool decode_mark(struct rules_rule *r, const void *data)
{
	const struct xt_mark_mtinfo1 *m = data;

	if (r->mark_match || m->invert)
		return false;
	r->mark_match = true;
	r->mark = m->mark;
	r->mark_mask = m->mask;
	return true;
}

static bool decode_addrtype(struct rules_rule *r, const void *data)
{
	const struct xt_addrtype_info_v1 *at = data;

	if (r->local_dst || at->source || at->dest != XT_ADDRTYPE_LOCAL || at->flags)
		return false;
	r->local_dst = true;
	return true;
}

static bool decode_comment(struct rules_rule *r, const void *data)
{
	const struct xt_comment_info *c = data;
	size_t n = strnlen(c->comment, sizeof(c->comment));

	if (r->comment[0] || n >= sizeof(r->comment))
		return false;
	memcpy(r->comment, c->comment, n);
	r->comment[n] = '\0';
	return true;
}

static bool decode_devgroup(struct rules_rule *r, const void *data)
{
	const struct xt_devgroup_info *dg = data;
	const uint32_t known = XT_DEVGROUP_MATCH_SRC | XT_DEVGROUP_INVERT_SRC |
			       XT_DEVGROUP_MATCH_DST | XT_DEVGROUP_INVERT_DST;

	if (r->in_group.on || r->out_group.on || (dg->flags & ~known) ||
	    !(dg->flags & (XT_DEVGROUP_MATCH_SRC | XT_DEVGROUP_MATCH_DST)))
		return false;
	if (dg->flags & XT_DEVGROUP_MATCH_SRC)
		r->in_group = (struct rules_group){ .on = true,
						    .inv = dg->flags & XT_DEVGROUP_INVERT_SRC,
						    .id = dg->src_group,
						    .mask = dg->src_mask };
	if (dg->flags & XT_DEVGROUP_MATCH_DST)
		r->out_group = (struct rules_group){ .on = true,
						     .inv = dg->flags & XT_DEVGROUP_INVERT_DST,
						     .id = dg->dst_group,
						     .mask = dg->dst_mask };
	return true;
}

/* Only the whole rates per second that build_limit writes. */
static bool decode_limit(struct rules_rule *r, const void *data)
{
	const struct xt_rateinfo *ri = data;

	if (r->limit || !ri->avg || XT_LIMIT_SCALE % ri->avg || !ri->burst || ri->burst > 0xffff)
		return false;
	r->limit = (uint16_t)(XT_LIMIT_SCALE / ri->avg);
	r->limit_burst = (uint16_t)ri->burst;
	return true;
}

static bool decode_rpfilter(struct rules_rule *r, const void *data)
{
	const struct xt_rpfilter_info *rpf = data;

	if (r->rpf_invert || rpf->flags != XT_RPFILTER_INVERT)
		return false;
	r->rpf_invert = true;
	return true;
}

/* The matches rules_rule can hold, by kernel name and revision (table, not if-chain). */
static const struct match_ops {
	const char *name;
	uint8_t revision;
	size_t size;
	bool (*decode)(struct rules_rule *r, const void *data);
} match_ops[] = {
	{ "tcp", 0, sizeof(struct xt_tcp), decode_tcp },
	{ "udp", 0, sizeof(struct xt_udp), decode_udp },
#ifdef XT_IPV6
	{ "icmp6", 0, sizeof(struct ip6t_icmp), decode_icmp },
#else
	{ "icmp", 0, sizeof(struct ipt_icmp), decode_icmp },
#endif
	{ "conntrack", 3, sizeof(struct xt_conntrack_mtinfo3), decode_conntrack },
	{ "mark", 1, sizeof(struct xt_mark_mtinfo1), decode_mark },
	{ "addrtype", 1, sizeof(struct xt_addrtype_info_v1), decode_addrtype },
	{ "comment", 0, sizeof(struct xt_comment_info), decode_comment },
	{ "devgroup", 0, sizeof(struct xt_devgroup_info), decode_devgroup },
	{ "rpfilter", 0, sizeof(struct xt_rpfilter_info), decode_rpfilter },
	/* the kernel's own fields (prev, credit, ...) follow; only avg and burst are ours */
	{ "limit", 0, offsetof(struct xt_rateinfo, prev), decode_limit },
};

static bool decode_match(struct rules_rule *r, const struct xt_entry_match *m)
{
	size_t i;

	for (i = 0; i < sizeof(match_ops) / sizeof(match_ops[0]); i++) {
		if (strcmp(m->u.user.name, match_ops[i].name) ||
		    m->u.user.revision != match_ops[i].revision)
			continue;
		if (m->u.match_size < XT_ALIGN(sizeof(*m)) + match_ops[i].size)
			return false;
		return match_ops[i].decode(r, m->data);
	}
	return false;
}

/* Appends text to r->unknown (cut where it does not fit: the "?" says enough). */
static void unknown(struct rules_rule *r, const char *what, int len)
{
	size_t n = strlen(r->unknown);

	snprintf(r->unknown + n, sizeof(r->unknown) - n, "%.*s", len, what);
}

static void decode_matches(const struct ipt_entry *e, struct rules_rule *r)
{
	const struct xt_entry_match *m;
	char text[XT_EXTENSION_MAXNAMELEN + 8];
	size_t off;

	for (off = sizeof(*e); off + sizeof(*m) <= e->target_offset; off += m->u.match_size) {
		m = (const struct xt_entry_match *)((const char *)e + off);
		if (m->u.match_size < sizeof(*m)) {
			unknown(r, " -m ?", 5);
			break;
		}
		if (decode_match(r, m))
			continue;
		snprintf(text, sizeof(text), " -m %.*s ?", (int)sizeof(m->u.user.name),
			 m->u.user.name);
		unknown(r, text, (int)strlen(text));
	}
}

static bool decode_masquerade(struct rules_rule *r, const struct xt_entry_target *t)
{
#ifdef XT_IPV6
	const struct nf_nat_range *nat = (const void *)t->data;

	r->verdict = RULES_MASQUERADE;
	return !t->u.user.revision && t->u.target_size >= XT_ALIGN(sizeof(*t)) + sizeof(*nat) &&
	       !nat->flags;
#else
	const struct nf_nat_ipv4_multi_range_compat *nat = (const void *)t->data;

	r->verdict = RULES_MASQUERADE;
	return !t->u.user.revision && t->u.target_size >= XT_ALIGN(sizeof(*t)) + sizeof(*nat) &&
	       nat->rangesize == 1 && !nat->range[0].flags;
#endif
}

#ifdef XT_IPV6
/* DNAT to one address and maybe a port range: revision 2 (range2), what ip6tables uses. */
static bool decode_dnat(struct rules_rule *r, const struct xt_entry_target *t)
{
	const struct nf_nat_range2 *v2 = (const void *)t->data;
	const unsigned int pflags = NF_NAT_RANGE_PROTO_SPECIFIED;
	uint16_t plo, phi;

	if (t->u.user.revision != 2 || t->u.target_size < XT_ALIGN(sizeof(*t)) + sizeof(*v2))
		return false;
	plo = ntohs(v2->min_proto.all), phi = ntohs(v2->max_proto.all);
	r->verdict = RULES_DNAT;
	r->to_addr6 = v2->min_addr.in6;
	if (v2->flags & pflags)
		r->to_port_lo = plo, r->to_port_hi = phi > plo ? phi : 0;
	return (v2->flags & ~pflags) == NF_NAT_RANGE_MAP_IPS &&
	       !memcmp(&v2->min_addr.in6, &v2->max_addr.in6, sizeof(struct in6_addr)) &&
	       (!(v2->flags & pflags) || (plo && phi >= plo));
}
#else
/* DNAT to one address and maybe a port range; revisions 0 (compat) and 2 (range2). */
static bool decode_dnat(struct rules_rule *r, const struct xt_entry_target *t)
{
	const struct nf_nat_ipv4_multi_range_compat *v0 = (const void *)t->data;
	const struct nf_nat_range2 *v2 = (const void *)t->data;
	const unsigned int pflags = NF_NAT_RANGE_PROTO_SPECIFIED;
	uint32_t min, max, flags;
	uint16_t plo, phi;

	if (t->u.user.revision == 0 && t->u.target_size >= XT_ALIGN(sizeof(*t)) + sizeof(*v0) &&
	    v0->rangesize == 1) {
		flags = v0->range[0].flags, min = v0->range[0].min_ip, max = v0->range[0].max_ip;
		plo = ntohs(v0->range[0].min.all), phi = ntohs(v0->range[0].max.all);
	} else if (t->u.user.revision == 2 &&
		   t->u.target_size >= XT_ALIGN(sizeof(*t)) + sizeof(*v2)) {
		flags = v2->flags, min = v2->min_addr.ip, max = v2->max_addr.ip;
		plo = ntohs(v2->min_proto.all), phi = ntohs(v2->max_proto.all);
	} else {
		return false;
	}
	r->verdict = RULES_DNAT;
	r->to_addr = min;
	if (flags & pflags)
		r->to_port_lo = plo, r->to_port_hi = phi > plo ? phi : 0;
	return (flags & ~pflags) == NF_NAT_RANGE_MAP_IPS && min == max &&
	       (!(flags & pflags) || (plo && phi >= plo));
}

#endif

/* NFLOG as build_nflog writes it: a group, a prefix that fits, no threshold, no length. */
static bool decode_nflog(struct rules_rule *r, const struct xt_entry_target *t)
{
	const struct xt_nflog_info *nl = (const void *)t->data;
	size_t n;

	if (t->u.user.revision || t->u.target_size < XT_ALIGN(sizeof(*t)) + sizeof(*nl) ||
	    nl->flags || nl->threshold)
		return false;
	n = strnlen(nl->prefix, sizeof(nl->prefix));
	if (!n || n >= sizeof(r->nflog_prefix))
		return false;
	r->verdict = RULES_NFLOG;
	r->nflog_group = nl->group;
	memcpy(r->nflog_prefix, nl->prefix, n + 1);
	return true;
}

static bool decode_target(const struct ipt_entry *e, struct rules_rule *r, struct xtc_handle *h)
{
	const struct xt_entry_target *t = xt_target_of(e);
	const struct xt_mark_tginfo2 *mark = (const void *)t->data;
	const char *label = iptc_get_target(e, h);

	if (!label)
		return false;
	if (!t->u.user.name[0]) {
		/* standard target: a verdict, or a jump to a user chain */
		if (!strcmp(label, XT_LABEL_ACCEPT))
			r->verdict = RULES_ACCEPT;
		else if (!strcmp(label, XT_LABEL_DROP))
			r->verdict = RULES_DROP;
		else if (!strcmp(label, XT_LABEL_RETURN))
			r->verdict = RULES_RETURN;
		else if (iptc_is_chain(label, h) && strlen(label) < sizeof(r->target))
			r->verdict = (XT_IP(e).flags & XT_F_GOTO) ? RULES_GOTO : RULES_JUMP;
		else
			return false;
		if (r->verdict != RULES_JUMP && r->verdict != RULES_GOTO)
			return !(XT_IP(e).flags & XT_F_GOTO); /* "goto ACCEPT" is none of ours */
		snprintf(r->target, sizeof(r->target), "%s", label);
		return true;
	}
	if (XT_IP(e).flags & XT_F_GOTO)
		return false;
	if (!strcmp(t->u.user.name, "MARK") && t->u.user.revision == 2 &&
	    t->u.target_size >= XT_ALIGN(sizeof(*t)) + sizeof(*mark)) {
		r->verdict = RULES_MARK;
		r->set_mark = mark->mark;
		r->set_mask = mark->mask;
		return true;
	}
	if (!strcmp(t->u.user.name, "DNAT"))
		return decode_dnat(r, t);
	if (!strcmp(t->u.user.name, "MASQUERADE"))
		return decode_masquerade(r, t);
	if (!strcmp(t->u.user.name, "NFLOG"))
		return decode_nflog(r, t);
	return false;
}

/* A target rules_rule cannot hold: its name (or label) is kept; none for a fall-through. */
static void unknown_target(const struct ipt_entry *e, struct xtc_handle *h, struct rules_rule *r)
{
	const struct xt_entry_target *t = xt_target_of(e);
	const char *label = iptc_get_target(e, h);

	r->verdict = RULES_UNKNOWN;
	if (t->u.user.name[0])
		snprintf(r->target, sizeof(r->target), "%.*s", (int)sizeof(t->u.user.name),
			 t->u.user.name);
	else
		snprintf(r->target, sizeof(r->target), "%s", label ? label : "");
}

static int read_entry(struct rules_set *rs, const char *chain, const struct ipt_entry *e,
		      enum rules_table t, struct xtc_handle *h)
{
	struct rules_rule r = rules_rule_make(t, chain, RULES_ACCEPT);

	if (!decode_ip(&XT_IP(e), &r))
		snprintf(r.unknown, sizeof(r.unknown), " ?");
	decode_matches(e, &r);
	if (!decode_target(e, &r, h))
		unknown_target(e, h, &r);
	r.pkts = e->counters.pcnt;
	r.bytes = e->counters.bcnt;
	return rules_add(rs, &r);
}

bool xt_is_plain_jump(const struct ipt_entry *e, struct xtc_handle *h, const char **to)
{
	static const struct ipt_ip any;

	*to = iptc_get_target(e, h);
	return *to && e->target_offset == sizeof(*e) && !xt_target_of(e)->u.user.name[0] &&
	       !memcmp(&XT_IP(e), &any, sizeof(any));
}

bool xt_jumps_to_tiernet(const struct ipt_entry *e, struct xtc_handle *h)
{
	const char *to = iptc_get_target(e, h);

	return to && !xt_target_of(e)->u.user.name[0] && xt_is_tiernet(to);
}

int xt_read_chain(struct xtc_handle *h, enum rules_table t, const char *chain, struct rules_set *rs)
{
	const struct ipt_entry *e;
	int r = 0;

	for (e = iptc_first_rule(chain, h); e && !r; e = iptc_next_rule(e, h))
		r = read_entry(rs, chain, e, t, h);
	return r;
}

/* The jumps from built-in chains to chain: plain ones as hooks, others as rules. */
static int read_hooks(struct rules_set *rs, const struct names *builtin, const char *chain,
		      enum rules_table t, struct xtc_handle *h)
{
	const struct ipt_entry *e;
	const char *to;
	size_t i;
	int r = 0;

	for (i = 0; i < builtin->n && !r; i++) {
		for (e = iptc_first_rule(builtin->v[i], h); e && !r; e = iptc_next_rule(e, h)) {
			if (!xt_jumps_to_tiernet(e, h) || strcmp(iptc_get_target(e, h), chain))
				continue;
			if (xt_is_plain_jump(e, h, &to))
				r = rules_add_hook(rs, t, builtin->v[i], chain);
			else
				r = read_entry(rs, builtin->v[i], e, t, h);
		}
	}
	return r;
}

static int read_table(struct rules_set *rs, enum rules_table t, struct err *err)
{
	struct names builtin = { 0 }, ours = { 0 };
	struct xtc_handle *h;
	size_t i;
	int r;

	if (!xt_table_present(t))
		return 0;
	h = iptc_init(rules_table_name(t));
	if (!h)
		return xt_fail(err, "cannot read iptables table %s", rules_table_name(t));
	r = xt_list_chains(h, &builtin, &ours);
	for (i = 0; i < ours.n && !r; i++)
		r = rules_add_chain(rs, t, ours.v[i], NULL);
	for (i = 0; i < ours.n && !r; i++)
		r = read_hooks(rs, &builtin, ours.v[i], t, h);
	for (i = 0; i < ours.n && !r; i++)
		r = xt_read_chain(h, t, ours.v[i], rs);
	if (r)
		err_set(err, -r, "cannot read iptables table %s: %s", rules_table_name(t),
			strerror(-r));
	names_free(&builtin);
	names_free(&ours);
	iptc_free(h);
	return r;
}

int xt_read(struct rules_set *out, struct err *err)
{
	static const enum rules_table order[] = { RULES_FILTER, RULES_MANGLE, RULES_NAT,
						  RULES_RAW };
	size_t i;
	int r = 0;

	for (i = 0; i < sizeof(order) / sizeof(order[0]) && !r; i++)
		r = read_table(out, order[i], err);
	if (r)
		err_wrap(err, -r, "tiernet: cannot read the firewall rules back");
	return r;
}

int xt_chain_ifnames(enum rules_table t, const char *chain,
		     void (*fn)(const char *ifname, void *arg), void *arg)
{
	const struct ipt_entry *e;
	struct xtc_handle *h;

	if (!xt_table_present(t))
		return 0;
	h = iptc_init(rules_table_name(t));
	if (!h)
		return xt_errno();
	if (iptc_is_chain(chain, h)) {
		for (e = iptc_first_rule(chain, h); e; e = iptc_next_rule(e, h)) {
			const struct ipt_ip *ip = &XT_IP(e);

			if (ip->iniface[0] && strnlen(ip->iniface, IFNAMSIZ) < IFNAMSIZ)
				fn(ip->iniface, arg);
			if (ip->outiface[0] && strnlen(ip->outiface, IFNAMSIZ) < IFNAMSIZ)
				fn(ip->outiface, arg);
		}
	}
	iptc_free(h);
	return 0;
}
