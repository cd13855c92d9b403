/*
 * Who a denied new connection was between, and why (the denied-flow log, plugin/denials.c).
 * The kernel reports addresses and ports; this file names the tier, network and endpoint of
 * each address from the networks in force, and asks policy/why.c for the reason and the
 * line that would allow the flow.  A record is looked at a few times a second at most (the
 * NFLOG rules are rate-limited), so a walk over the networks and endpoints is fine.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "driver/internal.h"
#include "policy/why.h"

static bool net_has(const struct drv_net *n, int family, const unsigned char *addr)
{
	struct in6_addr a, p;
	uint32_t v4, mask;

	if (family == AF_INET) {
		memcpy(&v4, addr, 4);
		mask = drv_prefix_mask(n->prefix);
		return (v4 & mask) == (n->pool & mask);
	}
	if (!n->dual)
		return false;
	memcpy(&a, addr, 16);
	drv_prefix6(&a, n->prefix6, &a);
	drv_prefix6(&n->pool6, n->prefix6, &p);
	return !memcmp(&a, &p, sizeof(a));
}

static const struct drv_ep *ep_at(const struct drv_net *n, int family, const unsigned char *addr)
{
	const struct drv_ep *e;

	for (e = drv.eps; e; e = e->next) {
		if (strcmp(e->net_id, n->id))
			continue;
		if (family == AF_INET ? !memcmp(&e->addr, addr, 4)
				      : e->has6 && !memcmp(&e->addr6, addr, 16))
			return e;
	}
	return NULL;
}

/* The end's tier index (or POLICY_WORLD), its names filled in; *dint: Docker --internal. */
static int resolve(struct driver_flow_end *end, int family, bool *dint)
{
	const struct drv_net *n;
	const struct drv_ep *e;
	int t;

	*dint = false;
	for (n = drv.nets; n; n = n->next) {
		if (!net_has(n, family, end->addr))
			continue;
		t = policy_tier_find(drv.policy, n->tier);
		snprintf(end->tier, sizeof(end->tier), "%s", n->tier);
		snprintf(end->net, sizeof(end->net), "%.*s", DRIVER_SHORT_ID, n->id);
		e = ep_at(n, family, end->addr);
		if (e)
			snprintf(end->endpoint, sizeof(end->endpoint), "%.*s", DRIVER_SHORT_ID,
				 e->id);
		*dint = n->internal;
		return t < 0 ? POLICY_WORLD : t;
	}
	snprintf(end->tier, sizeof(end->tier), "world");
	return POLICY_WORLD;
}

/* The reason when the policy would allow what the kernel denied. */
static void enforced(struct driver_denial *d)
{
	snprintf(d->reason, sizeof(d->reason), "enforced");
	snprintf(d->why, sizeof(d->why),
		 "the policy allows it but the rules in force do not (Docker's own networks "
		 "are isolated from tiers, or the kernel's rules differ from the policy: see "
		 "tiernet status)");
	d->fix[0] = '\0';
	d->fix_at = 0;
}

static void describe(struct driver_denial *d)
{
	struct why_flow f = { .proto = d->proto, .port = d->dst.port };
	struct why_verdict v;

	f.src = resolve(&d->src, d->family, &f.src_dinternal);
	if (d->to_host) {
		snprintf(d->dst.tier, sizeof(d->dst.tier), "host");
		f.dst = POLICY_HOST;
	} else {
		f.dst = resolve(&d->dst, d->family, &f.dst_dinternal);
	}
	if (f.proto != IPPROTO_TCP && f.proto != IPPROTO_UDP)
		f.proto = 0, f.port = 0;
	if (why_decide(drv.policy, &f, &v) < 0) {
		snprintf(d->reason, sizeof(d->reason), "unknown");
		snprintf(d->why, sizeof(d->why), "%s", v.why);
		return;
	}
	if (v.allowed) {
		enforced(d);
		return;
	}
	snprintf(d->reason, sizeof(d->reason), "%s", why_reason_name(v.reason));
	snprintf(d->why, sizeof(d->why), "%s", v.why);
	snprintf(d->fix, sizeof(d->fix), "%s", v.fix);
	d->fix_at = v.fix_at;
}

void driver_deny_describe(struct driver_denial *d)
{
	pthread_mutex_lock(&drv.lock);
	if (drv.policy)
		describe(d);
	else
		snprintf(d->reason, sizeof(d->reason), "unknown");
	pthread_mutex_unlock(&drv.lock);
}

void drv_audit_text(char *buf, size_t len)
{
	size_t i, pos = 0;
	int k;

	if (len)
		buf[0] = '\0';
	if (drv.policy && drv.policy->audit) {
		snprintf(buf, len, "all");
		return;
	}
	for (i = 0; drv.policy && i < drv.policy->ntiers && pos < len; i++) {
		if (!drv.policy->tiers[i].audit)
			continue;
		k = snprintf(buf + pos, len - pos, "%s%s", pos ? ", " : "",
			     drv.policy->tiers[i].name);
		if (k < 0)
			break;
		pos += (size_t)k;
	}
}

void driver_audit_tiers(char *buf, size_t len)
{
	pthread_mutex_lock(&drv.lock);
	drv_audit_text(buf, len);
	pthread_mutex_unlock(&drv.lock);
}
