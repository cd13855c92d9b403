/*
 * dns/http.c's response parser: the three ways a body is framed, fed whole and a byte at a
 * time, and the responses it must refuse.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dns/dns.h"

struct got {
	char body[4096];
	size_t n;
	int fail_at; /* the sink fails once the body reaches this length (0: never) */
};

static int sink(const char *p, size_t n, void *arg)
{
	struct got *g = arg;

	cr_assert_lt(g->n + n, sizeof(g->body));
	memcpy(g->body + g->n, p, n);
	g->n += n;
	g->body[g->n] = '\0';
	return g->fail_at && g->n >= (size_t)g->fail_at ? -ENOSPC : 0;
}

/* Feeds text in pieces of step bytes (0: whole); returns what the last feed returned. */
static int feed(const char *text, size_t step, struct http_resp *r, struct got *g)
{
	size_t len = strlen(text), i, k;
	int e = 0;

	memset(g, 0, sizeof(*g));
	http_resp_init(r, sink, g);
	for (i = 0; i < len && e == 0; i += k) {
		k = step && step < len - i ? step : len - i;
		e = http_resp_feed(r, text + i, k);
	}
	return e;
}

static const char *const chunked =
    "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\ntransfer-encoding: Chunked\r\n\r\n"
    "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n";

Test(http, three_framings_whole_and_byte_by_byte)
{
	static const struct {
		const char *text, *body;
		int fed; /* 1: complete when fed; 0: complete only at the end of the connection */
	} c[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", "hello", 1 },
		{ "HTTP/1.0 404 Not Found\r\nContent-Length:2\r\n\r\n{}", "{}", 1 },
		{ "HTTP/1.0 200 OK\nServer: x\n\n{\"a\":1}\n", "{\"a\":1}\n", 0 },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "", 1 },
		{ "HTTP/1.1 204 No Content\r\n\r\n", "", 1 },
		{ "HTTP/1.1 200\r\nContent-Length: 3\r\n\r\nabc", "abc", 1 },
	};
	struct http_resp r;
	struct got g;
	size_t i, step;

	for (step = 0; step < 3; step++) {
		for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
			cr_assert_eq(feed(c[i].text, step, &r, &g), c[i].fed, "case %zu step %zu",
				     i, step);
			cr_assert_str_eq(g.body, c[i].body, "case %zu step %zu", i, step);
			cr_assert_eq(http_resp_eof(&r), 0);
		}
		cr_assert_eq(feed(chunked, step, &r, &g), 1);
		cr_assert_str_eq(g.body, "hello, world");
		cr_assert_eq(r.status, 200);
	}
	/* what follows a complete response is not read */
	cr_assert_eq(feed("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nabcdef", 0, &r, &g), 1);
	cr_assert_str_eq(g.body, "ab");
}

Test(http, an_unfinished_response_fails_at_the_end_of_the_connection)
{
	struct http_resp r;
	struct got g;
	size_t i, len = strlen(chunked);
	char cut[512];

	for (i = 0; i < len; i++) {
		memcpy(cut, chunked, i);
		cut[i] = '\0';
		cr_assert_eq(feed(cut, 0, &r, &g), 0, "cut at %zu", i);
		cr_assert_eq(http_resp_eof(&r), -EPROTO, "cut at %zu", i);
	}
	cr_assert_eq(feed("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nhello", 0, &r, &g), 0);
	cr_assert_eq(http_resp_eof(&r), -EPROTO);
}

Test(http, refuses_what_it_cannot_read)
{
	static const char *const bad[] = {
		"SSH-2.0-OpenSSH\r\n",
		"HTTP/2 200\r\n",
		"HTTP/1.1 20 OK\r\n",
		"HTTP/1.1 2000 OK\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffff\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n",
		"HTTP/1.1200 OK\r\n",
		"HTTP/1.1 +200 OK\r\n",
		"HTTP/1.1 200OK\r\n",
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n",
	};
	struct http_resp r;
	struct got g;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(feed(bad[i], 0, &r, &g), -EPROTO, "case %zu: %s", i, bad[i]);
}

Test(http, interim_responses_both_lengths_and_trailing_blanks)
{
	struct http_resp r;
	struct got g;

	cr_assert_eq(feed("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2"
			  "\r\n\r\nok",
			  1, &r, &g),
		     1);
	cr_assert_str_eq(g.body, "ok");
	cr_assert_eq(r.status, 200);
	/* chunks win over a Content-Length */
	cr_assert_eq(feed("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n"
			  "\r\n3\r\nabc\r\n0\r\n\r\n",
			  0, &r, &g),
		     1);
	cr_assert_str_eq(g.body, "abc");
	cr_assert_eq(feed("HTTP/1.1 200 OK\r\nContent-Length: 2 \t\r\n\r\nok", 0, &r, &g), 1);
	cr_assert_str_eq(g.body, "ok");
}

