/*
 * Where the policy comes from.  `--config FILE` names it, and then it must exist.  Without
 * it, /etc/tiernet/tiernet.conf; on a host where that file has never been in force, its
 * absence means the embedded default policy.  But once a file has been in force (the state
 * directory's policy.json says so), losing it must not loosen the policy: a reload with the
 * file missing is an error and the policy in force stays, and a start uses the copy of the
 * policy in force that policy.json keeps (the error is logged).  An empty or cut-short file
 * is refused by the parser ("no tier declared", or a syntax error).  `tiernet check` asks the
 * same question as a reload, so it says what the daemon would do.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "driver/driver.h"
#include "plugin/plugin.h"

#define ORIGIN_EMBEDDED "embedded"

void source_free(struct source *src)
{
	free(src->text);
	memset(src, 0, sizeof(*src));
}

/* A file-level diag: the problem is the file as a whole (line 0). */
static void file_diag(struct config_diags *diags, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void file_diag(struct config_diags *diags, const char *file, const char *fmt, ...)
{
	struct config_diag *v, *d;
	va_list ap;

	v = reallocarray(diags->v, diags->n + 1, sizeof(*v));
	if (!v)
		return;
	diags->v = v;
	d = &diags->v[diags->n++];
	memset(d, 0, sizeof(*d));
	snprintf(d->file, sizeof(d->file), "%s", file);
	d->span = 1;
	va_start(ap, fmt);
	vsnprintf(d->message, sizeof(d->message), fmt, ap);
	va_end(ap);
}

int source_load(const char *config, const char *state_dir, bool start, struct policy **pol,
		struct source *src, struct config_diags *diags)
{
	char *origin = NULL, *kept = NULL;
	size_t len = 0;
	int r;

	memset(src, 0, sizeof(*src));
	*pol = NULL;
	r = config_read(config, &src->text, &len, diags);
	snprintf(src->origin, sizeof(src->origin), "%s", config ? config : CONFIG_DEFAULT_PATH);
	snprintf(src->name, sizeof(src->name), "%s", src->origin);
	if (r == -ENOENT && !config) {
		/* The default file does not exist: was it ever in force? */
		if (driver_kept_policy(state_dir, &origin, &kept) == 0 &&
		    !strcmp(origin, CONFIG_DEFAULT_PATH)) {
			if (!start) {
				file_diag(diags, CONFIG_DEFAULT_PATH,
					  "cannot open: the file was in force and is gone; the "
					  "policy in force stays (restore the file, or write the "
					  "embedded default with `tiernet check --print-default`)");
				r = -ENOENT;
				goto out;
			}
			snprintf(src->name, sizeof(src->name), "%s (the copy kept in %s)",
				 CONFIG_DEFAULT_PATH, state_dir);
			src->text = kept;
			src->kept = true;
			kept = NULL;
		} else {
			snprintf(src->origin, sizeof(src->origin), ORIGIN_EMBEDDED);
			snprintf(src->name, sizeof(src->name), CONFIG_EMBEDDED_NAME);
			src->text = strdup(config_default_text);
			if (!src->text) {
				r = -ENOMEM;
				goto out;
			}
		}
		len = strlen(src->text);
		r = 0;
	}
	if (!r)
		r = config_parse(src->name, src->text, len, pol, diags);
out:
	free(origin);
	free(kept);
	if (r)
		source_free(src);
	return r;
}

int source_keep(const struct source *src, struct err *err)
{
	return driver_keep_policy(src->origin, src->text, err);
}
