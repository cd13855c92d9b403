/*
 * fw-roundtrip: applies rules_sets to the kernel with xt_apply() and reads them back, and
 * exercises the nf_tables pass-through.  Root only, and only in a fresh network namespace
 * (tests/integration/fw-roundtrip.sh runs it under `unshare -n`): it refuses to run where
 * any interface but lo or any legacy table exists, so it can never touch a real firewall.
 *
 * Test code may shell out (iptables-legacy-save, nft) to look at the kernel from
 * the outside; product code never does.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glob.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libiptc/libiptc.h>
#include <nftables/libnftables.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "config/config.h"
#include "policy/policy.h"
#include "tests/golden/nets.h"

static int passed, failed;
static struct err last_err; /* the last failure's sentence */

/* xt_apply, keeping the sentence of a failure in last_err. */
static int apply(const struct rules_set *rs)
{
	last_err.msg[0] = '\0';
	return xt_apply(rs, NULL, &last_err);
}

/* What xt_read() reads back, printed by rules_dump(); malloc'ed, NULL on failure. */
static char *dump(void)
{
	struct rules_set rs;
	char *text = NULL;

	rules_init(&rs);
	last_err.msg[0] = '\0';
	if (!xt_read(&rs, &last_err))
		text = rules_dump(&rs);
	rules_clear(&rs);
	return text;
}

/*
 * Every iptc_commit of this program goes through here (the Makefile links it with
 * -Wl,--wrap=iptc_commit), so that the race test can tell whether xt_apply met a table
 * replaced under it (the kernel's EAGAIN, or EINVAL for lost counters) and tried again.
 */
int __real_iptc_commit(struct xtc_handle *h);
int __wrap_iptc_commit(struct xtc_handle *h);
static unsigned long commit_races;

int __wrap_iptc_commit(struct xtc_handle *h)
{
	int r = __real_iptc_commit(h);

	if (!r && (errno == EAGAIN || errno == EINVAL))
		commit_races++;
	return r;
}

__attribute__((format(printf, 2, 3))) static bool check(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", ok ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (ok)
		passed++;
	else
		failed++;
	fflush(stdout);
	return ok;
}

/* Runs a shell command (test code only) and returns its stdout, malloc'ed. */
static char *capture(const char *cmd)
{
	char *out = NULL;
	size_t len = 0, n;
	char buf[4096];
	FILE *p, *m;

	p = popen(cmd, "r");
	if (!p)
		return NULL;
	m = open_memstream(&out, &len);
	if (!m) {
		pclose(p);
		return NULL;
	}
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		fwrite(buf, 1, n, m);
	fclose(m);
	pclose(p);
	return out;
}

static int sh(const char *cmd)
{
	int rc = system(cmd);

	return rc == -1 ? -1 : WEXITSTATUS(rc);
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p;

	for (p = text; p && (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || !p[n]))
			return true;
	return false;
}