Test(http, bounded_lines_and_the_sinks_error)
{
	static char big[HTTP_LINE_MAX + 64];
	struct http_resp r;
	struct got g;

	snprintf(big, sizeof(big), "HTTP/1.1 200 OK\r\nX: %0*d\r\n\r\n", HTTP_LINE_MAX, 0);
	cr_assert_eq(feed(big, 0, &r, &g), -E2BIG);
	/* a line is kept with its CR: HTTP_LINE_MAX - 2 characters fit, one more does not */
	snprintf(big, sizeof(big), "HTTP/1.1 200 OK\r\nX: %0*d\r\n\r\n", HTTP_LINE_MAX - 5, 0);
	cr_assert_eq(feed(big, 0, &r, &g), 0, "the longest header that fits");
	snprintf(big, sizeof(big), "HTTP/1.1 200 OK\r\nX: %0*d\r\n\r\n", HTTP_LINE_MAX - 4, 0);
	cr_assert_eq(feed(big, 0, &r, &g), -E2BIG, "one more");
	http_resp_init(&r, sink, &g);
	memset(&g, 0, sizeof(g));
	g.fail_at = 3;
	cr_assert_eq(http_resp_feed(&r, chunked, strlen(chunked)), -ENOSPC);
}

/* ---- http_get against a server thread on a Unix socket */
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct server {
	char path[108];
	int lfd;
	const char *reply; /* NULL: read the request and never answer */
	char request[512];
	bool wrote;
};

static void *serve(void *arg)
{
	struct server *s = arg;
	size_t n = 0, len;
	ssize_t k;
	int fd = accept(s->lfd, NULL, NULL);

	if (fd < 0)
		return NULL; /* the client's call fails, and so does the test */
	while (!strstr(s->request, "\r\n\r\n") && n + 1 < sizeof(s->request) &&
	       (k = read(fd, s->request + n, sizeof(s->request) - 1 - n)) > 0)
		n += (size_t)k;
	if (s->reply) {
		len = strlen(s->reply);
		/* in two writes, apart: the client reads a response that arrives in pieces */
		s->wrote = send(fd, s->reply, len / 2, MSG_NOSIGNAL) == (ssize_t)(len / 2);
		usleep(50000);
		/* (a client whose sink failed has gone: no SIGPIPE for that) */
		s->wrote &= send(fd, s->reply + len / 2, len - len / 2, MSG_NOSIGNAL) ==
			    (ssize_t)(len - len / 2);
	} else {
		while (read(fd, s->request, 1) > 0)
			; /* until the client gives up and closes */
	}
	close(fd);
	return NULL;
}

static long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void start(struct server *s, pthread_t *t, const char *reply)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(s, 0, sizeof(*s));
	snprintf(s->path, sizeof(s->path), "/tmp/tiernet-http-%d.sock", getpid());
	unlink(s->path);
	memcpy(sa.sun_path, s->path, strlen(s->path) + 1);
	s->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_eq(bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(s->lfd, 4), 0);
	s->reply = reply;
	cr_assert_eq(pthread_create(t, NULL, serve, s), 0);
}

static void finish(struct server *s, pthread_t t)
{
	pthread_join(t, NULL);
	close(s->lfd);
	unlink(s->path);
}

Test(http, get_over_a_unix_socket)
{
	struct server s;
	struct got g = { .n = 0 };
	pthread_t t;

	start(&s, &t, chunked);
	cr_assert_eq(http_get(s.path, "/containers/json", 5, NULL, sink, &g), 200);
	finish(&s, t);
	cr_assert(s.wrote);
	cr_assert_str_eq(g.body, "hello, world");
	cr_assert(!strncmp(s.request, "GET /containers/json HTTP/1.1\r\n", 31), "%s", s.request);
	cr_assert(strstr(s.request, "\r\nHost: docker\r\n"));
	/* nobody there */
	cr_assert_eq(http_get(s.path, "/", 5, NULL, sink, &g), -ENOENT);
	/* the sink's error ends the call and is what it returns */
	start(&s, &t, chunked);
	memset(&g, 0, sizeof(g));
	g.fail_at = 3;
	cr_assert_eq(http_get(s.path, "/", 5, NULL, sink, &g), -ENOSPC);
	finish(&s, t);
}

static void *stop_later(void *arg)
{
	usleep(1500000);
	atomic_store((atomic_bool *)arg, true);
	return NULL;
}

Test(http, a_silent_server_times_out_and_a_stop_ends_the_wait)
{
	atomic_bool stop = true;
	struct server s;
	struct got g = { .n = 0 };
	pthread_t t, stopper;
	long t0, t1;

	start(&s, &t, NULL);
	cr_assert_eq(http_get(s.path, "/events", 1, NULL, sink, &g), -ETIMEDOUT);
	finish(&s, t);
	start(&s, &t, NULL);
	cr_assert_eq(http_get(s.path, "/events", 0, &stop, sink, &g), -ECANCELED);
	finish(&s, t);
	/* a stop that comes while the call waits for the answer: seen within a second */
	atomic_store(&stop, false);
	start(&s, &t, NULL);
	cr_assert_eq(pthread_create(&stopper, NULL, stop_later, &stop), 0);
	t0 = mono_ms();
	cr_assert_eq(http_get(s.path, "/events", 0, &stop, sink, &g), -ECANCELED);
	t1 = mono_ms();
	pthread_join(stopper, NULL);
	finish(&s, t);
	cr_assert(strstr(s.request, "GET /events"), "the request was sent before the stop");
	cr_assert(t1 - t0 >= 1400 && t1 - t0 <= 2700, "stopped after %ld ms", t1 - t0);
}
