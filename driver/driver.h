/*
 * driver/: tiernet's networks and endpoints.  A network is a Linux bridge in a tier, an
 * endpoint a veth pair on it.  The driver changes links (link.c, over rtnetlink with libnl),
 * persists every object (state.c), and asks policy/ to recompile the firewall.  Nothing here
 * exposes a libnl or cJSON type; requests arrive already decoded by plugin/.
 */
#ifndef TIERNET_DRIVER_H
#define TIERNET_DRIVER_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

struct policy;

#define DRIVER_ID_LEN	    64 /* Docker's IDs: 64 lowercase hex characters */
#define DRIVER_OPTS_MAX	    32 /* generic options on one network */
#define DRIVER_OPT_KEYMAX   128
#define DRIVER_OPT_VALMAX   256
#define DRIVER_PORTS_MAX    1024 /* port mappings on one endpoint */
#define DRIVER_PATH_MAX	    256
#define DRIVER_PORT_AUTO_LO 49153 /* host ports tiernet picks for -p PORT and -P */
#define DRIVER_PORT_AUTO_HI 60999

struct driver_opt {
	char key[DRIVER_OPT_KEYMAX];
	char value[DRIVER_OPT_VALMAX];
};

/* CreateNetwork, decoded. */
struct driver_net_req {
	char id[DRIVER_ID_LEN + 1];
	struct driver_opt opts[DRIVER_OPTS_MAX];
	size_t nopts;
	bool internal;	   /* com.docker.network.internal */
	bool ipv6;	   /* enable_ipv6 or IPv6Data given */
	size_t nipv4;	   /* entries in IPv4Data; only the first is used */
	uint32_t gw, pool; /* network byte order */
	uint8_t gw_prefix, pool_prefix;
	size_t nipv6; /* entries in IPv6Data; only the first is used */
	struct in6_addr gw6, pool6;
	uint8_t gw6_prefix, pool6_prefix;
};

/*
 * One published port (com.docker.network.portmap entry).  HostIP "" publishes on both
 * families (family 0); an IPv4 HostIP on IPv4 only (AF_INET, host_ip), an IPv6 one on IPv6
 * only (AF_INET6, host_ip6); 0.0.0.0 and :: are every address of their family.
 */
struct driver_port {
	uint8_t proto;	  /* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t port;	  /* container port */
	uint8_t family;	  /* 0 (both), AF_INET or AF_INET6 */
	uint32_t host_ip; /* network byte order, 0 = all addresses */
	struct in6_addr host_ip6;
	uint16_t host_port, host_port_end;
};

/* CreateEndpoint, decoded. */
struct driver_ep_req {
	char net_id[DRIVER_ID_LEN + 1];
	char id[DRIVER_ID_LEN + 1];
	uint32_t addr; /* network byte order */
	uint8_t prefix;
	bool has_ipv6; /* AddressIPv6 given: addr6/prefix6 */
	struct in6_addr addr6;
	uint8_t prefix6;
	bool has_mac;
	uint8_t mac[6];
	struct driver_opt opts[DRIVER_OPTS_MAX]; /* user --driver-opt keys */
	size_t nopts;
};

struct driver_ep_reply {
	bool mac_set; /* a MAC tiernet chose, to return to dockerd */
	uint8_t mac[6];
};

/* Join, decoded, and its answer. */
struct driver_join_req {
	char net_id[DRIVER_ID_LEN + 1];
	char id[DRIVER_ID_LEN + 1];
	char sandbox[DRIVER_PATH_MAX];
	struct driver_port ports[DRIVER_PORTS_MAX]; /* the container's -p list */
	size_t nports;
};

/* ProgramExternalConnectivity, decoded: this endpoint is the container's gateway. */
struct driver_pec_req {
	char net_id[DRIVER_ID_LEN + 1];
	char id[DRIVER_ID_LEN + 1];
	struct driver_port ports[DRIVER_PORTS_MAX];
	size_t nports;
};

struct driver_join_reply {
	char src_name[IFNAMSIZ];
	uint32_t gateway; /* network byte order */
	bool has_gateway6;
	struct in6_addr gateway6;
	bool disable_gateway_service;
};

/* driver.c */
/*
 * Loads the state under state_dir (created 0700 if missing), adopts pol (the driver owns it
 * from now on) and brings the firewall in line with the loaded networks.  Returns 0 or
 * -errno with err filled.  Call once, before serving.
 */
int driver_init(const char *state_dir, struct policy *pol, struct err *err);
/* Frees memory; leaves links, state and rules in place (containers keep working). */
void driver_exit(void);
/*
 * Replaces the policy: the new one must declare every tier that a live network uses; then
 * the firewall is recompiled and applied in one commit per table.  On success the driver
 * owns pol and frees the old one; on failure nothing changed and the caller keeps pol.
 */
int driver_set_policy(struct policy *pol, struct err *err);

/*
 * Saves the text of the policy in force and where it came from (a path, or "embedded") in
 * the state directory, so that the policy survives the loss of its file (plugin/source.c).
 * Returns 0 or -errno with err.
 */
int driver_keep_policy(const char *origin, const char *text, struct err *err);
/*
 * Reads what driver_keep_policy saved in state directory dir (no driver needed): malloc'ed
 * *origin and *text.  Returns 0, -ENOENT when nothing was saved, or -errno.
 */
int driver_kept_policy(const char *dir, char **origin, char **text);

/*
 * Periodic upkeep, called every few seconds from the main loop: when dockerd (re)creates its
 * nf_tables chains after tiernet started, or an operator removed the pass-through, put it
 * back.  Cheap when nothing changed.
 */
void driver_tick(void);