static size_t count(const char *text, const char *needle)
{
	const char *p;
	size_t n = 0;

	for (p = text; p && (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* The first line of text that starts with prefix, copied into buf. */
static const char *first_line(const char *text, const char *prefix, char *buf, size_t len)
{
	const char *p;

	for (p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, prefix, strlen(prefix)))
			continue;
		snprintf(buf, len, "%.*s", (int)strcspn(p, "\n"), p);
		return buf;
	}
	buf[0] = '\0';
	return buf;
}

/* ---------------------------------------------------------------------------------------
 * Building rule sets
 */

static uint32_t ip(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

static uint32_t mask(int bits)
{
	return bits ? htonl(~0u << (32 - bits)) : 0;
}

static struct rules_rule base(enum rules_table t, const char *chain, enum rules_verdict v)
{
	struct rules_rule r;

	memset(&r, 0, sizeof(r));
	r.table = t;
	snprintf(r.chain, sizeof(r.chain), "%s", chain);
	r.verdict = v;
	return r;
}

static void add(struct rules_set *rs, const struct rules_rule *r)
{
	if (rules_add(rs, r)) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
}

static void chain(struct rules_set *rs, enum rules_table t, const char *name, const char *hook)
{
	if (rules_add_chain(rs, t, name, hook)) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
}

/*
 * filter: every match and inversion, the three verdicts, a jump; mangle: MARK; nat: DNAT
 * with and without ports, MASQUERADE, and a chain reached from two hooks' chains.  Chains
 * are declared in name order and rules grouped by chain, the order the kernel reads back.
 */
static void build_filter(struct rules_set *rs)
{
	struct rules_rule r;

	chain(rs, RULES_FILTER, "TIERNET-A", "FORWARD");
	chain(rs, RULES_FILTER, "TIERNET-B", "");
	chain(rs, RULES_FILTER, "TIERNET-C", "INPUT");

	r = base(RULES_FILTER, "TIERNET-A", RULES_ACCEPT);
	r.src = ip("10.1.2.0"), r.smsk = mask(24);
	r.dst = ip("10.9.0.0"), r.dmsk = mask(16), r.dst_inv = true;
	snprintf(r.in, sizeof(r.in), "tn+");
	snprintf(r.out, sizeof(r.out), "br0");
	r.out_inv = true;
	r.proto = IPPROTO_TCP, r.dport_lo = 80, r.dport_hi = 90;
	r.ctstate = RULES_CT_INVALID | RULES_CT_NEW | RULES_CT_RELATED | RULES_CT_ESTABLISHED |
		    RULES_CT_DNAT;
	r.mark_match = true, r.mark = POLICY_FWMARK, r.mark_mask = POLICY_FWMARK;
	r.local_dst = true;
	snprintf(r.comment, sizeof(r.comment), "hello world");
	add(rs, &r);

	r = base(RULES_FILTER, "TIERNET-A", RULES_DROP);
	r.src = ip("10.0.0.1"), r.smsk = mask(32), r.src_inv = true;
	r.dst = ip("10.0.0.2"), r.dmsk = mask(32);
	snprintf(r.in, sizeof(r.in), "tnx0");
	r.in_inv = true;
	snprintf(r.out, sizeof(r.out), "tn+");
	r.proto = IPPROTO_UDP, r.dport_lo = 53;
	add(rs, &r);

	r = base(RULES_FILTER, "TIERNET-A", RULES_RETURN);
	r.proto = IPPROTO_ICMP;
	add(rs, &r);

	r = base(RULES_FILTER, "TIERNET-A", RULES_ACCEPT);
	r.proto = IPPROTO_ICMP, r.icmp_match = true, r.icmp_type = 8;
	add(rs, &r);

	r = base(RULES_FILTER, "TIERNET-A", RULES_JUMP);
	snprintf(r.target, sizeof(r.target), "TIERNET-B");
	r.proto = IPPROTO_TCP, r.dport_lo = 443;
	r.ctstate = RULES_CT_RELATED | RULES_CT_ESTABLISHED;
	add(rs, &r);

	/* a goto: the compiler's every decision in mangle (compile.c) */
	r = base(RULES_FILTER, "TIERNET-A", RULES_GOTO);
	snprintf(r.target, sizeof(r.target), "TIERNET-B");
	r.in_group = (struct rules_group){ .on = true, .id = 0x746e8001, .mask = 0xffffbfff };
	add(rs, &r);

	r = base(RULES_FILTER, "TIERNET-A", RULES_RETURN);
	snprintf(r.comment, sizeof(r.comment), "tiernet");
	add(rs, &r);

	r = base(RULES_FILTER, "TIERNET-B", RULES_DROP);
	add(rs, &r);

	r = base(RULES_FILTER, "TIERNET-C", RULES_ACCEPT);
	snprintf(r.in, sizeof(r.in), "tn+");
	r.local_dst = true;
	add(rs, &r);
}

static void build_mangle(struct rules_set *rs)
{
	struct rules_rule r;

	chain(rs, RULES_MANGLE, "TIERNET-MARK", "FORWARD");
	r = base(RULES_MANGLE, "TIERNET-MARK", RULES_MARK);
	snprintf(r.in, sizeof(r.in), "tn+");
	snprintf(r.out, sizeof(r.out), "tn+");
	r.set_mark = POLICY_FWMARK, r.set_mask = POLICY_FWMARK;
	add(rs, &r);
}

static void build_nat(struct rules_set *rs)
{
	struct rules_rule r;

	chain(rs, RULES_NAT, "TIERNET-DNAT", "PREROUTING");
	chain(rs, RULES_NAT, "TIERNET-OUT", "OUTPUT");
	chain(rs, RULES_NAT, "TIERNET-POST", "POSTROUTING");

	r = base(RULES_NAT, "TIERNET-DNAT", RULES_DNAT);
	r.dst = ip("10.0.0.1"), r.dmsk = mask(32);
	r.proto = IPPROTO_TCP, r.dport_lo = 8080;
	r.to_addr = ip("10.2.0.5"), r.to_port_lo = 80;
	add(rs, &r);

	r = base(RULES_NAT, "TIERNET-DNAT", RULES_DNAT);
	r.proto = IPPROTO_UDP, r.dport_lo = 5000, r.dport_hi = 5010;
	r.to_addr = ip("10.2.0.6"), r.to_port_lo = 1000, r.to_port_hi = 1010;
	add(rs, &r);

	r = base(RULES_NAT, "TIERNET-DNAT", RULES_DNAT);
	r.proto = IPPROTO_TCP;
	r.to_addr = ip("10.2.0.7");
	add(rs, &r);

	r = base(RULES_NAT, "TIERNET-OUT", RULES_JUMP);
	r.local_dst = true;
	snprintf(r.target, sizeof(r.target), "TIERNET-DNAT");
	add(rs, &r);

	r = base(RULES_NAT, "TIERNET-POST", RULES_MASQUERADE);
	r.src = ip("10.2.0.0"), r.smsk = mask(16);
	snprintf(r.out, sizeof(r.out), "tn+");
	r.out_inv = true;
	add(rs, &r);
}

/* The second set: fewer chains, two hooks in FORWARD, no mangle at all. */
static void build_second(struct rules_set *rs)
{
	struct rules_rule r;

	chain(rs, RULES_FILTER, "TIERNET-A", "FORWARD");
	chain(rs, RULES_FILTER, "TIERNET-D", "FORWARD");
	r = base(RULES_FILTER, "TIERNET-A", RULES_ACCEPT);
	snprintf(r.in, sizeof(r.in), "tn1");
	snprintf(r.out, sizeof(r.out), "tn1");
	add(rs, &r);
	r = base(RULES_FILTER, "TIERNET-D", RULES_DROP);
	snprintf(r.in, sizeof(r.in), "tn+");
	add(rs, &r);

	chain(rs, RULES_NAT, "TIERNET-POST", "POSTROUTING");
	r = base(RULES_NAT, "TIERNET-POST", RULES_MASQUERADE);
	r.src = ip("10.3.0.0"), r.smsk = mask(16);
	add(rs, &r);
}

/* ---------------------------------------------------------------------------------------
 * Checks
 */

static char *save(void)
{
	return capture("iptables-legacy-save 2>/dev/null | grep -v '^#'");
}

/* xt_read() must read back exactly the applied set. */
static void check_dump(const struct rules_set *rs, const char *what)
{
	char *want = rules_dump(rs), *got = dump();

	if (!check(want && got && !strcmp(want, got), "%s: xt_read() reads back the set", what))
		printf("--- want\n%s--- got\n%s---\n", want ? want : "(null)",
		       got ? got : last_err.msg);
	free(want);
	free(got);
}

static char *save_table(enum rules_table t)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "iptables-legacy-save -t %s 2>/dev/null | grep -v '^#'",
		 rules_table_name(t));
	return capture(cmd);
}

/*
 * Every rule is in iptables-legacy-save's output exactly as rules_format prints it, and
 * every hook is there once and first in its built-in chain.
 */
static void check_save(const struct rules_set *rs, const char *what)
{
	char line[1024], first[1024], *text[RULES_NTABLES];
	const struct rules_hook *c;
	size_t i, bad = 0;
	int t;

	for (t = 0; t < RULES_NTABLES; t++)
		text[t] = save_table(t);
	for (i = 0; i < rs->nrules; i++) {
		rules_format(&rs->rules[i], line, sizeof(line));
		if (!text[rs->rules[i].table] || !has_line(text[rs->rules[i].table], line)) {
			printf("  missing from iptables-legacy-save: %s\n", line);
			bad++;
		}
	}
	if (!check(!bad, "%s: iptables-legacy-save shows all %zu rules as rules_format does", what,
		   rs->nrules))
		for (t = 0; t < RULES_NTABLES; t++)
			printf("--- iptables-legacy-save -t %s\n%s", rules_table_name(t),
			       text[t] ? text[t] : "(failed)\n");
	for (i = 0; i < rs->nhooks; i++) {
		c = &rs->hooks[i];
		if (!text[c->table])
			continue;
		snprintf(line, sizeof(line), "-A %s -j %s\n", c->from, c->to);
		check(count(text[c->table], line) == 1, "%s: %s hook \"-A %s -j %s\" once", what,
		      rules_table_name(c->table), c->from, c->to);
		snprintf(line, sizeof(line), "-A %s ", c->from);
		first_line(text[c->table], line, first, sizeof(first));
		check(!strncmp(first + strlen(line), "-j TIERNET", 10),
		      "%s: %s %s starts with a tiernet hook (\"%s\")", what,
		      rules_table_name(c->table), c->from, first);
	}
	for (t = 0; t < RULES_NTABLES; t++)
		free(text[t]);
}

/* Tables are created per namespace on first use; tiernet creates only those it needs. */
/* ---------------------------------------------------------------------------------------
 * IPv6: the same code compiled for ip6tables (policy/xt6_*.c)
 */

