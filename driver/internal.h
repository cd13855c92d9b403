/*
 * driver/ internals shared by its files; plugin/ uses driver.h only.
 */
#ifndef TIERNET_DRIVER_INTERNAL_H
#define TIERNET_DRIVER_INTERNAL_H

#include <net/if.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "driver/driver.h"
#include "policy/policy.h"

/* Linux bridges number their ports with 10 bits, port 0 unused (kernel BR_MAX_PORTS). */
#define DRV_BRIDGE_PORTS_MAX 1023

struct drv_net {
	char id[DRIVER_ID_LEN + 1];
	char bridge[IFNAMSIZ];
	char tier[POLICY_NAME_MAX];
	uint32_t gw, pool; /* network byte order */
	uint8_t prefix;
	bool dual; /* dual-stack (--ipv6): gw6/prefix6, pool6 */
	struct in6_addr gw6, pool6;
	uint8_t prefix6;
	int mtu;	  /* 0 = kernel default */
	bool internal;	  /* Docker's --internal */
	uint64_t seq;	  /* creation order, kept across restarts */
	uint16_t tier_id; /* in the bridge's interface group; the same for a tier's networks */
	size_t neps;	  /* endpoints on the bridge (a bridge takes 1023 ports) */
	struct drv_net *next;
};

struct drv_ep {
	char id[DRIVER_ID_LEN + 1];
	char net_id[DRIVER_ID_LEN + 1];
	uint32_t addr; /* network byte order */
	uint8_t prefix;
	bool has6; /* on a dual-stack network: addr6/prefix6 */
	struct in6_addr addr6;
	uint8_t prefix6;
	uint8_t mac[6];
	char host[IFNAMSIZ], peer[IFNAMSIZ];
	char sandbox[DRIVER_PATH_MAX]; /* from Join; "" when not joined */
	bool joined;
	struct driver_port *ports; /* published (host ports resolved); malloc'ed */
	size_t nports;
	/*
	 * A call is working on the endpoint outside drv.lock (making its veth, writing or
	 * removing its state file): every other call on it waits (drv_ep_wait), so calls on one
	 * endpoint never overlap and the endpoint cannot be freed meanwhile.
	 */
	bool busy;
	struct drv_ep *next, **pprev;	/* drv.eps, for walks */
	struct drv_ep *hnext, **hpprev; /* the ID hash, for lookups */
};

/* Endpoints by ID: Docker's IDs are random hex, so the first 8 digits spread evenly. */
#define DRV_EP_HASH_SIZE 4096

/* The driver's state, one struct, guarded by its lock (the way Redis keeps `server`). */
struct driver {
	pthread_mutex_t lock;
	pthread_cond_t idle; /* broadcast when an endpoint stops being busy */
	struct policy *policy;
	struct drv_net *nets; /* in creation order: the firewall is compiled in it */
	struct drv_ep *eps;
	struct drv_ep *ep_hash[DRV_EP_HASH_SIZE];
	enum nft_mode fw_mode;	    /* where Docker keeps its rules, last seen */
	struct rules_set fw_rules;  /* the rules last applied, for the tick's checks */
	struct rules_set fw_rules6; /* ... their IPv6 part (empty without dual-stack networks) */
	bool fw_applied;	    /* fw_rules holds them (false before the first sync) */
	bool fw_mixed;		    /* a change half-applied that could not be put back */
	struct policy_map *nat4, *nat6; /* the published ports in the nat maps, sorted */
	size_t nnat4, nnat6;
	bool nat_known; /* nat4/nat6 are what the kernel holds (else: replace it whole) */
	char *l2_def;	/* the layer-2 guard's definition last written (l2guard.c), or NULL */
	/* veths kept for running containers without a state entry (driver.c, reconcile.c) */
	struct l2_ep *l2_kept;
	size_t nl2_kept;
	char (*docker)[IFNAMSIZ]; /* Docker's own bridges, last seen (firewall.c) */
	size_t ndocker;
	/* the nf_tables generation when tiernet's tables were last found whole, if checked is
	 * set; tiernet's own changes clear checked (firewall.c) */
	uint32_t nft_gen;
	bool nft_checked;
	uint16_t dns_port; /* the resolver's port, 0: no redirection (dnsview.c) */
};
/* dnsview.c: bumped by every firewall sync (networks or policy changed). */
void drv_generation_bump(void);
extern struct driver drv;

