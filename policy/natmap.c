/*
 * Published ports as nf_tables maps: the text of tiernet's nat tables "ip tiernet" and
 * "ip6 tiernet", and of the element changes that take one set of mappings to another.
 *
 * Why maps and not DNAT rules: x_tables has no way to change one rule; every change of a
 * table replaces all of it, so with 1,000 mappings on the host each ProgramExternalConnectivity
 * and Revoke recompiled and recommitted 1,000 DNAT rules (issue 16: 4.8x the time with none).
 * A map element is added or deleted on its own, and the packet's lookup is a hash whatever
 * the number of mappings.  Three maps, looked up in this order (the DNAT chains' order before):
 *   local  proto . port          127.0.0.1:PORT bindings, from the host only (OUTPUT)
 *   bound  addr . proto . port   bindings to one of the host's addresses
 *   any    proto . port          bindings to every address
 * A packet whose key is in no map is not translated.  Only addresses of this host are looked
 * up (fib daddr type local), as the addrtype match did.  IPv6 has no local map: Linux cannot
 * forward ::1 (publish.c), so the host's own connections to ::1 are left alone.
 *
 * Pure text: policy/nft_nat.c hands it to libnftables; the unit tests read it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "lib/names.h"
#include "policy/policy.h"

enum natmap_kind { NAT_LOCAL, NAT_BOUND, NAT_ANY };

static const char *const kind_name[] = {
	[NAT_LOCAL] = "local", [NAT_BOUND] = "bound", [NAT_ANY] = "any"
};

static enum natmap_kind kind_of(const struct policy_map *m, bool v6)
{
	if (v6)
		return IN6_IS_ADDR_UNSPECIFIED(&m->host_ip6) ? NAT_ANY : NAT_BOUND;
	if (m->host_ip == htonl(INADDR_LOOPBACK))
		return NAT_LOCAL;
	return m->host_ip ? NAT_BOUND : NAT_ANY;
}

/* Orders by map, then key: the order natmap_diff walks both sets in. */
static int key_cmp(const struct policy_map *a, const struct policy_map *b, bool v6)
{
	enum natmap_kind ka = kind_of(a, v6), kb = kind_of(b, v6);
	int c;

	if (ka != kb)
		return ka < kb ? -1 : 1;
	if (ka == NAT_BOUND) {
		c = v6 ? memcmp(&a->host_ip6, &b->host_ip6, sizeof(a->host_ip6))
		       : memcmp(&a->host_ip, &b->host_ip, sizeof(a->host_ip));
		if (c)
			return c;
	}
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	if (a->host_port != b->host_port)
		return a->host_port < b->host_port ? -1 : 1;
	return 0;
}

static bool value_eq(const struct policy_map *a, const struct policy_map *b, bool v6)
{
	if (a->port != b->port)
		return false;
	return v6 ? !memcmp(&a->addr6, &b->addr6, sizeof(a->addr6)) : a->addr == b->addr;
}

static int cmp4(const void *a, const void *b)
{
	return key_cmp(a, b, false);
}

static int cmp6(const void *a, const void *b)
{
	return key_cmp(a, b, true);
}

void natmap_sort(struct policy_map *maps, size_t n, int family)
{
	if (n > 1)
		qsort(maps, n, sizeof(*maps), family == AF_INET6 ? cmp6 : cmp4);
}

static const char *fam(int family)
{
	return family == AF_INET6 ? "ip6" : "ip";
}

static const char *proto_name(uint8_t p)
{
	return p == IPPROTO_UDP ? "udp" : "tcp";
}

static void put_addr(FILE *f, int family, const void *a)
{
	char s[INET6_ADDRSTRLEN];

	fputs(inet_ntop(family, a, s, sizeof(s)) ? s : "?", f);
}

static void put_key(FILE *f, const struct policy_map *m, int family)
{
	bool v6 = family == AF_INET6;

	if (kind_of(m, v6) == NAT_BOUND) {
		put_addr(f, family, v6 ? (const void *)&m->host_ip6 : (const void *)&m->host_ip);
		fputs(" . ", f);
	}
	fprintf(f, "%s . %u", proto_name(m->proto), m->host_port);
}

static void put_value(FILE *f, const struct policy_map *m, int family)
{
	fputs(" : ", f);
	put_addr(f, family, family == AF_INET6 ? (const void *)&m->addr6 : (const void *)&m->addr);
	fprintf(f, " . %u", m->port);
}

/*
 * "add element ..." (with values) or "delete element ..." (keys) of maps[idx[0..n)], per map;
 * with idx NULL, of maps[0..n).
 */
