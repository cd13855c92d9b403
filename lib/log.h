/*
 * log.c: one line per event, "tiernet[level]: message", on stderr (journald adds the time
 * when run by systemd).  A leaf module: every folder may log.
 */
#ifndef TIERNET_LOG_H
#define TIERNET_LOG_H

#include <stdbool.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Parses "error", "warn", "info" or "debug"; returns the level or -EINVAL. */
int log_parse_level(const char *name);
void log_set_level(enum log_level level);
/* Would a line at level be written?  For callers whose message costs work to build. */
bool log_enabled(enum log_level level);
/* log_warn appends ": strerror(errno)"; log_warnx does not. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Log at error level and exit(1); fatal appends strerror(errno). */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