static struct in6_addr ip6(const char *s)
{
	struct in6_addr a;

	inet_pton(AF_INET6, s, &a);
	return a;
}

static struct in6_addr mask6(int bits)
{
	struct in6_addr m = { 0 };
	int i;

	for (i = 0; i < bits; i++)
		m.s6_addr[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	return m;
}

/* Every match and target tiernet uses, in the four tables, in IPv6 form. */
static void build_v6(struct rules_set *rs)
{
	struct rules_rule r;

	chain(rs, RULES_FILTER, "TIERNET-A", "FORWARD");
	chain(rs, RULES_FILTER, "TIERNET-B", "");
	r = base(RULES_FILTER, "TIERNET-A", RULES_ACCEPT);
	r.src6 = ip6("fd00:1:2::"), r.smsk6 = mask6(48);
	r.dst6 = ip6("fd00:9::"), r.dmsk6 = mask6(64), r.dst_inv = true;
	snprintf(r.in, sizeof(r.in), "tn+");
	snprintf(r.out, sizeof(r.out), "br0");
	r.out_inv = true;
	r.proto = IPPROTO_TCP, r.dport_lo = 80, r.dport_hi = 90;
	r.ctstate = RULES_CT_NEW | RULES_CT_DNAT;
	r.mark_match = true, r.mark = POLICY_FWMARK, r.mark_mask = POLICY_FWMARK;
	r.local_dst = true;
	snprintf(r.comment, sizeof(r.comment), "hello six");
	add(rs, &r);
	r = base(RULES_FILTER, "TIERNET-A", RULES_DROP);
	r.src6 = ip6("fd00::1"), r.smsk6 = mask6(128), r.src_inv = true;
	r.proto = IPPROTO_UDP, r.dport_lo = 53;
	r.in_group = (struct rules_group){ .on = true, .id = 0x746e8000, .mask = 0xffff8000 };
	r.out_group =
	    (struct rules_group){ .on = true, .inv = true, .id = 0x746e0000, .mask = 0xffff0000 };
	add(rs, &r);
	r = base(RULES_FILTER, "TIERNET-A", RULES_ACCEPT);
	r.proto = IPPROTO_ICMPV6, r.icmp_match = true, r.icmp_type = 135;
	add(rs, &r);
	r = base(RULES_FILTER, "TIERNET-A", RULES_JUMP);
	snprintf(r.target, sizeof(r.target), "TIERNET-B");
	add(rs, &r);
	r = base(RULES_FILTER, "TIERNET-A", RULES_GOTO);
	snprintf(r.target, sizeof(r.target), "TIERNET-B");
	r.proto = IPPROTO_TCP, r.dport_lo = 22; /* ip6tables' protocol flag beside the goto's */
	add(rs, &r);
	r = base(RULES_FILTER, "TIERNET-B", RULES_RETURN);
	r.proto = IPPROTO_ICMPV6;
	add(rs, &r);

	chain(rs, RULES_MANGLE, "TIERNET-MARK", "FORWARD");
	r = base(RULES_MANGLE, "TIERNET-MARK", RULES_MARK);
	r.set_mark = POLICY_FWMARK, r.set_mask = POLICY_FWMARK;
	add(rs, &r);

	chain(rs, RULES_NAT, "TIERNET-DNAT", "PREROUTING");
	chain(rs, RULES_NAT, "TIERNET-POST", "POSTROUTING");
	r = base(RULES_NAT, "TIERNET-DNAT", RULES_DNAT);
	r.dst6 = ip6("fd00:ffff::1"), r.dmsk6 = mask6(128);
	r.proto = IPPROTO_TCP, r.dport_lo = 8080;
	r.to_addr6 = ip6("fd00:2::5"), r.to_port_lo = 80;
	add(rs, &r);
	r = base(RULES_NAT, "TIERNET-DNAT", RULES_DNAT);
	r.proto = IPPROTO_UDP, r.dport_lo = 5000, r.dport_hi = 5010;
	r.to_addr6 = ip6("fd00:2::6"), r.to_port_lo = 1000, r.to_port_hi = 1010;
	add(rs, &r);
	r = base(RULES_NAT, "TIERNET-DNAT", RULES_DNAT);
	r.proto = IPPROTO_TCP;
	r.to_addr6 = ip6("fd00:2::7");
	add(rs, &r);
	r = base(RULES_NAT, "TIERNET-POST", RULES_MASQUERADE);
	r.src6 = ip6("fd00:2::"), r.smsk6 = mask6(64);
	r.out_group =
	    (struct rules_group){ .on = true, .inv = true, .id = 0x746e0000, .mask = 0xffff0000 };
	add(rs, &r);

	chain(rs, RULES_RAW, "TIERNET-RAW", "PREROUTING");
	r = base(RULES_RAW, "TIERNET-RAW", RULES_DROP);
	r.dst6 = ip6("::1"), r.dmsk6 = mask6(128);
	add(rs, &r);
	r = base(RULES_RAW, "TIERNET-RAW", RULES_DROP);
	r.proto = IPPROTO_ICMPV6, r.icmp_match = true, r.icmp_type = 134;
	add(rs, &r);
	r = base(RULES_RAW, "TIERNET-RAW", RULES_DROP);
	r.rpf_invert = true;
	add(rs, &r);
}

static char *save6(const char *table)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "ip6tables-legacy-save%s%s 2>/dev/null | grep -v '^#'",
		 table ? " -t " : "", table ? table : "");
	return capture(cmd);
}

/*
 * The IPv6 set goes to ip6tables' tables only, shows in ip6tables-legacy-save as
 * rules_format prints it, reads back, is idempotent, and the empty set takes it away.  A
 * v6 rule given to the v4 code (and back) is refused, not written half-right.
 */
