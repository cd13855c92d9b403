/*
 * Firewall rules as data, and their iptables-save text form.  The text form is the one
 * iptables-legacy-save prints for the same rule (matches in a fixed order: addresses,
 * interfaces, protocol, tcp/udp, devgroup, rpfilter, conntrack, mark, addrtype, comment), so a
 * golden test
 * can compare compiler output with what the kernel holds after an apply.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

static const char *const table_names[RULES_NTABLES] = {
	[RULES_FILTER] = "filter",
	[RULES_MANGLE] = "mangle",
	[RULES_NAT] = "nat",
	[RULES_RAW] = "raw",
};

const char *rules_table_name(enum rules_table t)
{
	return (unsigned)t < RULES_NTABLES ? table_names[t] : "?";
}

void rules_init_family(struct rules_set *rs, int family)
{
	memset(rs, 0, sizeof(*rs));
	rs->family = family;
}

void rules_init(struct rules_set *rs)
{
	rules_init_family(rs, AF_INET);
}

void rules_clear(struct rules_set *rs)
{
	int family = rs->family;

	free(rs->chains);
	free(rs->hooks);
	free(rs->rules);
	rules_init_family(rs, family);
}

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	p = reallocarray(*v, ncap, size);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = ncap;
	return 0;
}

int rules_add_hook(struct rules_set *rs, enum rules_table t, const char *from, const char *to)
{
	struct rules_hook *h;

	if (grow((void **)&rs->hooks, &rs->hooks_cap, rs->nhooks, sizeof(*h)))
		return -ENOMEM;
	h = &rs->hooks[rs->nhooks++];
	memset(h, 0, sizeof(*h));
	h->table = t;
	snprintf(h->from, sizeof(h->from), "%s", from);
	snprintf(h->to, sizeof(h->to), "%s", to);
	return 0;
}

int rules_add_chain(struct rules_set *rs, enum rules_table t, const char *name, const char *hook)
{
	struct rules_chain *c;

	if (grow((void **)&rs->chains, &rs->chains_cap, rs->nchains, sizeof(*c)))
		return -ENOMEM;
	c = &rs->chains[rs->nchains++];
	memset(c, 0, sizeof(*c));
	c->table = t;
	snprintf(c->name, sizeof(c->name), "%s", name);
	return hook && hook[0] ? rules_add_hook(rs, t, hook, name) : 0;
}

bool rules_has_chain(const struct rules_set *rs, enum rules_table t, const char *name)
{
	size_t i;

	for (i = 0; i < rs->nchains; i++)
		if (rs->chains[i].table == t && !strcmp(rs->chains[i].name, name))
			return true;
	return false;
}

bool rules_uses_table(const struct rules_set *rs, enum rules_table t)
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

struct rules_rule rules_rule_make(enum rules_table t, const char *chain, enum rules_verdict v)
{
	struct rules_rule r;

	memset(&r, 0, sizeof(r));
	r.table = t;
	snprintf(r.chain, sizeof(r.chain), "%s", chain);
	r.verdict = v;
	return r;
}

int rules_add(struct rules_set *rs, const struct rules_rule *r)
{
	if (grow((void **)&rs->rules, &rs->rules_cap, rs->nrules, sizeof(*r)))
		return -ENOMEM;
	rs->rules[rs->nrules] = *r;
	rs->rules[rs->nrules++].family = rs->family == AF_INET6 ? AF_INET6 : AF_INET;
	return 0;
}

/* A bounded appender: keeps counting past the end so the caller learns the needed size. */
struct out {
	char *buf;
	size_t len, pos;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->pos < o->len ? o->buf + o->pos : NULL,
		      o->pos < o->len ? o->len - o->pos : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->pos += (size_t)n;
}

static void put_addr(struct out *o, const char *opt, bool inv, uint32_t a, uint32_t m)
{
	char s[INET_ADDRSTRLEN];
	struct in_addr in = { .s_addr = a };

	if (!m)
		return;
	inet_ntop(AF_INET, &in, s, sizeof(s));
	put(o, " %s%s %s/%d", inv ? "! " : "", opt, s, __builtin_popcount(m));
}

