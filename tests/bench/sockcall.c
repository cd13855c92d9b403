/*
 * sockcall: a benchmark client for the plugin's Unix socket.  It keeps one HTTP/1.1
 * connection per socket alive (reconnecting only if the server closes it) and sends
 * requests shaped as dockerd sends them (PROTOCOL.md §1.1): POST, an empty Host header, Go's
 * User-Agent, no Content-Type, the plugin Accept header, compact JSON plus "\n".  So neither
 * process start-up nor connection set-up is what gets measured.
 *
 * usage:
 *   sockcall SOCK call PATH [BODY]         one call; prints "STATUS BODY"
 *   sockcall SOCK caps N [WARMUP]          N GetCapabilities calls: latency statistics, and
 *                                          (interleaved in blocks of 100) the same N calls
 *                                          answered by a trivial server thread on a
 *                                          socketpair: the floor, what the kernel and this
 *                                          client cost alone ("floor_*"); SOCK "-": floor only
 *   sockcall SOCK network NET GW/PREFIX TIER            CreateNetwork
 *   sockcall SOCK populate NET POOL/PREFIX FROM COUNT [ADDR0]
 *                                          CreateEndpoint+Join of endpoints FROM..FROM+COUNT-1
 *   sockcall SOCK publish NET POOL/PREFIX FROM COUNT HOSTPORT0 [ADDR0]
 *                                          CreateEndpoint+Join+ProgramExternalConnectivity of
 *                                          endpoints FROM..FROM+COUNT-1, each publishing
 *                                          container tcp ports 80-83 on 4 host ports (endpoint
 *                                          FROM+j: HOSTPORT0+4j..+3), the bodies shaped as
 *                                          dockerd's for `-p H:80 -p H+1:81 ...`
 *   sockcall SOCK pec NET POOL/PREFIX IDX ADDR HOSTPORT N
 *                                          CreateEndpoint+Join of endpoint IDX, then N cycles
 *                                          of ProgramExternalConnectivity (4 ports from
 *                                          HOSTPORT) + RevokeExternalConnectivity; then Leave
 *                                          and DeleteEndpoint: "pec_*" and "revoke_*"
 *   sockcall SOCK waitcaps T0 TIMEOUT_S    polls (every 0.2 ms) until GetCapabilities answers
 *                                          on SOCK; prints "startup_us": the time since T0, a
 *                                          CLOCK_REALTIME instant in seconds (bash's
 *                                          $EPOCHREALTIME taken before starting the daemon)
 *   sockcall - cycles N IDX ADDR OLD SOCK NET POOL/PREFIX [SOCK NET POOL/PREFIX ...]
 *                                          N cycles CreateEndpoint+Join+Leave+DeleteEndpoint
 *                                          of endpoint IDX (address pool+2+ADDR), each
 *                                          followed by Leave+Join of the live endpoint OLD, on
 *                                          each target, interleaved round-robin (the start
 *                                          target rotates), so that all targets see the same
 *                                          machine load (fsync latency varies with other I/O)
 *
 * Endpoint i has a pseudo-random 64-hex ID derived from i (Docker's IDs are random, so
 * lookups by ID mismatch early, as in production); populate gives endpoint FROM+j the
 * address pool+2+ADDR0+j.  Results are KEY=VALUE lines, times in microseconds.  Join's
 * SandboxKey is /var/run/docker/netns/ID[20..31], or under $SOCKCALL_SANDBOX_DIR when set (a
 * start-up reconciliation drops an endpoint whose sandbox file is missing from an existing
 * directory: with SOCKCALL_SANDBOX_DIR set, Join creates that file, so that the endpoint
 * stays alive across a restart).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define RBUF_SIZE (1 << 20)

struct conn {
	const char *path; /* NULL: a socketpair to the floor server */
	int fd;
	char *rbuf;
	size_t rlen; /* bytes received and not yet consumed */
	int status;
	char body[65536]; /* the last response's body, NUL-terminated */
	int reconnects;
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "sockcall: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void conn_init(struct conn *c, const char *path)
{
	memset(c, 0, sizeof(*c));
	c->path = path;
	c->fd = -1;
	c->rbuf = malloc(RBUF_SIZE);
	if (!c->rbuf)
		die("out of memory");
}