/* objects.c: the lists of networks and endpoints, and lookups in them */
struct drv_net *drv_net_find(const char *id);
struct drv_net *drv_net_find_bridge(const char *bridge);
struct drv_ep *drv_ep_find(const char *id);
/* The endpoint id once no call is working on it (drv.lock held; waits), or NULL. */
struct drv_ep *drv_ep_wait(const char *id);
/* Marks e busy or not; clearing wakes the calls waiting for it. */
void drv_ep_busy(struct drv_ep *e, bool busy);
/* drv_ep_wait, and it must belong to net_id: else NULL with a sentence in err. */
struct drv_ep *drv_ep_lookup(const char *net_id, const char *ep_id, struct err *err);
void drv_net_append(struct drv_net *n);
void drv_net_unlink(struct drv_net *n);
/* Adds the endpoint to the list and the ID hash (O(1)); counts it on its network. */
void drv_ep_insert(struct drv_ep *e);
/* Removes it from both (O(1)). */
void drv_ep_unlink(struct drv_ep *e);
void drv_ep_free(struct drv_ep *e);
/* Deletes the endpoint's veth and state file, unlinks and frees it (rules: caller's job). */
void drv_ep_destroy(struct drv_ep *e);
/*
 * The tier id for a network of tier: that of a live network of the tier, else the lowest id
 * no live network uses; 0 when every id is taken.
 */
uint16_t drv_tier_id(const char *tier);
/* The interface group of the network's bridge (lib/names.h). */
uint32_t drv_net_group(const struct drv_net *n);
/* The interface group of the host ends of the network's veths. */
uint32_t drv_veth_group(const struct drv_net *n);
struct link_v6;
/* A dual-stack network's IPv6 side for link.c, in buf; NULL for an IPv4-only network. */
const struct link_v6 *drv_net_link6(const struct drv_net *n, struct link_v6 *buf);
/* a masked to its first prefix bits. */
void drv_prefix6(const struct in6_addr *a, uint8_t prefix, struct in6_addr *out);
/* Frees every network and endpoint (links, state and rules stay). */
void drv_objects_free(void);
size_t drv_net_count(void);
/* Has any network IPv6? */
bool drv_any_dual(void);
size_t drv_ep_count(void);
uint32_t drv_prefix_mask(uint8_t prefix);
/* Internal: Docker's --internal or the tier's flag. */
bool drv_net_internal(const struct drv_net *n, const struct policy *pol);
void drv_ip_str(uint32_t a, char s[16]);

/* deny.c */
/* driver_audit_tiers with drv.lock held (status). */
void drv_audit_text(char *buf, size_t len);

/* endpoint.c */
/*
 * Writes e's state file without holding drv.lock across the fsync: called and returning
 * with the lock held, e busy meanwhile.  Returns 0 or -errno with err.
 */
int drv_ep_save(struct drv_ep *e, struct err *err);

/* firewall.c: the rules for the driver's networks and published ports */
/*
 * Recompiles every rule from the networks and published ports under pol and applies it:
 * one commit per table, then tiernet's and Docker's nf_tables parts.  With cut (the change
 * may allow less than before) or a network gone (just removed from drv.nets), connections
 * the new rules do not allow are cut.  Returns 0 or -errno with err.
 */
int drv_fw_sync(const struct policy *pol, const struct drv_net *gone, bool cut, struct err *err);
/*
 * drv_fw_sync after a change of published ports only: commits just the tables whose rules
 * changed, and leaves the nf_tables side alone.  0 or -errno with err.
 */
int drv_fw_sync_ports(bool cut, struct err *err);
/*
 * Adds (or deletes) endpoint e's sources in the layer-2 guard's sets (anti-spoofing; a table
 * removed by hand is put back whole).  drv.lock held; 0 or -errno with err.
 */
