/*
 * fault.so: failure injection for the integration tests (LD_PRELOAD), for failures that
 * cannot be caused from outside the daemon.  It wraps a few library calls of tiernet and
 * does what files in the directory $TN_FAULT_DIR say; with no such file every call goes
 * straight to the real library, so a daemon can run under the shim from its start and be
 * told what to break only when the test needs it.
 *
 *   commit-TABLE       "SKIP FAIL": let SKIP commits of iptables table TABLE (filter,
 *                      mangle, nat, raw) pass, then fail the next FAIL of them (errno
 *                      ENOMEM, which tiernet does not retry); the counts go down as they are
 *                      used and the file is removed when both are 0
 *   delay-commit-TABLE seconds (a decimal number) to sleep before each commit of TABLE: a
 *                      test can kill the daemon in the middle of a call
 *   link-eio-NAME      rtnl_link_get_kernel() for the link NAME fails with NLE_FAILURE
 *                      (tiernet maps it to EIO): a netlink error that is not "no such device"
 *   delay-link-NAME    seconds to sleep in rtnl_link_get_kernel() for the link NAME: a call
 *                      that looks NAME up (Join looks up the container end) takes that long
 *
 * iptc_init() is wrapped to learn which table a handle belongs to (libiptc's commit gets
 * only the handle).  Every wrapper finds the real function with dlsym(RTLD_NEXT).
 * With an ASan build, run with ASAN_OPTIONS=verify_asan_link_order=0.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct xtc_handle;
struct nl_sock;
struct rtnl_link;

/* The wrapped functions, as libiptc and libnl declare them (their headers are not needed). */
struct xtc_handle *iptc_init(const char *table);
void iptc_free(struct xtc_handle *h);
int iptc_commit(struct xtc_handle *h);
int rtnl_link_get_kernel(struct nl_sock *sk, int ifindex, const char *name,
			 struct rtnl_link **result);

#define HANDLES_MAX 64
#define NLE_FAILURE 1 /* libnl's netlink/errno.h */

static pthread_mutex_t fault_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	struct xtc_handle *h;
	char table[32];
} handles[HANDLES_MAX];

static void *real(const char *name)
{
	void *f = dlsym(RTLD_NEXT, name);

	if (!f) {
		fprintf(stderr, "fault.so: no symbol %s after the shim\n", name);
		abort();
	}
	return f;
}

/* The path of fault file NAME-ARG in $TN_FAULT_DIR, or NULL when there is no such dir. */
static const char *fault_path(char *buf, size_t len, const char *name, const char *arg)
{
	const char *dir = getenv("TN_FAULT_DIR");

	if (!dir || !dir[0])
		return NULL;
	snprintf(buf, len, "%s/%s-%s", dir, name, arg);
	return buf;
}

/* Seconds from fault file NAME-ARG, or 0 when it does not exist. */
static double fault_seconds(const char *name, const char *arg)
{
	char path[4096];
	double s = 0;
	FILE *f;

	if (!fault_path(path, sizeof(path), name, arg) || !(f = fopen(path, "re")))
		return 0;
	if (fscanf(f, "%lf", &s) != 1)
		s = 0;
	fclose(f);
	return s;
}

static void sleep_s(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s,
			       .tv_nsec = (long)((s - (double)(time_t)s) * 1e9) };

	if (s > 0)
		nanosleep(&ts, NULL);
}

/*
 * Consumes one use of counter file NAME-ARG ("SKIP FAIL"): true when this use must fail.
 * fault_lock held.
 */
static bool fault_take(const char *name, const char *arg)
{
	char path[4096];
	long skip = 0, fail = 0;
	bool fails = false;
	FILE *f;

	if (!fault_path(path, sizeof(path), name, arg) || !(f = fopen(path, "re")))
		return false;
	if (fscanf(f, "%ld %ld", &skip, &fail) < 1)
		skip = fail = 0;
	fclose(f);
	if (skip > 0)
		skip--;
	else if (fail > 0) {
		fail--;
		fails = true;
	}
	if (skip <= 0 && fail <= 0) {
		unlink(path);
	} else if ((f = fopen(path, "we"))) {
		fprintf(f, "%ld %ld\n", skip, fail);
		fclose(f);
	}
	return fails;
}

struct xtc_handle *iptc_init(const char *table)
{
	struct xtc_handle *(*init)(const char *) = real("iptc_init");
	struct xtc_handle *h = init(table);
	size_t i;

	pthread_mutex_lock(&fault_lock);
	for (i = 0; h && i < HANDLES_MAX; i++)
		if (!handles[i].h) {
			handles[i].h = h;
			snprintf(handles[i].table, sizeof(handles[i].table), "%s", table);
			break;
		}
	pthread_mutex_unlock(&fault_lock);
	return h;
}

void iptc_free(struct xtc_handle *h)
{
	void (*free_h)(struct xtc_handle *) = real("iptc_free");
	size_t i;

	pthread_mutex_lock(&fault_lock);
	for (i = 0; i < HANDLES_MAX; i++)
		if (handles[i].h == h)
			handles[i].h = NULL;
	pthread_mutex_unlock(&fault_lock);
	free_h(h);
}

int iptc_commit(struct xtc_handle *h)
{
	int (*commit)(struct xtc_handle *) = real("iptc_commit");
	char table[32] = "";
	bool fails;
	size_t i;

	pthread_mutex_lock(&fault_lock);
	for (i = 0; i < HANDLES_MAX; i++)
		if (handles[i].h == h)
			snprintf(table, sizeof(table), "%s", handles[i].table);
	pthread_mutex_unlock(&fault_lock);
	sleep_s(fault_seconds("delay-commit", table));
	pthread_mutex_lock(&fault_lock);
	fails = table[0] && fault_take("commit", table);
	pthread_mutex_unlock(&fault_lock);
	if (fails) {
		fprintf(stderr, "fault.so: the commit of table %s fails (injected)\n", table);
		errno = ENOMEM;
		return 0;
	}
	return commit(h);
}

int rtnl_link_get_kernel(struct nl_sock *sk, int ifindex, const char *name,
			 struct rtnl_link **result)
{
	int (*get)(struct nl_sock *, int, const char *, struct rtnl_link **) =
	    real("rtnl_link_get_kernel");
	char path[4096];

	if (name && name[0]) {
		sleep_s(fault_seconds("delay-link", name));
		if (fault_path(path, sizeof(path), "link-eio", name) && access(path, F_OK) == 0) {
			fprintf(stderr, "fault.so: looking up link %s fails (injected)\n", name);
			return -NLE_FAILURE;
		}
	}
	return get(sk, ifindex, name, result);
}
