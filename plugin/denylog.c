/*
 * Reading the kernel's NFLOG records (policy/logrules.c's rules) with libnetfilter_log, in
 * a thread of its own: poll on the netlink socket and on a pipe that says stop.
 *
 * The group is bound once at start-up; the rules send the first DENYREC_COPY bytes of a
 * packet (its headers), each record at once (queue threshold 1).  A flood of denied
 * packets reaches this thread as POLICY_NFLOG_RATE records a second per rule at most.  When
 * the socket overruns anyway (ENOBUFS), the records are lost and counted, never waited for.
 *
 * Every handle is released on every path (LeakSanitizer once found the group's 40 bytes
 * left behind on a stop path): denylog_stop unbinds the group and closes the handle, and a
 * start that fails half way releases what it took.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libnetfilter_log/libnetfilter_log.h>
#include <linux/netfilter/nfnetlink_log.h>

#include "lib/log.h"
#include "plugin/plugin.h"
#include "policy/policy.h"

static struct {
	struct nflog_handle *h;
	struct nflog_g_handle *gh;
	int stop[2]; /* a byte written to stop[1] ends the thread */
	pthread_t thread;
	bool running;
	atomic_ullong lost;
} dl = { .stop = { -1, -1 } };

static int on_record(struct nflog_g_handle *gh, struct nfgenmsg *msg, struct nflog_data *nfd,
		     void *arg)
{
	struct driver_denial d;
	char *pkt = NULL;
	int len = nflog_get_payload(nfd, &pkt);

	(void)gh, (void)msg, (void)arg;
	if (len > 0 &&
	    !denyrec_decode(nflog_get_prefix(nfd), (const unsigned char *)pkt, (size_t)len, &d))
		denials_add(&d);
	return 0;
}

static void *reader(void *arg)
{
	struct pollfd p[2] = { { .fd = nflog_fd(dl.h), .events = POLLIN },
			       { .fd = dl.stop[0], .events = POLLIN } };
	char buf[8192] __attribute__((aligned));
	ssize_t n;

	(void)arg;
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("the denied-flow log stops: poll");
			break;
		}
		if (p[1].revents)
			break;
		n = recv(p[0].fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == ENOBUFS) {
			dl.lost++;
			continue;
		}
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			log_warn("the denied-flow log stops: reading NFLOG group %u",
				 POLICY_NFLOG_GROUP);
			break;
		}
		nflog_handle_packet(dl.h, buf, (int)n);
	}
	return NULL;
}

/* Releases whatever denylog_start took, in reverse. */
static void release(void)
{
	if (dl.gh)
		nflog_unbind_group(dl.gh);
	dl.gh = NULL;
	if (dl.h)
		nflog_close(dl.h);
	dl.h = NULL;
	if (dl.stop[0] >= 0)
		close(dl.stop[0]);
	if (dl.stop[1] >= 0)
		close(dl.stop[1]);
	dl.stop[0] = dl.stop[1] = -1;
}

int denylog_start(void)
{
	const char *what = "open a netfilter_log socket for";
	int r;

	dl.h = nflog_open();
	if (!dl.h)
		goto fail;
	what = "bind";
	dl.gh = nflog_bind_group(dl.h, POLICY_NFLOG_GROUP);
	if (!dl.gh)
		goto fail;
	what = "set the copy mode of";
	if (nflog_set_mode(dl.gh, NFULNL_COPY_PACKET, DENYREC_COPY) < 0)
		goto fail;
	/* each record at once (the kernel batches 100 or 1 s by default): within a second */
	what = "set the queue threshold of";
	if (nflog_set_qthresh(dl.gh, 1) < 0)
		goto fail;
	nflog_set_timeout(dl.gh, 10);
	nflog_callback_register(dl.gh, on_record, NULL);
	what = "make a pipe for";
	if (pipe2(dl.stop, O_CLOEXEC) < 0)
		goto fail;
	what = "start a thread for";
	r = pthread_create(&dl.thread, NULL, reader, NULL);
	if (r) {
		errno = r;
		goto fail;
	}
	dl.running = true;
	return 0;
fail:
	r = errno ? -errno : -EIO;
	log_warn("the denied-flow log (tiernet log) is off: cannot %s NFLOG group %u (is another "
		 "program, such as ulogd, bound to it?)",
		 what, POLICY_NFLOG_GROUP);
	release();
	return r;
}

void denylog_stop(void)
{
	if (dl.running) {
		if (write(dl.stop[1], "x", 1) < 0)
			log_warn("cannot tell the denied-flow log to stop");
		pthread_join(dl.thread, NULL);
		dl.running = false;
	}
	release();
	denials_reset();
}

bool denylog_listening(void)
{
	return dl.running;
}

uint64_t denylog_lost(void)
{
	return dl.lost;
}