static void conn_open(struct conn *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (c->fd >= 0)
		close(c->fd);
	c->rlen = 0;
	if (!c->path)
		die("the floor connection broke");
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		die("socket: %s", strerror(errno));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->path);
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect %s: %s", c->path, strerror(errno));
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int fill(struct conn *c)
{
	ssize_t n;

	if (c->rlen >= RBUF_SIZE - 1)
		return -1;
	do
		n = read(c->fd, c->rbuf + c->rlen, RBUF_SIZE - 1 - c->rlen);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	c->rlen += (size_t)n;
	c->rbuf[c->rlen] = '\0';
	return 0;
}

/* Reads one response: status line, headers, a Content-Length body. */
static int read_response(struct conn *c)
{
	char *hdr_end, *p;
	size_t hdr_len, clen = 0;
	bool close_after = false;

	c->rbuf[c->rlen] = '\0';
	while (!(hdr_end = strstr(c->rbuf, "\r\n\r\n")))
		if (fill(c) < 0)
			return -1;
	hdr_len = (size_t)(hdr_end - c->rbuf) + 4;
	if (sscanf(c->rbuf, "HTTP/1.%*d %d", &c->status) != 1)
		return -1;
	for (p = strstr(c->rbuf, "\r\n"); p && p < hdr_end; p = strstr(p + 2, "\r\n")) {
		if (!strncasecmp(p + 2, "Content-Length:", 15))
			clen = strtoul(p + 17, NULL, 10);
		else if (!strncasecmp(p + 2, "Connection: close", 17))
			close_after = true;
	}
	if (clen >= sizeof(c->body) || hdr_len + clen >= RBUF_SIZE)
		return -1;
	while (c->rlen < hdr_len + clen)
		if (fill(c) < 0)
			return -1;
	memcpy(c->body, c->rbuf + hdr_len, clen);
	c->body[clen] = '\0';
	c->rlen -= hdr_len + clen;
	memmove(c->rbuf, c->rbuf + hdr_len + clen, c->rlen);
	if (close_after) {
		conn_open(c);
		c->reconnects++;
	}
	return 0;
}

/* One call: returns the HTTP status, the body is in c->body.  Reconnects once on EOF. */
static int call(struct conn *c, const char *path, const char *json)
{
	char req[8192];
	size_t blen = json ? strlen(json) + 1 : 0; /* + "\n" */
	int n, attempt;

	n = snprintf(req, sizeof(req),
		     "POST %s HTTP/1.1\r\nHost: \r\nUser-Agent: Go-http-client/1.1\r\n"
		     "Content-Length: %zu\r\nAccept: application/vnd.docker.plugins.v1.2+json\r\n"
		     "\r\n%s%s",
		     path, blen, json ? json : "", json ? "\n" : "");
	if (n < 0 || (size_t)n >= sizeof(req))
		die("request too long");
	for (attempt = 0; attempt < 2; attempt++) {
		if (c->fd < 0)
			conn_open(c);
		if (write_all(c->fd, req, (size_t)n) == 0 && read_response(c) == 0)
			return c->status;
		conn_open(c);
		c->reconnects++;
	}
	die("%s: no response", path);
}

static void call_ok(struct conn *c, const char *path, const char *json)
{
	int st = call(c, path, json);

	if (st != 200 || strstr(c->body, "\"Err\""))
		die("%s on %s: HTTP %d %s (request %s)", path, c->path ? c->path : "-", st, c->body,
		    json ? json : "");
}

