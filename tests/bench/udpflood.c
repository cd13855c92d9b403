/*
 * udpflood: small-packet UDP rate between two containers, built static so that it runs in
 * the busybox image through a bind mount.
 *
 *   udpflood recv PORT SECONDS [WAIT [spin]]  waits up to WAIT s (default 20) for the first
 *                                         datagram, then counts datagrams until the sender
 *                                         stops (300 ms of silence) or SECONDS passed, and
 *                                         prints "recv_pps=N" (count / first-to-last time);
 *                                         with spin it polls without ever sleeping
 *   udpflood send ADDR PORT SECONDS [SIZE [RATE]]  sends SIZE-byte (default 64) datagrams
 *                                         as fast as it can for SECONDS (or RATE a second:
 *                                         a steady flood, e.g. denied traffic), prints
 *                                         "send_pps=N"
 *
 * Both sides batch (sendmmsg/recvmmsg, 64 datagrams a call) so that the system-call cost is
 * small against the per-packet cost of the path between the containers, which is what is
 * measured: on a veth/bridge path the forwarding runs in the sender's softirq, on the
 * sender's CPU, so pin sender and receiver to different CPUs.  Each side raises its own
 * priority to nice -10 where allowed (CAP_SYS_NICE), so that on a shared machine the
 * other programs' load disturbs the measurement less; the receiver asks for a 4 MiB socket
 * buffer (CAP_NET_ADMIN), so that it drops less while it is not scheduled.
 *
 * Why spin: a receiver that sleeps whenever it has emptied its queue must be woken for the
 * next datagram, and the sender's CPU pays for that (in sock_def_readable, on this VM a
 * hypercall of a few microseconds).  A slightly slower path lets the receiver sleep more
 * often, so the rate of a sleeping receiver amplifies small differences of the path; a
 * spinning one never sleeps, and the sender's rate is the path's cost alone.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int do_recv(int port, double secs, double wait, bool spin)
{
	static char bufs[BATCH][2048];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	/* One socket for both families: an IPv6 one that also takes IPv4 (v4-mapped). */
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6,
				   .sin6_port = htons((uint16_t)port),
				   .sin6_addr = IN6ADDR_ANY_INIT };
	struct timeval tv = { .tv_sec = 0, .tv_usec = 50000 };
	int fd = socket(AF_INET6, SOCK_DGRAM, 0), i, sz = 4 << 20, off = 0;
	unsigned long long count = 0;
	double first = 0, last, t0 = now(), t;

	if (fd >= 0)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("udpflood recv: bind");
		return 1;
	}
	/* A larger buffer where allowed (SO_RCVBUFFORCE needs CAP_NET_ADMIN). */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (i = 0; i < BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = sizeof(bufs[i]);
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	fprintf(stderr, "udpflood: listening on %d\n", port);
	/* The first datagram starts the clock; it and those queued with it are not counted. */
	for (;;) {
		int n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);

		if (n > 0) {
			first = last = now();
			break;
		}
		if (now() - t0 > wait) {
			printf("recv_count=0\nrecv_pps=0\n");
			fprintf(stderr, "udpflood: nothing received in %.0f s\n", wait);
			return 2;
		}
	}
	/*
	 * Count until the sender stops (nothing for 300 ms) or SECONDS have passed, and divide
	 * by the time from the first to the last datagram: the sender stops first, so that it
	 * never sends into a closed port and its CPU time per datagram is the delivered path's.
	 */
	while ((t = now()) - first < secs && t - last < 0.3) {
		int n = recvmmsg(fd, msgs, BATCH, spin ? MSG_DONTWAIT : MSG_WAITFORONE, NULL);

		if (n > 0) {
			count += (unsigned long long)n;
			last = now();
		}
	}
	printf("recv_count=%llu\nrecv_secs=%.3f\nrecv_pps=%.0f\n", count, last - first,
	       last > first ? (double)count / (last - first) : 0);
	return 0;
}

static int do_send(const char *addr, int port, double secs, int size, double rate)
{
	static char payload[1500];
	struct mmsghdr msgs[BATCH];
	struct iovec iov = { .iov_base = payload, .iov_len = (size_t)size };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
	bool v6 = strchr(addr, ':') != NULL;
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0), i;
	unsigned long long sent = 0, errs = 0;
	double start, end, cpu;
	struct rusage ru;

	if (size < 1 || size > (int)sizeof(payload) ||
	    inet_pton(v6 ? AF_INET6 : AF_INET, addr,
		      v6 ? (void *)&sa6.sin6_addr : (void *)&sa.sin_addr) != 1) {
		fprintf(stderr, "udpflood send: bad address or size\n");
		return 1;
	}
	if (fd < 0 || (v6 ? connect(fd, (struct sockaddr *)&sa6, sizeof(sa6))
			  : connect(fd, (struct sockaddr *)&sa, sizeof(sa))) < 0) {
		perror("udpflood send: connect");
		return 1;
	}
	memset(payload, 'x', sizeof(payload));
	for (i = 0; i < BATCH; i++) {
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	start = now();
	end = start + secs;
	while (now() < end) {
		int n;

		/* paced: a batch once the rate allows it, sleeping meanwhile (a flood that
		 * spins would take a CPU from what is measured) */
		if (rate > 0 && (double)sent > (now() - start) * rate) {
			double wait = (double)sent / rate - (now() - start);
			struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)(wait * 1e9) };

			if (wait > 0 && wait < 1)
				nanosleep(&ts, NULL);
			continue;
		}
		n = sendmmsg(fd, msgs, BATCH, 0);

		if (n > 0)
			sent += (unsigned long long)n;
		else
			errs++; /* ECONNREFUSED before the receiver binds, ENOBUFS: go on */
	}
	/*
	 * The CPU time this process used, per datagram.  Without IRQ time accounting the
	 * softirq work done on the way out of this process's system calls (the whole veth,
	 * bridge, netfilter and routing path, up to the receiver's socket) is charged to it;
	 * what the kernel deferred to ksoftirqd is not (run.sh adds that).
	 */
	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	      (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	printf("send_count=%llu\nsend_pps=%.0f\nsend_errors=%llu\nsend_cpu_s=%.3f\n"
	       "send_cpu_ns_per_pkt=%.0f\n",
	       sent, (double)sent / (now() - start), errs, cpu,
	       sent ? cpu * 1e9 / (double)sent : 0);
	return 0;
}

int main(int argc, char **argv)
{
	int nice_ok = setpriority(PRIO_PROCESS, 0, -10) == 0;

	fprintf(stderr, "udpflood: %s\n", nice_ok ? "nice -10" : "nice unchanged");
	if (argc >= 4 && !strcmp(argv[1], "recv"))
		return do_recv(atoi(argv[2]), atof(argv[3]), argc > 4 ? atof(argv[4]) : 20,
			       argc > 5 && !strcmp(argv[5], "spin"));
	if (argc >= 5 && !strcmp(argv[1], "send"))
		return do_send(argv[2], atoi(argv[3]), atof(argv[4]), argc > 5 ? atoi(argv[5]) : 64,
			       argc > 6 ? atof(argv[6]) : 0);
	fprintf(stderr, "usage: udpflood recv PORT SECONDS [WAIT [spin]] | send ADDR PORT SECONDS "
			"[SIZE [RATE]]\n");
	return 1;
}
