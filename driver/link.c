/*
 * Links and addresses over rtnetlink (libnl-route).  Each action opens its own netlink socket:
 * libnl sockets are not thread-safe, the cost is a few microseconds, and a socket left in a
 * bad state by one failed call can never poison the next one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/ip.h>
#include <net/if.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/inet.h>
#include <netlink/route/link/veth.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/driver.h"
#include "driver/internal.h"

/* libnl reports its own NLE_* codes; the project speaks errno. */
static int nl_to_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case NLE_EXIST:
		return EEXIST;
	case NLE_NODEV:
	case NLE_OBJ_NOTFOUND:
		return ENODEV;
	case NLE_PERM:
		return EPERM;
	case NLE_NOMEM:
		return ENOMEM;
	case NLE_INVAL:
	case NLE_RANGE:
		return EINVAL;
	case NLE_BUSY:
		return EBUSY;
	case NLE_NOADDR:
		return EADDRNOTAVAIL;
	case NLE_OPNOTSUPP:
		return EOPNOTSUPP;
	default:
		return EIO;
	}
}

static struct nl_sock *sock_open(struct err *err)
{
	struct nl_sock *sk = nl_socket_alloc();
	int r;

	if (!sk) {
		err_set(err, ENOMEM, "tiernet: out of memory opening a netlink socket");
		return NULL;
	}
	r = nl_connect(sk, NETLINK_ROUTE);
	if (r < 0) {
		err_set(err, nl_to_errno(r), "tiernet: cannot open a netlink socket: %s",
			nl_geterror(r));
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

static int ifindex_of(struct nl_sock *sk, const char *name)
{
	struct rtnl_link *l = NULL;
	int r, idx;

	r = rtnl_link_get_kernel(sk, 0, name, &l);
	if (r < 0)
		return -nl_to_errno(r);
	idx = rtnl_link_get_ifindex(l);
	rtnl_link_put(l);
	return idx;
}

int link_index(const char *name)
{
	struct err err;
	struct nl_sock *sk = sock_open(&err);
	int idx;

	if (!sk)
		return -EIO;
	idx = ifindex_of(sk, name);
	nl_socket_free(sk);
	return idx;
}

static int link_del_sk(struct nl_sock *sk, const char *name)
{
	struct rtnl_link *l = rtnl_link_alloc();
	int r;

	if (!l)
		return -ENOMEM;
	rtnl_link_set_name(l, name);
	r = rtnl_link_delete(sk, l);
	rtnl_link_put(l);
	if (r < 0 && nl_to_errno(r) != ENODEV)
		return -nl_to_errno(r);
	return 0;
}

int link_del(const char *name)
{
	struct err err;
	struct nl_sock *sk;
	int r;

	/* Defence in depth: tiernet deletes only links of its own prefix. */
	if (!driver_name_ours(name))
		return -EPERM;
	sk = sock_open(&err);

	if (!sk)
		return -EIO;
	r = link_del_sk(sk, name);
	nl_socket_free(sk);
	return r;
}

static int set_mac(struct rtnl_link *l, const uint8_t mac[6])
{
	struct nl_addr *a = nl_addr_build(AF_LLC, mac, 6);

	if (!a)
		return -ENOMEM;
	rtnl_link_set_addr(l, a);
	nl_addr_put(a);
	return 0;
}

static int addr_add(struct nl_sock *sk, int idx, uint32_t addr, uint8_t prefix)
{
	struct rtnl_addr *a = rtnl_addr_alloc();
	struct nl_addr *local = nl_addr_build(AF_INET, &addr, 4);
	uint32_t mask = prefix ? htonl(~0u << (32 - prefix)) : 0;
	uint32_t bcast = addr | ~mask;
	struct nl_addr *brd = nl_addr_build(AF_INET, &bcast, 4);
	int r = -ENOMEM;

	if (!a || !local || !brd)
		goto out;
	nl_addr_set_prefixlen(local, prefix);
	rtnl_addr_set_ifindex(a, idx);
	rtnl_addr_set_local(a, local);
	rtnl_addr_set_broadcast(a, brd);
	r = rtnl_addr_add(sk, a, 0);
	r = r < 0 ? -nl_to_errno(r) : 0;
out:
	nl_addr_put(brd);
	nl_addr_put(local);
	rtnl_addr_put(a);
	return r;
}

int link_bridge_add(const char *name, const uint8_t mac[6], int mtu, uint32_t addr, uint8_t prefix,
		    struct err *err)
{
	struct nl_sock *sk = sock_open(err);
	struct rtnl_link *l = NULL;
	char ip[INET_ADDRSTRLEN];
	int r, idx;

	if (!sk)
		return -EIO;
	inet_ntop(AF_INET, &addr, ip, sizeof(ip));
	l = rtnl_link_bridge_alloc();
	if (!l || set_mac(l, mac)) {
		r = err_set(err, ENOMEM, "tiernet: out of memory creating bridge %s", name);
		goto out;
	}
	rtnl_link_set_name(l, name);
	if (mtu > 0)
		rtnl_link_set_mtu(l, (unsigned)mtu);
	r = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
	if (r < 0) {
		r = err_set(err, nl_to_errno(r), "tiernet: cannot create bridge %s: %s%s", name,
			    nl_geterror(r),
			    nl_to_errno(r) == EEXIST
				? " (a link of that name exists: remove it or choose another "
				  "com.docker.network.bridge.name)"
				: "");
		goto out;
	}
	idx = ifindex_of(sk, name);
	r = idx < 0 ? idx : addr_add(sk, idx, addr, prefix);
	if (r < 0) {
		err_set(err, -r, "tiernet: cannot give bridge %s the gateway address %s/%u: %s",
			name, ip, prefix, strerror(-r));
		goto undo;
	}
	r = link_up(name);
	if (r < 0) {
		err_set(err, -r, "tiernet: cannot bring bridge %s up: %s", name, strerror(-r));
		goto undo;
	}
	goto out;
undo:
	link_del_sk(sk, name);
out:
	rtnl_link_put(l);
	nl_socket_free(sk);
	return r;
}

/*
 * RTM_SETLINK on an existing link: fill() sets what should change on an empty link object,
 * the kernel's current one is the base.  Returns 0 or -errno.
 */
static int link_change(const char *name, int (*fill)(struct rtnl_link *chg, int arg), int arg)
{
	struct err err;
	struct nl_sock *sk = sock_open(&err);
	struct rtnl_link *cur = NULL, *chg = NULL;
	int r;

	if (!sk)
		return -EIO;
	r = rtnl_link_get_kernel(sk, 0, name, &cur);
	if (r < 0) {
		r = -nl_to_errno(r);
		goto out;
	}
	chg = rtnl_link_alloc();
	if (!chg) {
		r = -ENOMEM;
		goto out;
	}
	r = fill(chg, arg);
	if (r == 0)
		r = rtnl_link_change(sk, cur, chg, 0);
	r = r < 0 ? -nl_to_errno(r) : 0;
out:
	rtnl_link_put(chg);
	rtnl_link_put(cur);
	nl_socket_free(sk);
	return r;
}

static int fill_up(struct rtnl_link *chg, int unused)
{
	(void)unused;
	rtnl_link_set_flags(chg, IFF_UP);
	return 0;
}

static int fill_master(struct rtnl_link *chg, int bridge)
{
	rtnl_link_set_master(chg, bridge);
	rtnl_link_set_flags(chg, IFF_UP);
	return 0;
}

/*
 * route_localnet over netlink rather than /proc/sys: inside a managed plugin /proc/sys is
 * read-only, while an RTM_SETLINK with IFLA_AF_SPEC needs only CAP_NET_ADMIN.
 */
static int fill_route_localnet(struct rtnl_link *chg, int unused)
{
	(void)unused;
	return rtnl_link_inet_set_conf(chg, IPV4_DEVCONF_ROUTE_LOCALNET, 1);
}

int link_up(const char *name)
{
	return link_change(name, fill_up, 0);
}

int link_set_master(const char *name, const char *bridge)
{
	int br = link_index(bridge);

	return br < 0 ? br : link_change(name, fill_master, br);
}

int link_route_localnet(const char *name)
{
	return link_change(name, fill_route_localnet, 0);
}

int link_veth_add(const char *host, const char *peer, const char *bridge, const uint8_t mac[6],
		  int mtu, struct err *err)
{
	struct nl_sock *sk = sock_open(err);
	struct rtnl_link *l = NULL, *p;
	int r, br;

	if (!sk)
		return -EIO;
	br = ifindex_of(sk, bridge);
	if (br < 0) {
		r = err_set(err, -br, "tiernet: bridge %s is missing: %s", bridge, strerror(-br));
		goto out;
	}
	l = rtnl_link_veth_alloc();
	if (!l) {
		r = err_set(err, ENOMEM, "tiernet: out of memory creating veth %s", host);
		goto out;
	}
	p = rtnl_link_veth_get_peer(l);
	rtnl_link_set_name(l, host);
	rtnl_link_set_name(p, peer);
	r = set_mac(p, mac);
	rtnl_link_put(p);
	if (r < 0) {
		err_set(err, ENOMEM, "tiernet: out of memory creating veth %s", host);
		goto out;
	}
	if (mtu > 0) {
		rtnl_link_set_mtu(l, (unsigned)mtu);
		rtnl_link_set_mtu(p, (unsigned)mtu);
	}
	rtnl_link_set_master(l, br);
	rtnl_link_set_flags(l, IFF_UP);
	r = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
	if (r < 0) {
		r = err_set(err, nl_to_errno(r), "tiernet: cannot create veth pair %s/%s: %s", host,
			    peer, nl_geterror(r));
		/* With NLM_F_EXCL an EEXIST means the names belong to someone else: keep them. */
		if (r != -EEXIST)
			link_del_sk(sk, host);
	}
out:
	rtnl_link_put(l);
	nl_socket_free(sk);
	return r;
}

int link_dump(struct link_info **out, size_t *n)
{
	struct err err;
	struct nl_sock *sk = sock_open(&err);
	struct nl_cache *cache = NULL;
	struct link_info *v = NULL;
	struct nl_object *o;
	size_t k = 0;
	int r;

	*out = NULL;
	*n = 0;
	if (!sk)
		return -EIO;
	r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);
	if (r < 0) {
		r = -nl_to_errno(r);
		goto out;
	}
	v = calloc((size_t)nl_cache_nitems(cache) + 1, sizeof(*v));
	if (!v) {
		r = -ENOMEM;
		goto out;
	}
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_link *l = (struct rtnl_link *)o;
		const char *name = rtnl_link_get_name(l), *type = rtnl_link_get_type(l);

		if (!name)
			continue;
		snprintf(v[k].name, sizeof(v[k].name), "%s", name);
		snprintf(v[k].kind, sizeof(v[k].kind), "%s", type ? type : "");
		v[k].ifindex = rtnl_link_get_ifindex(l);
		v[k].master = rtnl_link_get_master(l);
		k++;
	}
	*out = v;
	*n = k;
	v = NULL;
	r = 0;
out:
	free(v);
	nl_cache_free(cache);
	nl_socket_free(sk);
	return r;
}
