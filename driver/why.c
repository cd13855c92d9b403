/*
 * `tiernet explain`: the daemon's side.  policy/why.c says what the policy declares and why;
 * this file names the two ends (a tier, the world, the host, or an endpoint's address with
 * its network and endpoint), and asks the kernel: the verdict is what the rules read back
 * from it enforce (the matrix `tiernet status` shows), and the answer says so when that
 * differs from what tiernet compiled from the policy.
 */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/internal.h"
#include "driver/why.h"
#include "lib/log.h"
#include "lib/text.h"
#include "policy/why.h"

/* One end of the connection. */
struct end {
	int tier;		   /* tier index, POLICY_WORLD or POLICY_HOST */
	int family;		   /* AF_INET6 for an IPv6 address, else AF_INET */
	bool addr;		   /* given as an address */
	const struct drv_net *net; /* the address's network, when it has one */
	const struct drv_ep *ep;   /* the address's endpoint; NULL for a gateway */
};

void driver_policy_name(char *buf, size_t len)
{
	char *origin = NULL, *text = NULL;

	if (state_read_policy(state_where(), &origin, &text) == 0 && strcmp(origin, "embedded"))
		snprintf(buf, len, "%s", origin);
	else
		snprintf(buf, len, "%s", "<embedded default>");
	free(origin);
	free(text);
}

static bool addr_is(int family, const void *a, const struct drv_ep *e)
{
	if (family == AF_INET)
		return e->addr == *(const uint32_t *)a;
	return e->has6 && !memcmp(&e->addr6, a, sizeof(e->addr6));
}

static bool gw_is(int family, const void *a, const struct drv_net *n)
{
	if (family == AF_INET)
		return n->gw == *(const uint32_t *)a;
	return n->dual && !memcmp(&n->gw6, a, sizeof(n->gw6));
}

/* An address: an endpoint's (its network's tier), or a gateway's (the host).  drv.lock held. */
static int resolve_addr(const char *s, struct end *e, struct err *err)
{
	unsigned char a[sizeof(struct in6_addr)];
	const struct drv_ep *ep;
	const struct drv_net *n;
	char shown[80];

	e->family = strchr(s, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(e->family, s, a) != 1)
		return -ENOENT;
	e->addr = true;
	for (ep = drv.eps; ep; ep = ep->next)
		if (addr_is(e->family, a, ep))
			break;
	if (ep) {
		e->ep = ep;
		e->net = drv_net_find(ep->net_id);
		e->tier = e->net ? policy_tier_find(drv.policy, e->net->tier) : -ENOENT;
		return e->tier >= 0 ? 0 : err_set(err, ENOENT, "tiernet: %s has no tier", s);
	}
	for (n = drv.nets; n; n = n->next)
		if (gw_is(e->family, a, n))
			break;
	if (n) {
		e->net = n;
		e->tier = POLICY_HOST;
		return 0;
	}
	return err_set(err, ENOENT,
		       "tiernet: no tiernet endpoint has the address %s; `tiernet status` lists "
		       "the endpoints and their addresses",
		       text_shown(s, shown, sizeof(shown)));
}

/* A tier name, world, host, or an address.  drv.lock held. */
static int resolve(const char *s, struct end *e, struct err *err)
{
	char list[512], shown[80];
	int r;

	memset(e, 0, sizeof(*e));
	e->family = AF_INET;
	if (!strcmp(s, "world") || !strcmp(s, "host")) {
		e->tier = s[0] == 'w' ? POLICY_WORLD : POLICY_HOST;
		return 0;
	}
	e->tier = policy_tier_find(drv.policy, s);
	if (e->tier >= 0)
		return 0;
	r = resolve_addr(s, e, err);
	if (r != -ENOENT || e->addr)
		return r;
	policy_tier_list(drv.policy, list, sizeof(list));
	return err_set(err, ENOENT,
		       "tiernet: \"%s\" is neither a tier (the policy declares %s, and world and "
		       "host) nor an IPv4 or IPv6 address",
		       text_shown(s, shown, sizeof(shown)), list);
}

/* May from reach to in matrix m?  Any port when proto is 0. */
static bool cell_allows(const struct policy_matrix *m, const struct why_flow *f)
{
	const struct policy_cell *c;

	if (f->src == POLICY_HOST)
		return true;
	if (!f->proto) {
		if (f->src == POLICY_WORLD && f->dst < 0)
			return false;
		c = policy_matrix_cell(m, f->src, f->dst);
		return c->all || c->nports;
	}
	return policy_flow_allowed(m, f->src, f->dst, f->proto, f->port);
}

