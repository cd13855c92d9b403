/*
 * Bounding the plugin's connections.  dockerd blocks container starts on tiernet's answers,
 * so a local process that opens many connections and sends half a request on each must not
 * keep dockerd out (each connection has its own thread, server.c):
 *   - a request whose line arrived but that is not complete after CONNS_REQUEST_S seconds
 *     is cut (a slow sender holds a thread, not the daemon); once it is complete, its call
 *     and its answer take the time they need: a call that waited 12 s for the xtables lock
 *     is answered, never cut after the work was done;
 *   - an idle connection (no request under way) goes after libmicrohttpd's idle timeout;
 *   - past CONNS_MAX connections, each new one makes room: the connection idle the longest
 *     is cut, the oldest first; a connection whose request is being handled never is.
 * A connection is cut with shutdown(): its own thread sees the end and closes it the usual
 * way.  The socket cannot be closed and reused under us meanwhile: libmicrohttpd tells
 * conns_closed() before it closes the socket, and that waits for conns_lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "plugin/plugin.h"

struct conn {
	int fd;
	double since;	/* when it connected, or its last request was done */
	double started; /* when its request line arrived; 0 when no request is under way */
	bool busy;	/* its request is being handled (a driver call): never cut */
	bool answering; /* handled, its answer on the way out: never cut either */
	bool used;	/* a request line has arrived on it at least once */
	bool cut;
	struct conn *prev, *next; /* oldest first */
};

static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t conns_changed = PTHREAD_COND_INITIALIZER;
static struct conn *head, *tail;
static size_t count;
static pthread_t reaper;
static bool reaping, stopping;
/*
 * Connections a stop took from the listen backlog (server.c, adopt_backlog) and handed to
 * libmicrohttpd, which starts serving them later, from its own polling thread: until then
 * they are not in the list, and a drain that saw only the list could end first and have
 * libmicrohttpd close them with their calls unread.  Their fds, until conns_started.
 */
static int *expected;
static size_t nexpected, expected_cap;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void cut(struct conn *c, const char *why)
{
	if (c->cut)
		return;
	c->cut = true;
	shutdown(c->fd, SHUT_RDWR);
	log_debug("connection %d cut: %s", c->fd, why);
}

/*
 * The connection idle the longest (no request under way, not cut), or NULL; never self, the
 * connection that needs the room: it has sent nothing yet, so it would always look the
 * newest idle one, and with every other connection half-sent it would be cut on arrival,
 * which is what a flood of half-sent requests must not achieve.
 */
static struct conn *longest_idle(const struct conn *self)
{
	struct conn *c, *best = NULL;

	for (c = head; c; c = c->next)
		if (c != self && !c->busy && !c->answering && !c->cut && !c->started &&
		    (!best || c->since < best->since))
			best = c;
	/* Under a flood of half-sent requests, the oldest of those makes room as well. */
	for (c = head; !best && c; c = c->next)
		if (c != self && !c->busy && !c->answering && !c->cut)
			best = c;
	return best;
}

/* Drops fd from the expected ones; with conns_lock held. */
static void unexpect_locked(int fd)
{
	size_t i;

	for (i = 0; i < nexpected; i++)
		if (expected[i] == fd) {
			expected[i] = expected[--nexpected];
			pthread_cond_broadcast(&conns_changed);
			return;
		}
}

int conns_expect(int fd)
{
	int *grown;
	int r = 0;

	pthread_mutex_lock(&conns_lock);
	if (nexpected == expected_cap) {
		grown = realloc(expected, (expected_cap * 2 + 16) * sizeof(*expected));
		if (!grown) {
			r = -ENOMEM;
			goto out;
		}
		expected = grown;
		expected_cap = expected_cap * 2 + 16;
	}
	expected[nexpected++] = fd;
out:
	pthread_mutex_unlock(&conns_lock);
	return r;
}

void conns_unexpect(int fd)
{
	pthread_mutex_lock(&conns_lock);
	unexpect_locked(fd);
	pthread_mutex_unlock(&conns_lock);
}

void *conns_started(int fd)
{
	struct conn *c = calloc(1, sizeof(*c)), *old;

	pthread_mutex_lock(&conns_lock);
	unexpect_locked(fd);
	if (!c) {
		pthread_mutex_unlock(&conns_lock);
		return NULL;
	}
	c->fd = fd;
	c->since = now();
	c->prev = tail;
	if (tail)
		tail->next = c;
	else
		head = c;
	tail = c;
	count++;
	if (count > CONNS_MAX && (old = longest_idle(c)))
		cut(old, "more than " CONNS_MAX_TEXT " connections: the longest idle one goes");
	pthread_mutex_unlock(&conns_lock);
	return c;
}

