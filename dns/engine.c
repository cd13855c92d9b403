/*
 * The Engine API client: where names come from (the driver protocol carries none).  The
 * Docker socket is root-equivalent, so only GET is ever sent: /containers/json once per
 * connection, /containers/ID/json for each container, and the /events stream filtered to
 * container and network events; each event re-reads the container it concerns and the
 * name table is replaced.  The stream starts from the moment before the list was read, so
 * no change between the two is missed.  When the socket is absent or dockerd goes away,
 * the thread logs it once, stops the redirection (the upstream answers as without
 * tiernet) and looks again every ENGINE_RETRY_S seconds.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dns/dns.h"
#include "lib/log.h"

#define ENGINE_RETRY_S	 2
#define ENGINE_BODY_MAX	 (16 << 20) /* a reply body; a line of the events stream: 64 KiB */
#define ENGINE_LINE_MAX	 (64 << 10)
#define ENGINE_CTS_MAX	 8192 /* containers followed */
#define ENGINE_TIMEOUT_S 10

struct buf {
	char *p;
	size_t n, cap, max;
};

static struct {
	pthread_t thread;
	atomic_bool stop;
	char socket[256];
	struct engjson_ct *cts; /* the running containers followed, by ID */
	size_t ncts, capcts;	/* grown as containers start: no memory for none */
	struct buf line;	/* the events stream's current line */
	bool logged_absent;
} eng;

/* Appends body bytes to the buffer arg, within its max. */
static int on_data(const char *p, size_t len, void *arg)
{
	struct buf *b = arg;
	char *q;

	if (b->n + len + 1 > b->max)
		return -E2BIG; /* too big: the transfer fails */
	if (b->n + len + 1 > b->cap) {
		size_t cap = (b->n + len + 1) * 2;

		q = realloc(b->p, cap > b->max ? b->max : cap);
		if (!q)
			return -ENOMEM;
		b->p = q;
		b->cap = cap > b->max ? b->max : cap;
	}
	memcpy(b->p + b->n, p, len);
	b->n += len;
	b->p[b->n] = '\0';
	return 0;
}

/* GET path into b; returns the HTTP status, or -errno when the transfer failed. */
static long get(const char *path, struct buf *b)
{
	b->n = 0;
	b->max = ENGINE_BODY_MAX;
	return http_get(eng.socket, path, ENGINE_TIMEOUT_S, &eng.stop, on_data, b);
}

/* Rebuilds the name table from the containers followed and hands it to the resolver. */
static void publish(void)
{
	struct nametab_entry *v;
	struct nametab t;
	size_t i, n = 0, total = 0;

	for (i = 0; i < eng.ncts; i++)
		total += eng.cts[i].n;
	if (total > DNS_NAMES_MAX) {
		log_warnx("names: %zu names, more than the %u tiernet keeps; some containers "
			  "have no names across tiers",
			  total, DNS_NAMES_MAX);
		total = DNS_NAMES_MAX;
	}
	v = calloc(total + 1, sizeof(*v));
	if (!v) {
		log_warnx("names: out of memory; the name table stays as it was");
		return;
	}
	for (i = 0; i < eng.ncts; i++) {
		size_t k = eng.cts[i].n < total - n ? eng.cts[i].n : total - n;

		memcpy(v + n, eng.cts[i].v, k * sizeof(*v));
		n += k;
	}
	nametab_build(&t, v, n);
	dns_table_set(&t);
}

static void forget(size_t i)
{
	engjson_ct_free(&eng.cts[i]);
	eng.cts[i] = eng.cts[--eng.ncts];
}

/* Room for one more container in eng.cts, up to ENGINE_CTS_MAX. */
static bool room(void)
{
	struct engjson_ct *v;
	size_t cap;

	if (eng.ncts < eng.capcts)
		return true;
	if (eng.capcts >= ENGINE_CTS_MAX)
		return false;
	cap = eng.capcts ? eng.capcts * 2 : 16;
	v = realloc(eng.cts, cap * sizeof(*v));
	if (!v)
		return false;
	eng.cts = v;
	eng.capcts = cap;
	return true;
}

/* Reads container id again: followed while it runs, forgotten otherwise. */
static int refresh(const char *id)
{
	struct buf b = { 0 };
	struct engjson_ct ct;
	char path[160];
	size_t i;
	long st;
	int r = 0;

	snprintf(path, sizeof(path), "/containers/%s/json", id);
	st = get(path, &b);
	for (i = 0; i < eng.ncts; i++)
		if (!strcmp(eng.cts[i].id, id))
			break;
	if (st < 0) {
		r = -EIO;
		goto out;
	}
	if (st != 200 || engjson_container(b.p, b.n, &ct) < 0 || !ct.running) {
		if (st == 200 && ct.running == false)
			engjson_ct_free(&ct);
		if (i < eng.ncts)
			forget(i);
		goto out;
	}
	if (i < eng.ncts) {
		engjson_ct_free(&eng.cts[i]);
		eng.cts[i] = ct;
	} else if (room()) {
		eng.cts[eng.ncts++] = ct;
	} else {
		if (eng.ncts < ENGINE_CTS_MAX)
			log_warnx("names: out of memory; container %.12s has no names across tiers",
				  id);
		else
			log_warnx("names: more than %u running containers; container %.12s has no "
				  "names across tiers",
				  ENGINE_CTS_MAX, id);
		engjson_ct_free(&ct);
	}
out:
	free(b.p);
	return r;
}