int drv_fw_l2_ep(const struct drv_ep *e, bool add, struct err *err);
/*
 * Start-up: a veth kept for a running container without a state entry still passes the
 * layer-2 guard with ep's sources (written with the next full sync).  Fails closed on ENOMEM.
 */
void drv_fw_l2_keep(const struct l2_ep *ep);
/* ... with the sources of endpoint e, whose state is set aside. */
void drv_fw_l2_keep_ep(const struct drv_ep *e);
/*
 * Adds (or deletes) endpoint e's sources in the layer-2 guard's sets (anti-spoofing; a table
 * removed by hand is put back whole).  drv.lock held; 0 or -errno with err.
 */
int drv_fw_l2_ep(const struct drv_ep *e, bool add, struct err *err);
/*
 * Start-up: a veth kept for a running container without a state entry still passes the
 * layer-2 guard with ep's sources (written with the next full sync).  Fails closed on ENOMEM.
 */
void drv_fw_l2_keep(const struct l2_ep *ep);
/* ... with the sources of endpoint e, whose state is set aside. */
void drv_fw_l2_keep_ep(const struct drv_ep *e);
/* The networks as the compiler sees them under pol (malloc'ed, *n of them), or NULL. */
struct policy_net *drv_fw_nets(const struct policy *pol, size_t *n);
/* Puts back what others undid (every few seconds; see firewall.c).  drv.lock held. */
void drv_fw_tick(void);
/* Learns Docker's bridges before the first sync; drv_fw_exit frees what firewall.c holds. */
void drv_fw_init(void);
/* Do bridged frames go through iptables in this namespace (br_netfilter loaded)? */
bool drv_br_netfilter(void);
void drv_fw_exit(void);
/* Turns IPv4 forwarding on, and IPv6 forwarding too when v6. */
void drv_ip_forward_on(bool v6);
void drv_route_localnet_on(const char *bridge);

/* ports.c */
const char *drv_proto_str(uint8_t proto);
/* Does the mapping publish on family (AF_INET or AF_INET6)? */
bool drv_port_in(const struct driver_port *p, int family);
/* Is it bound to 127.0.0.1: for the host only? */
bool drv_port_host_only(const struct driver_port *p);
/* Makes ports (malloc'ed or NULL) the endpoint's published set; on failure the old one stays. */
int drv_ports_replace(struct drv_ep *e, struct driver_port *ports, size_t n, struct err *err);
/*
 * drv_ports_replace, then the endpoint's state file: when that cannot be written, the old
 * set is put back (kernel and memory), so the call changes nothing.  Takes ports.
 */
int drv_ports_commit(struct drv_ep *e, struct driver_port *ports, size_t n, struct err *err);
/* Publishes the 127.0.0.1 ports of a Join on a Docker --internal network. */
int drv_publish_internal(struct drv_ep *e, const struct drv_net *n,
			 const struct driver_join_req *req, struct err *err);

/* link.c */
/* The IPv6 side of a dual-stack bridge: its gateway address. */
struct link_v6 {
	struct in6_addr gw;
	uint8_t prefix;
};
/*
 * Creates bridge name with mac, mtu (0 = default), interface group and addr/prefix, with
 * br_netfilter on, up; IPv6 addresses only when v6 is given (link_bridge_addr6).  All or
 * nothing.
 */
int link_bridge_add(const char *name, const uint8_t mac[6], int mtu, uint32_t addr, uint8_t prefix,
		    const struct link_v6 *v6, uint32_t group, struct err *err);
/*
 * Gives a dual-stack bridge its IPv6 addresses, the link-local one derived from mac and
 * v6's gateway, without duplicate address detection; present ones are fine.  0 or -errno.
 */
int link_bridge_addr6(const char *name, const uint8_t mac[6], const struct link_v6 *v6);
/* The EUI-64 link-local address of a MAC. */
void link_local6(const uint8_t mac[6], struct in6_addr *ll);
/*
 * Creates the veth pair host/peer, the host end in group, without an IPv6 address, enslaved
 * to bridge and up; the peer with mac.
 */
