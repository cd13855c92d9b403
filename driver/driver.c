/*
 * The driver's life: start-up (load the state, reconcile the kernel with it, the first
 * firewall sync), policy changes, the periodic upkeep and shutdown.
 *
 * The protocol actions (network.c, endpoint.c, ports.c) validate first, then change the
 * kernel, then the firewall, then the state on disk, and undo their own earlier steps when a
 * later one fails, so a failed call leaves nothing behind (dockerd sends no DeleteEndpoint
 * after a failed CreateEndpoint: PROTOCOL.md §3.3).  drv.lock serialises them: they are short
 * (a few netlink messages, one libiptc commit per table at most, one small fsync'ed file),
 * and the rules compiled from the list of networks must never be applied from two threads
 * at once.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "driver/internal.h"
#include "lib/log.h"

/* readdir order is arbitrary: keep the list in creation order, so the rules are the same
 * after every restart. */
static void load_net(struct drv_net *n)
{
	struct drv_net **pp = &drv.nets;

	while (*pp &&
	       ((*pp)->seq < n->seq || ((*pp)->seq == n->seq && strcmp((*pp)->id, n->id) < 0)))
		pp = &(*pp)->next;
	n->next = *pp;
	*pp = n;
}

static void load_ep(struct drv_ep *e)
{
	drv_ep_insert(e);
}

static void load_bad(const char *path, const char *why)
{
	log_error("state file %s %s; moved aside as %s.corrupt. Its object is lost: remove the "
		  "affected Docker network or container and create it again",
		  path, why, path);
}

static void net_fixup(struct drv_net *n)
{
	drv_route_localnet_on(n->bridge);
}

/* Brings the kernel in line with the state just loaded (reconcile.c says how). */
static void reconcile(const struct policy *pol)
{
	struct drv_ep *e, *next;
	int r;

	(void)pol;
	state_batch(true);
	reconcile_networks(drv.nets, drv.eps, net_fixup);
	for (e = drv.eps; e; e = next) {
		next = e->next;
		if (drv_net_find(e->net_id)) {
			if (reconcile_endpoint_gone(e))
				drv_ep_destroy(e);
		} else if (link_index(e->host) >= 0 && link_index(e->peer) < 0) {
			/* Its network's state was lost, but a running container uses the veth. */
			log_error("endpoint %.12s belongs to no known network (its state file was "
				  "lost) but its container is running; its veth %s is kept and its "
				  "state file moved aside (.orphaned): stop the container, then "
				  "remove "
				  "and re-create the network",
				  e->id, e->host);
			state_set_aside_ep(e->id);
			drv_ep_unlink(e);
			drv_ep_free(e);
		} else {
			log_warnx("endpoint %.12s belongs to no known network; removing it", e->id);
			drv_ep_destroy(e);
		}
	}
	state_batch(false);
	r = reconcile_orphans(drv.nets, drv.eps);
	if (r < 0)
		log_warnx("cannot list links to remove orphans: %s", strerror(-r));
}

/*
 * One tiernet per network namespace: every instance rewrites all TIERNET chains from its own
 * networks, so a second one would silently wipe the first one's rules.  An abstract Unix
 * socket is the lock: its name lives in the network namespace, and the kernel releases it
 * when the process dies, even by SIGKILL.
 */
static int instance_lock(struct err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static const char name[] = "tiernet.driver";
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return err_set(err, errno, "tiernet: cannot create the instance lock: %s",
			       strerror(errno));
	memcpy(sa.sun_path + 1, name, sizeof(name) - 1);
	if (bind(fd, (struct sockaddr *)&sa,
		 offsetof(struct sockaddr_un, sun_path) + sizeof(name)) < 0) {
		int e = errno;

		close(fd);
		if (e == EADDRINUSE)
			return err_set(err, EBUSY,
				       "tiernet: another tiernet daemon runs in "
				       "this network namespace already; stop it first (one "
				       "tiernet per host)");
		return err_set(err, e, "tiernet: cannot take the instance lock: %s", strerror(e));
	}
	return 0; /* the descriptor stays open for the life of the process */
}

int driver_init(const char *state_dir, struct policy *pol, struct err *err)
{
	struct drv_net *n;
	int r;

	r = instance_lock(err);
	if (r < 0)
		return r;
	r = state_open(state_dir, err);
	if (r < 0)
		return r;
	r = state_load(load_net, load_ep, load_bad);
	if (r < 0)
		return err_set(err, -r, "tiernet: cannot read state in %s: %s", state_dir,
			       strerror(-r));
	for (n = drv.nets; n; n = n->next)
		if (policy_tier_find(pol, n->tier) < 0)
			return err_set(err, ENOENT,
				       "tiernet: network %.12s uses tier \"%s\", which the "
				       "policy does not declare; declare it again",
				       n->id, n->tier);
	drv.policy = pol;
	reconcile(pol);
	if (drv.nets)
		drv_ip_forward_on();
	r = drv_fw_sync(pol, err);
	if (r < 0)
		drv.policy = NULL; /* the caller keeps pol when we fail */
	if (r == 0)
		log_info("state loaded: %zu network(s), %zu endpoint(s)", drv_net_count(),
			 drv_ep_count());
	return r;
}

void driver_exit(void)
{
	pthread_mutex_lock(&drv.lock);
	drv_objects_free();
	policy_free(drv.policy);
	drv.policy = NULL;
	pthread_mutex_unlock(&drv.lock);
}

int driver_set_policy(struct policy *pol, struct err *err)
{
	struct drv_net *n;
	int r = 0;

	pthread_mutex_lock(&drv.lock);
	for (n = drv.nets; n; n = n->next)
		if (policy_tier_find(pol, n->tier) < 0) {
			r = err_set(err, EBUSY,
				    "tiernet: the new policy drops tier \"%s\", which network "
				    "%.12s (bridge %s) uses; keep the tier or remove the "
				    "network first",
				    n->tier, n->id, n->bridge);
			goto out;
		}
	r = drv_fw_sync(pol, err);
	if (r < 0) {
		struct err ignored;

		drv_fw_sync(drv.policy, &ignored); /* put the old rules back */
		goto out;
	}
	policy_free(drv.policy);
	drv.policy = pol;
out:
	pthread_mutex_unlock(&drv.lock);
	return r;
}

void driver_tick(void)
{
	pthread_mutex_lock(&drv.lock);
	drv_fw_tick();
	pthread_mutex_unlock(&drv.lock);
}