static void test_v6(void)
{
	struct rules_set rs, back, empty;
	char line[1024], *v4_before, *v4_after, *text[RULES_NTABLES], *a, *b;
	size_t i, bad = 0;
	int r, t;

	rules_init_family(&rs, AF_INET6);
	build_v6(&rs);
	v4_before = save();
	last_err.msg[0] = '\0';
	r = xt6_apply(&rs, NULL, &last_err);
	if (!check(r == 0, "v6: apply the full IPv6 set (%s)", r ? last_err.msg : "ok")) {
		free(v4_before);
		rules_clear(&rs);
		return;
	}
	v4_after = save();
	check(v4_before && v4_after && !strcmp(v4_before, v4_after),
	      "v6: iptables' (IPv4) tables did not change");
	for (t = 0; t < RULES_NTABLES; t++)
		text[t] = save6(rules_table_name(t));
	for (i = 0; i < rs.nrules; i++) {
		rules_format(&rs.rules[i], line, sizeof(line));
		if (!text[rs.rules[i].table] || !has_line(text[rs.rules[i].table], line)) {
			printf("  missing from ip6tables-legacy-save: %s\n", line);
			bad++;
		}
	}
	if (!check(!bad, "v6: ip6tables-legacy-save shows all %zu rules as rules_format does",
		   rs.nrules))
		for (t = 0; t < RULES_NTABLES; t++)
			printf("--- ip6tables-legacy-save -t %s\n%s", rules_table_name(t),
			       text[t] ? text[t] : "(failed)\n");
	for (t = 0; t < RULES_NTABLES; t++)
		free(text[t]);

	rules_init_family(&back, AF_INET6);
	r = xt6_read(&back, &last_err);
	a = rules_dump(&rs);
	b = r ? NULL : rules_dump(&back);
	if (!check(a && b && !strcmp(a, b), "v6: xt6_read() reads back the set"))
		printf("--- want\n%s--- got\n%s---\n", a ? a : "(null)", b ? b : last_err.msg);
	free(a);
	free(b);
	rules_clear(&back);

	a = save6(NULL);
	r = xt6_apply(&rs, &rs, &last_err);
	b = save6(NULL);
	check(!r && a && b && !strcmp(a, b), "v6: applying the same set again changes nothing");
	free(a);
	free(b);

	/* the wrong family's code refuses the rules instead of writing them half-right */
	r = xt_apply(&rs, NULL, &last_err);
	a = save();
	check(r < 0 && a && v4_before && !strcmp(a, v4_before),
	      "v6: the IPv4 code refuses an IPv6 set and changes nothing (%s)", last_err.msg);
	free(a);

	rules_init_family(&empty, AF_INET6);
	r = xt6_apply(&empty, &rs, &last_err);
	a = save6(NULL);
	check(!r && a && !strstr(a, "TIERNET"), "v6: the empty set leaves no TIERNET chain");
	free(a);
	free(v4_before);
	free(v4_after);
	rules_clear(&rs);
}

static void test_lazy_tables(void)
{
	struct rules_set rs;
	struct rules_rule r;
	char *names;
	int err;

	rules_init(&rs);
	chain(&rs, RULES_FILTER, "TIERNET-L", "FORWARD");
	r = base(RULES_FILTER, "TIERNET-L", RULES_ACCEPT);
	add(&rs, &r);
	err = apply(&rs);
	rules_clear(&rs);
	err = err ? err : apply(&rs);
	names = capture("cat /proc/net/ip_tables_names");
	check(!err && names && !strcmp(names, "filter\n"),
	      "a filter-only set, then the empty set, instantiate only the filter table (%.*s)",
	      names ? (int)strcspn(names, "\n") : 1, names ? names : "?");
	free(names);
}

static void test_first(struct rules_set *rs)
{
	char *before, *after;
	int r;

	build_filter(rs);
	build_mangle(rs);
	build_nat(rs);
	r = apply(rs);
	if (!check(r == 0, "apply the full set (%s)", r ? last_err.msg : "ok"))
		return;
	check_dump(rs, "full set");
	check_save(rs, "full set");

	before = save();
	r = apply(rs);
	after = save();
	check(r == 0 && before && after && !strcmp(before, after),
	      "applying the same set again changes nothing");
	free(before);
	free(after);
	check_dump(rs, "full set, applied twice");
}

/* What tiernet did not write is shown, not hidden: "-m NAME ?" and "-j NAME ?". */
static void test_foreign_in_ours(const struct rules_set *rs)
{
	char *text;
	int r;

	/* (limit is tiernet's own since the denied-flow log: length is not) */
	sh("iptables-legacy -A TIERNET-D -p tcp -m tcp --sport 7 -m length --length 100 -j LOG");
	text = dump();
	check(text && strstr(text, "\n-A TIERNET-D -p tcp -m tcp ? -m length ? -j LOG ?\n"),
	      "xt_read() marks what it cannot decode with \"?\"");
	free(text);
	r = apply(rs);
	check(r == 0, "re-apply over a foreign rule in a tiernet chain");
	check_dump(rs, "second set, re-applied");
}

static void test_second(struct rules_set *rs)
{
	char first[512], *text;
	int r;

	/* a foreign rule on top, plus a duplicate and a misplaced tiernet hook */
	sh("iptables-legacy -I FORWARD -s 192.0.2.1/32 -j ACCEPT");
	sh("iptables-legacy -A FORWARD -j TIERNET-A");
	sh("iptables-legacy -A FORWARD -d 192.0.2.2/32 -j DROP");
	sh("iptables-legacy -A FORWARD -j TIERNET-A");
	rules_clear(rs);
	build_second(rs);
	r = apply(rs);
	if (!check(r == 0, "apply the second set (%s)", r ? last_err.msg : "ok"))
		return;
	check_dump(rs, "second set");
	check_save(rs, "second set");
	text = save();
	check(text && !strstr(text, "TIERNET-B") && !strstr(text, "TIERNET-C") &&
		  !strstr(text, "TIERNET-MARK") && !strstr(text, "TIERNET-DNAT") &&
		  !strstr(text, "TIERNET-OUT"),
	      "chains only the first set had are gone");
	check(text && first_line(text, "-A FORWARD ", first, sizeof(first)) &&
		  !strcmp(first, "-A FORWARD -j TIERNET-A"),
	      "FORWARD starts with the first hook (\"%s\")", first);
	check(text && count(text, "-A FORWARD -j TIERNET-A\n-A FORWARD -j TIERNET-D\n") == 1,
	      "both FORWARD hooks, in order, at the top");
	check(text && count(text, "-A FORWARD -s 192.0.2.1/32 -j ACCEPT\n") == 1 &&
		  count(text, "-A FORWARD -d 192.0.2.2/32 -j DROP\n") == 1,
	      "the foreign FORWARD rules are still there, once each");
	check(text && count(text, "-j TIERNET-A") == 1, "no duplicate TIERNET-A hook remains");
	free(text);
	test_foreign_in_ours(rs);
}

static void test_empty(void)
{
	struct rules_set empty;
	char *text, *back;
	int r;

	rules_init(&empty);
	r = apply(&empty);
	check(r == 0, "apply the empty set (%s)", r ? last_err.msg : "ok");
	text = save();
	check(text && !strstr(text, "TIERNET"), "no TIERNET chain or hook in any table");
	check(text && count(text, "-A FORWARD -s 192.0.2.1/32 -j ACCEPT\n") == 1,
	      "the foreign FORWARD rule survived");
	back = dump();
	check(back && !back[0], "xt_read() of nothing is empty");
	free(back);
	free(text);
}

