/*
 * `tiernet graph`: the daemon's side.  The picture is policy/why_graph.c's; this file adds
 * what only the driver knows (each tier's live networks and endpoints) and the two matrices
 * whose difference is drawn red: what tiernet compiled and applied, and what the rules read
 * back from the kernel enforce.  IPv4's: IPv6 has the same edges from the same policy.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/internal.h"
#include "driver/why.h"
#include "lib/log.h"
#include "policy/why.h"

static struct why_graph_tier *tier_stats(void)
{
	struct why_graph_tier *st = calloc(drv.policy->ntiers + 1, sizeof(*st));
	const struct drv_net *n;
	int t;

	for (n = drv.nets; st && n; n = n->next) {
		t = policy_tier_find(drv.policy, n->tier);
		if (t < 0)
			continue;
		st[t].nets++;
		st[t].eps += n->neps;
	}
	return st;
}

/* Renders under drv.lock. */
static int graph_locked(bool mermaid, char **text, struct err *err)
{
	struct policy_matrix d = { 0 }, e = { 0 };
	struct why_graph_tier *st = tier_stats();
	struct policy_net *pn;
	struct rules_set rs;
	bool have_d = false, have_e = false;
	size_t npn;
	int r;

	rules_init(&rs);
	pn = drv_fw_nets(drv.policy, &npn);
	if (!st || !pn) {
		r = err_set(err, ENOMEM, "tiernet: out of memory");
		goto out;
	}
	if (npn && drv.fw_applied)
		have_d = !policy_matrix(drv.policy, pn, npn, &drv.fw_rules, &d);
	if (npn && xt_read(&rs, err) == 0)
		have_e = !policy_matrix(drv.policy, pn, npn, &rs, &e);
	else if (npn)
		log_warnx("graph: %s", err->msg);
	r = why_graph(drv.policy, st, have_d && have_e ? &d : NULL, have_d && have_e ? &e : NULL,
		      mermaid, text);
	if (r)
		err_set(err, -r, "tiernet: out of memory");
out:
	if (have_d)
		policy_matrix_free(&d);
	if (have_e)
		policy_matrix_free(&e);
	rules_clear(&rs);
	free(pn);
	free(st);
	return r;
}

int driver_graph(const char *format, char **text, struct err *err)
{
	int r;

	*text = NULL;
	if (strcmp(format, "dot") && strcmp(format, "mermaid"))
		return err_set(err, EINVAL,
			       "tiernet: --format \"%.32s\" is not one of dot, mermaid", format);
	pthread_mutex_lock(&drv.lock);
	r = graph_locked(format[0] == 'm', text, err);
	pthread_mutex_unlock(&drv.lock);
	return r;
}
