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
	};
	struct http_resp r;
	struct got g;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(feed(bad[i], 0, &r, &g), -EPROTO, "case %zu: %s", i, bad[i]);
}

Test(http, bounded_lines_and_the_sinks_error)
{
	static char big[HTTP_LINE_MAX + 64];
	struct http_resp r;
	struct got g;

	snprintf(big, sizeof(big), "HTTP/1.1 200 OK\r\nX: %0*d\r\n\r\n", HTTP_LINE_MAX, 0);
	cr_assert_eq(feed(big, 0, &r, &g), -E2BIG);
	snprintf(big, sizeof(big), "HTTP/1.1 200 OK\r\nX: %0*d\r\n\r\n", HTTP_LINE_MAX - 8, 0);
	cr_assert_eq(feed(big, 0, &r, &g), 0, "a long header that fits");
	http_resp_init(&r, sink, &g);
	memset(&g, 0, sizeof(g));
	g.fail_at = 3;
	cr_assert_eq(http_resp_feed(&r, chunked, strlen(chunked)), -ENOSPC);
}