/* ---- statistics ---- */

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The p-th percentile (nearest rank) of v[0..n-1]; sorts v. */
static double pct(double *v, size_t n, double p)
{
	size_t i;

	qsort(v, n, sizeof(*v), cmp_d);
	i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

/* ---- endpoints ---- */

static uint64_t splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static void ep_id(unsigned i, char out[65])
{
	int k;

	for (k = 0; k < 4; k++)
		snprintf(out + 16 * k, 17, "%016llx",
			 (unsigned long long)splitmix(((uint64_t)i << 2) + (uint64_t)k + 77));
}

struct target {
	struct conn c;
	const char *net;
	uint32_t pool; /* host order */
	int prefix;
};

static void parse_pool(const char *s, struct target *t)
{
	char ip[INET_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	struct in_addr a;

	if (!slash || (size_t)(slash - s) >= sizeof(ip))
		die("not POOL/PREFIX: %s", s);
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	if (inet_pton(AF_INET, ip, &a) != 1)
		die("not an address: %s", ip);
	t->pool = ntohl(a.s_addr);
	t->prefix = atoi(slash + 1);
	if (t->prefix < 8 || t->prefix > 30)
		die("bad prefix: %s", s);
}

static char jb[4096];
static char ports_json[1024]; /* the portmap of the body being built: "" or 4 ports */
static char expose_json[256];

/* publish_ports H: the next bodies carry `-p H:80 -p H+1:81 -p H+2:82 -p H+3:83`; 0: none */
static void publish_ports(unsigned h)
{
	size_t n = 0, m = 0;
	unsigned k;

	ports_json[0] = expose_json[0] = '\0';
	for (k = 0; h && k < 4; k++) {
		n += (size_t)snprintf(ports_json + n, sizeof(ports_json) - n,
				      "%s{\"Proto\":6,\"IP\":\"\",\"Port\":%u,\"HostIP\":\"\","
				      "\"HostPort\":%u,\"HostPortEnd\":%u}",
				      k ? "," : "", 80 + k, h + k, h + k);
		m += (size_t)snprintf(expose_json + m, sizeof(expose_json) - m,
				      "%s{\"Proto\":6,\"Port\":%u}", k ? "," : "", 80 + k);
	}
}

static const char *sandbox_dir(void)
{
	const char *d = getenv("SOCKCALL_SANDBOX_DIR");

	return d && *d ? d : "/var/run/docker/netns";
}

static const char *body_create(const struct target *t, unsigned i, unsigned addr)
{
	struct in_addr a = { .s_addr = htonl(t->pool + 2 + addr) };
	char id[65], ip[INET_ADDRSTRLEN];

	ep_id(i, id);
	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	snprintf(jb, sizeof(jb),
		 "{\"NetworkID\":\"%s\",\"EndpointID\":\"%s\",\"Interface\":{\"Address\":\"%s/%d\","
		 "\"AddressIPv6\":\"\",\"MacAddress\":\"\"},\"Options\":{\"com.docker.network."
		 "endpoint.exposedports\":[%s],\"com.docker.network.portmap\":[%s]}}",
		 t->net, id, ip, t->prefix, expose_json, ports_json);
	return jb;
}

static const char *body_join(const struct target *t, unsigned i)
{
	char id[65];

	ep_id(i, id);
	if (getenv("SOCKCALL_SANDBOX_DIR")) { /* the sandbox file exists, as a live netns's does */
		char path[4096];
		int fd;

		snprintf(path, sizeof(path), "%s/%.12s", sandbox_dir(), id + 20);
		fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
		if (fd < 0)
			die("cannot create %s: %s", path, strerror(errno));
		close(fd);
	}
	snprintf(jb, sizeof(jb),
		 "{\"NetworkID\":\"%s\",\"EndpointID\":\"%s\",\"SandboxKey\":\"%s/%.12s\","
		 "\"Options\":{\"com.docker.network.endpoint.exposedports\":[%s],"
		 "\"com.docker.network.portmap\":[%s]}}",
		 t->net, id, sandbox_dir(), id + 20, expose_json, ports_json);
	return jb;
}

static const char *body_ids(const struct target *t, unsigned i)
{
	char id[65];

	ep_id(i, id);
	snprintf(jb, sizeof(jb), "{\"NetworkID\":\"%s\",\"EndpointID\":\"%s\"}", t->net, id);
	return jb;
}

static const char *body_pec(const struct target *t, unsigned i)
{
	char id[65];

	ep_id(i, id);
	snprintf(jb, sizeof(jb),
		 "{\"NetworkID\":\"%s\",\"EndpointID\":\"%s\",\"Options\":{\"com.docker.network."
		 "endpoint.exposedports\":[%s],\"com.docker.network.portmap\":[%s]}}",
		 t->net, id, expose_json, ports_json);
	return jb;
}

static void cmd_publish(struct target *t, unsigned from, unsigned count, unsigned h0,
			unsigned addr0)
{
	double t0 = now_us(), *v = calloc(count ? count : 1, sizeof(double));
	unsigned j;

	if (!v)
		die("out of memory");
	for (j = 0; j < count; j++) {
		double p0;

		publish_ports(h0 + 4 * j);
		call_ok(&t->c, "/NetworkDriver.CreateEndpoint",
			body_create(t, from + j, addr0 + j));
		call_ok(&t->c, "/NetworkDriver.Join", body_join(t, from + j));
		p0 = now_us();
		call_ok(&t->c, "/NetworkDriver.ProgramExternalConnectivity", body_pec(t, from + j));
		v[j] = now_us() - p0;
	}
	printf("publish_n=%u\npublish_s=%.2f\n", count, (now_us() - t0) / 1e6);
	if (count >= 10) {
		/* the first and the last ten PECs: with about 0 and about 4*count ports */
		printf("publish_first10_med=%.1f\n", pct(v, 10, 50));
		printf("publish_last10_med=%.1f\n", pct(v + count - 10, 10, 50));
	}
	free(v);
}

static void cmd_pec(struct target *t, unsigned idx, unsigned addr, unsigned h, unsigned n)
{
	double *vp = calloc(n ? n : 1, sizeof(double)), *vr = calloc(n ? n : 1, sizeof(double));
	unsigned k;

	if (!vp || !vr || !n)
		die("out of memory or no cycles");
	publish_ports(h);
	call_ok(&t->c, "/NetworkDriver.CreateEndpoint", body_create(t, idx, addr));
	call_ok(&t->c, "/NetworkDriver.Join", body_join(t, idx));
	for (k = 0; k < n; k++) {
		double t0 = now_us(), t1;

		call_ok(&t->c, "/NetworkDriver.ProgramExternalConnectivity", body_pec(t, idx));
		t1 = now_us();
		call_ok(&t->c, "/NetworkDriver.RevokeExternalConnectivity", body_ids(t, idx));
		vp[k] = t1 - t0;
		vr[k] = now_us() - t1;
	}
	call_ok(&t->c, "/NetworkDriver.Leave", body_ids(t, idx));
	call_ok(&t->c, "/NetworkDriver.DeleteEndpoint", body_ids(t, idx));
	printf("pec_n=%u\npec_med=%.1f\npec_p90=%.1f\n", n, pct(vp, n, 50), pct(vp, n, 90));
	printf("revoke_med=%.1f\nrevoke_p90=%.1f\n", pct(vr, n, 50), pct(vr, n, 90));
	free(vp);
	free(vr);
}

/* Polls until the daemon answers GetCapabilities; the time since t0 (CLOCK_REALTIME, s). */
static void cmd_waitcaps(struct conn *c, double t0, double timeout_s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timespec ts;
	double now;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->path);
	for (;;) {
		clock_gettime(CLOCK_REALTIME, &ts);
		now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
		if (now - t0 > timeout_s)
			die("%s did not answer within %.0f s", c->path, timeout_s);
		c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c->fd < 0)
			die("socket: %s", strerror(errno));
		if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		close(c->fd);
		c->fd = -1;
		usleep(200);
	}
	call_ok(c, "/NetworkDriver.GetCapabilities", NULL);
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	printf("startup_us=%.0f\n", (now - t0) * 1e6);
}

