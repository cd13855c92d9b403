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
	int mtu;       /* 0 = kernel default */
	bool internal; /* Docker's --internal */
	uint64_t seq;  /* creation order, kept across restarts */
	size_t neps;   /* endpoints on the bridge (a bridge takes 1023 ports) */
	struct drv_net *next;
};

struct drv_ep {
	char id[DRIVER_ID_LEN + 1];
	char net_id[DRIVER_ID_LEN + 1];
	uint32_t addr; /* network byte order */
	uint8_t prefix;
	uint8_t mac[6];
	char host[IFNAMSIZ], peer[IFNAMSIZ];
	char sandbox[DRIVER_PATH_MAX]; /* from Join; "" when not joined */
	bool joined;
	struct driver_port *ports; /* published (host ports resolved); malloc'ed */
	size_t nports;
	bool busy; /* CreateEndpoint is making its veth and state outside the lock */
	struct drv_ep *next, **pprev;	/* drv.eps, for walks */
	struct drv_ep *hnext, **hpprev; /* the ID hash, for lookups */
};

/* Endpoints by ID: Docker's IDs are random hex, so the first 8 digits spread evenly. */
#define DRV_EP_HASH_SIZE 4096

/* The driver's state, one struct, guarded by its lock (the way Redis keeps `server`). */
struct driver {
	pthread_mutex_t lock;
	struct policy *policy;
	struct drv_net *nets; /* in creation order: the firewall is compiled in it */
	struct drv_ep *eps;
	struct drv_ep *ep_hash[DRV_EP_HASH_SIZE];
	enum nft_mode fw_mode; /* where Docker keeps its rules, last seen */
};
extern struct driver drv;

/* objects.c: the lists of networks and endpoints, and lookups in them */
struct drv_net *drv_net_find(const char *id);
struct drv_net *drv_net_find_bridge(const char *bridge);
struct drv_ep *drv_ep_find(const char *id);
/* The endpoint id of network net_id, or NULL with a sentence in err. */
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
/* Frees every network and endpoint (links, state and rules stay). */
void drv_objects_free(void);
size_t drv_net_count(void);
size_t drv_ep_count(void);
uint32_t drv_prefix_mask(uint8_t prefix);
/* Internal: Docker's --internal or the tier's flag. */
bool drv_net_internal(const struct drv_net *n, const struct policy *pol);
void drv_ip_str(uint32_t a, char s[16]);

/* endpoint.c */
/*
 * Writes *ep's state file without holding drv.lock across the fsync: called and returning
 * with the lock held, it snapshots the endpoint, unlocks, writes, locks again and looks the
 * endpoint up again (*ep is NULL if it went away meanwhile).  Returns 0 or -errno.
 */
int drv_ep_save_unlocked(struct drv_ep **ep, struct err *err);

/* firewall.c: the rules for the driver's networks and published ports */
/*
 * Recompiles every rule from the networks and published ports under pol and applies it:
 * one commit per table, then Docker's nf_tables pass-through.  Returns 0 or -errno with err.
 */
int drv_fw_sync(const struct policy *pol, struct err *err);
/* The networks as the compiler sees them under pol (malloc'ed, *n of them), or NULL. */
struct policy_net *drv_fw_nets(const struct policy *pol, size_t *n);
/* Puts the pass-through back when Docker re-created its chains (every few seconds). */
void drv_fw_tick(void);
void drv_ip_forward_on(void);
void drv_route_localnet_on(const char *bridge);

/* ports.c */
const char *drv_proto_str(uint8_t proto);
/* Makes ports (malloc'ed or NULL) the endpoint's published set; on failure the old one stays. */
int drv_ports_replace(struct drv_ep *e, struct driver_port *ports, size_t n, struct err *err);
/* Publishes the 127.0.0.1 ports of a Join on a Docker --internal network. */
int drv_publish_internal(struct drv_ep *e, const struct drv_net *n,
			 const struct driver_join_req *req, struct err *err);

/* link.c */
/* Creates bridge name with mac, mtu (0 = default) and addr/prefix, up.  All or nothing. */
int link_bridge_add(const char *name, const uint8_t mac[6], int mtu, uint32_t addr, uint8_t prefix,
		    struct err *err);
/* Creates the veth pair host/peer, host end enslaved to bridge and up, peer with mac. */
int link_veth_add(const char *host, const char *peer, const char *bridge, const uint8_t mac[6],
		  int mtu, struct err *err);
/* Deletes a link by name; a missing link is success.  Returns 0 or -errno. */
int link_del(const char *name);
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
};
/* Lists every link of the namespace into a malloc'ed array; returns 0 or -errno. */
int link_dump(struct link_info **out, size_t *n);

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
