/*
 * The resolver: one thread, one UDP socket on every address (port DNS_PORT_DEFAULT), where
 * nat TIERNET-DNS sends the queries containers' embedded resolvers forward.  For each query:
 * the asking tier from the source address (a tiernet subnet, else dropped), the rate limit,
 * then tiernet's answer (nametab.c), or the upstream's: the query goes to its original
 * destination (conntrack) from a socket of its own, and the answer is relayed from the
 * address the query arrived at, so that conntrack turns it back into the upstream's.
 * Internal tiers never reach an upstream: REFUSED at once instead of a 5-second timeout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dns/dns.h"
#include "driver/driver.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/wire.h"

#define MSG_MAX 4096 /* a query; answers relayed may be up to 64 KiB */

struct pending {
	int fd; /* -1: free */
	uint16_t id;
	uint64_t deadline_ms;
	struct sockaddr_in client, local;
};

static struct {
	pthread_t thread;
	int sock, ep, stop_fd;
	uint16_t port;
	struct driver_dns_view view;
	uint64_t gen;
	struct origdst *ct;
	struct ratelimit rl;
	struct pending pend[DNS_PENDING_MAX];
	_Atomic uint64_t answered, nxdomain, forwarded, refused, limited, failed;
	uint8_t big[65536];
} rs = { .sock = -1, .ep = -1, .stop_fd = -1 };

void resolver_stats(struct resolver_stats *s)
{
	s->answered = rs.answered;
	s->nxdomain = rs.nxdomain;
	s->forwarded = rs.forwarded;
	s->refused = rs.refused;
	s->limited = rs.limited;
	s->failed = rs.failed;
}

static int view_net_tier(const void *ctx, const char *net_id)
{
	const struct driver_dns_view *v = ctx;
	size_t i;

	for (i = 0; i < v->nnets; i++)
		if (!strcmp(v->nets[i].id, net_id))
			return v->nets[i].tier;
	return -1;
}

/* The network the source address is in, from a view no older than the driver's state. */
static const struct driver_dns_net *net_of(uint32_t src)
{
	uint64_t gen = driver_generation();
	size_t i;

	if (gen != rs.gen) {
		driver_dns_view_free(&rs.view);
		if (driver_dns_view(&rs.view) == 0)
			rs.gen = gen;
	}
	for (i = 0; i < rs.view.nnets; i++)
		if ((src & rs.view.nets[i].mask) == rs.view.nets[i].pool)
			return &rs.view.nets[i];
	return NULL;
}

/* Sends buf from local (the address the query arrived at) to client. */
static void reply(const uint8_t *buf, size_t len, const struct sockaddr_in *client,
		  const struct sockaddr_in *local)
{
	char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))] = { 0 };
	struct sockaddr_in to = *client;
	uint8_t *data;
	struct iovec iov;
	struct msghdr mh = { .msg_name = &to,
			     .msg_namelen = sizeof(*client),
			     .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	struct in_pktinfo pi = { .ipi_spec_dst = local->sin_addr };

	memcpy(&data, &buf, sizeof(data)); /* sendmsg does not write through iov_base */
	iov.iov_base = data;
	iov.iov_len = len;
	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(pi));
	memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	if (sendmsg(rs.sock, &mh, MSG_DONTWAIT) < 0)
		rs.failed++;
}

static void answer(const uint8_t *q, size_t len, int rcode, const struct nametab_answer *a,
		   const struct sockaddr_in *client, const struct sockaddr_in *local)
{
	uint8_t out[MSG_MAX];
	int n = dnsmsg_answer(q, len, rcode, a, out, sizeof(out));

	if (n < 0) {
		rs.failed++;
		return;
	}
	reply(out, (size_t)n, client, local);
}

static struct pending *pending_free(void)
{
	size_t i;

	for (i = 0; i < DNS_PENDING_MAX; i++)
		if (rs.pend[i].fd < 0)
			return &rs.pend[i];
	return NULL;
}