/* Has tier a network in family (a dual-stack one for IPv6)?  Pseudo-tiers always do. */
static bool tier_live(int tier, int family)
{
	const struct drv_net *n;

	if (tier < 0)
		return true;
	for (n = drv.nets; n; n = n->next)
		if ((family == AF_INET || n->dual) &&
		    !strcmp(n->tier, drv.policy->tiers[tier].name))
			return true;
	return false;
}

/*
 * Asked by tier name: are all of the tier's live networks (in family) Docker --internal?
 * Then the tier has no world traffic, for that reason, whatever its own flags say.
 */
static bool tier_all_dinternal(int tier, int family)
{
	const struct drv_net *n;
	bool any = false;

	if (tier < 0)
		return false;
	for (n = drv.nets; n; n = n->next) {
		if ((family == AF_INET6 && !n->dual) ||
		    strcmp(n->tier, drv.policy->tiers[tier].name))
			continue;
		if (!n->internal)
			return false;
		any = true;
	}
	return any;
}

/* What the kernel does with the flow: 1 allowed, 0 denied, -errno unreadable. */
static int enforced(const struct why_flow *f, int family, bool *declared, struct err *err)
{
	const struct rules_set *applied = family == AF_INET6 ? &drv.fw_rules6 : &drv.fw_rules;
	struct policy_matrix m, d;
	struct policy_net *pn;
	struct rules_set rs;
	size_t npn;
	int r;

	rules_init_family(&rs, family);
	pn = drv_fw_nets(drv.policy, &npn);
	r = pn ? (family == AF_INET6 ? xt6_read(&rs, err) : xt_read(&rs, err))
	       : err_set(err, ENOMEM, "tiernet: out of memory");
	if (!r)
		r = policy_matrix(drv.policy, pn, npn, &rs, &m);
	if (!r) {
		r = cell_allows(&m, f);
		policy_matrix_free(&m);
		*declared = r;
		if (drv.fw_applied && !policy_matrix(drv.policy, pn, npn, applied, &d)) {
			*declared = cell_allows(&d, f);
			policy_matrix_free(&d);
		}
	}
	rules_clear(&rs);
	free(pn);
	return r;
}

static void add_end(cJSON *o, const char *key, const char *given, const struct end *e)
{
	cJSON *j = cJSON_AddObjectToObject(o, key);

	if (!j)
		return;
	cJSON_AddStringToObject(j, "given", given);
	cJSON_AddStringToObject(j, "tier", why_tier_name(drv.policy, e->tier));
	if (e->net) {
		cJSON_AddStringToObject(j, "network", e->net->id);
		cJSON_AddStringToObject(j, "bridge", e->net->bridge);
		cJSON_AddBoolToObject(j, "docker_internal", e->net->internal);
	}
	if (e->ep) {
		cJSON_AddStringToObject(j, "endpoint", e->ep->id);
		cJSON_AddStringToObject(j, "sandbox", e->ep->sandbox);
	} else if (e->net) {
		cJSON_AddStringToObject(j, "gateway_of", e->net->id);
	}
}

/* World -> an endpoint: only to a container port it publishes (not on 127.0.0.1). */
static bool published(const struct drv_ep *e, const struct why_flow *f, int family)
{
	size_t i;

	for (i = 0; i < e->nports; i++)
		if (drv_port_in(&e->ports[i], family) && !drv_port_host_only(&e->ports[i]) &&
		    (!f->proto || (e->ports[i].proto == f->proto && e->ports[i].port == f->port)))
			return true;
	return false;
}

static void add_verdict(cJSON *o, const struct why_verdict *v, const char *file)
{
	char buf[4096 + WHY_TEXT_MAX + 32];

	cJSON_AddStringToObject(o, "reason", why_reason_name(v->reason));
	cJSON_AddStringToObject(o, "why", v->why);
	if (v->line) {
		snprintf(buf, sizeof(buf), "%s:%u: %s", file, v->line, v->rule);
		cJSON_AddStringToObject(o, "line", buf);
	}
	if (!v->allowed && v->fix[0]) {
		cJSON_AddStringToObject(o, "fix", v->fix);
		if (v->fix_at)
			snprintf(buf, sizeof(buf), "%s:%u", file, v->fix_at);
		else
			snprintf(buf, sizeof(buf), "%s", file);
		cJSON_AddStringToObject(o, v->fix_at ? "fix_replaces" : "fix_adds_to", buf);
	}
}

