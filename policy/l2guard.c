/*
 * The text of tiernet's own nf_tables table "bridge tiernet", the guard at layer 2 (pure: no
 * kernel, no I/O but the FILE it writes to; nft.c sends it).
 *
 * Every frame a container sends enters its bridge through the host end of its veth, whose
 * interface group says it is tiernet's (lib/names.h); the bridge family's prerouting hook
 * sees it first, bridged or routed.  One map lookup of the frame's protocol sends IPv4 to
 * chain guard4 and IPv6 to guard6, so a frame meets only its own family's rules, and each
 * rule reads the protocol from the packet's metadata (meta protocol, what nft adds for an
 * ip or ip6 match) rather than from the Ethernet header, which the bridge family copies
 * out for every rule that names it: on a 64-byte datagram's path that copying was most of
 * the guard's cost.  There:
 *
 *   - IPv6 from a veth of an IPv4-only network is dropped (its bridge has no IPv6 address,
 *     so the host and the other containers could only be reached over link-local, which no
 *     policy line covers);
 *   - anti-spoofing: an IPv4 or IPv6 packet whose source is not the address Docker gave
 *     that endpoint is dropped, by one hash lookup of (veth, source) in the sets src4 and
 *     src6, an element per endpoint.  Not a reverse-path route lookup (x_tables' rpfilter in
 *     raw, as before): that cost a route lookup and a legacy table's traversal per packet,
 *     and it let a container borrow any address of its own subnet.  A veth kept for a
 *     running container whose endpoint's state was lost (reconcile.c) passes with any
 *     source of its network's subnet instead (lost4, lost6: intervals, looked up only for
 *     what src4/src6 did not let through);
 *   - to 127.0.0.0/8 or ::1 is dropped (such a packet is never tiernet's doing, whatever
 *     route_localnet allows: CVE-2020-8558);
 *   - ICMPv6 a router sends (advertisements, redirects, renumbering, multicast listener
 *     queries) is dropped: a container is no router, and hosts believe those from a router's
 *     link-local address, which a container can forge;
 *   - a link-local or unspecified IPv6 source may only serve neighbour discovery or talk to
 *     a link-local address (chain ll6): the kernel never routes it to another link;
 *   - frames from a veth of an isolated tier pass to another port only as IPv4, ARP or
 *     IPv6, which iptables sees (chain isolated, forward hook).
 *
 * Keyed by the veth's name, an element can be written before the veth exists and stays right
 * if the veth is made again; the whole table is written on every full sync, so what a crash
 * or a hand left behind is replaced, and one element is added or deleted per endpoint.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/names.h"
#include "policy/internal.h"

#define L2_TABLE "bridge " TN_NFT_TABLE

/* Any tiernet veth (never a bridge); ... of an IPv4-only network. */
#define VETH_MASK (TN_GROUP_MASK | TN_GROUP_BRIDGE)
#define V4ONLY	  (TN_GROUP_MASK | TN_GROUP_BRIDGE | TN_GROUP_DUAL)

/* ICMPv6 types (the numbers, as compile.c's policy rules use them). */
#define ICMP6_ROUTER "{ 130, 134, 137, 138 }"		/* MLD query, RA, redirect, renumbering */
#define ICMP6_ND     "{ 131, 132, 133, 135, 136, 143 }" /* MLD reports, RS, NS, NA */

static void put_ep(FILE *f, const struct l2_ep *ep, bool v6)
{
	char a[INET6_ADDRSTRLEN];

	if (v6)
		inet_ntop(AF_INET6, &ep->addr6, a, sizeof(a));
	else
		inet_ntop(AF_INET, &ep->addr, a, sizeof(a));
	fprintf(f, "\"%s\" . %s", ep->ifname, a);
	if (ep->lost)
		fprintf(f, "/%u", (unsigned)(v6 ? ep->prefix6 : ep->prefix));
}

