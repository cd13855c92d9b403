/*
 * driver/why.c, driver/graph.c, driver/diff.c: the daemon's side of `tiernet explain`,
 * `tiernet graph` and `tiernet check --diff`.  Each answers from the policy in force, the
 * live networks and endpoints, and the rules read back from the kernel, under the driver's
 * lock.  Nothing here exposes a libiptc or cJSON type.
 */
#ifndef TIERNET_DRIVER_WHY_H
#define TIERNET_DRIVER_WHY_H

#include <stddef.h>
#include <stdio.h>

#include "lib/err.h"

struct rules_set;

/*
 * Explains a new connection from `from` to `to` (tier names, "world", "host", or IPv4/IPv6
 * addresses of endpoints or of a network's gateway), port "tcp/8080"-style or NULL for
 * any.  Returns 0 with a malloc'ed JSON object in *json (verdict, reason, deciding line, fix,
 * declared and enforced verdicts), or -EINVAL/-ENOENT/-ENOMEM with one sentence in err.
 */
int driver_explain(const char *from, const char *to, const char *port, char **json,
		   struct err *err);

/*
 * The tier graph as Graphviz DOT (format "dot") or Mermaid ("mermaid"), in a malloc'ed
 * *text.  Returns 0, -EINVAL (unknown format) or -ENOMEM with one sentence in err.
 */
int driver_graph(const char *format, char **text, struct err *err);

/*
 * What the policy text (a file called name) would change against the policy in force: a
 * malloc'ed JSON object in *json ({"changes": [...]}), or -EINVAL with the file's errors
 * (file:line:column) in err.
 */
int driver_diff(const char *name, const char *text, char **json, struct err *err);

/*
 * The policy file in force as its messages name it ("/etc/tiernet/tiernet.conf", or
 * "<embedded default>"), from what the state directory keeps, into buf.
 */
void driver_policy_name(char *buf, size_t len);

/*
 * counters.c, for status.c (drv.lock held): adds "counters" to the status object o (allowed
 * per allow line, denied per tier pair) from the rules read back (either may be NULL), and
 * prints that part of the text report.
 */
struct cJSON;
void drv_counters_json(struct cJSON *o, const struct rules_set *rs, const struct rules_set *rs6);
void drv_counters_text(FILE *f, const struct cJSON *o);

#endif
