/*
 * text.c: text from outside (request bodies, paths, files, the kernel) made fit to quote in
 * a message.  Such a message reaches the log and the user's terminal, so it must not be able
 * to forge a log line or move a cursor.  A leaf module.
 */
#ifndef TIERNET_TEXT_H
#define TIERNET_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Copies at most len - 1 bytes of s into buf (always NUL-terminated), each control
 * character shown as '?'.  Returns buf.
 */
const char *text_shown(const char *s, char *buf, size_t len);
/* Replaces each control character of s, in place, with '?'; tabs stay when keep_tab. */
void text_sanitize(char *s, bool keep_tab);

#endif
