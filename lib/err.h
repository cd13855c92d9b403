/*
 * err.c: the one way every layer reports a failure to its caller.  An action returns
 * -errno and fills a struct err with one sentence for the user ("tiernet: ..."), which
 * plugin/ sends to dockerd verbatim and the daemon logs.  A leaf module, like log.c.
 */
#ifndef TIERNET_ERR_H
#define TIERNET_ERR_H

struct err {
	char msg[512];
};

/* Formats the sentence into e (printf-like) and returns -err_no. */
int err_set(struct err *e, int err_no, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/*
 * Puts the formatted text and ": " in front of what e says already (a lower layer's
 * detail, under the sentence of the layer that called it) and returns -err_no.
 */
int err_wrap(struct err *e, int err_no, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