static void cmd_populate(struct target *t, unsigned from, unsigned count, unsigned addr0)
{
	double t0 = now_us();
	unsigned j;

	for (j = 0; j < count; j++) {
		call_ok(&t->c, "/NetworkDriver.CreateEndpoint",
			body_create(t, from + j, addr0 + j));
		call_ok(&t->c, "/NetworkDriver.Join", body_join(t, from + j));
	}
	printf("populate_n=%u\npopulate_s=%.2f\n", count, (now_us() - t0) / 1e6);
}

enum { S_CYCLE, S_JL, S_CREATE, S_JOIN, S_LEAVE, S_DELETE, S_JL_OLD, S_LEAVE_OLD, S_JOIN_OLD, S_N };
static const char *const s_name[S_N] = { "cycle",  "jl",    "create",	"join",	  "leave",
					 "delete", "jlold", "leaveold", "joinold" };

/*
 * One cycle of a new endpoint IDX, then Leave+Join of the live endpoint OLD.  The driver
 * keeps its newest endpoints first, so the new one is always found at once; OLD, the first
 * one created, is the one a lookup reaches last.
 */
static void one_cycle(struct target *t, unsigned idx, unsigned addr, unsigned old, double out[S_N])
{
	double t0, t1, t2, t3, t4, t5, t6;

	t0 = now_us();
	call_ok(&t->c, "/NetworkDriver.CreateEndpoint", body_create(t, idx, addr));
	t1 = now_us();
	call_ok(&t->c, "/NetworkDriver.Join", body_join(t, idx));
	t2 = now_us();
	call_ok(&t->c, "/NetworkDriver.Leave", body_ids(t, idx));
	t3 = now_us();
	call_ok(&t->c, "/NetworkDriver.DeleteEndpoint", body_ids(t, idx));
	t4 = now_us();
	out[S_CYCLE] = t4 - t0;
	out[S_JL] = t3 - t1;
	out[S_CREATE] = t1 - t0;
	out[S_JOIN] = t2 - t1;
	out[S_LEAVE] = t3 - t2;
	out[S_DELETE] = t4 - t3;
	t4 = now_us();
	call_ok(&t->c, "/NetworkDriver.Leave", body_ids(t, old));
	t5 = now_us();
	call_ok(&t->c, "/NetworkDriver.Join", body_join(t, old));
	t6 = now_us();
	out[S_JL_OLD] = t6 - t4;
	out[S_LEAVE_OLD] = t5 - t4;
	out[S_JOIN_OLD] = t6 - t5;
}