int link_veth_add(const char *host, const char *peer, const char *bridge, const uint8_t mac[6],
		  int mtu, uint32_t group, struct err *err);
/*
 * Deletes a link by name: only one of tiernet's (its prefix and its interface group); a
 * missing link is success.  Returns 0, -EPERM for a link that is not tiernet's, or -errno.
 */
int link_del(const char *name);
/* Does an interface group say the link is tiernet's? */
bool link_group_ours(uint32_t group);
/* Sets a link's interface group; returns 0 or -errno. */
int link_set_group(const char *name, uint32_t group);
/* On an existing bridge: no IPv6 address of its own, br_netfilter on.  0 or -errno. */
int link_bridge_harden(const char *name);
/* Sets a link up; returns 0 or -errno. */
int link_up(const char *name);
/* Enslaves link name to bridge and sets it up; returns 0 or -errno. */
int link_set_master(const char *name, const char *bridge);
/* Sets the IPv4 route_localnet flag of a link; returns 0 or -errno. */
int link_route_localnet(const char *name);
/* Returns the ifindex of name, or -ENODEV / -errno. */
int link_index(const char *name);
struct link_info {
	char name[IFNAMSIZ];
	char kind[16];	     /* "bridge", "veth", ... ("" when the kernel says nothing) */
	int ifindex, master; /* master: the bridge's ifindex, 0 when none */
	uint32_t group;	     /* IFLA_GROUP */
};
/* Lists every link of the namespace into a malloc'ed array; returns 0 or -errno. */
int link_dump(struct link_info **out, size_t *n);
/* The same for the bridges alone, without a cost that grows with the other links. */
int link_dump_bridges(struct link_info **out, size_t *n);

/* nfgen.c: the namespace's nf_tables generation (changes with every commit); 0 or -errno */
int nfgen_read(uint32_t *gen);

/* reconcile.c: start-up reconciliation of the kernel with the loaded state */
/*
 * Re-creates missing bridges and puts the host ends of their endpoints back on them; calls
 * fixup for each one re-created.
 */
void reconcile_networks(struct drv_net *nets, const struct drv_ep *eps,
			void (*fixup)(struct drv_net *n));
/* Is the endpoint's container certainly gone (veth missing, sandbox removed)? */
bool reconcile_endpoint_gone(const struct drv_ep *e);
/* Removes tiernet links no state entry owns, unless a running container uses them. */
int reconcile_orphans(const struct drv_net *nets, const struct drv_ep *eps);

/* state.c: one file per object, written atomically (temp file, fsync, rename, fsync dir) */
int state_open(const char *dir, struct err *err);
/* policy.json in the state directory (driver_keep_policy, driver_kept_policy). */
int state_save_policy(const char *origin, const char *text, struct err *err);
int state_read_policy(const char *dir, char **origin, char **text);
/* The state directory, for messages. */
const char *state_where(void);
int state_save_net(const struct drv_net *n, struct err *err);
int state_save_ep(const struct drv_ep *e, struct err *err);
/* Renames an endpoint's file to NAME.orphaned: kept for the operator, never loaded again. */
int state_set_aside_ep(const char *id);
/*
 * state_batch(true) lets removals skip their directory fsync; state_batch(false) makes them
 * durable with one fsync per directory.  A removal that is lost in a crash is redone by the
 * next reconciliation, so only the end of the batch needs to be durable.
 */
void state_batch(bool on);
/* Removes an object's file; a missing file is success. */
int state_del_net(const char *id);
int state_del_ep(const char *id);
/*
 * Reads every saved object, calling net_fn / ep_fn with a malloc'ed object the callee owns.
 * A file that cannot be parsed is renamed to NAME.corrupt and reported through bad_fn; it
 * never stops the load.  Returns 0 or -errno (directory unreadable).
 */
int state_load(void (*net_fn)(struct drv_net *n), void (*ep_fn)(struct drv_ep *e),
	       void (*bad_fn)(const char *path, const char *why));

#endif
