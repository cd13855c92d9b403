/*
 * The names tiernet gives to what it makes in the kernel, stated once for every layer: the
 * driver derives link names from them, the compiler and the appliers write and recognise
 * chains and rules by them, reconciliation finds leftovers by them.
 */
#ifndef TIERNET_NAMES_H
#define TIERNET_NAMES_H

/* Links: bridges "tnb" + 12 hex of the network ID, veth ends "tnv"/"tnc" + 12 hex of the
 * endpoint ID (the container end until dockerd renames it).  A user-named bridge must
 * start with TN_IF_PREFIX too, so an operator sees at a glance what is tiernet's. */
#define TN_IF_PREFIX	 "tn"
#define TN_BRIDGE_PREFIX TN_IF_PREFIX "b"
#define TN_HOST_PREFIX	 TN_IF_PREFIX "v"
#define TN_PEER_PREFIX	 TN_IF_PREFIX "c"
#define TN_ID_HEX	 12 /* hex digits of a Docker ID in a derived name */

/*
 * Interface groups (IFLA_GROUP): how tiernet recognises exactly the links it made, in the
 * kernel's rules (-m devgroup, nft iifgroup) and at reconciliation, whatever they are
 * called.  A name someone else chose never makes a link tiernet's.
 *
 *   0x746e....  every tiernet link ("tn")
 *   ....8000    a bridge (else the host end of a veth)
 *   ....4000    a bridge of a Docker --internal network
 *   ....2000    the host end of a veth on a dual-stack (--ipv6) network: IPv6 from it is
 *               the policy's business; from other veths, the layer-2 guard drops it
 *   ....1fff    the tier id (1..8191) of the link's network, the same for every network of
 *               a tier: bridges carry it for the iptables rules, veths for the bridge ones
 */
#define TN_GROUP	  0x746e0000u
#define TN_GROUP_MASK	  0xffff0000u
#define TN_GROUP_BRIDGE	  0x00008000u
#define TN_GROUP_INTERNAL 0x00004000u
#define TN_GROUP_DUAL	  0x00002000u
#define TN_GROUP_TIER	  0x00001fffu
#define TN_TIER_ID_MAX	  TN_GROUP_TIER

/* iptables chains: every chain tiernet owns starts with this. */
#define TN_CHAIN_PREFIX "TIERNET"
/* nf_tables rules tiernet puts into chains it does not own carry this comment. */
#define TN_NFT_COMMENT "tiernet"
/* ... and the nf_tables tables tiernet owns are called this. */
#define TN_NFT_TABLE "tiernet"

#endif