static void cmd_cycles(struct target *ts, unsigned nt, unsigned n, unsigned idx, unsigned addr,
		       unsigned old)
{
	unsigned warm = 3, k, j, s;
	double *v = calloc((size_t)nt * S_N * n, sizeof(double)), sample[S_N];

	if (!v)
		die("out of memory");
#define V(t, s, k) v[((size_t)(t)*S_N + (s)) * n + (k)]
	for (k = 0; k < n + warm; k++)
		for (j = 0; j < nt; j++) {
			unsigned t = (j + k) % nt; /* rotate who goes first */

			one_cycle(&ts[t], idx, addr, old, sample);
			if (k < warm)
				continue;
			for (s = 0; s < S_N; s++)
				V(t, s, k - warm) = sample[s];
		}
	for (j = 0; j < nt; j++) {
		for (s = 0; s < S_N; s++) {
			printf("t%u_%s_med=%.1f\n", j, s_name[s], pct(&V(j, s, 0), n, 50));
			printf("t%u_%s_p90=%.1f\n", j, s_name[s], pct(&V(j, s, 0), n, 90));
		}
	}
#undef V
	free(v);
}

/* ---- the no-op call ---- */

static void print_lat(const char *key, double *v, unsigned n, int reconnects)
{
	double sum = 0;
	unsigned k;

	for (k = 0; k < n; k++)
		sum += v[k];
	printf("%s_n=%u\n%s_mean=%.1f\n", key, n, key, sum / n);
	printf("%s_med=%.1f\n", key, pct(v, n, 50));
	printf("%s_p99=%.1f\n%s_p999=%.1f\n%s_max=%.1f\n", key, pct(v, n, 99), key, pct(v, n, 99.9),
	       key, pct(v, n, 100));
	printf("%s_reconnects=%d\n", key, reconnects);
}