/* Reads every running container; 0 or -errno. */
static int sync_all(void)
{
	char(*ids)[DNS_ID_LEN + 1] = NULL;
	struct buf b = { 0 };
	size_t n = 0, i;
	long st;
	int r = 0;

	st = get("/containers/json", &b);
	if (st != 200 || engjson_list(b.p, b.n, &ids, &n) < 0) {
		r = -EIO;
		goto out;
	}
	while (eng.ncts)
		forget(eng.ncts - 1);
	for (i = 0; i < n && !r; i++)
		r = refresh(ids[i]);
	if (!r)
		publish();
out:
	free(ids);
	free(b.p);
	return r;
}

/* The events stream: each complete line names a container to read again. */
static int on_event(const char *p, size_t len, void *arg)
{
	char id[DNS_ID_LEN + 1];
	struct buf *b = &eng.line;
	size_t i, start = 0;
	int r;

	(void)arg;
	for (i = 0; i < len; i++) {
		if (p[i] != '\n')
			continue;
		if ((r = on_data(p + start, i - start, b)) < 0)
			return r;
		if (engjson_event(b->p, b->n, id) == 1 && refresh(id) == 0)
			publish();
		b->n = 0;
		start = i + 1;
	}
	return start < len ? on_data(p + start, len - start, b) : 0;
}

/* Follows the events from since on, until the stream ends or the service stops. */
static void stream(time_t since)
{
	char path[256];

	snprintf(path, sizeof(path),
		 "/events?since=%lld&filters=%%7B%%22type%%22%%3A%%5B%%22container%%22"
		 "%%2C%%22network%%22%%5D%%7D",
		 (long long)since);
	eng.line.n = 0;
	eng.line.max = ENGINE_LINE_MAX;
	http_get(eng.socket, path, 0, &eng.stop, on_event, NULL);
}

static bool socket_present(void)
{
	struct stat st;

	return stat(eng.socket, &st) == 0 && S_ISSOCK(st.st_mode);
}

static void pause_retry(void)
{
	int i;

	for (i = 0; i < ENGINE_RETRY_S * 10 && !atomic_load(&eng.stop); i++)
		usleep(100000);
}

static void *run(void *arg)
{
	char why[400];
	time_t since;

	(void)arg;
	while (!atomic_load(&eng.stop)) {
		if (!socket_present()) {
			snprintf(why, sizeof(why), "no Docker socket at %s", eng.socket);
			if (!eng.logged_absent)
				log_info("names: %s: names across tiers are off until it appears "
					 "(everything else works; --docker-socket PATH names "
					 "another, --names off silences this)",
					 why);
			eng.logged_absent = true;
			dns_engine_state(false, why);
			pause_retry();
			continue;
		}
		since = time(NULL) - 1;
		if (sync_all() < 0) {
			snprintf(why, sizeof(why), "dockerd does not answer on %s", eng.socket);
			dns_engine_state(false, why);
			pause_retry();
			continue;
		}
		snprintf(why, sizeof(why), "names from dockerd on %s", eng.socket);
		log_info("names: %s; %zu running containers", why, eng.ncts);
		eng.logged_absent = false;
		dns_engine_state(true, why);
		stream(since);
		if (atomic_load(&eng.stop))
			break;
		log_warnx("names: lost the events stream on %s; reading again in %d s", eng.socket,
			  ENGINE_RETRY_S);
		dns_engine_state(false, "lost the Docker events stream; retrying");
		pause_retry();
	}
	return NULL;
}

int engine_start(const char *socket)
{
	int r;

	snprintf(eng.socket, sizeof(eng.socket), "%s", socket);
	atomic_store(&eng.stop, false);
	r = -pthread_create(&eng.thread, NULL, run, NULL);
	if (r < 0) {
		log_warnx("names: cannot start the Engine API thread: %s", strerror(-r));
		eng.thread = 0;
		engine_stop();
	}
	return r;
}

void engine_stop(void)
{
	atomic_store(&eng.stop, true);
	if (eng.thread)
		pthread_join(eng.thread, NULL);
	eng.thread = 0;
	while (eng.cts && eng.ncts)
		forget(eng.ncts - 1);
	free(eng.cts);
	eng.cts = NULL;
	eng.capcts = 0;
	free(eng.line.p);
	memset(&eng.line, 0, sizeof(eng.line));
}