/* Failures name the table, chain and rule, and leave the table as it was. */
static void test_errors(void)
{
	struct rules_set rs;
	struct rules_rule r;
	char *before, *after;
	int err;

	rules_init(&rs);
	chain(&rs, RULES_FILTER, "TIERNET-E", "FORWARD");
	r = base(RULES_FILTER, "TIERNET-E", RULES_ACCEPT);
	add(&rs, &r);
	err = apply(&rs);
	check(err == 0, "apply a one-rule set (%s)", err ? last_err.msg : "ok");

	r = base(RULES_FILTER, "TIERNET-E", RULES_JUMP);
	snprintf(r.target, sizeof(r.target), "TIERNET-NOPE");
	add(&rs, &r);
	before = save();
	err = apply(&rs);
	after = save();
	check(err == -ENOENT && strstr(last_err.msg, "table filter") &&
		  strstr(last_err.msg, "chain TIERNET-E") &&
		  strstr(last_err.msg, "-A TIERNET-E -j TIERNET-NOPE"),
	      "a jump to a missing chain fails with ENOENT: %s", last_err.msg);
	check(before && after && !strcmp(before, after), "... and the table is unchanged");
	free(before);
	free(after);

	rs.nrules--;
	rs.nhooks = 0;
	chain(&rs, RULES_FILTER, "TIERNET-F", "NOSUCHHOOK");
	err = apply(&rs);
	check(err == -EINVAL && strstr(last_err.msg, "NOSUCHHOOK"),
	      "a hook into a chain that is not built in fails with EINVAL: %s", last_err.msg);

	rules_clear(&rs);
	err = apply(&rs);
	check(err == 0, "and the empty set cleans up after the error tests");
}

/*
 * Another libiptc user (no xtables lock, like a second tiernet or keepalived) commits to
 * the filter table every millisecond; every apply must still succeed, through the fresh-
 * snapshot retries on EAGAIN (table replaced under us) and EINVAL (counters lost).
 */
static void race_writer(volatile unsigned long *commits)
{
	struct timespec ms = { .tv_nsec = 1000 * 1000 };
	const xt_chainlabel name = "RACE";
	struct xtc_handle *h;
	bool add = true;

	for (;;) {
		h = iptc_init("filter");
		if (h) {
			if (add)
				iptc_create_chain(name, h);
			else
				iptc_delete_chain(name, h);
			if (iptc_commit(h)) {
				add = !add;
				(*commits)++;
			}
			iptc_free(h);
		}
		nanosleep(&ms, NULL);
	}
}

static void test_race(void)
{
	volatile unsigned long *commits;
	void *shm;
	unsigned long races0 = commit_races, before = 0;
	struct rules_set rs;
	struct rules_rule r;
	int i, fails = 0;
	pid_t pid;

	/* The writer's successful commits, counted in memory both processes see. */
	shm =
	    mmap(NULL, sizeof(*commits), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (!check(shm != MAP_FAILED, "race: shared counter"))
		return;
	commits = shm;
	*commits = 0;
	rules_init(&rs);
	chain(&rs, RULES_FILTER, "TIERNET-R", "FORWARD");
	r = base(RULES_FILTER, "TIERNET-R", RULES_ACCEPT);
	for (i = 0; i < 100; i++)
		add(&rs, &r);
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		race_writer(commits);
	/* The writer is running before the first apply (at most 5 s). */
	for (i = 0; pid > 0 && i < 500 && !*commits; i++)
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
	before = *commits;
	/* 100 applies, and more (up to 3,000) until at least one met the writer's commit. */
	for (i = 0; pid > 0 && before && (i < 100 || (commit_races == races0 && i < 3000)); i++)
		if (apply(&rs)) {
			fails++;
			printf("  %s\n", last_err.msg);
		}
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	check(pid > 0 && before && *commits > before,
	      "race: the competing writer committed while tiernet applied (%lu commits)",
	      *commits - before);
	check(commit_races > races0,
	      "race: %lu of tiernet's commits met a table replaced under them and were retried",
	      commit_races - races0);
	check(pid > 0 && i >= 100 && !fails,
	      "%d applies against a concurrent libiptc writer: %d failed", i, fails);
	munmap(shm, sizeof(*commits));
	rules_clear(&rs);
	check(apply(&rs) == 0, "race: the empty set cleans up");
}

/* ---------------------------------------------------------------------------------------
 * The compiler's real output: every tests/golden case, applied in turn.
 */

/* The file's text, or NULL when it cannot be read. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	if (getdelim(&text, &len, '\0', f) < 0) { /* an empty file, or an error */
		free(text);
		text = ferror(f) ? NULL : strdup("");
	}
	fclose(f);
	return text;
}

static int chain_cmp(const void *a, const void *b)
{
	const struct rules_chain *x = a, *y = b;

	return x->table != y->table ? (int)x->table - (int)y->table : strcmp(x->name, y->name);
}

/*
 * The kernel keeps user chains sorted by name, so xt_read() lists them that way; the
 * compiler lists them as it creates them.  Same set, kernel order: chains sorted, the hooks
 * of each chain and its rules together, in their original order.
 */
static void kernel_order(const struct rules_set *in, struct rules_set *out)
{
	size_t i, j;

	rules_init_family(out, in->family);
	for (i = 0; i < in->nchains; i++)
		chain(out, in->chains[i].table, in->chains[i].name, NULL);
	if (out->nchains)
		qsort(out->chains, out->nchains, sizeof(*out->chains), chain_cmp);
	for (i = 0; i < out->nchains; i++)
		for (j = 0; j < in->nhooks; j++)
			if (in->hooks[j].table == out->chains[i].table &&
			    !strcmp(in->hooks[j].to, out->chains[i].name) &&
			    rules_add_hook(out, in->hooks[j].table, in->hooks[j].from,
					   in->hooks[j].to))
				exit(2);
	for (i = 0; i < out->nchains; i++)
		for (j = 0; j < in->nrules; j++)
			if (in->rules[j].table == out->chains[i].table &&
			    !strcmp(in->rules[j].chain, out->chains[i].name))
				add(out, &in->rules[j]);
}

/*
 * The IPv6 set of a golden case with dual-stack networks: ip6tables takes it, reads it back
 * exactly, and ip6tables-legacy-save prints every rule as rules_format does.
 */
static void golden_six(const char *conf_path, const struct policy *pol, const struct golden_nets *g)
{
	struct rules_set rs, sorted, back;
	char line[1024], *text[RULES_NTABLES], *a, *b;
	size_t i, bad = 0;
	int r, t;

	rules_init_family(&rs, AF_INET6);
	r = policy_compile(pol, g->nets, g->n, &g->host, &rs);
	if (r == 0)
		r = xt6_apply(&rs, NULL, &last_err);
	if (!check(r == 0, "%s: IPv6: ip6tables takes it (%s)", conf_path, r ? last_err.msg : "ok"))
		goto out;
	kernel_order(&rs, &sorted);
	rules_init_family(&back, AF_INET6);
	r = xt6_read(&back, &last_err);
	a = rules_dump(&sorted);
	b = r ? NULL : rules_dump(&back);
	if (!check(a && b && !strcmp(a, b), "%s: IPv6: xt6_read() reads back the set", conf_path))
		printf("--- want\n%s--- got\n%s---\n", a ? a : "(null)", b ? b : last_err.msg);
	free(a);
	free(b);
	rules_clear(&back);
	rules_clear(&sorted);
	for (t = 0; t < RULES_NTABLES; t++)
		text[t] = save6(rules_table_name(t));
	for (i = 0; i < rs.nrules; i++) {
		rules_format(&rs.rules[i], line, sizeof(line));
		if (!text[rs.rules[i].table] || !has_line(text[rs.rules[i].table], line)) {
			printf("  missing from ip6tables-legacy-save: %s\n", line);
			bad++;
		}
	}
	check(!bad, "%s: IPv6: ip6tables-legacy-save shows all %zu rules as rules_format does",
	      conf_path, rs.nrules);
	for (t = 0; t < RULES_NTABLES; t++)
		free(text[t]);
out:
	rules_clear(&rs);
}

