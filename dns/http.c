/*
 * HTTP GET over a Unix socket: all tiernet asks of the Engine API.  The response parser is
 * pure (tests/unit/test_http.c, tests/fuzz/fuzz_engine.c): dockerd's bytes are trusted no
 * more than a container's.  It takes a body of Content-Length bytes, chunked (dockerd's
 * answers to HTTP/1.1 and its events stream) or up to the end of the connection (HTTP/1.0
 * servers), and hands the body to a sink as it arrives.  No TLS, no redirects, no
 * methods but GET: the Docker socket is root-equivalent.
 */
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "dns/dns.h"
#include "lib/clock.h"

enum {
	ST_STATUS,     /* the status line */
	ST_HEADER,     /* header lines, up to an empty one */
	ST_BODY_LEN,   /* Content-Length bytes */
	ST_BODY_EOF,   /* everything up to the end of the connection */
	ST_CHUNK_SIZE, /* a chunk's size line */
	ST_CHUNK_DATA, /* its bytes */
	ST_CHUNK_END,  /* the CRLF after them */
	ST_TRAILER,    /* trailer lines after the last chunk */
	ST_DONE,
};

void http_resp_init(struct http_resp *r, http_sink sink, void *arg)
{
	memset(r, 0, sizeof(*r));
	r->sink = sink;
	r->arg = arg;
}

/* "Name: value" when line's name is name (any case); the value without leading blanks. */
static const char *header_value(const char *line, const char *name)
{
	size_t n = strlen(name);

	if (strncasecmp(line, name, n) || line[n] != ':')
		return NULL;
	line += n + 1;
	while (*line == ' ' || *line == '\t')
		line++;
	return line;
}

/*
 * A length: decimal (Content-Length) or a chunk's size in hex (chunk extensions, ";..."
 * after it, are ignored).  Digits only: no sign, no "0x", no blanks inside.
 */
static int number(const char *s, unsigned base, size_t *out)
{
	unsigned long long v = 0;
	const char *p = s;
	unsigned d;

	for (; *p; p++) {
		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (base == 16 && isxdigit((unsigned char)*p))
			d = (unsigned)(tolower((unsigned char)*p) - 'a' + 10);
		else
			break;
		v = v * base + d;
		if (v > HTTP_LENGTH_MAX || v > SIZE_MAX)
			return -EPROTO;
	}
	if (p == s)
		return -EPROTO;
	p += strspn(p, " \t");
	if (*p && !(base == 16 && *p == ';'))
		return -EPROTO;
	*out = (size_t)v;
	return 0;
}

/* "HTTP/1.x NNN" and an optional reason phrase after a space. */
static int status_line(struct http_resp *r)
{
	const char *l = r->line;

	if (strncmp(l, "HTTP/1.", 7) || (l[7] != '0' && l[7] != '1') || l[8] != ' ' ||
	    !isdigit((unsigned char)l[9]) || !isdigit((unsigned char)l[10]) ||
	    !isdigit((unsigned char)l[11]) || (l[12] && l[12] != ' '))
		return -EPROTO;
	r->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
	if (r->status < 100 || r->status > 599)
		return -EPROTO;
	r->state = ST_HEADER;
	return 0;
}

/* The empty line: the body's framing is known now. */
static int headers_end(struct http_resp *r)
{
	if (r->status < 200) { /* 100 Continue and the like: the real response follows */
		if (r->status == 101)
			return -EPROTO; /* switching protocols: never asked for */
		r->chunked = r->has_len = false;
		r->state = ST_STATUS;
	} else if (r->status == 204 || r->status == 304) {
		r->state = ST_DONE; /* no body */
	} else if (r->chunked) {
		r->state = ST_CHUNK_SIZE; /* chunks win over a Content-Length (RFC 9112 6.3) */
	} else if (r->has_len) {
		r->state = r->left ? ST_BODY_LEN : ST_DONE;
	} else {
		r->state = ST_BODY_EOF;
	}
	return 0;
}

static int header_line(struct http_resp *r)
{
	const char *v;

	if (!r->line[0])
		return headers_end(r);
	if ((v = header_value(r->line, "Transfer-Encoding"))) {
		if (strcasecmp(v, "chunked"))
			return -EPROTO; /* gzip and friends: never asked for */
		r->chunked = true;
	} else if ((v = header_value(r->line, "Content-Length"))) {
		if (r->has_len || number(v, 10, &r->left) < 0) /* two lengths: which one? */
			return -EPROTO;
		r->has_len = true;
	}
	return 0;
}