/* The protocol actions.  Each returns 0 or -errno with err filled; see PROTOCOL.md §3. */
int driver_network_create(const struct driver_net_req *req, struct err *err);
int driver_network_delete(const char *net_id, struct err *err);
int driver_endpoint_create(const struct driver_ep_req *req, struct driver_ep_reply *reply,
			   struct err *err);
int driver_endpoint_delete(const char *net_id, const char *ep_id, struct err *err);
int driver_join(const struct driver_join_req *req, struct driver_join_reply *reply,
		struct err *err);
int driver_leave(const char *net_id, const char *ep_id, struct err *err);
/* Publishes the endpoint's ports (DNAT); fails, changing nothing, when the policy forbids. */
int driver_publish(const struct driver_pec_req *req, struct err *err);
/* Removes the endpoint's published ports; a no-op when it has none. */
int driver_unpublish(const char *net_id, const char *ep_id, struct err *err);
/* 0 when the endpoint exists (or -ENOENT with err filled). */
int driver_endpoint_check(const char *net_id, const char *ep_id, struct err *err);

/*
 * Writes a human-readable status report (or JSON when json is true) into a malloc'ed string.
 * Returns NULL on ENOMEM.
 */
char *driver_status(bool json);

/* dnsview.c: what names across tiers (dns/) need from the driver */
#define DRIVER_TIER_NAME_MAX 32 /* POLICY_NAME_MAX */
struct driver_dns_net {
	char id[DRIVER_ID_LEN + 1];
	int tier;	     /* index into the view's tiers */
	uint32_t pool, mask; /* the IPv4 subnet, network byte order */
	bool internal;	     /* Docker's --internal or the tier's flag: no world */
};
struct driver_dns_view {
	size_t ntiers;
	char (*tiers)[DRIVER_TIER_NAME_MAX];
	bool *reach; /* ntiers x ntiers: may the row open connections to the column? */
	size_t nnets;
	struct driver_dns_net *nets;
};
/*
 * A copy of the tiers, the reachability between them (any port: an allow line, or the
 * tier itself unless isolated) and the networks.  Returns 0 or -ENOMEM; free with
 * driver_dns_view_free.
 */
int driver_dns_view(struct driver_dns_view *v);
void driver_dns_view_free(struct driver_dns_view *v);
/* Changes whenever networks or the policy change (a view is stale when it differs). */
uint64_t driver_generation(void);
/*
 * Turns the redirection of containers' DNS queries to the resolver on UDP port `port` on
 * (or off with 0) and brings the firewall in line.  Returns 0 or -errno with err.
 */
int driver_set_dns_port(uint16_t port, struct err *err);
/* deny.c: who a denied (or audited) new connection was between, and why */
#define DRIVER_SHORT_ID	 12 /* IDs as Docker shows them */
#define DRIVER_WHY_MAX	 320
#define DRIVER_TIER_TEXT 32 /* a tier name, "world" or "host", with the NUL */
struct driver_flow_end {
	unsigned char addr[16]; /* the family's address, network byte order */
	uint16_t port;		/* 0 for protocols without ports */
	char tier[DRIVER_TIER_TEXT];
	char net[DRIVER_SHORT_ID + 1];	    /* the network, "" when none of tiernet's */
	char endpoint[DRIVER_SHORT_ID + 1]; /* the endpoint, "" when none */
	/* the container's name from the name service (plugin/denials.c), "" when unknown */
	char container[64];
};
struct driver_denial {
	/* what the kernel said (plugin/nflog.c) */
	int family;    /* AF_INET or AF_INET6 */
	uint8_t proto; /* IPPROTO_* */
	bool audit;    /* audit mode let it through: a "would deny" */
	bool to_host;  /* to the host itself (filter INPUT) rather than forwarded */
	struct driver_flow_end src, dst;
	/* what driver_deny_describe adds */
	char reason[24];	  /* why_reason_name: "no-edge", "port", ... */
	char why[DRIVER_WHY_MAX]; /* one sentence */
	char fix[DRIVER_WHY_MAX]; /* the policy line that would allow it; "" when none can */
	unsigned fix_at;	  /* the fix replaces this line of the policy; 0: a new line */
};
/*
 * Fills d's tiers, networks, endpoints and reason from its addresses, under the policy and
 * networks in force (an address in no tiernet network is the world; to_host: the host).
 */
void driver_deny_describe(struct driver_denial *d);
/*
 * The tiers in audit mode as "mid, back" or "all" into buf (always NUL-terminated); "" when
 * none.  For status, the log and the graph, which say so loudly.
 */
void driver_audit_tiers(char *buf, size_t len);

/* names.c */
/* Checks a Docker ID: 64 lowercase hex characters. */
bool driver_id_valid(const char *id);
/* Checks an interface name a user gave: 1..15 of [A-Za-z0-9_.-], starting with "tn". */
bool driver_ifname_valid(const char *name);
/* The names tiernet derives from Docker IDs (IFNAMSIZ buffers). */
void driver_bridge_name(const char *net_id, char name[IFNAMSIZ]);
void driver_veth_names(const char *ep_id, char host[IFNAMSIZ], char peer[IFNAMSIZ]);
/* Is name prefix (TN_BRIDGE_PREFIX, ...) and 12 lowercase hex digits, as tiernet derives? */
bool driver_name_derived(const char *name, const char *prefix);
/* Does name carry tiernet's link prefix (a convention, not proof of ownership)? */
bool driver_name_ours(const char *name);
/* The MAC Docker's bridge driver would use for an IPv4 address: 02:42 + the address. */
void driver_mac_from_ip(uint32_t addr, uint8_t mac[6]);

#endif