static void golden_one(const char *conf_path)
{
	char nets_path[512], *conf, *nets_text, bad[256];
	struct config_diags diags = { 0 };
	struct golden_nets g;
	struct rules_set rs, sorted;
	struct policy *pol = NULL;
	int r;

	snprintf(nets_path, sizeof(nets_path), "%.*s.nets", (int)(strlen(conf_path) - 5),
		 conf_path);
	conf = slurp(conf_path);
	/* A case without a .nets file (why.conf, the explain tests' policy) has no networks. */
	nets_text = slurp(nets_path);
	if (!nets_text && access(nets_path, F_OK))
		nets_text = strdup("");
	r = conf ? config_parse(conf_path, conf, strlen(conf), &pol, &diags) : -ENOENT;
	rules_init(&rs);
	if (!r) {
		r = nets_text ? golden_nets_parse(pol, nets_text, &g, bad, sizeof(bad)) : -ENOENT;
		if (!r)
			r = policy_compile(pol, g.nets, g.n, &g.host, &rs);
	}
	if (check(r == 0, "%s: compiles", conf_path)) {
		r = apply(&rs);
		if (check(r == 0, "%s: the kernel takes it (%s)", conf_path,
			  r ? last_err.msg : "ok")) {
			kernel_order(&rs, &sorted);
			check_dump(&sorted, conf_path);
			check_save(&rs, conf_path);
			rules_clear(&sorted);
		}
		for (size_t i = 0; i < g.n; i++) {
			if (g.nets[i].dual) {
				golden_six(conf_path, pol, &g);
				break;
			}
		}
	}
	rules_clear(&rs);
	policy_free(pol);
	config_diags_free(&diags);
	free(conf);
	free(nets_text);
}

static void test_golden(void)
{
	const char *dir = getenv("TIERNET_GOLDEN_DIR");
	char pattern[512], *text;
	struct rules_set empty;
	glob_t g;
	size_t i;

	snprintf(pattern, sizeof(pattern), "%s/*.conf", dir ? dir : "tests/golden");
	if (!check(!glob(pattern, 0, NULL, &g), "golden: cases under %s", pattern))
		return;
	/*
	 * As on a host where Docker keeps legacy rules: DOCKER-USER exists, FORWARD jumps to it
	 * first, and it ends in RETURN.  tiernet hooks from it too, and takes only that away.
	 */
	sh("iptables-legacy -N DOCKER-USER && iptables-legacy -A DOCKER-USER -j RETURN && "
	   "iptables-legacy -I FORWARD -j DOCKER-USER");
	sh("ip6tables-legacy -N DOCKER-USER && ip6tables-legacy -A DOCKER-USER -j RETURN && "
	   "ip6tables-legacy -I FORWARD -j DOCKER-USER");
	for (i = 0; i < g.gl_pathc; i++)
		golden_one(g.gl_pathv[i]);
	globfree(&g);
	rules_init(&empty);
	check(apply(&empty) == 0, "golden: the empty set removes it all again");
	text = capture("iptables-legacy -S DOCKER-USER 2>&1");
	check(text && !strcmp(text, "-N DOCKER-USER\n-A DOCKER-USER -j RETURN\n"),
	      "golden: DOCKER-USER is left as Docker made it (%s)", text ? text : "?");
	free(text);
	sh("iptables-legacy -D FORWARD -j DOCKER-USER; iptables-legacy -F DOCKER-USER; "
	   "iptables-legacy -X DOCKER-USER");
	rules_init_family(&empty, AF_INET6);
	check(xt6_apply(&empty, NULL, &last_err) == 0, "golden: the empty IPv6 set removes it all");
	text = save6(NULL);
	check(text && !strstr(text, "TIERNET"), "golden: no TIERNET chain left in ip6tables");
	free(text);
	text = capture("ip6tables-legacy -S DOCKER-USER 2>&1");
	check(text && !strcmp(text, "-N DOCKER-USER\n-A DOCKER-USER -j RETURN\n"),
	      "golden: ip6tables' DOCKER-USER is left as Docker made it (%s)", text ? text : "?");
	free(text);
	sh("ip6tables-legacy -D FORWARD -j DOCKER-USER; ip6tables-legacy -F DOCKER-USER; "
	   "ip6tables-legacy -X DOCKER-USER");
}

/* ---------------------------------------------------------------------------------------
 * nf_tables
 */

static int nft(const char *cmd)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	int r;

	if (!ctx)
		return -1;
	r = nft_run_cmd_from_buffer(ctx, cmd);
	nft_ctx_free(ctx);
	return r;
}

static char *docker_user(void)
{
	return capture("nft -a -s list chain ip filter DOCKER-USER 2>&1");
}

/* Interface group 0x746e.... (lib/names.h), as nft prints a 16-bit prefix of it. */
#define WANT_IIF                                                                                   \
	"iifgroup 1953366016/16 meta mark & 0x01000000 == 0x01000000 counter accept comment "      \
	"\"tiernet\""
#define WANT_OIF                                                                                   \
	"oifgroup 1953366016/16 meta mark & 0x01000000 == 0x01000000 counter accept comment "      \
	"\"tiernet\""

/* The rule lines of an nft listing, without indentation and handles, joined by '|'. */
static void rule_lines(const char *text, char *buf, size_t len, bool handles)
{
	const char *p, *e;
	size_t n, pos = 0;

	buf[0] = '\0';
	for (p = text; p && *p; p = *e ? e + 1 : e) {
		e = p + strcspn(p, "\n");
		while (*p == '\t' || *p == ' ')
			p++;
		if (!strncmp(p, "table", 5) || !strncmp(p, "chain", 5) || *p == '}' || p >= e)
			continue;
		n = (size_t)(e - p);
		if (!handles && strstr(p, " # handle ") && strstr(p, " # handle ") < e)
			n = (size_t)(strstr(p, " # handle ") - p);
		pos += (size_t)snprintf(buf + pos, pos < len ? len - pos : 0, "%s%.*s",
					pos ? "|" : "", (int)n, p);
		if (pos >= len)
			return;
	}
}

