/*
 * Bench tool for names across tiers, run inside a container (static, so a busybox image
 * runs it).  lat SERVER NAME N: N queries for NAME (type A) one after another, each waiting
 * for its answer (1 s at most); prints "MEDIAN_US P99_US ANSWERED".  flood SERVER NAME SECS:
 * queries as fast as the socket takes them, answers ignored; prints the number sent.
 */
#include <arpa/inet.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static size_t build(uint8_t *q, const char *name, uint16_t id)
{
	size_t n = 12, len;
	const char *p = name, *dot;

	memset(q, 0, 12);
	q[0] = (uint8_t)(id >> 8), q[1] = (uint8_t)id;
	q[2] = 0x01; /* RD */
	q[5] = 1;    /* one question */
	while (*p) {
		dot = strchr(p, '.');
		len = dot ? (size_t)(dot - p) : strlen(p);
		q[n++] = (uint8_t)len;
		memcpy(q + n, p, len);
		n += len;
		p += len + (dot ? 1 : 0);
	}
	q[n++] = 0;
	q[n++] = 0, q[n++] = 1; /* A */
	q[n++] = 0, q[n++] = 1; /* IN */
	return n;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(53) };
	uint8_t q[512], r[4096];
	int fd = socket(AF_INET, SOCK_DGRAM, 0), n, i, ok = 0;
	double *t, t0, end;
	size_t len;

	if (argc != 5 || inet_pton(AF_INET, argv[2], &sa.sin_addr) != 1 || fd < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "usage: dnsbench lat|flood SERVER NAME N|SECS\n");
		return 2;
	}
	n = atoi(argv[4]);
	if (!strcmp(argv[1], "flood")) {
		len = build(q, argv[3], 1);
		end = now_us() + n * 1e6;
		for (i = 0; now_us() < end; i++) {
			q[0] = (uint8_t)(i >> 8), q[1] = (uint8_t)i;
			send(fd, q, len, MSG_DONTWAIT);
			while (recv(fd, r, sizeof(r), MSG_DONTWAIT) > 0)
				;
		}
		printf("%d\n", i);
		return 0;
	}
	t = calloc((size_t)n, sizeof(*t));
	for (i = 0; i < n; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint16_t id = (uint16_t)(rand() & 0xffff);

		len = build(q, argv[3], id);
		t0 = now_us();
		send(fd, q, len, 0);
		t[i] = 1e6;
		while (poll(&p, 1, 1000) == 1) {
			if (recv(fd, r, sizeof(r), 0) >= 12 && (r[0] << 8 | r[1]) == id) {
				t[i] = now_us() - t0;
				ok++;
				break;
			}
		}
	}
	qsort(t, (size_t)n, sizeof(*t), cmp);
	printf("%.0f %.0f %d\n", t[n / 2], t[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1], ok);
	return 0;
}
