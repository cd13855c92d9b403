/*
 * The firewall for the driver's networks and published ports: compiled by policy/ from the
 * list of networks, applied in one commit per table, plus Docker's nf_tables pass-through and
 * tiernet's own nf_tables bridge table.  Rules depend on tiers, edges, bridges, published
 * ports and Docker's own bridges, never on plain endpoints: only CreateNetwork,
 * DeleteNetwork, a policy change and the calls that publish or unpublish ports sync.  When a
 * sync allows less than before, the connections it no longer allows are cut (conntrack).
 *
 * The tick (every 2 s) puts back what others undo: Docker's pass-through when dockerd
 * re-created its chains, tiernet's hooks when dockerd inserted its rules above them or
 * created DOCKER-USER, and a new or removed Docker network's bridge in the world's exclusions.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver/internal.h"
#include "lib/log.h"

/*
 * The published ports of every endpoint in family's form, as the compiler wants them; NULL
 * on ENOMEM.  IPv6: the mappings that take IPv6, of endpoints that have an IPv6 address.
 */
static struct policy_map *collect_maps(int family, size_t *n)
{
	struct policy_map *maps;
	const struct driver_port *p;
	struct drv_ep *e;
	size_t i, k = 0;

	*n = 0;
	for (e = drv.eps; e; e = e->next)
		*n += e->nports;
	maps = calloc(*n ? *n : 1, sizeof(*maps));
	for (e = drv.eps; maps && e; e = e->next) {
		if (family == AF_INET6 && !e->has6)
			continue;
		for (i = 0; i < e->nports; i++) {
			p = &e->ports[i];
			if (!drv_port_in(p, family))
				continue;
			maps[k].proto = p->proto;
			maps[k].host_ip = p->host_ip;
			maps[k].host_ip6 = p->host_ip6;
			maps[k].host_port = p->host_port;
			maps[k].addr = e->addr;
			maps[k].addr6 = e->addr6;
			maps[k].port = p->port;
			k++;
		}
	}
	*n = k;
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
		nets[i].dual = n->dual;
		nets[i].addr6 = n->gw6;
		nets[i].prefix6 = n->prefix6;
		nets[i].tier = policy_tier_find(pol, n->tier);
		nets[i].internal = drv_net_internal(n, pol);
		nets[i].group = drv_net_group(n);
	}
	return nets;
}

/* ---- Docker's own bridges ---- */

struct ifset {
	char (*v)[IFNAMSIZ];
	size_t n, cap;
	const struct link_info *links;
	size_t nlinks;
};

static bool ifset_has(const struct ifset *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], name))
			return true;
	return false;
}

/* Adds name when it is a bridge that is not tiernet's. */
static void ifset_add(const char *name, void *arg)
{
	struct ifset *s = arg;
	char(*v)[IFNAMSIZ];
	size_t i;

	for (i = 0; i < s->nlinks; i++)
		if (!strcmp(s->links[i].name, name))
			break;
	if (i == s->nlinks || strcmp(s->links[i].kind, "bridge") ||
	    link_group_ours(s->links[i].group) || ifset_has(s, name))
		return;
	if (s->n == s->cap) {
		v = reallocarray(s->v, s->cap ? s->cap * 2 : 8, sizeof(*v));
		if (!v)
			return;
		s->v = v;
		s->cap = s->cap ? s->cap * 2 : 8;
	}
	snprintf(s->v[s->n++], IFNAMSIZ, "%s", name);
}

/* docker0, docker_gwbridge, br- and 12 hex digits of the network ID: Docker's own names. */
static bool docker_named(const char *name)
{
	size_t i;

	if (!strcmp(name, "docker0") || !strcmp(name, "docker_gwbridge"))
		return true;
	if (strncmp(name, "br-", 3) || strlen(name) != 15)
		return false;
	for (i = 3; i < 15; i++)
		if (!strchr("0123456789abcdef", name[i]))
			return false;
	return true;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/*
 * The bridges of Docker's own networks now: by Docker's names, and every bridge Docker's
 * isolation chain names (a network created with com.docker.network.bridge.name), in either
 * backend.  Sorted, so that the rules do not change with the order links are listed in.
 */
static int docker_bridges(struct ifset *out)
{
	struct link_info *links;
	size_t n, i;
	int r = link_dump_bridges(&links, &n);

	if (r < 0)
		return r;
	out->links = links;
	out->nlinks = n;
	for (i = 0; i < n; i++)
		if (docker_named(links[i].name))
			ifset_add(links[i].name, out);
	xt_chain_ifnames(RULES_FILTER, "DOCKER-ISOLATION-STAGE-1", ifset_add, out);
	nft_chain_ifnames("DOCKER-ISOLATION-STAGE-1", ifset_add, out);
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), name_cmp);
	out->links = NULL;
	free(links);
	return 0;
}