static void test_nft(void)
{
	char lines[4096], handles[4096], handles2[4096], *text;
	int r;

	check(nft_detect() == NFT_MODE_LEGACY, "nft_detect() is legacy without DOCKER-USER");
	check(nft_passthrough_ensure(&last_err) == 0, "ensure is a no-op without DOCKER-USER");
	r = nft("table ip filter {\n"
		"  chain FORWARD { type filter hook forward priority 0; policy drop; }\n"
		"  chain DOCKER-USER { }\n"
		"}\n"
		"add rule ip filter FORWARD jump DOCKER-USER\n"
		"add rule ip filter DOCKER-USER return\n");
	if (!check(r == 0, "create Docker's nft FORWARD and DOCKER-USER"))
		return;
	check(nft_detect() == NFT_MODE_NFT, "nft_detect() sees DOCKER-USER");

	r = nft_passthrough_ensure(&last_err);
	text = docker_user();
	rule_lines(text, lines, sizeof(lines), false);
	rule_lines(text, handles, sizeof(handles), true);
	free(text);
	check(r == 0 && !strcmp(lines, WANT_IIF "|" WANT_OIF "|return"),
	      "ensure puts the two pass-through rules first: %s", lines);

	r = nft_passthrough_ensure(&last_err);
	text = docker_user();
	rule_lines(text, lines, sizeof(lines), false);
	rule_lines(text, handles2, sizeof(handles2), true);
	free(text);
	check(r == 0 && !strcmp(lines, WANT_IIF "|" WANT_OIF "|return"),
	      "ensure again: still exactly two, first: %s", lines);
	check(!strcmp(handles, handles2), "ensure again did not rewrite the rules");

	nft("insert rule ip filter DOCKER-USER ip saddr 192.0.2.9 drop\n");
	r = nft_passthrough_ensure(&last_err);
	text = docker_user();
	rule_lines(text, lines, sizeof(lines), false);
	free(text);
	check(r == 0 && !strcmp(lines, WANT_IIF "|" WANT_OIF "|ip saddr 192.0.2.9 drop|return"),
	      "ensure moves the pass-through back above a foreign rule: %s", lines);

	r = nft_passthrough_remove(&last_err);
	text = docker_user();
	rule_lines(text, lines, sizeof(lines), false);
	free(text);
	check(r == 0 && !strcmp(lines, "ip saddr 192.0.2.9 drop|return"),
	      "remove deletes only tiernet's rules: %s", lines);
	check(nft_passthrough_remove(&last_err) == 0, "remove again is a no-op");
	nft("delete table ip filter\n");
	check(nft_passthrough_remove(&last_err) == 0, "remove without DOCKER-USER is a no-op");
}

/*
 * tiernet's own bridge table: the IPv6 drop, the isolated groups, the endpoints' sources one
 * by one, the shape check, and its removal.
 */
static void test_l2(void)
{
	const uint32_t iso[] = { 0x746e0004u, 0x746e0007u };
	struct l2_ep eps[2] = { { .ifname = "tnvaaaaaaaaaaaa" }, { .ifname = "tnvbbbbbbbbbbbb" } };
	char *text;
	int r;

	inet_pton(AF_INET, "10.87.1.2", &eps[0].addr);
	inet_pton(AF_INET, "10.87.2.2", &eps[1].addr);
	eps[1].has6 = true;
	inet_pton(AF_INET6, "fd00:87:2::2", &eps[1].addr6);
	r = nft_l2_apply(true, iso, 2, eps, 1, &last_err);
	text = capture("nft list table bridge tiernet 2>&1");
	/* veths of IPv4-only networks: no IPv6 at all; isolated tiers' veths, either kind */
	check(r == 0 && text &&
		  strstr(text, "iifgroup & 4294942720 == 1953366016 meta protocol ip6 counter") &&
		  strstr(text, "iifgroup { 1953366020, 1953366023, 1953374212, 1953374215 } "
			       "ether type != { ip, arp, ip6 } counter"),
	      "l2: the IPv6 drop and the isolated tiers' guard (%s)", r ? last_err.msg : "ok");
	check(text && strstr(text, "\"tnvaaaaaaaaaaaa\" . 10.87.1.2"),
	      "l2: the endpoint's source is in src4");
	free(text);
	check(nft_l2_in_place(true, &last_err) == 1, "l2: whole (with the isolated chain)");
	check(nft_l2_in_place(false, &last_err) == 0, "l2: ... not the shape without it");
	check(nft_l2_element(true, &eps[1], &last_err) == 0, "l2: add one endpoint's elements");
	text = capture("nft list table bridge tiernet 2>&1");
	check(text && strstr(text, "\"tnvbbbbbbbbbbbb\" . 10.87.2.2") &&
		  strstr(text, "\"tnvbbbbbbbbbbbb\" . fd00:87:2::2"),
	      "l2: ... both families");
	free(text);
	check(nft_l2_element(false, &eps[0], &last_err) == 0, "l2: delete one endpoint's elements");
	text = capture("nft list set bridge tiernet src4 2>&1");
	check(text && !strstr(text, "tnvaaaaaaaaaaaa") && strstr(text, "tnvbbbbbbbbbbbb"),
	      "l2: ... only that one's");
	free(text);
	check(nft_l2_element(false, &eps[0], &last_err) == -ENOENT,
	      "l2: deleting it again is ENOENT");
	nft("delete chain bridge tiernet isolated\n");
	check(nft_l2_in_place(true, &last_err) == 0, "l2: a chain deleted by hand is noticed");
	r = nft_l2_apply(true, NULL, 0, NULL, 0, &last_err);
	text = capture("nft list table bridge tiernet 2>&1");
	check(r == 0 && text && strstr(text, "meta protocol ip6") &&
		  !strstr(text, "chain isolated") && !strstr(text, "tnvbbbbbbbbbbbb"),
	      "l2: applied again without isolated tiers or endpoints: replaced whole");
	free(text);
	r = nft_l2_apply(false, NULL, 0, NULL, 0, &last_err);
	check(r == 0 && sh("nft list table bridge tiernet >/dev/null 2>&1") != 0,
	      "l2: off removes the table (%s)", r ? last_err.msg : "ok");
	check(nft_l2_in_place(false, &last_err) == 0, "l2: a missing table is not in place");
	check(nft_l2_element(true, &eps[0], &last_err) == -ENOENT,
	      "l2: an element without the table is ENOENT (the driver then writes it whole)");
	r = nft_l2_apply(false, NULL, 0, NULL, 0, &last_err);
	check(r == 0, "l2: off again is a no-op (%s)", r ? last_err.msg : "ok");
}

