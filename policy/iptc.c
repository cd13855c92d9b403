/*
 * Applying a rules_set to the legacy x_tables with libiptc, and reading it back.
 *
 * libiptc works on a snapshot: iptc_init() copies the whole table out of the kernel, every
 * change (create, flush, append, delete) edits that private copy, and iptc_commit() hands
 * the kernel a complete new table in one IPT_SO_SET_REPLACE.  So all changes to one table
 * are atomic, and a table is never seen half-updated.  If another process replaced the
 * table between our snapshot and our commit, the kernel notices that the rule count it was
 * given for the counters no longer matches and fails the commit with EAGAIN; the only
 * correct reaction is to throw the snapshot away and start again from a fresh one (what
 * keepalived's vrrp_iptables.c does), a bounded number of times.  To make such races rare
 * and never the fault of a concurrent iptables command, iptc_apply() also holds the lock
 * iptables-legacy takes (xt_lock() below).
 *
 * Entries are built by hand from struct rules_rule, with the same match order, names and
 * revisions the iptables command uses, so that iptables-legacy-save prints a rule exactly
 * as rules_format() does.  Nothing here execs iptables.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libiptc/libiptc.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/xt_addrtype.h>
#include <linux/netfilter/xt_comment.h>
#include <linux/netfilter/xt_conntrack.h>
#include <linux/netfilter/xt_mark.h>
#include <linux/netfilter/xt_set.h>

#include "policy/policy.h"

#define TIERNET_PREFIX "TIERNET"
#define COMMIT_RETRIES 5
#define XT_LOCK_PATH   "/run/xtables.lock"
#define XT_LOCK_TRIES  500  /* 10 ms apart: give up after 5 s */
#define ENTRY_MAX      1024 /* largest entry we build is about 830 bytes */
#define LINE_MAX_LEN   1024

static char errbuf[1024];

const char *iptc_error(void)
{
	return errbuf;
}

__attribute__((format(printf, 1, 2))) static void set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
}

/* libiptc returns 0 with errno 0 for "version mismatch between library and kernel". */
static int iptc_errno(void)
{
	return errno ? -errno : -EPROTO;
}

/*
 * Records "what: libiptc's explanation" after a libiptc call failed, and returns -errno.
 * errno and iptc_strerror() (which names the failed libiptc function's error) are read
 * before anything else can change them.
 */
__attribute__((format(printf, 1, 2))) static int iptc_fail(const char *fmt, ...)
{
	const char *why = iptc_strerror(errno);
	int err = iptc_errno();
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	n = strlen(errbuf);
	snprintf(errbuf + n, sizeof(errbuf) - n, ": %s", why);
	return err;
}

static bool is_tiernet(const char *chain)
{
	return !strncmp(chain, TIERNET_PREFIX, strlen(TIERNET_PREFIX));
}

/* ---------------------------------------------------------------------------------------
 * Small helpers: a growable string, chain name lists, /proc lookups.
 */

struct strbuf {
	char *s;
	size_t len, cap;
	int err;
};

__attribute__((format(printf, 2, 3))) static void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	size_t need;
	char *p;
	int n;

	if (sb->err)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		sb->err = -EINVAL;
		return;
	}
	need = sb->len + (size_t)n + 1;
	if (need > sb->cap) {
		p = realloc(sb->s, need * 2);
		if (!p) {
			sb->err = -ENOMEM;
			return;
		}
		sb->s = p;
		sb->cap = need * 2;
	}
	va_start(ap, fmt);
	vsnprintf(sb->s + sb->len, sb->cap - sb->len, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

struct names {
	xt_chainlabel *v;
	size_t n, cap;
};

static int names_add(struct names *l, const char *name)
{
	xt_chainlabel *p;
	size_t ncap;

	if (l->n == l->cap) {
		ncap = l->cap ? l->cap * 2 : 16;
		p = reallocarray(l->v, ncap, sizeof(*p));
		if (!p)
			return -ENOMEM;
		l->v = p;
		l->cap = ncap;
	}
	snprintf(l->v[l->n++], sizeof(xt_chainlabel), "%s", name);
	return 0;
}

static bool names_has(const struct names *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], name))
			return true;
	return false;
}

static int names_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Is name one line of a /proc/net list such as ip_tables_names or ip_tables_matches? */
static bool proc_has(const char *path, const char *name)
{
	char line[128];
	bool found = false;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		found = !strcmp(line, name);
	}
	fclose(f);
	return found;
}

/*
 * Tables are instantiated per network namespace on first use, so a table that is not in
 * ip_tables_names holds nothing of ours, and opening it would only create it.
 */
static bool table_present(enum rules_table t)
{
	return proc_has("/proc/net/ip_tables_names", rules_table_name(t));
}

/* ---------------------------------------------------------------------------------------
 * ipset names and indexes (the set match carries the kernel's index, not the name).
 */