/* Refreshes drv.docker; true when it changed. */
static bool docker_refresh(void)
{
	struct ifset s = { 0 };
	bool changed;

	if (docker_bridges(&s) < 0) {
		free(s.v);
		return false;
	}
	changed = s.n != drv.ndocker || (s.n && memcmp(s.v, drv.docker, s.n * sizeof(*s.v)));
	free(drv.docker);
	drv.docker = s.v;
	drv.ndocker = s.n;
	return changed;
}

/* The veth groups of the isolated tiers that have networks, for the layer-2 guard. */
static uint32_t *isolated_groups(const struct policy *pol, size_t *n)
{
	struct drv_net *net;
	uint32_t *v, g;
	size_t i;
	int t;

	*n = 0;
	v = calloc(drv_net_count() + 1, sizeof(*v));
	for (net = drv.nets; v && net; net = net->next) {
		t = policy_tier_find(pol, net->tier);
		g = drv_veth_group(net);
		for (i = 0; i < *n && v[i] != g; i++)
			;
		if (t >= 0 && pol->tiers[t].isolated && i == *n)
			v[(*n)++] = g;
	}
	return v;
}

/* What one family compiles to: its published ports and its rules. */
struct fw_set {
	struct policy_map *maps;
	size_t nmaps;
	struct rules_set rs;
};

static void fw_set_free(struct fw_set *f)
{
	free(f->maps);
	rules_clear(&f->rs);
}

/*
 * Compiles family's set: IPv4 always, IPv6 when a network is dual-stack (else the IPv6
 * set stays empty, which takes tiernet's ip6tables chains away).  0 or -errno with err.
 */
static int fw_compile(const struct policy *pol, const struct policy_net *nets, size_t count,
		      int family, struct fw_set *out, struct err *err)
{
	struct policy_host host = { .docker = (const char(*)[IFNAMSIZ])drv.docker,
				    .ndocker = drv.ndocker,
				    .dns_port = drv.dns_port };
	int r = 0;

	rules_init_family(&out->rs, family);
	out->maps = collect_maps(family, &out->nmaps);
	if (!out->maps)
		return err_set(err, ENOMEM, "tiernet: out of memory compiling the firewall");
	if (family == AF_INET6 && !drv_any_dual())
		return 0;
	r = policy_compile(pol, nets, count, &host, &out->rs);
	if (!r && count)
		r = policy_compile_maps(out->maps, out->nmaps, &out->rs);
	if (r < 0)
		return err_set(err, -r, "tiernet: cannot compile the %s firewall rules: %s",
			       family == AF_INET6 ? "IPv6" : "IPv4", strerror(-r));
	return 0;
}

/*
 * Cuts the connections rs no longer allows (policy/ct.c judges them); a failure is logged:
 * the rules are in place, only old connections may live on until they time out.
 */
static void cut_flows(const struct policy *pol, const struct policy_net *nets, size_t n,
		      const struct fw_set *set, const struct drv_net *gone)
{
	struct policy_net g = { 0 };
	struct policy_matrix m;
	struct policy_flows f = { .family = set->rs.family,
				  .nets = nets,
				  .n = n,
				  .maps = set->maps,
				  .nmaps = set->nmaps,
				  .dns_port = drv.dns_port };
	struct err err;
	int r;

	if (policy_matrix(pol, nets, n, &set->rs, &m) < 0) {
		log_error("tiernet: out of memory judging connections; old ones stay");
		return;
	}
	if (gone) {
		g.addr = gone->pool;
		g.mask = drv_prefix_mask(gone->prefix);
		g.dual = gone->dual;
		g.addr6 = gone->pool6;
		g.prefix6 = gone->prefix6;
		g.tier = -1;
		f.gone = &g;
		f.ngone = 1;
	}
	f.m = &m;
	r = ct_sweep(&f, &err);
	if (r < 0)
		log_error("%s", err.msg);
	else if (r > 0)
		log_info("cut %d connection(s) the rules no longer allow%s", r,
			 f.family == AF_INET6 ? " (IPv6)" : "");
	policy_matrix_free(&m);
}

