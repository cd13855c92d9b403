/* Small helpers of the x_tables code: see xt.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/names.h"
#include "policy/xt.h"

int names_add(struct names *l, const char *name)
{
	xt_chainlabel *p;
	size_t ncap;

	if (l->n == l->cap) {
		ncap = l->cap ? l->cap * 2 : 16;
		p = reallocarray(l->v, ncap, sizeof(*p));
		if (!p)
			return -ENOMEM;
		l->v = p;
		l->cap = ncap;
	}
	snprintf(l->v[l->n++], sizeof(xt_chainlabel), "%s", name);
	return 0;
}

bool names_has(const struct names *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], name))
			return true;
	return false;
}

static int names_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

void names_sort(struct names *l)
{
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), names_cmp);
}

void names_free(struct names *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

bool xt_proc_has(const char *path, const char *name)
{
	char line[128];
	bool found = false;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		found = !strcmp(line, name);
	}
	fclose(f);
	return found;
}

/* Tables are instantiated per network namespace on first use. */
bool xt_table_present(enum rules_table t)
{
	return xt_proc_has("/proc/net/ip_tables_names", rules_table_name(t));
}

bool xt_is_tiernet(const char *chain)
{
	return !strncmp(chain, TN_CHAIN_PREFIX, strlen(TN_CHAIN_PREFIX));
}

int xt_errno(void)
{
	return errno ? -errno : -EPROTO;
}

int xt_fail(struct err *e, const char *fmt, ...)
{
	const char *why = iptc_strerror(errno);
	int r = xt_errno();
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	n = strlen(e->msg);
	snprintf(e->msg + n, sizeof(e->msg) - n, ": %s", why);
	return r;
}

int xt_list_chains(struct xtc_handle *h, struct names *builtin, struct names *ours)
{
	const char *c;
	int r = 0;

	for (c = iptc_first_chain(h); c && !r; c = iptc_next_chain(h)) {
		if (iptc_builtin(c, h))
			r = names_add(builtin, c);
		else if (xt_is_tiernet(c))
			r = names_add(ours, c);
	}
	if (!r)
		names_sort(ours);
	return r;
}