static int ipset_sockopt(void *req, socklen_t len)
{
	socklen_t size = len;
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (fd < 0)
		return -errno;
	if (getsockopt(fd, SOL_IP, SO_IP_SET, req, &size) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* The ipset protocol version to speak: the kernel's, capped at the one our headers know. */
static int ipset_version(unsigned *version)
{
	struct ip_set_req_version req = {.op = IP_SET_OP_VERSION};
	int err;

	err = ipset_sockopt(&req, sizeof(req));
	if (err)
		return err;
	*version = req.version < IPSET_PROTOCOL ? req.version : IPSET_PROTOCOL;
	return 0;
}

static int ipset_index(const char *name, ip_set_id_t *index)
{
	struct ip_set_req_get_set req = {.op = IP_SET_OP_GET_BYNAME};
	int err;

	err = ipset_version(&req.version);
	if (err)
		return err;
	snprintf(req.set.name, sizeof(req.set.name), "%s", name);
	err = ipset_sockopt(&req, sizeof(req));
	if (err)
		return err;
	if (req.set.index == IPSET_INVALID_ID)
		return -ENOENT;
	*index = req.set.index;
	return 0;
}

static int ipset_name(ip_set_id_t index, char *name, size_t len)
{
	struct ip_set_req_get_set req = {.op = IP_SET_OP_GET_BYINDEX};
	int err;

	err = ipset_version(&req.version);
	if (err)
		return err;
	req.set.index = index;
	err = ipset_sockopt(&req, sizeof(req));
	if (err)
		return err;
	if (!req.set.name[0] || strnlen(req.set.name, sizeof(req.set.name)) >= len)
		return -ENOENT;
	snprintf(name, len, "%s", req.set.name);
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * struct rules_rule -> struct ipt_entry
 */

/* conntrack state bits: ours, and the kernel's XT_CONNTRACK_STATE_* mask */
static const struct {
	uint8_t rule;
	uint16_t xt;
} ct_bits[] = {
    {RULES_CT_INVALID, XT_CONNTRACK_STATE_INVALID},
    {RULES_CT_NEW, XT_CONNTRACK_STATE_BIT(IP_CT_NEW)},
    {RULES_CT_ESTABLISHED, XT_CONNTRACK_STATE_BIT(IP_CT_ESTABLISHED)},
    {RULES_CT_RELATED, XT_CONNTRACK_STATE_BIT(IP_CT_RELATED)},
    {RULES_CT_DNAT, XT_CONNTRACK_STATE_DNAT},
};

#define CT_BITS_N (sizeof(ct_bits) / sizeof(ct_bits[0]))

/* The union last: ipt_entry ends in a flexible array (elems), which belongs at the end. */
struct entry {
	size_t len;
	union {
		struct ipt_entry e;
		unsigned char buf[ENTRY_MAX];
	};
};

/*
 * Appends a match (or, with target set, the target) called name to the entry and returns
 * its zeroed data area of infosize bytes.  Sizes are XT_ALIGNed as the kernel requires.
 */
static void *entry_add(struct entry *en, const char *name, uint8_t rev, size_t infosize,
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
static void build_iface(const char *name, char *via, unsigned char *mask)
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
	ip->src.s_addr = r->src & r->smsk;
	ip->smsk.s_addr = r->smsk;
	ip->dst.s_addr = r->dst & r->dmsk;
	ip->dmsk.s_addr = r->dmsk;
	build_iface(r->in, ip->iniface, ip->iniface_mask);
	build_iface(r->out, ip->outiface, ip->outiface_mask);
	/* rules_format ignores an inversion of "any"; so do we (iptables would match nothing) */
	if (r->src_inv && r->smsk)
		ip->invflags |= IPT_INV_SRCIP;
	if (r->dst_inv && r->dmsk)
		ip->invflags |= IPT_INV_DSTIP;
	if (r->in_inv && r->in[0])
		ip->invflags |= IPT_INV_VIA_IN;
	if (r->out_inv && r->out[0])
		ip->invflags |= IPT_INV_VIA_OUT;
	ip->proto = r->proto;
	return 0;
}

static int build_ports(struct entry *en, const struct rules_rule *r)
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

static int build_conntrack(struct entry *en, const struct rules_rule *r)
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
	for (i = 0; i < CT_BITS_N; i++) {
		if (r->ctstate & ct_bits[i].rule)
			ct->state_mask |= ct_bits[i].xt;
		left &= (uint8_t)~ct_bits[i].rule;
	}
	return left ? -EINVAL : 0;
}

/*
 * Revision 4, the one iptables picks on any kernel since 3.19: iptables-legacy-save prints
 * a rule of another revision as "[unsupported revision]".  No counter conditions.
 */
static int build_set(struct entry *en, const struct rules_rule *r)
{
	struct xt_set_info_match_v4 *m;
	unsigned i, dims = r->set_dims ? r->set_dims : 1;
	ip_set_id_t index;
	int err;

	if (!r->set[0])
		return 0;
	if (dims > IPSET_DIM_MAX || strnlen(r->set, RULES_SET_MAX) >= RULES_SET_MAX)
		return -EINVAL;
	err = ipset_index(r->set, &index);
	if (err)
		return err;
	m = entry_add(en, "set", 4, sizeof(*m), false);
	if (!m)
		return -E2BIG;
	m->match_set.index = index;
	m->match_set.dim = (uint8_t)dims;
	/* as libxt_set: bit 0 inverts, bit i (1-based dimension) selects the source */
	for (i = 0; i < dims; i++)
		if ((r->set_dir >> i) & 1)
			m->match_set.flags |= (uint8_t)(1 << (i + 1));
	if (r->set_inv)
		m->match_set.flags |= IPSET_INV_MATCH;
	return 0;
}

static int build_matches(struct entry *en, const struct rules_rule *r)
{
	struct xt_mark_mtinfo1 *mark;
	struct xt_addrtype_info_v1 *at;
	struct xt_comment_info *com;
	int err;

	err = build_ports(en, r);
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
	err = build_set(en, r);
	if (err)
		return err;
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
static int build_masquerade(struct entry *en)
{
	struct nf_nat_ipv4_multi_range_compat *nat;

	nat = entry_add(en, "MASQUERADE", 0, sizeof(*nat), true);
	if (!nat)
		return -E2BIG;
	nat->rangesize = 1;
	return 0;
}

static int build_dnat(struct entry *en, const struct rules_rule *r)
{
	uint16_t hi = r->to_port_hi > r->to_port_lo ? r->to_port_hi : r->to_port_lo;
	struct nf_nat_range2 *nat;

	nat = entry_add(en, "DNAT", 2, sizeof(*nat), true);
	if (!nat)
		return -E2BIG;
	nat->flags = NF_NAT_RANGE_MAP_IPS;
	nat->min_addr.ip = r->to_addr;
	nat->max_addr.ip = r->to_addr;
	if (r->to_port_lo) {
		nat->flags |= NF_NAT_RANGE_PROTO_SPECIFIED;
		nat->min_proto.all = htons(r->to_port_lo);
		nat->max_proto.all = htons(hi);
	}
	return 0;
}

/* Standard verdicts and jumps: libiptc maps the label to a verdict or chain at append. */
static int build_standard(struct entry *en, const char *label)
{
	const struct xt_standard_target *st;

	/* the data is the verdict, left 0: libiptc fills it in from the label */
	if (!entry_add(en, label, 0, sizeof(*st) - sizeof(st->target), true))
		return -E2BIG;
	return 0;
}

static int build_target(struct entry *en, const struct rules_rule *r)
{
	struct xt_mark_tginfo2 *mark;

	switch (r->verdict) {
	case RULES_ACCEPT:
		return build_standard(en, IPTC_LABEL_ACCEPT);
	case RULES_DROP:
		return build_standard(en, IPTC_LABEL_DROP);
	case RULES_RETURN:
		return build_standard(en, IPTC_LABEL_RETURN);
	case RULES_JUMP:
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
	}
	return -EINVAL;
}

static int entry_build(struct entry *en, const struct rules_rule *r)
{
	int err;

	memset(en->buf, 0, sizeof(struct ipt_entry));
	en->len = sizeof(struct ipt_entry);
	err = build_ip(&en->e.ip, r);
	if (!err)
		err = build_matches(en, r);
	if (!err)
		err = build_target(en, r);
	return err;
}

/* The plain hook jump "-j chain", with nothing to match. */
static int entry_build_jump(struct entry *en, const char *chain)
{
	memset(en->buf, 0, sizeof(struct ipt_entry));
	en->len = sizeof(struct ipt_entry);
	return build_standard(en, chain);
}

/* ---------------------------------------------------------------------------------------
 * struct ipt_entry -> struct rules_rule (for iptc_dump); what does not fit is shown as
 * "-m NAME ?" so that status never hides a rule.
 */

static const struct xt_entry_target *entry_target(const struct ipt_entry *e)
{
	return (const struct xt_entry_target *)((const char *)e + e->target_offset);
}

static bool decode_iface(const char *via, const unsigned char *mask, char *out)
{
	char want[IFNAMSIZ] = {0};
	unsigned char wmask[IFNAMSIZ] = {0};
	size_t n = strnlen(via, IFNAMSIZ);

	if (n >= IFNAMSIZ)
		return false;
	build_iface(via, want, wmask);
	memcpy(out, via, n + 1);
	return !memcmp(mask, wmask, IFNAMSIZ);
}

static bool decode_ip(const struct ipt_ip *ip, struct rules_rule *r)
{
	bool ok;

	r->src = ip->src.s_addr;
	r->smsk = ip->smsk.s_addr;
	r->dst = ip->dst.s_addr;
	r->dmsk = ip->dmsk.s_addr;
	r->src_inv = ip->invflags & IPT_INV_SRCIP;
	r->dst_inv = ip->invflags & IPT_INV_DSTIP;
	r->in_inv = ip->invflags & IPT_INV_VIA_IN;
	r->out_inv = ip->invflags & IPT_INV_VIA_OUT;
	r->proto = (uint8_t)ip->proto;
	ok = decode_iface(ip->iniface, ip->iniface_mask, r->in);
	ok &= decode_iface(ip->outiface, ip->outiface_mask, r->out);
	ok &= !(ip->invflags & ~(IPT_INV_SRCIP | IPT_INV_DSTIP | IPT_INV_VIA_IN | IPT_INV_VIA_OUT));
	ok &= !ip->flags && ip->proto <= 0xff;
	ok &= (!r->src_inv || r->smsk) && (!r->dst_inv || r->dmsk);
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

static bool decode_conntrack(struct rules_rule *r, const void *data)
{
	const struct xt_conntrack_mtinfo3 *ct = data;
	uint16_t left = ct->state_mask;
	size_t i;

	if (r->ctstate || ct->match_flags != XT_CONNTRACK_STATE || ct->invert_flags ||
	    !ct->state_mask)
		return false;
	for (i = 0; i < CT_BITS_N; i++) {
		if (ct->state_mask & ct_bits[i].xt)
			r->ctstate |= ct_bits[i].rule;
		left &= (uint16_t)~ct_bits[i].xt;
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

static bool decode_set_info(struct rules_rule *r, const struct xt_set_info *info)
{
	unsigned i;

	if (r->set[0] || !info->dim || info->dim > IPSET_DIM_MAX ||
	    (info->flags >> (info->dim + 1)))
		return false;
	if (ipset_name(info->index, r->set, sizeof(r->set)))
		return false;
	r->set_dims = info->dim;
	r->set_inv = info->flags & IPSET_INV_MATCH;
	for (i = 0; i < r->set_dims; i++)
		if (info->flags & (1 << (i + 1)))
			r->set_dir |= (uint8_t)(1 << i);
	return true;
}

static bool decode_set1(struct rules_rule *r, const void *data)
{
	const struct xt_set_info_match_v1 *m = data;

	return decode_set_info(r, &m->match_set);
}

static bool decode_set4(struct rules_rule *r, const void *data)
{
	const struct xt_set_info_match_v4 *m = data;

	if (m->packets.op != IPSET_COUNTER_NONE || m->bytes.op != IPSET_COUNTER_NONE || m->flags)
		return false;
	return decode_set_info(r, &m->match_set);
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

/* The matches rules_rule can hold, by kernel name and revision (table, not if-chain). */
static const struct match_ops {
	const char *name;
	uint8_t revision;
	size_t size;
	bool (*decode)(struct rules_rule *r, const void *data);
} match_ops[] = {
    {"tcp", 0, sizeof(struct xt_tcp), decode_tcp},
    {"udp", 0, sizeof(struct xt_udp), decode_udp},
    {"conntrack", 3, sizeof(struct xt_conntrack_mtinfo3), decode_conntrack},
    {"mark", 1, sizeof(struct xt_mark_mtinfo1), decode_mark},
    {"addrtype", 1, sizeof(struct xt_addrtype_info_v1), decode_addrtype},
    {"set", 1, sizeof(struct xt_set_info_match_v1), decode_set1},
    {"set", 4, sizeof(struct xt_set_info_match_v4), decode_set4},
    {"comment", 0, sizeof(struct xt_comment_info), decode_comment},
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

static void decode_matches(const struct ipt_entry *e, struct rules_rule *r, struct strbuf *extra)
{
	const struct xt_entry_match *m;
	size_t off;

	for (off = sizeof(*e); off + sizeof(*m) <= e->target_offset; off += m->u.match_size) {
		m = (const struct xt_entry_match *)((const char *)e + off);
		if (m->u.match_size < sizeof(*m)) {
			sb_printf(extra, " -m ?");
			break;
		}
		if (!decode_match(r, m))
			sb_printf(extra, " -m %.*s ?", (int)sizeof(m->u.user.name), m->u.user.name);
	}
}

static bool decode_masquerade(struct rules_rule *r, const struct xt_entry_target *t)
{
	const struct nf_nat_ipv4_multi_range_compat *nat = (const void *)t->data;

	r->verdict = RULES_MASQUERADE;
	return !t->u.user.revision && t->u.target_size >= XT_ALIGN(sizeof(*t)) + sizeof(*nat) &&
	       nat->rangesize == 1 && !nat->range[0].flags;
}

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

static bool decode_target(const struct ipt_entry *e, struct rules_rule *r, struct xtc_handle *h)
{
	const struct xt_entry_target *t = entry_target(e);
	const struct xt_mark_tginfo2 *mark = (const void *)t->data;
	const char *label = iptc_get_target(e, h);

	if (!label)
		return false;
	if (!t->u.user.name[0]) {
		/* standard target: a verdict, or a jump to a user chain */
		if (!strcmp(label, IPTC_LABEL_ACCEPT))
			r->verdict = RULES_ACCEPT;
		else if (!strcmp(label, IPTC_LABEL_DROP))
			r->verdict = RULES_DROP;
		else if (!strcmp(label, IPTC_LABEL_RETURN))
			r->verdict = RULES_RETURN;
		else if (iptc_is_chain(label, h) && strlen(label) < sizeof(r->target))
			r->verdict = RULES_JUMP;
		else
			return false;
		snprintf(r->target, sizeof(r->target), "%s", r->verdict == RULES_JUMP ? label : "");
		return true;
	}
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
	return false;
}

/*
 * Prints r as rules_format() does, with extra inserted before the target and, when tgt is
 * not NULL, tgt printed instead of the target.  The target's text is found by formatting
 * a rule that has nothing but the target.
 */
static void put_rule(struct strbuf *out, const struct rules_rule *r, const char *extra,
		     const char *tgt)
{
	struct rules_rule only = {.verdict = r->verdict,
				  .set_mark = r->set_mark,
				  .set_mask = r->set_mask,
				  .to_addr = r->to_addr,
				  .to_port_lo = r->to_port_lo,
				  .to_port_hi = r->to_port_hi};
	char line[LINE_MAX_LEN], tail[LINE_MAX_LEN];
	size_t n, tn;

	memcpy(only.target, r->target, sizeof(only.target));
	n = rules_format(r, line, sizeof(line));
	tn = rules_format(&only, tail, sizeof(tail)) - strlen("-A ");
	if (n >= sizeof(line) || tn > n) {
		out->err = out->err ? out->err : -E2BIG;
		return;
	}
	sb_printf(out, "%.*s%s%s\n", (int)(n - tn), line, extra, tgt ? tgt : line + n - tn);
}

/* " -j NAME ?" for a target rules_rule cannot hold; nothing for a fall-through rule. */
static void unknown_target(const struct ipt_entry *e, struct xtc_handle *h, char *buf, size_t len)
{
	const struct xt_entry_target *t = entry_target(e);
	const char *label = iptc_get_target(e, h);

	if (t->u.user.name[0])
		snprintf(buf, len, " -j %.*s ?", (int)sizeof(t->u.user.name), t->u.user.name);
	else if (label && label[0])
		snprintf(buf, len, " -j %s ?", label);
	else
		buf[0] = '\0';
}

static void dump_entry(struct strbuf *out, const char *chain, const struct ipt_entry *e,
		       enum rules_table t, struct xtc_handle *h)
{
	struct rules_rule r = {.table = t};
	struct strbuf extra = {0};
	char tgt[64];
	bool ok;

	snprintf(r.chain, sizeof(r.chain), "%s", chain);
	if (!decode_ip(&e->ip, &r))
		sb_printf(&extra, " ?");
	decode_matches(e, &r, &extra);
	ok = decode_target(e, &r, h);
	unknown_target(e, h, tgt, sizeof(tgt));
	if (extra.err)
		out->err = extra.err;
	else
		put_rule(out, &r, extra.s ? extra.s : "", ok ? NULL : tgt);
	free(extra.s);
}

/* ---------------------------------------------------------------------------------------
 * Reading a table's chains.
 */

/*
 * Collects the built-in and the tiernet chain names.  The names are copied because the
 * libiptc chain iterator does not survive changes to the handle.
 */
static int list_chains(struct xtc_handle *h, struct names *builtin, struct names *ours)
{
	const char *c;
	int err = 0;

	for (c = iptc_first_chain(h); c && !err; c = iptc_next_chain(h)) {
		if (iptc_builtin(c, h))
			err = names_add(builtin, c);
		else if (is_tiernet(c))
			err = names_add(ours, c);
	}
	if (!err && ours->n)
		qsort(ours->v, ours->n, sizeof(*ours->v), names_cmp);
	return err;
}

/* A rule with nothing but "-j TIERNET...": the shape of a hook jump. */
static bool is_plain_jump(const struct ipt_entry *e, struct xtc_handle *h, const char **to)
{
	static const struct ipt_ip any;

	*to = iptc_get_target(e, h);
	return *to && e->target_offset == sizeof(*e) && !entry_target(e)->u.user.name[0] &&
	       !memcmp(&e->ip, &any, sizeof(any));
}

/* Does this rule of a built-in chain jump to a tiernet chain? */
static bool jumps_to_tiernet(const struct ipt_entry *e, struct xtc_handle *h)
{
	const char *to = iptc_get_target(e, h);

	return to && !entry_target(e)->u.user.name[0] && is_tiernet(to);
}

/* ---------------------------------------------------------------------------------------
 * iptc_dump
 */

static void dump_hooks(struct strbuf *out, const struct names *builtin, const char *chain,
		       enum rules_table t, struct xtc_handle *h)
{
	const struct ipt_entry *e;
	const char *to;
	size_t i;

	for (i = 0; i < builtin->n; i++) {
		for (e = iptc_first_rule(builtin->v[i], h); e; e = iptc_next_rule(e, h)) {
			if (!jumps_to_tiernet(e, h) || strcmp(iptc_get_target(e, h), chain))
				continue;
			if (is_plain_jump(e, h, &to))
				sb_printf(out, "-I %s -j %s\n", builtin->v[i], chain);
			else
				dump_entry(out, builtin->v[i], e, t, h);
		}
	}
}

static int dump_table(struct strbuf *out, enum rules_table t)
{
	struct names builtin = {0}, ours = {0};
	const struct ipt_entry *e;
	struct xtc_handle *h;
	size_t i;
	int err;

	if (!table_present(t))
		return 0;
	h = iptc_init(rules_table_name(t));
	if (!h)
		return iptc_fail("cannot read iptables table %s", rules_table_name(t));
	err = list_chains(h, &builtin, &ours);
	if (err || !ours.n)
		goto out;
	sb_printf(out, "*%s\n", rules_table_name(t));
	for (i = 0; i < ours.n; i++)
		sb_printf(out, ":%s\n", ours.v[i]);
	for (i = 0; i < ours.n; i++)
		dump_hooks(out, &builtin, ours.v[i], t, h);
	for (i = 0; i < ours.n; i++)
		for (e = iptc_first_rule(ours.v[i], h); e; e = iptc_next_rule(e, h))
			dump_entry(out, ours.v[i], e, t, h);
	sb_printf(out, "COMMIT\n");
	err = out->err;
out:
	free(builtin.v);
	free(ours.v);
	iptc_free(h);
	return err;
}

char *iptc_dump(void)
{
	static const enum rules_table order[] = {RULES_FILTER, RULES_MANGLE, RULES_NAT};
	struct strbuf out = {0};
	size_t i;
	int err = 0;

	for (i = 0; i < 3 && !err; i++)
		err = dump_table(&out, order[i]);
	if (!err)
		sb_printf(&out, "%s", "");
	if (err || out.err) {
		if (out.err && !err)
			set_error("cannot dump iptables rules: %s", strerror(-out.err));
		free(out.s);
		return NULL;
	}
	return out.s;
}

/* ---------------------------------------------------------------------------------------
 * iptc_apply
 */

/* The kernel extensions a rule needs, for explaining a commit that failed with ENOENT. */
static const char *missing_extension(const struct rules_rule *r)
{
	static const char *const m = "/proc/net/ip_tables_matches";
	static const char *const tg = "/proc/net/ip_tables_targets";
	const char *port = r->proto == IPPROTO_TCP ? "tcp" : "udp";

	if (r->dport_lo && (r->proto == IPPROTO_TCP || r->proto == IPPROTO_UDP) &&
	    !proc_has(m, port))
		return port;
	if (r->ctstate && !proc_has(m, "conntrack"))
		return "conntrack";
	if (r->mark_match && !proc_has(m, "mark"))
		return "mark";
	if (r->local_dst && !proc_has(m, "addrtype"))
		return "addrtype";
	if (r->set[0] && !proc_has(m, "set"))
		return "set";
	if (r->comment[0] && !proc_has(m, "comment"))
		return "comment";
	if (r->verdict == RULES_MARK && !proc_has(tg, "MARK"))
		return "MARK";
	if (r->verdict == RULES_DNAT && !proc_has(tg, "DNAT"))
		return "DNAT";
	if (r->verdict == RULES_MASQUERADE && !proc_has(tg, "MASQUERADE"))
		return "MASQUERADE";
	return NULL;
}

static void commit_error(const struct rules_set *rs, enum rules_table t, int err)
{
	const char *strerr = iptc_strerror(-err);
	char line[LINE_MAX_LEN];
	const char *ext;
	size_t i;

	for (i = 0; err == -ENOENT && i < rs->nrules; i++) {
		if (rs->rules[i].table != t)
			continue;
		ext = missing_extension(&rs->rules[i]);
		if (!ext)
			continue;
		rules_format(&rs->rules[i], line, sizeof(line));
		set_error("iptables table %s, chain %s: cannot commit rule \"%s\": the kernel has "
			  "no \"%s\" extension (module not available?): %s",
			  rules_table_name(t), rs->rules[i].chain, line, ext, strerr);
		return;
	}
	set_error("iptables table %s: cannot commit: %s%s", rules_table_name(t), strerr,
		  err == -EINVAL ? " (a match or target rejected its arguments, "
				   "the kernel log says which)"
				 : "");
}

static bool chain_in_rs(const struct rules_set *rs, enum rules_table t, const char *name)
{
	size_t i;

	for (i = 0; i < rs->nchains; i++)
		if (rs->chains[i].table == t && !strcmp(rs->chains[i].name, name))
			return true;
	return false;
}

/* The chains of rs that hook into built-in chain hook, in rs order, each once. */
static int wanted_hooks(const struct rules_set *rs, enum rules_table t, const char *hook,
			struct names *want)
{
	size_t i;
	int err = 0;

	for (i = 0; i < rs->nchains && !err; i++) {
		if (rs->chains[i].table != t || strcmp(rs->chains[i].hook, hook) ||
		    names_has(want, rs->chains[i].name))
			continue;
		err = names_add(want, rs->chains[i].name);
	}
	return err;
}

/* Are the jumps to tiernet chains in this built-in chain exactly want, plain and first? */
static bool hooks_ok(struct xtc_handle *h, const char *builtin, const struct names *want)
{
	const struct ipt_entry *e;
	const char *to;
	size_t n = 0;

	for (e = iptc_first_rule(builtin, h); e; e = iptc_next_rule(e, h), n++) {
		if (n < want->n) {
			if (!is_plain_jump(e, h, &to) || strcmp(to, want->v[n]))
				return false;
		} else if (jumps_to_tiernet(e, h)) {
			return false;
		}
	}
	return n >= want->n;
}

/*
 * Removes every jump to a tiernet chain from a built-in chain; no other rule of it is
 * touched.  Rule numbers are 0-based here, and deleting from the end keeps them valid.
 */
static int unhook_builtin(struct xtc_handle *h, enum rules_table t, const char *builtin)
{
	const struct ipt_entry *e;
	unsigned n, nrules = 0, *del = NULL, ndel = 0;
	int err = 0;

	for (e = iptc_first_rule(builtin, h); e; e = iptc_next_rule(e, h))
		nrules++;
	if (nrules) {
		del = calloc(nrules, sizeof(*del));
		if (!del)
			return -ENOMEM;
	}
	for (n = 0, e = iptc_first_rule(builtin, h); e && n < nrules; e = iptc_next_rule(e, h), n++)
		if (jumps_to_tiernet(e, h))
			del[ndel++] = n;
	while (ndel && !err) {
		if (!iptc_delete_num_entry(builtin, del[--ndel], h))
			err = iptc_fail("iptables table %s, chain %s: cannot remove rule %u",
					rules_table_name(t), builtin, del[ndel] + 1);
	}
	free(del);
	return err;
}

static int hook_builtin(struct xtc_handle *h, enum rules_table t, const char *builtin,
			const struct names *want)
{
	struct entry en;
	unsigned i;

	for (i = 0; i < want->n; i++) {
		if (entry_build_jump(&en, want->v[i]))
			return -E2BIG;
		if (!iptc_insert_entry(builtin, &en.e, i, h))
			return iptc_fail("iptables table %s, chain %s: cannot insert rule "
					 "\"-I %s -j %s\"",
					 rules_table_name(t), builtin, builtin, want->v[i]);
	}
	return 0;
}

/*
 * Brings one built-in chain's hooks in line: if they are not already exactly right, drop
 * all of them and insert the wanted ones at the top.  With insert set, only inserts (the
 * chains they jump to must exist by then); without, only removes.
 */
static int fix_hooks(const struct rules_set *rs, struct xtc_handle *h, enum rules_table t,
		     const char *builtin, bool insert)
{
	struct names want = {0};
	int err;

	err = wanted_hooks(rs, t, builtin, &want);
	if (err || hooks_ok(h, builtin, &want))
		goto out;
	err = insert ? hook_builtin(h, t, builtin, &want) : unhook_builtin(h, t, builtin);
out:
	free(want.v);
	return err;
}

/* Every hook named by rs must be a built-in chain of its table. */
static int check_chains(const struct rules_set *rs, enum rules_table t, struct xtc_handle *h)
{
	const struct rules_chain *c;
	size_t i;

	for (i = 0; i < rs->nchains; i++) {
		c = &rs->chains[i];
		if (c->table != t)
			continue;
		if (!is_tiernet(c->name) || strnlen(c->name, sizeof(c->name)) >= sizeof(c->name)) {
			set_error("iptables table %s: chain \"%.*s\" is not a tiernet chain",
				  rules_table_name(t), (int)sizeof(c->name), c->name);
			return -EINVAL;
		}
		if (c->hook[0] && !iptc_builtin(c->hook, h)) {
			set_error(
			    "iptables table %s, chain %s: \"%.*s\" is not a built-in chain of "
			    "this table",
			    rules_table_name(t), c->name, (int)sizeof(c->hook), c->hook);
			return -EINVAL;
		}
	}
	return 0;
}

static int create_chains(const struct rules_set *rs, enum rules_table t, struct xtc_handle *h)
{
	xt_chainlabel name = "";
	size_t i;

	for (i = 0; i < rs->nchains; i++) {
		if (rs->chains[i].table != t || iptc_is_chain(rs->chains[i].name, h))
			continue;
		/* libiptc takes a full xt_chainlabel (32 bytes); ours are shorter */
		snprintf(name, sizeof(name), "%s", rs->chains[i].name);
		if (!iptc_create_chain(name, h))
			return iptc_fail("iptables table %s: cannot create chain %s",
					 rules_table_name(t), rs->chains[i].name);
	}
	return 0;
}

static int append_rule(const struct rules_rule *r, struct xtc_handle *h)
{
	const char *tname = rules_table_name(r->table);
	char line[LINE_MAX_LEN];
	xt_chainlabel chain;
	struct entry en;
	int err = 0;

	if (strnlen(r->chain, sizeof(r->chain)) == sizeof(r->chain) ||
	    strnlen(r->target, sizeof(r->target)) == sizeof(r->target) ||
	    strnlen(r->comment, sizeof(r->comment)) == sizeof(r->comment)) {
		set_error("iptables table %s: a rule has an unterminated name", tname);
		return -EINVAL;
	}
	rules_format(r, line, sizeof(line));
	if (r->verdict == RULES_JUMP && (!is_tiernet(r->target) || !iptc_is_chain(r->target, h)))
		err = -ENOENT;
	else if (!iptc_is_chain(r->chain, h) || !is_tiernet(r->chain))
		err = -EINVAL;
	if (err) {
		set_error("iptables table %s, chain %.*s: cannot add rule \"%s\": %s", tname,
			  (int)sizeof(r->chain), r->chain, line,
			  err == -ENOENT ? "it jumps to a chain that is not one of tiernet's"
					 : "the chain is not one of tiernet's");
		return err;
	}
	err = entry_build(&en, r);
	if (err) {
		set_error("iptables table %s, chain %s: cannot build rule \"%s\": %s%s", tname,
			  r->chain, line, strerror(-err),
			  r->set[0] && err == -ENOENT ? " (no such ipset)" : "");
		return err;
	}
	snprintf(chain, sizeof(chain), "%s", r->chain);
	if (!iptc_append_entry(chain, &en.e, h))
		return iptc_fail("iptables table %s, chain %s: cannot add rule \"%s\"", tname,
				 r->chain, line);
	return 0;
}

/*
 * All edits of one table on one snapshot, in an order that keeps every step legal for
 * libiptc: empty our chains (drops references between them), unhook what is wrong, delete
 * chains rs no longer has (now unreferenced), create the new ones, fill, hook.
 */
static int edit_table(const struct rules_set *rs, enum rules_table t, struct xtc_handle *h)
{
	struct names builtin = {0}, ours = {0};
	const char *tname = rules_table_name(t);
	size_t i;
	int err;

	err = list_chains(h, &builtin, &ours);
	if (!err)
		err = check_chains(rs, t, h);
	for (i = 0; !err && i < ours.n; i++)
		if (!iptc_flush_entries(ours.v[i], h))
			err =
			    iptc_fail("iptables table %s: cannot flush chain %s", tname, ours.v[i]);
	for (i = 0; !err && i < builtin.n; i++)
		err = fix_hooks(rs, h, t, builtin.v[i], false);
	for (i = 0; !err && i < ours.n; i++) {
		if (chain_in_rs(rs, t, ours.v[i]) || iptc_delete_chain(ours.v[i], h))
			continue;
		err = iptc_fail("iptables table %s: cannot delete chain %s", tname, ours.v[i]);
	}
	if (!err)
		err = create_chains(rs, t, h);
	for (i = 0; !err && i < rs->nrules; i++)
		if (rs->rules[i].table == t)
			err = append_rule(&rs->rules[i], h);
	for (i = 0; !err && i < builtin.n; i++)
		err = fix_hooks(rs, h, t, builtin.v[i], true);
	free(builtin.v);
	free(ours.v);
	return err;
}

static bool rs_uses(const struct rules_set *rs, enum rules_table t)
{
	size_t i;

	for (i = 0; i < rs->nchains; i++)
		if (rs->chains[i].table == t)
			return true;
	for (i = 0; i < rs->nrules; i++)
		if (rs->rules[i].table == t)
			return true;
	return false;
}

/*
 * iptables-legacy serialises on flock(/run/xtables.lock) (or $XTABLES_LOCKFILE, as it
 * does); libiptc itself does not.  Without the lock our commit can make a concurrent
 * iptables command fail with EAGAIN, which iptables does not retry: on a legacy host that
 * would be dockerd's own rule change failing.  The lock is advisory, so when the file cannot
 * be opened (a read-only /run) we carry on without it: our own commits still retry.
 * Returns 0 with *fd locked (or -1), or -EBUSY when someone holds the lock for 5 s.
 */
static int xt_lock(int *fd)
{
	const char *path = getenv("XTABLES_LOCKFILE");
	struct timespec pause = {.tv_nsec = 10 * 1000 * 1000};
	int i;

	*fd = open(path && path[0] ? path : XT_LOCK_PATH, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	if (*fd < 0)
		return 0;
	for (i = 0; i < XT_LOCK_TRIES; i++) {
		if (!flock(*fd, LOCK_EX | LOCK_NB))
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			break;
		nanosleep(&pause, NULL);
	}
	close(*fd);
	*fd = -1;
	set_error("iptables: another program holds the xtables lock (%s)",
		  path && path[0] ? path : XT_LOCK_PATH);
	return -EBUSY;
}

/* One snapshot, one commit; a fresh snapshot when someone else committed in between. */
static int apply_table(const struct rules_set *rs, enum rules_table t)
{
	struct xtc_handle *h;
	bool race;
	int try, err;

	if (!rs_uses(rs, t) && !table_present(t))
		return 0;
	for (try = 1;; try++) {
		h = iptc_init(rules_table_name(t));
		if (!h)
			return iptc_fail("cannot read iptables table %s", rules_table_name(t));
		/*
		 * An edit that fails is not a race: only a failed commit is retried.  A commit
		 * is two calls: IPT_SO_SET_REPLACE fails with EAGAIN when the table changed
		 * since our snapshot; IPT_SO_SET_ADD_COUNTERS (carrying the old rules' counters
		 * over) fails with EINVAL when it changed between the two, after the new table
		 * took effect.  Both are settled by starting again from a fresh snapshot; an
		 * EINVAL that is a rule the kernel rejects comes back every time and is reported.
		 */
		err = edit_table(rs, t, h);
		race = false;
		if (!err && !iptc_commit(h)) {
			err = iptc_errno();
			race = err == -EAGAIN || err == -EINVAL;
			commit_error(rs, t, err);
		}
		iptc_free(h);
		if (!race || try == COMMIT_RETRIES)
			return err;
	}
}

int iptc_apply(const struct rules_set *rs)
{
	static const enum rules_table order[] = {RULES_FILTER, RULES_MANGLE, RULES_NAT};
	size_t i;
	int err, fd;

	errbuf[0] = '\0';
	err = xt_lock(&fd);
	for (i = 0; i < 3 && !err; i++)
		err = apply_table(rs, order[i]);
	if (fd >= 0)
		close(fd); /* releases the lock */
	return err;
}