/*
 * What is in force in family's tables: the set last applied, or what the kernel holds; NULL
 * when the kernel's tables cannot be read: there is no way back then, and an empty set would
 * be one that removes everything.
 */
static const struct rules_set *in_force(int family, struct rules_set *buf)
{
	struct err ignored;
	int r;

	if (drv.fw_applied)
		return family == AF_INET6 ? &drv.fw_rules6 : &drv.fw_rules;
	rules_init_family(buf, family);
	r = family == AF_INET6 ? xt6_read(buf, &ignored) : xt_read(buf, &ignored);
	if (r < 0)
		rules_clear(buf);
	return r < 0 ? NULL : buf;
}

/*
 * xt_apply for both families, IPv4 first, with what is in force as the way back: when the
 * IPv6 tables fail, the IPv4 ones are put back, so a change is all or nothing across both.
 * A mixed result is remembered: status says so and the tick applies again until it
 * converges.  With changed_only (the caller has checked that what was applied last is in
 * force and consistent), only the tables that differ from it are committed, both ways.
 */
static int apply_tables(const struct rules_set *rs4, const struct rules_set *rs6, bool changed_only,
			struct err *err)
{
	int (*apply4)(const struct rules_set *, const struct rules_set *, struct err *) =
	    changed_only ? xt_apply_changed : xt_apply;
	int (*apply6)(const struct rules_set *, const struct rules_set *, struct err *) =
	    changed_only ? xt6_apply_changed : xt6_apply;
	struct rules_set now4, now6;
	const struct rules_set *old4 = in_force(AF_INET, &now4), *old6 = in_force(AF_INET6, &now6);
	struct err ignored;
	int r;

	r = apply4(rs4, old4, err);
	if (r == 0) {
		r = apply6(rs6, old6, err);
		if (r < 0 && r != -ENOTRECOVERABLE && (!old4 || apply4(old4, rs4, &ignored) < 0))
			r = err_wrap(err, ENOTRECOVERABLE,
				     "tiernet: the firewall is in a mixed state: the IPv4 "
				     "tables hold the new rules and could not be put back, the "
				     "IPv6 ones hold the old");
	}
	if (!drv.fw_applied) {
		rules_clear(&now4);
		rules_clear(&now6);
	}
	if (r == -ENOTRECOVERABLE) {
		drv.fw_mixed = true;
		log_error("%s", err->msg);
	} else if (r == 0) {
		if (drv.fw_mixed)
			log_info("the firewall is consistent again");
		drv.fw_mixed = false;
	}
	return r;
}

static void l2_ep_of(const struct drv_ep *e, struct l2_ep *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->ifname, sizeof(out->ifname), "%s", e->host);
	out->addr = e->addr;
	out->has6 = e->has6;
	out->addr6 = e->addr6;
}

/* The guard's definition (chains, rules, empty sets) as text, malloc'ed, or NULL. */
static char *l2_def(bool on, const uint32_t *isolated, size_t niso)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	l2_table_text(f, on, isolated, niso, NULL, 0);
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

/*
 * The layer-2 guard, whole: the isolated tiers' veth groups and every endpoint's sources
 * (those still being made or deleted too: an element names a veth, which need not exist).
 * When the definition is the one last written and the table is whole, nothing is written:
 * the elements follow the endpoints one by one (drv_fw_l2_ep), and rewriting the table
 * would start its counters, the evidence of what it dropped, at zero on every network
 * created anywhere on the host.
 */