/*
 * N GetCapabilities calls on each connection (the plugin's, and the floor's when fl is not
 * NULL), in alternating blocks of 100, so that both see the same machine load.
 */
static void cmd_caps(struct conn *c, struct conn *fl, unsigned n, unsigned warm)
{
	double *v = calloc(n, sizeof(double)), *vf = calloc(n, sizeof(double));
	unsigned k, b;

	if (!v || !vf)
		die("out of memory");
	for (k = 0; k < warm; k++) {
		call_ok(c, "/NetworkDriver.GetCapabilities", NULL);
		if (fl)
			call_ok(fl, "/NetworkDriver.GetCapabilities", NULL);
	}
	for (k = 0; k < n; k += 100) {
		for (b = k; b < n && b < k + 100; b++) {
			double t0 = now_us();

			call_ok(c, "/NetworkDriver.GetCapabilities", NULL);
			v[b] = now_us() - t0;
		}
		for (b = k; fl && b < n && b < k + 100; b++) {
			double t0 = now_us();

			call_ok(fl, "/NetworkDriver.GetCapabilities", NULL);
			vf[b] = now_us() - t0;
		}
	}
	if (!strstr(c->body, "\"Scope\":\"local\""))
		die("GetCapabilities answered %s", c->body);
	print_lat("caps", v, n, c->reconnects);
	if (fl)
		print_lat("floor", vf, n, fl->reconnects);
	free(v);
	free(vf);
}

/* The floor: a thread that answers every request with a canned GetCapabilities reply. */
static void *floor_server(void *arg)
{
	static const char body_text[] = "{\"Scope\":\"local\",\"ConnectivityScope\":\"local\"}";
	int sfd = (int)(intptr_t)arg, rn;
	char buf[8192], resp[512];
	size_t len = 0;

	rn = snprintf(resp, sizeof(resp),
		      "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nContent-Type: "
		      "application/vnd.docker.plugins.v1+json\r\n\r\n%s",
		      sizeof(body_text) - 1, body_text);
	for (;;) {
		char *end;
		ssize_t n = read(sfd, buf + len, sizeof(buf) - 1 - len);

		if (n <= 0)
			return NULL;
		len += (size_t)n;
		buf[len] = '\0';
		/* GetCapabilities has no body: a request ends with its blank line. */
		while ((end = strstr(buf, "\r\n\r\n"))) {
			size_t used = (size_t)(end - buf) + 4;

			if (write(sfd, resp, (size_t)rn) != rn)
				return NULL;
			memmove(buf, buf + used, len - used + 1);
			len -= used;
		}
	}
}

static void floor_start(struct conn *c)
{
	pthread_t th;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		die("socketpair: %s", strerror(errno));
	c->fd = sv[0];
	if (pthread_create(&th, NULL, floor_server, (void *)(intptr_t)sv[1]))
		die("pthread_create failed");
	pthread_detach(th);
}

