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

/* iptables chains: every chain tiernet owns starts with this. */
#define TN_CHAIN_PREFIX "TIERNET"
/* nf_tables rules tiernet puts into chains it does not own carry this comment. */
#define TN_NFT_COMMENT "tiernet"

#endif