/* A complete line in r->line. */
static int line(struct http_resp *r)
{
	switch (r->state) {
	case ST_STATUS:
		return status_line(r);
	case ST_HEADER:
		return header_line(r);
	case ST_CHUNK_SIZE:
		if (number(r->line, 16, &r->left) < 0)
			return -EPROTO;
		r->state = r->left ? ST_CHUNK_DATA : ST_TRAILER;
		return 0;
	case ST_CHUNK_END:
		if (r->line[0])
			return -EPROTO;
		r->state = ST_CHUNK_SIZE;
		return 0;
	case ST_TRAILER:
		if (!r->line[0])
			r->state = ST_DONE;
		return 0;
	}
	return -EPROTO;
}

/* Body bytes go to the sink, which bounds what it keeps (an events stream has no end). */
static int body(struct http_resp *r, const char *p, size_t n)
{
	return r->sink ? r->sink(p, n, r->arg) : 0;
}

int http_resp_feed(struct http_resp *r, const char *p, size_t n)
{
	size_t k;
	int e;

	while (n && r->state != ST_DONE) {
		if (r->state == ST_BODY_EOF || r->state == ST_BODY_LEN ||
		    r->state == ST_CHUNK_DATA) {
			k = r->state == ST_BODY_EOF || n < r->left ? n : r->left;
			if ((e = body(r, p, k)) < 0)
				return e;
			p += k, n -= k;
			if (r->state != ST_BODY_EOF && !(r->left -= k))
				r->state = r->state == ST_BODY_LEN ? ST_DONE : ST_CHUNK_END;
			continue;
		}
		if (*p != '\n') {
			if (r->nline + 1 >= sizeof(r->line))
				return -E2BIG;
			r->line[r->nline++] = *p++, n--;
			continue;
		}
		p++, n--;
		while (r->nline && strchr("\r \t", r->line[r->nline - 1]))
			r->nline--; /* the CR, and blanks a header's value may end with */
		r->line[r->nline] = '\0';
		r->nline = 0;
		if ((e = line(r)) < 0)
			return e;
	}
	return r->state == ST_DONE;
}

int http_resp_eof(const struct http_resp *r)
{
	return r->state == ST_DONE || r->state == ST_BODY_EOF ? 0 : -EPROTO;
}

static int connect_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* non-blocking: a server whose backlog is full fails the call (EAGAIN), never hangs it */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

/* Waits for ev on fd a second at most: 1 ready, 0 not yet, -errno (ETIMEDOUT, ECANCELED). */
static int wait_for(int fd, short ev, int64_t deadline, const atomic_bool *stop)
{
	struct pollfd pfd = { .fd = fd, .events = ev };
	int n;

	if (stop && atomic_load(stop))
		return -ECANCELED;
	if (deadline && clock_mono_ms() >= deadline)
		return -ETIMEDOUT;
	n = poll(&pfd, 1, 1000);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	return n > 0;
}

long http_get(const char *sock, const char *path, int timeout_s, const atomic_bool *stop,
	      http_sink sink, void *arg)
{
	int64_t deadline = timeout_s > 0 ? clock_mono_ms() + (int64_t)timeout_s * 1000 : 0;
	struct http_resp r;
	char req[512], buf[16384];
	size_t len, sent = 0;
	ssize_t n;
	int fd, e = 0;

	len = (size_t)snprintf(req, sizeof(req),
			       "GET %s HTTP/1.1\r\nHost: docker\r\nUser-Agent: tiernet\r\n"
			       "Connection: close\r\n\r\n",
			       path);
	if (len >= sizeof(req))
		return -ENAMETOOLONG;
	fd = connect_unix(sock);
	if (fd < 0)
		return fd;
	http_resp_init(&r, sink, arg);
	while (sent < len && e >= 0) {
		e = wait_for(fd, POLLOUT, deadline, stop);
		if (e <= 0)
			continue;
		n = send(fd, req + sent, len - sent, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			e = -errno;
		else if (n > 0)
			sent += (size_t)n;
	}
	while (e >= 0) {
		e = wait_for(fd, POLLIN, deadline, stop);
		if (e <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				e = -errno;
			continue;
		}
		if (n == 0) {
			e = http_resp_eof(&r);
			break;
		}
		e = http_resp_feed(&r, buf, (size_t)n);
		if (e == 1)
			break;
	}
	close(fd);
	return e < 0 ? e : r.status;
}