/* The answer, drv.lock held. */
static int explain_locked(const char *from, const char *to, const struct why_flow *q, cJSON *o,
			  struct err *err)
{
	struct end a, b;
	struct why_flow f = *q;
	struct why_verdict v;
	char file[4096];
	int r, family, enf;
	bool decl = true, live;

	r = resolve(from, &a, err);
	if (!r)
		r = resolve(to, &b, err);
	if (r)
		return r;
	if (a.addr && b.addr && a.family != b.family)
		return err_set(err, EINVAL,
			       "tiernet: %s and %s are of different address families; give "
			       "two IPv4 or two IPv6 addresses",
			       from, to);
	family = a.addr ? a.family : b.family;
	f.src = a.tier;
	f.dst = b.tier;
	f.src_dinternal =
	    a.addr ? a.net && a.ep && a.net->internal : tier_all_dinternal(a.tier, family);
	f.dst_dinternal =
	    b.addr ? b.net && b.ep && b.net->internal : tier_all_dinternal(b.tier, family);
	if (why_decide(drv.policy, &f, &v) < 0)
		return err_set(err, EINVAL, "tiernet: %s", v.why);
	if (v.allowed && f.src == POLICY_WORLD && b.ep && !published(b.ep, &f, family)) {
		v.allowed = false;
		v.reason = WHY_NOT_PUBLISHED;
		snprintf(v.why, sizeof(v.why),
			 "endpoint %.12s publishes no port%s: the world reaches only published "
			 "ports (docker run -p HOSTPORT:PORT)",
			 b.ep->id, f.proto ? " to that container port" : "");
		v.fix[0] = '\0';
	}
	driver_policy_name(file, sizeof(file));
	cJSON_AddStringToObject(o, "family", family == AF_INET6 ? "ipv6" : "ipv4");
	add_end(o, "from", from, &a);
	add_end(o, "to", to, &b);
	if (f.proto) {
		cJSON_AddStringToObject(o, "proto", f.proto == IPPROTO_UDP ? "udp" : "tcp");
		cJSON_AddNumberToObject(o, "port", f.port);
	}
	cJSON_AddStringToObject(o, "declared", v.allowed ? "allowed" : "denied");
	live = tier_live(f.src, family) && tier_live(f.dst, family);
	enf = v.allowed;
	if (!live) {
		cJSON_AddStringToObject(o, "enforced", "no rules: a tier has no live network");
	} else if (v.reason == WHY_DOCKER_INTERNAL || v.reason == WHY_NOT_PUBLISHED) {
		/* Per network or endpoint: the tier matrix cannot tell, the policy's answer stands.
		 */
		cJSON_AddStringToObject(o, "enforced", v.allowed ? "allowed" : "denied");
	} else {
		enf = enforced(&f, family, &decl, err);
		if (enf < 0)
			return enf;
		cJSON_AddStringToObject(o, "enforced", enf ? "allowed" : "denied");
		if (decl != (bool)v.allowed)
			log_warnx("explain: the compiled rules and the policy disagree on %s -> %s",
				  from, to);
	}
	cJSON_AddBoolToObject(o, "differs", enf != (int)v.allowed);
	cJSON_AddStringToObject(o, "verdict", enf ? "allowed" : "denied");
	add_verdict(o, &v, file);
	return 0;
}

int driver_explain(const char *from, const char *to, const char *port, char **json, struct err *err)
{
	struct why_flow q = { 0 };
	cJSON *o;
	int r;

	*json = NULL;
	if (port && why_port_parse(port, &q.proto, &q.port, err->msg, sizeof(err->msg)) < 0)
		return -EINVAL;
	o = cJSON_CreateObject();
	if (!o)
		return err_set(err, ENOMEM, "tiernet: out of memory");
	pthread_mutex_lock(&drv.lock);
	r = explain_locked(from, to, &q, o, err);
	pthread_mutex_unlock(&drv.lock);
	if (!r) {
		*json = cJSON_PrintUnformatted(o);
		if (!*json)
			r = err_set(err, ENOMEM, "tiernet: out of memory");
	}
	cJSON_Delete(o);
	return r;
}