int rules_prefix6(const struct in6_addr *m)
{
	int i, n = 0;

	for (i = 0; i < 16; i++)
		n += __builtin_popcount(m->s6_addr[i]);
	return n;
}

static void put_addr6(struct out *o, const char *opt, bool inv, const struct in6_addr *a,
		      const struct in6_addr *m)
{
	char s[INET6_ADDRSTRLEN];
	int n = rules_prefix6(m);

	if (!n)
		return;
	inet_ntop(AF_INET6, a, s, sizeof(s));
	put(o, " %s%s %s/%d", inv ? "! " : "", opt, s, n);
}

static void put_ctstate(struct out *o, uint8_t st)
{
	static const struct {
		uint8_t bit;
		const char *name;
	} names[] = {
		{ RULES_CT_INVALID, "INVALID" }, { RULES_CT_NEW, "NEW" },
		{ RULES_CT_RELATED, "RELATED" }, { RULES_CT_ESTABLISHED, "ESTABLISHED" },
		{ RULES_CT_DNAT, "DNAT" },
	};
	const char *sep = " ";
	size_t i;

	put(o, " -m conntrack --ctstate");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(st & names[i].bit))
			continue;
		put(o, "%s%s", sep, names[i].name);
		sep = ",";
	}
}

static const char *proto_name(uint8_t p)
{
	switch (p) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "ipv6-icmp";
	default:
		return NULL;
	}
}

static void put_proto(struct out *o, const struct rules_rule *r)
{
	const char *name = proto_name(r->proto);

	if (!r->proto)
		return;
	if (name)
		put(o, " -p %s", name);
	else
		put(o, " -p %u", r->proto);
	if (!r->dport_lo || (r->proto != IPPROTO_TCP && r->proto != IPPROTO_UDP))
		return;
	put(o, " -m %s --dport %u", name, r->dport_lo);
	if (r->dport_hi > r->dport_lo)
		put(o, ":%u", r->dport_hi);
}

static void put_group(struct out *o, const char *opt, const struct rules_group *g)
{
	if (!g->on)
		return;
	put(o, "%s --%s", g->inv ? " !" : "", opt);
	if (g->mask != 0xffffffffu)
		put(o, " 0x%x/0x%x", g->id, g->mask);
	else
		put(o, " 0x%x", g->id);
}

static void put_comment(struct out *o, const char *c)
{
	if (!c[0])
		return;
	if (strpbrk(c, " \t\"'"))
		put(o, " -m comment --comment \"%s\"", c);
	else
		put(o, " -m comment --comment %s", c);
}

static void put_target(struct out *o, const struct rules_rule *r)
{
	char s[INET6_ADDRSTRLEN];
	struct in_addr in = { .s_addr = r->to_addr };

	switch (r->verdict) {
	case RULES_ACCEPT:
		put(o, " -j ACCEPT");
		break;
	case RULES_DROP:
		put(o, " -j DROP");
		break;
	case RULES_RETURN:
		put(o, " -j RETURN");
		break;
	case RULES_JUMP:
		put(o, " -j %s", r->target);
		break;
	case RULES_GOTO:
		put(o, " -g %s", r->target);
		break;
	case RULES_MARK:
		put(o, " -j MARK --set-xmark 0x%x/0x%x", r->set_mark, r->set_mask);
		break;
	case RULES_DNAT:
		if (r->family == AF_INET6) {
			inet_ntop(AF_INET6, &r->to_addr6, s, sizeof(s));
			put(o,
			    r->to_port_lo ? " -j DNAT --to-destination [%s]"
					  : " -j DNAT --to-destination %s",
			    s);
		} else {
			inet_ntop(AF_INET, &in, s, sizeof(s));
			put(o, " -j DNAT --to-destination %s", s);
		}
		if (r->to_port_lo)
			put(o, ":%u", r->to_port_lo);
		if (r->to_port_hi > r->to_port_lo)
			put(o, "-%u", r->to_port_hi);
		break;
	case RULES_MASQUERADE:
		put(o, " -j MASQUERADE");
		break;
	case RULES_NFLOG:
		put(o, " -j NFLOG --nflog-prefix %s --nflog-group %u", r->nflog_prefix,
		    r->nflog_group);
		break;
	case RULES_UNKNOWN:
		if (r->target[0])
			put(o, " -j %s ?", r->target);
		break;
	}
}

