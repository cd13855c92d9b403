/*
 * The firewall for the driver's networks and published ports: compiled by policy/ from the
 * list of networks, applied in one commit per table, plus Docker's nf_tables pass-through,
 * which the tick puts back when dockerd re-creates its chains.  Rules depend on tiers, edges,
 * bridges and published ports, never on plain endpoints: only CreateNetwork, DeleteNetwork,
 * a policy change and the calls that publish or unpublish ports (ProgramExternalConnectivity,
 * RevokeExternalConnectivity, a Leave or DeleteEndpoint of an endpoint with ports) sync.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver/internal.h"
#include "lib/log.h"

/* The published ports of every endpoint, as the compiler wants them; NULL on ENOMEM. */
static struct policy_map *collect_maps(size_t *n)
{
	struct policy_map *maps;
	struct drv_ep *e;
	size_t i, k = 0;

	*n = 0;
	for (e = drv.eps; e; e = e->next)
		*n += e->nports;
	maps = calloc(*n ? *n : 1, sizeof(*maps));
	for (e = drv.eps; maps && e; e = e->next)
		for (i = 0; i < e->nports; i++, k++) {
			maps[k].proto = e->ports[i].proto;
			maps[k].host_ip = e->ports[i].host_ip;
			maps[k].host_port = e->ports[i].host_port;
			maps[k].addr = e->addr;
			maps[k].port = e->ports[i].port;
		}
	return maps;
}

struct policy_net *drv_fw_nets(const struct policy *pol, size_t *count)
{
	struct policy_net *nets;
	struct drv_net *n;
	size_t i = 0;

	*count = drv_net_count();
	nets = calloc(*count ? *count : 1, sizeof(*nets));
	for (n = drv.nets; nets && n; n = n->next, i++) {
		snprintf(nets[i].bridge, sizeof(nets[i].bridge), "%s", n->bridge);
		nets[i].addr = n->gw;
		nets[i].mask = drv_prefix_mask(n->prefix);
		nets[i].tier = policy_tier_find(pol, n->tier);
		nets[i].internal = drv_net_internal(n, pol);
	}
	return nets;
}

int drv_fw_sync(const struct policy *pol, struct err *err)
{
	struct policy_net *nets;
	struct policy_map *maps;
	struct rules_set rs;
	size_t count, nmaps;
	int r;

	rules_init(&rs);
	nets = drv_fw_nets(pol, &count);
	maps = collect_maps(&nmaps);
	if (!nets || !maps) {
		r = err_set(err, ENOMEM, "tiernet: out of memory compiling the firewall");
		goto out;
	}
	r = policy_compile(pol, nets, count, &rs);
	if (!r && count)
		r = policy_compile_maps(maps, nmaps, &rs);
	if (r < 0) {
		err_set(err, -r, "tiernet: cannot compile the firewall rules: %s", strerror(-r));
		goto out;
	}
	r = xt_apply(&rs, err);
	if (r < 0)
		goto out;
	drv.fw_mode = nft_detect();
	r = count ? nft_passthrough_ensure(err) : nft_passthrough_remove(err);
out:
	rules_clear(&rs);
	free(maps);
	free(nets);
	return r;
}

static int sysctl_on(const char *path)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;

	if (fd < 0 || write(fd, "1\n", 2) != 2)
		r = -errno;
	if (fd >= 0)
		close(fd);
	return r;
}

/* Routing between tier bridges needs IPv4 forwarding; Docker turns it on too. */
void drv_ip_forward_on(void)
{
	if (sysctl_on("/proc/sys/net/ipv4/ip_forward") < 0)
		log_warn("cannot enable net.ipv4.ip_forward; traffic between tiers will not be "
			 "routed");
}

/*
 * A port published on 127.0.0.1 is DNATed to a container with its loopback source kept until
 * POSTROUTING masquerades it; the kernel routes such a packet out of the bridge only when
 * the bridge has route_localnet (what Docker does for its bridges without the proxy).
 */
void drv_route_localnet_on(const char *bridge)
{
	int r = link_route_localnet(bridge);

	if (r < 0)
		log_warnx("cannot set route_localnet on %s: %s; ports published on 127.0.0.1 will "
			  "not reach its containers",
			  bridge, strerror(-r));
}

/* Called with drv.lock held. */
void drv_fw_tick(void)
{
	enum nft_mode mode;
	struct err err;

	if (!drv.nets)
		return;
	mode = nft_detect();
	if (mode != drv.fw_mode)
		log_info("Docker's rules are now in %s; firewall mode follows",
			 mode == NFT_MODE_NFT ? "nf_tables" : "legacy x_tables");
	drv.fw_mode = mode;
	if (mode == NFT_MODE_NFT && nft_passthrough_ensure(&err) < 0)
		log_warnx("%s", err.msg);
}