static void pending_close(struct pending *p)
{
	epoll_ctl(rs.ep, EPOLL_CTL_DEL, p->fd, NULL);
	close(p->fd);
	p->fd = -1;
}

/* Sends the query to its original server from a socket of its own. */
static void forward(const uint8_t *q, size_t len, const struct sockaddr_in *client,
		    const struct sockaddr_in *local)
{
	struct sockaddr_in orig;
	struct epoll_event ev = { .events = EPOLLIN };
	struct pending *p = pending_free();
	int fd = -1;

	if (!p || len < 2 || origdst_lookup(rs.ct, client, local, &orig) < 0 ||
	    orig.sin_addr.s_addr == local->sin_addr.s_addr) {
		rs.failed++;
		answer(q, len, DNS_RCODE_SERVFAIL, NULL, client, local);
		return;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&orig, sizeof(orig)) < 0 ||
	    send(fd, q, len, 0) < 0) {
		if (fd >= 0)
			close(fd);
		rs.failed++;
		answer(q, len, DNS_RCODE_SERVFAIL, NULL, client, local);
		return;
	}
	p->fd = fd;
	p->id = wire_be16(q);
	p->deadline_ms = (uint64_t)clock_mono_ms() + DNS_FORWARD_MS;
	p->client = *client;
	p->local = *local;
	ev.data.ptr = p;
	if (epoll_ctl(rs.ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		pending_close(p);
		rs.failed++;
		return;
	}
	rs.forwarded++;
}

/* The upstream answered: relay the answer when it is the one for this query. */
static void relay(struct pending *p)
{
	ssize_t n = recv(p->fd, rs.big, sizeof(rs.big), 0);

	if (n >= 12 && wire_be16(rs.big) == p->id)
		reply(rs.big, (size_t)n, &p->client, &p->local);
	else if (n >= 0)
		return; /* not the answer: keep waiting (a spoofed or stray datagram) */
	pending_close(p);
}

static int family_of(uint16_t qtype)
{
	if (qtype == DNS_TYPE_A)
		return AF_INET;
	if (qtype == DNS_TYPE_AAAA)
		return AF_INET6;
	return 0;
}

static void handle(const uint8_t *q, size_t len, const struct sockaddr_in *client,
		   const struct sockaddr_in *local)
{
	const struct driver_dns_net *net = net_of(client->sin_addr.s_addr);
	struct nametab_view nv = { .ntiers = rs.view.ntiers,
				   .tiers = (const char(*)[DNS_TIER_NAME_MAX])rs.view.tiers,
				   .reach = rs.view.reach,
				   .net_tier = view_net_tier,
				   .ctx = &rs.view };
	struct nametab_answer a;
	struct dnsmsg_query dq;
	enum nametab_verdict v = NAMETAB_FORWARD;
	struct nametab *t;

	if (!net)
		return; /* not from a tier: nobody tiernet answers */
	if (!ratelimit_take(&rs.rl, client->sin_addr.s_addr, (uint64_t)clock_mono_ms())) {
		rs.limited++;
		return;
	}
	if (dnsmsg_parse(q, len, &dq) == 0) {
		t = dns_table_get();
		v = nametab_resolve(t, &nv, net->tier, dq.qname, family_of(dq.qtype), &a);
		dns_table_put(t);
	}
	if (v == NAMETAB_ANSWER) {
		rs.answered++;
		answer(q, len, DNS_RCODE_NOERROR, &a, client, local);
	} else if (v == NAMETAB_NXDOMAIN) {
		rs.nxdomain++;
		answer(q, len, DNS_RCODE_NXDOMAIN, NULL, client, local);
	} else if (net->internal) {
		rs.refused++;
		answer(q, len, DNS_RCODE_REFUSED, NULL, client, local);
	} else {
		forward(q, len, client, local);
	}
}

