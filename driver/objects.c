/*
 * The driver's objects in memory: networks in a list in creation order (the firewall is
 * compiled in it), endpoints in a list and an ID hash.  Callers hold drv.lock.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/internal.h"
#include "lib/log.h"
#include "lib/names.h"

struct driver drv = { .lock = PTHREAD_MUTEX_INITIALIZER, .idle = PTHREAD_COND_INITIALIZER };

void drv_ip_str(uint32_t a, char s[INET_ADDRSTRLEN])
{
	inet_ntop(AF_INET, &a, s, INET_ADDRSTRLEN);
}

struct drv_net *drv_net_find(const char *id)
{
	struct drv_net *n;

	for (n = drv.nets; n; n = n->next)
		if (!strcmp(n->id, id))
			return n;
	return NULL;
}

struct drv_net *drv_net_find_bridge(const char *bridge)
{
	struct drv_net *n;

	for (n = drv.nets; n; n = n->next)
		if (!strcmp(n->bridge, bridge))
			return n;
	return NULL;
}

/* A join or leave costs the same with 10 or 5,000 containers. */
static size_t ep_bucket(const char *id)
{
	return (size_t)strtoul((char[9]){ id[0], id[1], id[2], id[3], id[4], id[5], id[6], id[7],
					  '\0' },
			       NULL, 16) %
	       DRV_EP_HASH_SIZE;
}

struct drv_ep *drv_ep_find(const char *id)
{
	struct drv_ep *e;

	if (strlen(id) < 8)
		return NULL;
	for (e = drv.ep_hash[ep_bucket(id)]; e; e = e->hnext)
		if (!strcmp(e->id, id))
			return e;
	return NULL;
}

void drv_ep_insert(struct drv_ep *e)
{
	struct drv_ep **head = &drv.ep_hash[ep_bucket(e->id)];
	struct drv_net *n = drv_net_find(e->net_id);

	e->next = drv.eps;
	if (drv.eps)
		drv.eps->pprev = &e->next;
	drv.eps = e;
	e->pprev = &drv.eps;
	e->hnext = *head;
	if (*head)
		(*head)->hpprev = &e->hnext;
	*head = e;
	e->hpprev = head;
	if (n)
		n->neps++;
}

void drv_ep_unlink(struct drv_ep *e)
{
	struct drv_net *n = drv_net_find(e->net_id);

	if (!e->pprev)
		return;
	*e->pprev = e->next;
	if (e->next)
		e->next->pprev = e->pprev;
	*e->hpprev = e->hnext;
	if (e->hnext)
		e->hnext->hpprev = e->hpprev;
	e->pprev = e->hpprev = NULL;
	if (n && n->neps)
		n->neps--;
}

void drv_ep_free(struct drv_ep *e)
{
	if (e)
		free(e->ports);
	free(e);
}

void drv_net_append(struct drv_net *n)
{
	struct drv_net **pp = &drv.nets;
	uint64_t seq = 0;

	for (; *pp; pp = &(*pp)->next)
		seq = (*pp)->seq;
	if (!n->seq)
		n->seq = seq + 1;
	n->next = NULL;
	*pp = n;
}

void drv_net_unlink(struct drv_net *n)
{
	struct drv_net **pp;

	for (pp = &drv.nets; *pp; pp = &(*pp)->next)
		if (*pp == n) {
			*pp = n->next;
			return;
		}
}

uint32_t drv_prefix_mask(uint8_t prefix)
{
	return prefix ? htonl(~0u << (32 - prefix)) : 0;
}

bool drv_net_internal(const struct drv_net *n, const struct policy *pol)
{
	int t = policy_tier_find(pol, n->tier);

	return n->internal || (t >= 0 && pol->tiers[t].internal);
}

void drv_ep_destroy(struct drv_ep *e)
{
	int r = link_del(e->host);

	if (r < 0)
		log_warnx("cannot delete veth %s of endpoint %.12s: %s", e->host, e->id,
			  strerror(-r));
	r = state_del_ep(e->id);
	if (r < 0)
		log_warnx("cannot delete the state file of endpoint %.12s: %s", e->id,
			  strerror(-r));
	drv_ep_unlink(e);
	drv_ep_free(e);
}

struct drv_ep *drv_ep_wait(const char *id)
{
	struct drv_ep *e;

	while ((e = drv_ep_find(id)) && e->busy)
		pthread_cond_wait(&drv.idle, &drv.lock);
	return e;
}

void drv_ep_busy(struct drv_ep *e, bool busy)
{
	e->busy = busy;
	if (!busy)
		pthread_cond_broadcast(&drv.idle);
}

struct drv_ep *drv_ep_lookup(const char *net_id, const char *ep_id, struct err *err)
{
	struct drv_ep *e = drv_ep_wait(ep_id);

	if (!e || strcmp(e->net_id, net_id)) {
		err_set(err, ENOENT,
			"tiernet: endpoint %.12s of network %.12s is unknown to "
			"tiernet; stop the container and start it again",
			ep_id, net_id);
		return NULL;
	}
	return e;
}

uint16_t drv_tier_id(const char *tier)
{
	static unsigned char used[TN_TIER_ID_MAX + 1];
	struct drv_net *n;
	unsigned id;

	for (n = drv.nets; n; n = n->next)
		if (n->tier_id && !strcmp(n->tier, tier))
			return n->tier_id;
	memset(used, 0, sizeof(used));
	for (n = drv.nets; n; n = n->next)
		used[n->tier_id] = 1;
	for (id = 1; id <= TN_TIER_ID_MAX; id++)
		if (!used[id])
			return (uint16_t)id;
	return 0;
}

uint32_t drv_net_group(const struct drv_net *n)
{
	return TN_GROUP | TN_GROUP_BRIDGE | (n->internal ? TN_GROUP_INTERNAL : 0) |
	       (n->tier_id & TN_GROUP_TIER);
}

uint32_t drv_veth_group(const struct drv_net *n)
{
	return TN_GROUP | (n->dual ? TN_GROUP_DUAL : 0) | (n->tier_id & TN_GROUP_TIER);
}

const struct link_v6 *drv_net_link6(const struct drv_net *n, struct link_v6 *buf)
{
	if (!n->dual)
		return NULL;
	buf->gw = n->gw6;
	buf->prefix = n->prefix6;
	return buf;
}

void drv_prefix6(const struct in6_addr *a, uint8_t prefix, struct in6_addr *out)
{
	unsigned i;

	for (i = 0; i < 16; i++) {
		unsigned bits = prefix > 8 * i ? prefix - 8 * i : 0;

		out->s6_addr[i] = a->s6_addr[i] & (uint8_t)(bits >= 8 ? 0xff : 0xff << (8 - bits));
	}
}

bool drv_any_dual(void)
{
	const struct drv_net *n;

	for (n = drv.nets; n; n = n->next)
		if (n->dual)
			return true;
	return false;
}

size_t drv_net_count(void)
{
	struct drv_net *n;
	size_t c = 0;

	for (n = drv.nets; n; n = n->next)
		c++;
	return c;
}

size_t drv_ep_count(void)
{
	struct drv_ep *e;
	size_t c = 0;

	for (e = drv.eps; e; e = e->next)
		c++;
	return c;
}

void drv_objects_free(void)
{
	while (drv.nets) {
		struct drv_net *n = drv.nets;

		drv.nets = n->next;
		free(n);
	}
	while (drv.eps) {
		struct drv_ep *e = drv.eps;

		drv.eps = e->next;
		drv_ep_free(e);
	}
	memset(drv.ep_hash, 0, sizeof(drv.ep_hash));
}