/* xt_in_place: hooks pushed down, a chain gone, DOCKER-USER appearing are all noticed. */
static void test_in_place(void)
{
	struct rules_set rs;
	struct rules_rule r;

	rules_init(&rs);
	chain(&rs, RULES_FILTER, "TIERNET-P", "FORWARD");
	rules_add_hook(&rs, RULES_FILTER, "DOCKER-USER", "TIERNET-P");
	r = base(RULES_FILTER, "TIERNET-P", RULES_RETURN);
	add(&rs, &r);
	check(apply(&rs) == 0 && xt_in_place(&rs, &last_err) == 1,
	      "in place: right after an apply (DOCKER-USER absent: its hook is skipped)");
	sh("iptables-legacy -I FORWARD -s 192.0.2.7/32 -j ACCEPT");
	check(xt_in_place(&rs, &last_err) == 0, "in place: not when a rule went above the hook");
	check(apply(&rs) == 0 && xt_in_place(&rs, &last_err) == 1, "in place: again after apply");
	sh("iptables-legacy -N DOCKER-USER && iptables-legacy -A DOCKER-USER -j RETURN");
	check(xt_in_place(&rs, &last_err) == 0, "in place: not when DOCKER-USER appeared");
	check(apply(&rs) == 0 && xt_in_place(&rs, &last_err) == 1 &&
		  sh("iptables-legacy -S DOCKER-USER | sed -n 2p | grep -qx -- '-A DOCKER-USER -j "
		     "TIERNET-P'") == 0,
	      "in place: DOCKER-USER starts with the hook after apply");
	sh("iptables-legacy -F TIERNET-P && iptables-legacy -D FORWARD -j TIERNET-P && "
	   "iptables-legacy -D DOCKER-USER -j TIERNET-P && iptables-legacy -X TIERNET-P");
	check(xt_in_place(&rs, &last_err) == 0, "in place: not when the chain is gone");
	rules_clear(&rs);
	check(apply(&rs) == 0, "in place: the empty set cleans up");
	sh("iptables-legacy -D FORWARD -s 192.0.2.7/32 -j ACCEPT; iptables-legacy -F DOCKER-USER; "
	   "iptables-legacy -X DOCKER-USER");
}

/* The rules of TIERNET-CNT with source 10.N.0.0/16, N = nets[0..n), verdict v[i]. */
static void cnt_set(struct rules_set *rs, const int *nets, const enum rules_verdict *v, size_t n)
{
	struct rules_rule r;
	size_t i;

	rules_clear(rs);
	rules_init(rs);
	chain(rs, RULES_FILTER, "TIERNET-CNT", "FORWARD");
	for (i = 0; i < n; i++) {
		r = base(RULES_FILTER, "TIERNET-CNT", v[i]);
		r.src = htonl(0x0a000000u | (uint32_t)nets[i] << 16);
		r.smsk = htonl(0xffff0000u);
		add(rs, &r);
	}
}

/* The packet counters of TIERNET-CNT's rules, by source net; -1 when absent. */
static void cnt_read(long long *pkts, size_t n)
{
	struct rules_set back;
	size_t i, k;

	for (k = 0; k < n; k++)
		pkts[k] = -1;
	rules_init(&back);
	if (xt_read(&back, &last_err) == 0)
		for (i = 0; i < back.nrules; i++)
			if (!strcmp(back.rules[i].chain, "TIERNET-CNT") &&
			    (k = (ntohl(back.rules[i].src) >> 16) & 0xff) < n)
				pkts[k] = (long long)back.rules[i].pkts;
	rules_clear(&back);
}

/*
 * A commit keeps the counters of the rules it leaves as they were (`tiernet status` counts
 * and the guards' drop counts survive a network created elsewhere); a new or changed rule
 * starts at zero.
 */
static void test_counters(void)
{
	static const int first[] = { 1, 2, 3 }, second[] = { 4, 1, 2, 3 };
	static const enum rules_verdict v1[] = { RULES_ACCEPT, RULES_DROP, RULES_RETURN },
					v2[] = { RULES_ACCEPT, RULES_ACCEPT, RULES_ACCEPT,
						 RULES_RETURN };
	xt_chainlabel label = "TIERNET-CNT"; /* libiptc reads a whole label */
	struct xt_counters c;
	struct xtc_handle *h;
	struct rules_set rs;
	long long p[5];
	unsigned i;

	rules_init(&rs);
	cnt_set(&rs, first, v1, 3);
	if (!check(apply(&rs) == 0, "counters: the first set (%s)", last_err.msg))
		goto out;
	h = iptc_init("filter");
	for (i = 1; h && i <= 3; i++) {
		c.pcnt = 10 * i;
		c.bcnt = 1000 * i;
		iptc_set_counter(label, i, &c, h);
	}
	check(h && iptc_commit(h), "counters: set to 10, 20, 30 behind tiernet's back");
	if (h)
		iptc_free(h);
	cnt_read(p, 5);
	check(p[1] == 10 && p[2] == 20 && p[3] == 30, "control: they read back (%lld %lld %lld)",
	      p[1], p[2], p[3]);
	/* a rule inserted at the top, the second changed (DROP -> ACCEPT), the others kept */
	cnt_set(&rs, second, v2, 4);
	check(apply(&rs) == 0, "counters: the second set (%s)", last_err.msg);
	cnt_read(p, 5);
	check(p[1] == 10 && p[3] == 30,
	      "counters: the unchanged rules keep theirs across the commit (%lld %lld)", p[1],
	      p[3]);
	check(p[4] == 0 && p[2] == 0,
	      "counters: the new rule and the changed one start at 0 (%lld %lld)", p[4], p[2]);
	check(apply(&rs) == 0 && (cnt_read(p, 5), p[1] == 10 && p[3] == 30 && p[4] == 0),
	      "counters: and again on a commit of the same set");
out:
	rules_clear(&rs);
	rules_init(&rs);
	check(apply(&rs) == 0, "counters: the empty set cleans up");
}

/* ---------------------------------------------------------------------------------------
 */

/* A fresh network namespace has nothing but lo and no legacy table yet. */
static bool fresh_netns(void)
{
	char *dev = capture("tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '");
	char *tables = capture("cat /proc/net/ip_tables_names");
	bool ok = dev && tables && !strcmp(dev, "lo\n") && !tables[0];

	free(dev);
	free(tables);
	return ok;
}

int main(void)
{
	struct rules_set rs;

	if (geteuid()) {
		fprintf(stderr, "fw-roundtrip: needs root\n");
		return 127;
	}
	if (!fresh_netns()) {
		fprintf(stderr, "fw-roundtrip: refusing to run outside a fresh network namespace; "
				"use tests/integration/fw-roundtrip.sh (unshare -n)\n");
		return 2;
	}
	rules_init(&rs);
	test_lazy_tables();
	test_first(&rs);
	test_second(&rs);
	test_empty();
	test_errors();
	test_golden();
	test_race();
	test_nft();
	test_l2();
	test_in_place();
	test_counters();
	test_v6();
	rules_clear(&rs);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