static int l2_sync(const struct policy *pol, bool on, struct err *err)
{
	uint32_t *isolated = NULL;
	struct l2_ep *eps = NULL;
	const struct drv_ep *e;
	size_t niso = 0, n = 0;
	char *def = NULL;
	int r;

	drv.nft_checked = false;
	for (e = drv.eps; e; e = e->next)
		n++;
	isolated = isolated_groups(pol, &niso);
	eps = calloc(n + drv.nl2_kept + 1, sizeof(*eps));
	def = isolated ? l2_def(on, isolated, niso) : NULL;
	if (!isolated || !eps || !def) {
		r = err_set(err, ENOMEM, "tiernet: out of memory compiling the firewall");
		goto out;
	}
	if (on && drv.l2_def && !strcmp(def, drv.l2_def) && nft_l2_in_place(niso > 0, err) == 1) {
		r = 0;
		goto out;
	}
	for (e = drv.eps, n = 0; e; e = e->next)
		l2_ep_of(e, &eps[n++]);
	if (drv.nl2_kept)
		memcpy(&eps[n], drv.l2_kept, drv.nl2_kept * sizeof(*eps));
	n += drv.nl2_kept;
	free(drv.l2_def);
	drv.l2_def = NULL;
	r = nft_l2_apply(on, isolated, niso, eps, n, err);
	if (!r && on) {
		drv.l2_def = def;
		def = NULL;
	}
out:
	free(def);
	free(isolated);
	free(eps);
	return r;
}

void drv_fw_l2_keep(const struct l2_ep *ep)
{
	struct l2_ep *grown = reallocarray(drv.l2_kept, drv.nl2_kept + 1, sizeof(*grown));

	if (!grown)
		return;
	drv.l2_kept = grown;
	drv.l2_kept[drv.nl2_kept++] = *ep;
}

void drv_fw_l2_keep_ep(const struct drv_ep *e)
{
	struct l2_ep ep;

	l2_ep_of(e, &ep);
	drv_fw_l2_keep(&ep);
}

int drv_fw_l2_ep(const struct drv_ep *e, bool add, struct err *err)
{
	struct l2_ep ep;
	int r;

	drv.nft_checked = false;
	l2_ep_of(e, &ep);
	r = nft_l2_element(add, &ep, err);
	/* The table is gone (removed by hand): put it back whole, this endpoint included. */
	if (r == -ENOENT && add)
		r = l2_sync(drv.policy, true, err);
	return r == -ENOENT ? 0 : r;
}

/* Is the layer-2 guard whole (its sets, chains and rules; the elements are not read)? */
static int l2_in_place(struct err *err)
{
	uint32_t *isolated;
	size_t niso = 0;

	isolated = isolated_groups(drv.policy, &niso);
	if (!isolated)
		return err_set(err, ENOMEM, "tiernet: out of memory");
	free(isolated);
	return nft_l2_in_place(niso > 0, err);
}

/* The layer-2 guard, Docker's pass-through. */
static int fw_nft(const struct policy *pol, size_t count, struct err *err)
{
	int r = l2_sync(pol, count > 0, err);

	if (r < 0)
		return r;
	drv.fw_mode = nft_detect();
	return count ? nft_passthrough_ensure(err) : nft_passthrough_remove(err);
}

/* What drv says the maps hold. */
static struct nat_maps nat_held(void)
{
	return (struct nat_maps){ drv.nat4, drv.nat6, drv.nnat4, drv.nnat6 };
}

/* A set's mappings as maps. */
static struct nat_maps nat_of(const struct fw_set *v4, const struct fw_set *v6)
{
	return (struct nat_maps){ v4->maps, v6->maps, v4->nmaps, v6->nmaps };
}

/*
 * The published ports' nf_tables maps: element changes from what they hold (the maps
 * last applied), or replaced whole on a full sync, or when what they hold is not known.
 * First, before the x_tables: a change of ports is nothing else (the masquerade for
 * 127.0.0.1 aside, when the first port comes or the last goes).
 */
static int nat_sync(struct fw_set *v4, struct fw_set *v6, bool changed_only, struct err *err)
{
	const struct nat_maps old = nat_held();
	struct nat_maps want;
	int r;

	drv.nft_checked = false;
	natmap_sort(v4->maps, v4->nmaps, AF_INET);
	natmap_sort(v6->maps, v6->nmaps, AF_INET6);
	want = nat_of(v4, v6);
	/* No mapping before or after, and the kernel known to hold none: no transaction. */
	if (drv.nat_known && !old.n4 && !old.n6 && !want.n4 && !want.n6)
		return 0;
	r = nat_apply(changed_only && drv.nat_known ? &old : NULL, &want, err);
	/* A batch is all or nothing, but after a retry of the whole (the table was gone) what
	 * the kernel holds is no longer what drv says: the next sync replaces it. */
	if (r < 0)
		drv.nat_known = false;
	return r;
}

