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
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
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

/*
 * Every network needs a tier id that its tier's other networks share and no other tier
 * uses; state files from before tier ids have none.  Fixed ones are saved back.
 */
static void assign_tier_ids(void)
{
	struct drv_net *n, *m;
	struct err err;
	bool ok;

	for (n = drv.nets; n; n = n->next) {
		ok = n->tier_id != 0;
		for (m = drv.nets; ok && m != n; m = m->next)
			ok = (m->tier_id == n->tier_id) == !strcmp(m->tier, n->tier);
		if (ok)
			continue;
		n->tier_id = 0;
		n->tier_id = drv_tier_id(n->tier);
		if (!n->tier_id)
			log_error("network %.12s: no tier id left for tier \"%s\"", n->id, n->tier);
		else if (state_save_net(n, &err) < 0)
			log_warnx("%s", err.msg);
	}
}

static void net_fixup(struct drv_net *n)
{
	drv_route_localnet_on(n->bridge);
}

/* Brings the kernel in line with the state just loaded (reconcile.c says how). */
static void reconcile(const struct policy *pol)
{
	struct drv_ep *e, *next;
	int r, host, peer;

	(void)pol;
	state_batch(true);
	reconcile_networks(drv.nets, drv.eps, net_fixup);
	for (e = drv.eps; e; e = next) {
		next = e->next;
		host = link_index(e->host);
		peer = link_index(e->peer);
		if (drv_net_find(e->net_id)) {
			if (reconcile_endpoint_gone(e))
				drv_ep_destroy(e);
		} else if (!(host == -ENODEV || (host >= 0 && peer >= 0))) {
			/* (the veth exists, or netlink could not say, and no peer left here) */
			/* Its network's state was lost, but a running container uses the veth. */
			log_error("endpoint %.12s belongs to no known network (its state file was "
				  "lost) but its container is running; its veth %s is kept and its "
				  "state file moved aside (.orphaned): stop the container, then "
				  "remove "
				  "and re-create the network",
				  e->id, e->host);
			state_set_aside_ep(e->id);
			drv_fw_l2_keep_ep(e); /* its address still passes the guard */
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
 * One tiernet per state directory and per network namespace: every instance rewrites all
 * TIERNET chains from its own networks, so a second one would silently wipe the first one's
 * rules.  Two locks:
 *   - flock on "lock" in the state directory (0700, root's): only root can hold it, and the
 *     kernel releases it when the process dies, even by SIGKILL;
 *   - the abstract Unix socket @tiernet.driver, which lives in the network namespace and so
 *     also catches a second tiernet with another state directory.  Any local user can bind an
 *     abstract name, so a holder counts only when it is root (SO_PEERCRED of its listening
 *     socket); a name held by anyone else is reported and ignored, never a reason not to
 *     start.
 */
static int lock_state_dir(const char *dir, struct err *err)
{
	char path[DRIVER_PATH_MAX + 8];
	int fd;

	snprintf(path, sizeof(path), "%s/lock", dir);
	/*
	 * Read-only: flock needs no write access, and a descriptor open for writing would keep
	 * the operator from remounting a full state file system read-only (EBUSY).
	 */
	fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return err_set(err, errno, "tiernet: cannot open the lock %s: %s", path,
			       strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		close(fd);
		if (e == EWOULDBLOCK)
			return err_set(err, EBUSY,
				       "tiernet: another tiernet daemon uses the state directory "
				       "%s "
				       "already; stop it first (one tiernet per host)",
				       dir);
		return err_set(err, e, "tiernet: cannot lock %s: %s", path, strerror(e));
	}
	return 0; /* the descriptor stays open for the life of the process */
}

/*
 * The uid that owns the socket bound to the abstract name (name[0] == '\0', len bytes), as
 * the kernel's socket diagnostics tell it (NETLINK_SOCK_DIAG, unix_diag with UDIAG_SHOW_UID,
 * Linux 5.3): it costs no connection, so it cannot block, and it works whatever the holder
 * does with its socket.  Returns the uid, -ENOENT when no socket holds the name, or -errno
 * when the kernel cannot say.
 */
static long abstract_owner_diag(const char *name, size_t len)
{
	struct {
		struct nlmsghdr nlh;
		struct unix_diag_req req;
	} q = {
		.nlh = { .nlmsg_len = sizeof(q),
			 .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.req = { .sdiag_family = AF_UNIX,
			 .udiag_states = ~0u,
			 .udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_UID },
	};
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	long found = -ENOENT, r = 0;
	static char buf[32768];
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	if (fd < 0)
		return -errno;
	if (sendto(fd, &q, sizeof(q), 0, (struct sockaddr *)&nl, sizeof(nl)) < 0) {
		r = -errno;
		goto out;
	}
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h = (struct nlmsghdr *)buf;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			goto out;
		}
		for (; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			const struct unix_diag_msg *m = NLMSG_DATA(h);
			const struct rtattr *a;
			bool match = false;
			long uid = -1;
			int alen;

			if (h->nlmsg_type == NLMSG_DONE)
				goto out;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				r = e->error < 0 ? e->error : -EIO;
				goto out;
			}
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
				continue;
			alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
			for (a = (const struct rtattr *)(m + 1); RTA_OK(a, alen);
			     a = RTA_NEXT(a, alen)) {
				if (a->rta_type == UNIX_DIAG_NAME)
					match = RTA_PAYLOAD(a) == len &&
						!memcmp(RTA_DATA(a), name, len);
				else if (a->rta_type == UNIX_DIAG_UID &&
					 RTA_PAYLOAD(a) >= sizeof(uint32_t))
					uid = (long)*(const uint32_t *)RTA_DATA(a);
			}
			if (match)
				found = uid >= 0 ? uid : -EOPNOTSUPP; /* (before Linux 5.3) */
		}
	}
out:
	close(fd);
	return r < 0 ? r : found;
}

/*
 * The uid of whoever holds the abstract name sa (len bytes of address): -1 when nobody does,
 * -2 when it cannot be told.  Without socket diagnostics, a connection tells the listener's
 * uid (SO_PEERCRED); it must not wait, because a listener that accepts nothing (a full
 * backlog) would make connect() block for ever: that would be a way for anyone to keep
 * tiernet from starting.
 */
static long abstract_holder(const struct sockaddr_un *sa, socklen_t len)
{
	size_t nlen = len - offsetof(struct sockaddr_un, sun_path);
	long uid = abstract_owner_diag(sa->sun_path, nlen);
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int fd;

	if (uid >= 0)
		return uid;
	if (uid == -ENOENT)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -2;
	uid = -2;
	if (connect(fd, (const struct sockaddr *)sa, len) == 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0 && clen == sizeof(cred))
		uid = (long)cred.uid;
	else if (errno == ECONNREFUSED)
		uid = -1; /* bound, nobody listening: no tiernet of this version */
	close(fd);
	return uid;
}

static int lock_netns(struct err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static const char name[] = "tiernet.driver";
	socklen_t len = offsetof(struct sockaddr_un, sun_path) + sizeof(name);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	long uid;

	if (fd < 0)
		return err_set(err, errno, "tiernet: cannot create the instance lock: %s",
			       strerror(errno));
	memcpy(sa.sun_path + 1, name, sizeof(name) - 1);
	if (bind(fd, (struct sockaddr *)&sa, len) == 0 && listen(fd, 1) == 0)
		return 0; /* the descriptor stays open for the life of the process */
	close(fd);
	uid = abstract_holder(&sa, len);
	if (uid == 0)
		return err_set(err, EBUSY,
			       "tiernet: another tiernet daemon runs in this network namespace "
			       "already; stop it first (one tiernet per host)");
	if (uid > 0)
		log_warnx("the name @%s is held by uid %ld, not by root: ignored (the state "
			  "directory's lock still keeps a second tiernet out)",
			  name, uid);
	else if (uid == -1)
		log_warnx("the name @%s is taken by a socket nobody listens on: ignored", name);
	else
		log_warnx("the name @%s is taken and its holder cannot be told: ignored (the "
			  "state directory's lock still keeps a second tiernet out)",
			  name);
	return 0;
}

int driver_init(const char *state_dir, struct policy *pol, struct err *err)
{
	struct drv_net *n;
	int r;

	r = state_open(state_dir, err);
	if (r == 0)
		r = lock_state_dir(state_dir, err);
	if (r == 0)
		r = lock_netns(err);
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
	assign_tier_ids();
	reconcile(pol);
	if (drv.nets)
		drv_ip_forward_on(drv_any_dual());
	drv_fw_init();
	r = drv_fw_sync(pol, NULL, true, err);
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
	drv_fw_exit();
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
	r = drv_fw_sync(pol, NULL, true, err);
	if (r < 0) {
		struct err back;

		/*
		 * The x_tables were put back by xt_apply unless it said otherwise; the nf_tables
		 * parts, applied after them, are put back here.  When that fails too, the log and
		 * status say the firewall is mixed, never that the old policy simply stays.
		 */
		if (r == -ENOTRECOVERABLE || drv_fw_sync(drv.policy, NULL, false, &back) < 0) {
			char first[sizeof(err->msg)];

			drv.fw_mixed = true;
			memcpy(first, err->msg, sizeof(first));
			r = err_set(err, ENOTRECOVERABLE,
				    "%s; the old policy could not be put back in full: the "
				    "firewall "
				    "is mixed, and tiernet applies the old policy again every 2 s",
				    first);
		}
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

int driver_keep_policy(const char *origin, const char *text, struct err *err)
{
	return state_save_policy(origin, text, err);
}

int driver_kept_policy(const char *dir, char **origin, char **text)
{
	return state_read_policy(dir, origin, text);
}