void conns_closed(void *ctx)
{
	struct conn *c = ctx;

	if (!c)
		return;
	pthread_mutex_lock(&conns_lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		tail = c->prev;
	count--;
	pthread_cond_broadcast(&conns_changed);
	pthread_mutex_unlock(&conns_lock);
	free(c);
}

/* The request line arrived; busy: its handler runs; done: its response went out. */
void conns_request(void *ctx)
{
	struct conn *c = ctx;

	if (!c)
		return;
	pthread_mutex_lock(&conns_lock);
	c->started = now();
	c->used = true;
	pthread_mutex_unlock(&conns_lock);
}

void conns_busy(void *ctx, bool busy)
{
	struct conn *c = ctx;

	if (!c)
		return;
	pthread_mutex_lock(&conns_lock);
	c->busy = busy;
	c->answering = !busy;
	pthread_cond_broadcast(&conns_changed);
	pthread_mutex_unlock(&conns_lock);
}

void conns_done(void *ctx)
{
	struct conn *c = ctx;

	if (!c)
		return;
	pthread_mutex_lock(&conns_lock);
	c->started = 0;
	c->answering = false;
	c->since = now();
	pthread_cond_broadcast(&conns_changed);
	pthread_mutex_unlock(&conns_lock);
}

static void *reap(void *unused)
{
	struct timespec wait;
	struct conn *c;

	(void)unused;
	pthread_mutex_lock(&conns_lock);
	while (!stopping) {
		for (c = head; c; c = c->next)
			if (!c->busy && !c->answering && c->started &&
			    now() - c->started > CONNS_REQUEST_S)
				cut(c, "its request was not complete in time");
		clock_gettime(CLOCK_REALTIME, &wait);
		wait.tv_sec += 1;
		pthread_cond_timedwait(&conns_changed, &conns_lock, &wait);
	}
	pthread_mutex_unlock(&conns_lock);
	return NULL;
}

int conns_start(void)
{
	int r;

	stopping = false;
	r = pthread_create(&reaper, NULL, reap, NULL);
	if (r)
		return -r;
	reaping = true;
	return 0;
}

/*
 * For a stop: idle connections go now (a client that still sends on one learns at once
 * that it must dial again), then the calls under way get up to timeout_s seconds to finish
 * and send their answers.  A request still arriving gets CONNS_DRAIN_ARRIVING_S: dockerd
 * sends a request whole, so one that is still incomplete after that is a slow or stuck
 * client, which must not hold up a restart for as long as the reaper would let it.  A
 * connection that has carried no request yet gets the same: it was accepted just before the
 * stop, and its request may be in the socket still unread; cutting it would cut a call that
 * dockerd had sent; so does one taken from the backlog that libmicrohttpd has not started
 * serving yet.  Returns how many calls were still under way at the end.
 */
size_t conns_drain(unsigned timeout_s)
{
	double start = now(), end = start + timeout_s;
	struct timespec wait;
	struct conn *c;
	size_t left;

	pthread_mutex_lock(&conns_lock);
	for (;;) {
		left = now() - start < CONNS_DRAIN_ARRIVING_S ? nexpected : 0;
		for (c = head; c; c = c->next) {
			if (c->cut)
				continue;
			if (c->busy || c->answering ||
			    ((c->started || !c->used) && now() - start < CONNS_DRAIN_ARRIVING_S))
				left++;
			else
				cut(c, c->started ? "tiernet is stopping and the request is "
						    "still not complete"
						  : "tiernet is stopping");
		}
		if (!left || now() >= end)
			break;
		clock_gettime(CLOCK_REALTIME, &wait);
		wait.tv_nsec += 50 * 1000 * 1000;
		if (wait.tv_nsec >= 1000 * 1000 * 1000) {
			wait.tv_sec++;
			wait.tv_nsec -= 1000 * 1000 * 1000;
		}
		pthread_cond_timedwait(&conns_changed, &conns_lock, &wait);
	}
	pthread_mutex_unlock(&conns_lock);
	return left;
}

void conns_stop(void)
{
	pthread_mutex_lock(&conns_lock);
	free(expected);
	expected = NULL;
	nexpected = expected_cap = 0;
	pthread_mutex_unlock(&conns_lock);
	if (!reaping)
		return;
	pthread_mutex_lock(&conns_lock);
	stopping = true;
	pthread_cond_broadcast(&conns_changed);
	pthread_mutex_unlock(&conns_lock);
	pthread_join(reaper, NULL);
	reaping = false;
}