/* The x_tables failed after the maps changed: the maps go back (or are marked unknown). */
static void nat_undo(const struct fw_set *v4, const struct fw_set *v6)
{
	const struct nat_maps old = nat_held();
	const struct nat_maps now = nat_of(v4, v6);
	struct err ignored;

	drv.nft_checked = false;
	if (!drv.nat_known || nat_apply(&now, &old, &ignored) < 0)
		drv.nat_known = false;
}

/* What the maps hold now is the sets' (their arrays move to drv). */
static void nat_keep(struct fw_set *v4, struct fw_set *v6)
{
	free(drv.nat4);
	free(drv.nat6);
	drv.nat4 = v4->maps;
	drv.nnat4 = v4->nmaps;
	drv.nat6 = v6->maps;
	drv.nnat6 = v6->nmaps;
	drv.nat_known = true;
	v4->maps = NULL;
	v6->maps = NULL;
}

/*
 * Compiles and applies both families; the full form (changed_only false) also re-applies
 * every table and tiernet's nf_tables objects, which repairs what others changed.
 */
static int fw_sync(const struct policy *pol, const struct drv_net *gone, bool cut,
		   bool changed_only, struct err *err)
{
	struct fw_set v4 = { 0 }, v6 = { 0 };
	struct policy_net *nets;
	size_t count;
	int r;

	nets = drv_fw_nets(pol, &count);
	if (!nets) {
		r = err_set(err, ENOMEM, "tiernet: out of memory compiling the firewall");
		goto out;
	}
	r = fw_compile(pol, nets, count, AF_INET, &v4, err);
	if (!r)
		r = fw_compile(pol, nets, count, AF_INET6, &v6, err);
	if (!r)
		r = nat_sync(&v4, &v6, changed_only, err);
	if (!r) {
		r = apply_tables(&v4.rs, &v6.rs, changed_only, err);
		if (r < 0)
			nat_undo(&v4, &v6);
	}
	if (!r && !changed_only)
		r = fw_nft(pol, count, err);
	if (r < 0)
		goto out;
	if (cut || gone) {
		cut_flows(pol, nets, count, &v4, gone);
		if (v6.rs.nrules || (gone && gone->dual))
			cut_flows(pol, nets, count, &v6, gone);
	}
	rules_clear(&drv.fw_rules);
	rules_clear(&drv.fw_rules6);
	drv.fw_rules = v4.rs;
	drv.fw_rules6 = v6.rs;
	drv.fw_applied = true;
	/* The name service's view holds tiers, edges and networks: a port change leaves it. */
	if (!changed_only)
		drv_generation_bump();
	rules_init(&v4.rs);
	rules_init_family(&v6.rs, AF_INET6);
	nat_keep(&v4, &v6);
out:
	fw_set_free(&v4);
	fw_set_free(&v6);
	free(nets);
	return r;
}

int drv_fw_sync(const struct policy *pol, const struct drv_net *gone, bool cut, struct err *err)
{
	return fw_sync(pol, gone, cut, false, err);
}

/*
 * Published ports are only DNAT and the rules that let their traffic in: nothing of the
 * nf_tables side (the layer-2 guard, Docker's pass-through) depends on them, and most of a
 * full sync's cost was committing the tables a port does not touch, in both families.  So
 * a change of ports commits only the tables that changed, when what was applied last is
 * known to be in force; otherwise (nothing applied yet, a mixed state) the full sync.
 */
