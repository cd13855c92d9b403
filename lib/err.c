/* Errors: see err.h. */
#include <stdarg.h>
#include <stdio.h>

#include "lib/err.h"

int err_set(struct err *e, int err_no, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -err_no;
}