/* Reads every query waiting on the socket. */
static void drain(void)
{
	uint8_t buf[MSG_MAX];
	char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))];
	struct sockaddr_in client, local = { .sin_family = AF_INET };
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	ssize_t n;

	for (;;) {
		mh.msg_name = &client;
		mh.msg_namelen = sizeof(client);
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		n = recvmsg(rs.sock, &mh, MSG_DONTWAIT);
		if (n < 0)
			return;
		local.sin_addr.s_addr = 0;
		for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
				struct in_pktinfo pi;

				memcpy(&pi, CMSG_DATA(c), sizeof(pi));
				local.sin_addr = pi.ipi_addr;
			}
		local.sin_port = htons(rs.port);
		if (local.sin_addr.s_addr && !(mh.msg_flags & MSG_TRUNC))
			handle(buf, (size_t)n, &client, &local);
	}
}

static void expire(void)
{
	uint64_t now = (uint64_t)clock_mono_ms();
	size_t i;

	for (i = 0; i < DNS_PENDING_MAX; i++)
		if (rs.pend[i].fd >= 0 && rs.pend[i].deadline_ms < now)
			pending_close(&rs.pend[i]);
}

static void *run(void *arg)
{
	struct epoll_event ev[64];
	int i, n;

	(void)arg;
	for (;;) {
		n = epoll_wait(rs.ep, ev, 64, 500);
		for (i = 0; i < n; i++) {
			if (ev[i].data.ptr == &rs.sock)
				drain();
			else if (ev[i].data.ptr == &rs.stop_fd)
				return NULL;
			else
				relay(ev[i].data.ptr);
		}
		expire();
	}
}

static int open_socket(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, size = 4 << 20;

	rs.sock = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (rs.sock < 0)
		return -errno;
	setsockopt(rs.sock, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(rs.sock, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0 ||
	    bind(rs.sock, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	return 0;
}

int resolver_start(uint16_t port)
{
	struct epoll_event e1 = { .events = EPOLLIN, .data.ptr = &rs.sock };
	struct epoll_event e2 = { .events = EPOLLIN, .data.ptr = &rs.stop_fd };
	size_t i;
	int r;

	for (i = 0; i < DNS_PENDING_MAX; i++)
		rs.pend[i].fd = -1;
	rs.port = port;
	r = open_socket(port);
	if (r < 0) {
		log_warnx("names: cannot listen on UDP port %u: %s; free the port or give "
			  "another with --names-port",
			  port, strerror(-r));
		goto fail;
	}
	rs.ct = origdst_open();
	rs.ep = epoll_create1(EPOLL_CLOEXEC);
	rs.stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!rs.ct || rs.ep < 0 || rs.stop_fd < 0 ||
	    epoll_ctl(rs.ep, EPOLL_CTL_ADD, rs.sock, &e1) < 0 ||
	    epoll_ctl(rs.ep, EPOLL_CTL_ADD, rs.stop_fd, &e2) < 0) {
		r = -errno ? -errno : -ENOMEM;
		log_warn("names: cannot set up the resolver");
		goto fail;
	}
	r = -pthread_create(&rs.thread, NULL, run, NULL);
	if (r < 0) {
		log_warnx("names: cannot start the resolver thread: %s", strerror(-r));
		goto fail;
	}
	return 0;
fail:
	resolver_stop();
	return r;
}

void resolver_stop(void)
{
	uint64_t one = 1;
	size_t i;

	if (rs.stop_fd >= 0 && rs.thread) {
		if (write(rs.stop_fd, &one, sizeof(one)) == sizeof(one))
			pthread_join(rs.thread, NULL);
		rs.thread = 0;
	}
	for (i = 0; i < DNS_PENDING_MAX; i++)
		if (rs.pend[i].fd >= 0)
			pending_close(&rs.pend[i]);
	if (rs.sock >= 0)
		close(rs.sock);
	if (rs.ep >= 0)
		close(rs.ep);
	if (rs.stop_fd >= 0)
		close(rs.stop_fd);
	origdst_close(rs.ct);
	rs.ct = NULL;
	rs.sock = rs.ep = rs.stop_fd = -1;
	driver_dns_view_free(&rs.view);
	rs.gen = 0;
}