static void put_elements(FILE *f, const char *verb, int family, const struct policy_map *maps,
			 const size_t *idx, size_t n, bool values)
{
	bool v6 = family == AF_INET6;
	enum natmap_kind k;
	const struct policy_map *m;
	size_t i, open;

	for (k = NAT_LOCAL; k <= NAT_ANY; k++) {
		open = 0;
		for (i = 0; i < n; i++) {
			m = &maps[idx ? idx[i] : i];
			if (kind_of(m, v6) != k)
				continue;
			if (!open++)
				fprintf(f, "%s element %s " TN_NFT_TABLE " %s { ", verb,
					fam(family), kind_name[k]);
			else
				fputs(", ", f);
			put_key(f, m, family);
			if (values)
				put_value(f, m, family);
		}
		if (open)
			fputs(" }\n", f);
	}
}

#define RULE_BOUND "\t\tfib daddr type local %s %s daddr . meta l4proto . th dport map @bound\n"
#define RULE_ANY   "\t\tfib daddr type local %s meta l4proto . th dport map @any\n"

/* The table, whole. */
static void put_table(FILE *f, int family)
{
	const char *ipf = fam(family);
	const char *addr_t = family == AF_INET6 ? "ipv6_addr" : "ipv4_addr";
	const char *dnat = family == AF_INET6 ? "dnat ip6 to" : "dnat ip to";

	fprintf(f, "table %s " TN_NFT_TABLE " {\n", ipf);
	if (family != AF_INET6)
		fprintf(f, "\tmap local { type inet_proto . inet_service : %s . inet_service; }\n",
			addr_t);
	fprintf(f,
		"\tmap bound { type %s . inet_proto . inet_service : %s . inet_service; }\n"
		"\tmap any { type inet_proto . inet_service : %s . inet_service; }\n"
		"\tchain prerouting {\n"
		"\t\ttype nat hook prerouting priority -100; policy accept;\n" RULE_BOUND RULE_ANY
		"\t}\n"
		"\tchain output {\n"
		"\t\ttype nat hook output priority -100; policy accept;\n",
		addr_t, addr_t, addr_t, dnat, ipf, dnat);
	if (family == AF_INET6)
		fputs("\t\tip6 daddr ::1 return\n", f);
	else
		fprintf(f, "\t\tip daddr 127.0.0.1 %s meta l4proto . th dport map @local\n", dnat);
	fprintf(f, RULE_BOUND RULE_ANY "\t}\n}\n", dnat, ipf, dnat);
}

/* add + delete: the table goes whether it was there or not, in the same transaction. */
static void put_drop(FILE *f, int family)
{
	fprintf(f, "add table %s " TN_NFT_TABLE "\ndelete table %s " TN_NFT_TABLE "\n", fam(family),
		fam(family));
}

int natmap_full(FILE *f, int family, const struct policy_map *maps, size_t n)
{
	put_drop(f, family);
	if (!n)
		return 0;
	put_table(f, family);
	put_elements(f, "add", family, maps, NULL, n, true);
	return 0;
}

/*
 * Both sets sorted by natmap_sort: one merge.  A key in old only is deleted; a key in new
 * only is added; a key in both whose value changed is deleted and added again (an add of an
 * existing key does not replace its value), in the same transaction.
 */
int natmap_diff(FILE *f, int family, const struct policy_map *old, size_t nold,
		const struct policy_map *maps, size_t n)
{
	bool v6 = family == AF_INET6;
	size_t *del, *add, ndel = 0, nadd = 0, i = 0, j = 0;
	int c, r = 0;

	if (!nold || !n)
		return natmap_full(f, family, maps, n);
	del = calloc(nold, sizeof(*del));
	add = calloc(n, sizeof(*add));
	if (!del || !add) {
		r = -ENOMEM;
		goto out;
	}
	while (i < nold || j < n) {
		c = i == nold ? 1 : j == n ? -1 : key_cmp(&old[i], &maps[j], v6);
		if (c < 0) {
			del[ndel++] = i++;
		} else if (c > 0) {
			add[nadd++] = j++;
		} else {
			if (!value_eq(&old[i], &maps[j], v6)) {
				del[ndel++] = i;
				add[nadd++] = j;
			}
			i++;
			j++;
		}
	}
	put_elements(f, "delete", family, old, del, ndel, false);
	put_elements(f, "add", family, maps, add, nadd, true);
out:
	free(del);
	free(add);
	return r;
}