int drv_fw_sync_ports(bool cut, struct err *err)
{
	return fw_sync(drv.policy, NULL, cut, drv.fw_applied && !drv.fw_mixed, err);
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

/*
 * Routing between tier bridges needs forwarding; Docker turns it on too.  IPv6 has only the
 * host-wide switch (a bridge's own forwarding flag does not route), and with it on, the
 * host's interfaces ignore router advertisements unless their accept_ra is 2: README says so.
 */
void drv_ip_forward_on(bool v6)
{
	if (sysctl_on("/proc/sys/net/ipv4/ip_forward") < 0)
		log_warn("cannot enable net.ipv4.ip_forward; traffic between tiers will not be "
			 "routed");
	if (v6 && sysctl_on("/proc/sys/net/ipv6/conf/all/forwarding") < 0)
		log_warn("cannot enable net.ipv6.conf.all.forwarding; IPv6 traffic between tiers "
			 "will not be routed");
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
	struct nat_maps held;
	bool docker_changed, have_gen;
	struct err err;
	uint32_t gen = 0;
	int r, nat, l2;

	docker_changed = docker_refresh();
	if (!drv.nets)
		return;
	mode = nft_detect();
	if (mode != drv.fw_mode)
		log_info("Docker's rules are now in %s; firewall mode follows",
			 mode == NFT_MODE_NFT ? "nf_tables" : "legacy x_tables");
	drv.fw_mode = mode;
	r = docker_changed || drv.fw_mixed ? 0 : xt_in_place(&drv.fw_rules, &err);
	if (r == 1 && drv.fw_rules6.nrules)
		r = xt6_in_place(&drv.fw_rules6, &err);
	/*
	 * nf_tables' generation moves with every change to any of its tables: while it stays
	 * where it was when tiernet's tables were last found whole, and tiernet changed nothing
	 * since (which clears nft_checked), they still are.  Read before the listing, so that a
	 * change made during it moves the generation away from the one kept.
	 */
	have_gen = r == 1 && nfgen_read(&gen) == 0;
	if (have_gen && drv.nft_checked && gen == drv.nft_gen) {
		nat = l2 = 1;
	} else {
		drv.nft_checked = false;
		/* Without mappings no table to check: a leftover one translates nothing. */
		held = nat_held();
		nat = r == 1 && (held.n4 || held.n6) ? nat_in_place(&held, &err) : 1;
		if (r < 0 || nat < 0)
			log_warnx("%s", err.msg);
		l2 = r == 1 && nat == 1 ? l2_in_place(&err) : 1;
		if (l2 < 0)
			log_warnx("%s", err.msg);
		if (have_gen && nat == 1 && l2 == 1) {
			drv.nft_gen = gen;
			drv.nft_checked = true;
		}
	}
	if (r == 0 || nat == 0 || l2 == 0 || !drv.nat_known) {
		log_info("%s; applying the rules again",
			 docker_changed ? "Docker's networks changed"
			 : drv.fw_mixed ? "the firewall was left mixed"
			 : r == 0	? "tiernet's hooks are no longer first in their chains"
			 : nat == 0	? "the published ports' nftables table is not whole"
			 : l2 == 0
			     ? "the layer-2 guard (nftables table bridge tiernet) is not whole"
			     : "what the published ports' nftables table holds is not known");
		if (drv_fw_sync(drv.policy, NULL, false, &err) < 0)
			log_error("%s", err.msg);
		return;
	}
	if (mode == NFT_MODE_NFT && nft_passthrough_ensure(&err) < 0)
		log_warnx("%s", err.msg);
}

/*
 * br_netfilter hands frames between two ports of a bridge to iptables (tiernet asks for it
 * per bridge); its sysctl directory exists in a namespace where the module is loaded.
 */
bool drv_br_netfilter(void)
{
	return access("/proc/sys/net/bridge/bridge-nf-call-iptables", F_OK) == 0;
}

void drv_fw_init(void)
{
	docker_refresh();
	if (!drv_br_netfilter())
		log_error("br_netfilter is not loaded: frames between containers of one bridge "
			  "skip iptables, so isolated tiers are NOT isolated; load it "
			  "(modprobe br_netfilter) and restart tiernet");
}

void drv_fw_exit(void)
{
	rules_clear(&drv.fw_rules);
	rules_clear(&drv.fw_rules6);
	free(drv.nat4);
	free(drv.nat6);
	drv.nat4 = drv.nat6 = NULL;
	drv.nnat4 = drv.nnat6 = 0;
	drv.nat_known = false;
	free(drv.l2_def);
	drv.l2_def = NULL;
	free(drv.l2_kept);
	drv.l2_kept = NULL;
	drv.nl2_kept = 0;
	free(drv.docker);
	drv.docker = NULL;
	drv.ndocker = 0;
}
