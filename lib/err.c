/* Errors: see err.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/err.h"

int err_set(struct err *e, int err_no, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -err_no;
}

int err_wrap(struct err *e, int err_no, const char *fmt, ...)
{
	char detail[sizeof(e->msg)];
	va_list ap;
	size_t n;

	memcpy(detail, e->msg, sizeof(detail));
	detail[sizeof(detail) - 1] = '\0';
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	n = strlen(e->msg);
	snprintf(e->msg + n, sizeof(e->msg) - n, ": %s", detail);
	return -err_no;
}