size_t rules_format(const struct rules_rule *r, char *buf, size_t len)
{
	struct out o = { .buf = buf, .len = len };

	if (len)
		buf[0] = '\0';
	put(&o, "-A %s", r->chain);
	if (r->family == AF_INET6) {
		put_addr6(&o, "-s", r->src_inv, &r->src6, &r->smsk6);
		put_addr6(&o, "-d", r->dst_inv, &r->dst6, &r->dmsk6);
	} else {
		put_addr(&o, "-s", r->src_inv, r->src, r->smsk);
		put_addr(&o, "-d", r->dst_inv, r->dst, r->dmsk);
	}
	if (r->in[0])
		put(&o, " %s-i %s", r->in_inv ? "! " : "", r->in);
	if (r->out[0])
		put(&o, " %s-o %s", r->out_inv ? "! " : "", r->out);
	put_proto(&o, r);
	if (r->icmp_match && r->family == AF_INET6)
		put(&o, " -m icmp6 --icmpv6-type %u", r->icmp_type);
	else if (r->icmp_match)
		put(&o, " -m icmp --icmp-type %u", r->icmp_type);
	if (r->in_group.on || r->out_group.on) {
		put(&o, " -m devgroup");
		put_group(&o, "src-group", &r->in_group);
		put_group(&o, "dst-group", &r->out_group);
	}
	if (r->rpf_invert)
		put(&o, " -m rpfilter --invert");
	if (r->ctstate)
		put_ctstate(&o, r->ctstate);
	if (r->mark_match)
		put(&o, " -m mark --mark 0x%x/0x%x", r->mark, r->mark_mask);
	if (r->local_dst)
		put(&o, " -m addrtype --dst-type LOCAL");
	if (r->limit)
		put(&o, " -m limit --limit %u/sec --limit-burst %u", r->limit, r->limit_burst);
	put_comment(&o, r->comment);
	put(&o, "%s", r->unknown);
	put_target(&o, r);
	return o.pos;
}

static int dump_table(const struct rules_set *rs, enum rules_table t, struct out *o)
{
	char line[512];
	size_t i;
	bool any = false;

	for (i = 0; i < rs->nchains; i++)
		any |= rs->chains[i].table == t;
	if (!any)
		return 0;
	put(o, "*%s\n", rules_table_name(t));
	for (i = 0; i < rs->nchains; i++)
		if (rs->chains[i].table == t)
			put(o, ":%s\n", rs->chains[i].name);
	for (i = 0; i < rs->nhooks; i++)
		if (rs->hooks[i].table == t)
			put(o, "-I %s -j %s\n", rs->hooks[i].from, rs->hooks[i].to);
	for (i = 0; i < rs->nrules; i++) {
		if (rs->rules[i].table != t)
			continue;
		rules_format(&rs->rules[i], line, sizeof(line));
		put(o, "%s\n", line);
	}
	put(o, "COMMIT\n");
	return 0;
}

char *rules_dump(const struct rules_set *rs)
{
	static const enum rules_table order[] = { RULES_FILTER, RULES_MANGLE, RULES_NAT,
						  RULES_RAW };
	const size_t norder = sizeof(order) / sizeof(order[0]);
	struct out o = { 0 };
	size_t i;

	/* Two passes: measure, then print. */
	for (i = 0; i < norder; i++)
		dump_table(rs, order[i], &o);
	o.len = o.pos + 1;
	o.buf = malloc(o.len);
	if (!o.buf)
		return NULL;
	o.buf[0] = '\0';
	o.pos = 0;
	for (i = 0; i < norder; i++)
		dump_table(rs, order[i], &o);
	return o.buf;
}
