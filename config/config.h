/*
 * config/: the policy file parser and the embedded default policy.  Pure: text in, a
 * struct policy (policy/policy.h) or a list of diagnostics out.
 */
#ifndef TIERNET_CONFIG_H
#define TIERNET_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct policy;

#define CONFIG_DEFAULT_PATH "/etc/tiernet/tiernet.conf"
#define CONFIG_FILE_MAX	    (256 * 1024) /* bytes; larger files are refused */
#define CONFIG_TOKEN_MAX    64		 /* characters in one word */

/* One problem found in a policy file: where, what, and the offending line. */
struct config_diag {
	char file[256];
	unsigned line, column, span; /* 1-based line and column; span = caret width (>= 1) */
	char message[256];
	char text[256]; /* the source line, without its newline */
};

struct config_diags {
	struct config_diag *v;
	size_t n, cap;
};

/* default.c */
/* The embedded default policy (DESIGN.md "The policy file"). */
extern const char config_default_text[];

/* parse.c */
/*
 * Parses text[0..len) (a policy file called name, used in messages) into *out.  Every error
 * in the file is appended to diags (one run reports all of them).  Returns 0 and sets *out,
 * or -EINVAL when at least one error was found (diags says which; *out is NULL), or -ENOMEM.
 */
int config_parse(const char *name, const char *text, size_t len, struct policy **out,
		 struct config_diags *diags);
/*
 * Reads and parses the policy file at path.  When path is NULL the default path is used and
 * a missing file means the embedded default; an explicit path that is missing is an error.
 * A file writable by group or others, or larger than CONFIG_FILE_MAX, is refused.  Returns
 * 0 or -errno; every problem is in diags (file errors as a diag with line 0).
 */
int config_load(const char *path, struct policy **out, struct config_diags *diags);
/* Prints each diag as "file:line:column: error: message", the line, and a caret mark. */
void config_diags_print(const struct config_diags *diags, FILE *f);
/* Formats diag i like config_diags_print, into a malloc'ed string; NULL on ENOMEM. */
char *config_diag_format(const struct config_diag *d);
void config_diags_free(struct config_diags *diags);

#endif