/*
 * "add element ... src4 { ... }" and the same for src6, lost4 and lost6, for eps[0..n)
 * (nothing for a set without any).
 */
static void put_elements(FILE *f, const char *verb, const struct l2_ep *eps, size_t n)
{
	static const char *const sets[] = { "src4", "src6", "lost4", "lost6" };
	size_t i, k, s;
	bool v6, lost;

	for (s = 0; s < 4; s++) {
		v6 = s % 2;
		lost = s >= 2;
		for (i = 0, k = 0; i < n; i++) {
			if ((v6 && !eps[i].has6) || eps[i].lost != lost)
				continue;
			fprintf(f, "%s", k++ ? ", " : "");
			if (k == 1)
				fprintf(f, "%s element " L2_TABLE " %s { ", verb, sets[s]);
			put_ep(f, &eps[i], v6);
		}
		if (k)
			fputs(" }\n", f);
	}
}

void l2_table_text(FILE *f, bool on, const uint32_t *isolated, size_t niso, const struct l2_ep *eps,
		   size_t n)
{
	size_t i;

	/* add + delete: the table goes whether it existed or not, in the same transaction */
	fprintf(f, "add table " L2_TABLE "\ndelete table " L2_TABLE "\n");
	if (!on)
		return;
	fprintf(f,
		"table " L2_TABLE " {\n"
		"\tset src4 { type ifname . ipv4_addr; }\n"
		"\tset src6 { type ifname . ipv6_addr; }\n"
		"\tset lost4 { type ifname . ipv4_addr; flags interval; }\n"
		"\tset lost6 { type ifname . ipv6_addr; flags interval; }\n"
		"\tchain from_containers {\n"
		"\t\ttype filter hook prerouting priority -300; policy accept;\n"
		"\t\tmeta iifgroup & 0x%08x == 0x%08x "
		"meta protocol vmap { ip : jump guard4, ip6 : jump guard6 }\n"
		"\t}\n"
		"\tchain guard4 {\n"
		"\t\tip daddr 127.0.0.0/8 counter drop\n"
		"\t\tiifname . ip saddr != @src4 iifname . ip saddr != @lost4 counter drop\n"
		"\t}\n"
		"\tchain guard6 {\n"
		"\t\tmeta iifgroup & 0x%08x == 0x%08x meta protocol ip6 counter drop\n"
		"\t\tip6 daddr ::1 counter drop\n"
		"\t\ticmpv6 type " ICMP6_ROUTER " counter drop\n"
		"\t\tip6 saddr { fe80::/10, :: } goto ll6\n"
		"\t\tiifname . ip6 saddr != @src6 iifname . ip6 saddr != @lost6 counter drop\n"
		"\t}\n"
		"\tchain ll6 {\n"
		"\t\ticmpv6 type " ICMP6_ND " accept\n"
		"\t\tip6 daddr fe80::/10 accept\n"
		"\t\tcounter drop\n"
		"\t}\n",
		VETH_MASK, TN_GROUP, V4ONLY, TN_GROUP);
	if (niso) {
		fprintf(f, "\tchain isolated {\n"
			   "\t\ttype filter hook forward priority -300; policy accept;\n"
			   "\t\tmeta iifgroup {");
		for (i = 0; i < niso; i++)
			fprintf(f, "%s 0x%08x, 0x%08x", i ? "," : "", isolated[i],
				isolated[i] | TN_GROUP_DUAL);
		fprintf(f, " } ether type != { ip, arp, ip6 } counter drop\n\t}\n");
	}
	fprintf(f, "}\n");
	put_elements(f, "add", eps, n);
}

void l2_element_text(FILE *f, bool add, const struct l2_ep *ep)
{
	put_elements(f, add ? "add" : "delete", ep, 1);
}

void l2_table_shape(bool isolated, struct l2_shape *s)
{
	s->sets = 4;
	s->chains = isolated ? 5 : 4;
	s->rules = isolated ? 12 : 11;
}