static unsigned num(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (!*s || *end || v > 10000000)
		die("not a count: %s", s);
	return (unsigned)v;
}

int main(int argc, char **argv)
{
	static struct target t1;
	const char *cmd;

	if (argc < 3)
		die("usage: sockcall SOCK call|caps|network|populate ... | - floor|cycles ...");
	cmd = argv[2];
	conn_init(&t1.c, strcmp(argv[1], "-") ? argv[1] : NULL);
	if (!strcmp(cmd, "call") && argc >= 4) {
		int st = call(&t1.c, argv[3], argc > 4 ? argv[4] : NULL);

		printf("%d %s\n", st, t1.c.body);
		return st == 200 ? 0 : 1;
	}
	if (!strcmp(cmd, "caps") && argc >= 4) {
		static struct conn fl;

		conn_init(&fl, NULL);
		floor_start(&fl);
		if (!t1.c.path)
			floor_start(&t1.c);
		cmd_caps(&t1.c, &fl, num(argv[3]), argc > 4 ? num(argv[4]) : 1000);
		return 0;
	}
	if (!strcmp(cmd, "network") && argc == 6) {
		struct target t;
		uint32_t pool;

		parse_pool(argv[4], &t);
		pool = t.pool & (~0u << (32 - t.prefix));
		snprintf(jb, sizeof(jb),
			 "{\"NetworkID\":\"%s\",\"Options\":{\"com.docker.network.enable_ipv6\":"
			 "false,"
			 "\"com.docker.network.generic\":{\"tier\":\"%s\"}},\"IPv4Data\":[{"
			 "\"AddressSpace\":\"LocalDefault\",\"Gateway\":\"%s\",\"Pool\":\"%u.%u.%u."
			 "%u/%d\"}],"
			 "\"IPv6Data\":[]}",
			 argv[3], argv[5], argv[4], pool >> 24, (pool >> 16) & 255,
			 (pool >> 8) & 255, pool & 255, t.prefix);
		call_ok(&t1.c, "/NetworkDriver.CreateNetwork", jb);
		return 0;
	}
	if (!strcmp(cmd, "populate") && (argc == 7 || argc == 8)) {
		t1.net = argv[3];
		parse_pool(argv[4], &t1);
		cmd_populate(&t1, num(argv[5]), num(argv[6]), argc == 8 ? num(argv[7]) : 0);
		return 0;
	}
	if (!strcmp(cmd, "publish") && (argc == 8 || argc == 9)) {
		t1.net = argv[3];
		parse_pool(argv[4], &t1);
		cmd_publish(&t1, num(argv[5]), num(argv[6]), num(argv[7]),
			    argc == 9 ? num(argv[8]) : 0);
		return 0;
	}
	if (!strcmp(cmd, "pec") && argc == 9) {
		t1.net = argv[3];
		parse_pool(argv[4], &t1);
		cmd_pec(&t1, num(argv[5]), num(argv[6]), num(argv[7]), num(argv[8]));
		return 0;
	}
	if (!strcmp(cmd, "waitcaps") && argc == 5) {
		cmd_waitcaps(&t1.c, strtod(argv[3], NULL), strtod(argv[4], NULL));
		return 0;
	}
	if (!strcmp(cmd, "cycles") && argc >= 10 && (argc - 7) % 3 == 0) {
		unsigned nt = (unsigned)(argc - 7) / 3, j;
		struct target *ts = calloc(nt, sizeof(*ts));

		if (!ts)
			die("out of memory");
		for (j = 0; j < nt; j++) {
			conn_init(&ts[j].c, argv[7 + 3 * j]);
			ts[j].net = argv[8 + 3 * j];
			parse_pool(argv[9 + 3 * j], &ts[j]);
		}
		cmd_cycles(ts, nt, num(argv[3]), num(argv[4]), num(argv[5]), num(argv[6]));
		return 0;
	}
	die("bad arguments for %s", cmd);
}
