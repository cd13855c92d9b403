/*
 * What names across tiers need from the driver: the tiers, which may reach which, and the
 * networks with their subnets (a query's source address gives the asking tier).  The
 * resolver keeps a copy and takes a new one when the generation changes, so a query never
 * waits for the driver's lock held by a slow kernel call.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/internal.h"

static _Atomic uint64_t generation = 1;

void drv_generation_bump(void)
{
	atomic_fetch_add(&generation, 1);
}

uint64_t driver_generation(void)
{
	return atomic_load(&generation);
}

/* May tier s open connections to tier d on some port? */
static bool reaches(const struct policy *pol, size_t s, size_t d)
{
	if (s == d)
		return !pol->tiers[s].isolated;
	return policy_edge_find(pol, (int)s, (int)d) != NULL;
}

static int fill(struct driver_dns_view *v)
{
	const struct policy *pol = drv.policy;
	const struct drv_net *n;
	size_t i, j, k = 0;

	v->ntiers = pol->ntiers;
	v->nnets = drv_net_count();
	v->tiers = calloc(v->ntiers + 1, sizeof(*v->tiers));
	v->reach = calloc(v->ntiers * v->ntiers + 1, sizeof(*v->reach));
	v->nets = calloc(v->nnets + 1, sizeof(*v->nets));
	if (!v->tiers || !v->reach || !v->nets)
		return -ENOMEM;
	for (i = 0; i < v->ntiers; i++) {
		snprintf(v->tiers[i], sizeof(v->tiers[i]), "%s", pol->tiers[i].name);
		for (j = 0; j < v->ntiers; j++)
			v->reach[i * v->ntiers + j] = reaches(pol, i, j);
	}
	for (n = drv.nets; n && k < v->nnets; n = n->next) {
		int t = policy_tier_find(pol, n->tier);

		if (t < 0)
			continue;
		snprintf(v->nets[k].id, sizeof(v->nets[k].id), "%s", n->id);
		v->nets[k].tier = t;
		v->nets[k].pool = n->pool;
		v->nets[k].mask = drv_prefix_mask(n->prefix);
		v->nets[k].internal = drv_net_internal(n, pol);
		k++;
	}
	v->nnets = k;
	return 0;
}

int driver_dns_view(struct driver_dns_view *v)
{
	int r;

	memset(v, 0, sizeof(*v));
	pthread_mutex_lock(&drv.lock);
	r = drv.policy ? fill(v) : -ENOENT;
	pthread_mutex_unlock(&drv.lock);
	if (r < 0)
		driver_dns_view_free(v);
	return r;
}

void driver_dns_view_free(struct driver_dns_view *v)
{
	free(v->tiers);
	free(v->reach);
	free(v->nets);
	memset(v, 0, sizeof(*v));
}

int driver_set_dns_port(uint16_t port, struct err *err)
{
	uint16_t old;
	int r;

	pthread_mutex_lock(&drv.lock);
	old = drv.dns_port;
	drv.dns_port = port;
	r = drv.policy ? drv_fw_sync(drv.policy, NULL, false, err) : 0;
	if (r < 0)
		drv.dns_port = old;
	pthread_mutex_unlock(&drv.lock);
	return r;
}
