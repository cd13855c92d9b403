/*
 * driver/ internals shared by its files; plugin/ uses driver.h only.
 */
#ifndef TIERNET_DRIVER_INTERNAL_H
#define TIERNET_DRIVER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <net/if.h>

#include "driver/driver.h"
#include "policy/policy.h"

struct drv_net {
	char id[DRIVER_ID_LEN + 1];
	char bridge[IFNAMSIZ];
	char tier[POLICY_NAME_MAX];
	uint32_t gw, pool;	/* network byte order */
	uint8_t prefix;
	int mtu;		/* 0 = kernel default */
	bool internal;		/* Docker's --internal */
	struct drv_net *next;
};

struct drv_ep {
	char id[DRIVER_ID_LEN + 1];
	char net_id[DRIVER_ID_LEN + 1];
	uint32_t addr;		/* network byte order */
	uint8_t prefix;
	uint8_t mac[6];
	char host[IFNAMSIZ], peer[IFNAMSIZ];
	char sandbox[DRIVER_PATH_MAX];	/* from Join; "" when not joined */
	bool joined;
	struct driver_port *ports;	/* published (host ports resolved); malloc'ed */
	size_t nports;
	struct drv_ep *next;
};

/* link.c */
/* Creates bridge name with mac, mtu (0 = default) and addr/prefix, up.  All or nothing. */
int link_bridge_add(const char *name, const uint8_t mac[6], int mtu, uint32_t addr,
		    uint8_t prefix, struct driver_err *err);
/* Creates the veth pair host/peer, host end enslaved to bridge and up, peer with mac. */
int link_veth_add(const char *host, const char *peer, const char *bridge, const uint8_t mac[6],
		  int mtu, struct driver_err *err);
/* Deletes a link by name; a missing link is success.  Returns 0 or -errno. */
int link_del(const char *name);
/* Sets a link up; returns 0 or -errno. */
int link_up(const char *name);
/* Returns the ifindex of name, or -ENODEV / -errno. */
int link_index(const char *name);
/* Calls fn for every link whose name starts with prefix; stops at fn's first error. */
int link_list(const char *prefix, int (*fn)(const char *name, bool bridge, void *arg), void *arg);

/* state.c: one file per object, written atomically (temp file, fsync, rename, fsync dir) */
int state_open(const char *dir, struct driver_err *err);
int state_save_net(const struct drv_net *n, struct driver_err *err);
int state_save_ep(const struct drv_ep *e, struct driver_err *err);
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
