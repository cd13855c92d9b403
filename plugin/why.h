/*
 * Asking why: `tiernet explain`, `tiernet graph`, `tiernet check --diff` (why_cmd.c, the
 * commands), their admin routes in the daemon (why_routes.c), and the small client both
 * they and nothing else use to talk to the daemon's socket (client.c).
 */
#ifndef TIERNET_PLUGIN_WHY_H
#define TIERNET_PLUGIN_WHY_H

#include <stddef.h>
#include <stdio.h>

#include "lib/err.h"

/* client.c */
/*
 * POSTs body (JSON) to path on the daemon's Unix socket and returns its answer's body in a
 * malloc'ed, NUL-terminated *reply.  An {"Err": "..."} answer is -EPROTO with that sentence
 * in err; a daemon that cannot be reached -ECONNREFUSED (or the connect's errno) with a
 * sentence naming the socket.  Returns 0 or -errno.
 */
int client_call(const char *socket, const char *path, const char *body, char **reply,
		struct err *err);

/* why_routes.c: admin route handlers, 0 with a malloc'ed JSON *reply, or -errno with err */
int why_route_explain(const char *body, size_t len, char **reply, struct err *err);
int why_route_graph(const char *body, size_t len, char **reply, struct err *err);
int why_route_diff(const char *body, size_t len, char **reply, struct err *err);

/* why_cmd.c: the commands; each returns the exit status. */
int explain_main(int argc, char **argv); /* 0 allowed, 1 denied, 2 error */
void explain_usage(FILE *f);
int graph_main(int argc, char **argv); /* 0, or 2 error */
void graph_usage(FILE *f);
/* `tiernet check --diff FILE`: 0 no change, 1 changes, 2 error. */
int diff_main(int argc, char **argv);

#endif
