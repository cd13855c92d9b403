/* Quoting outside text: see text.h. */

#include "lib/text.h"

static bool is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

void text_sanitize(char *s, bool keep_tab)
{
	for (; *s; s++)
		if (is_control((unsigned char)*s) && !(keep_tab && *s == '\t'))
			*s = '?';
}

const char *text_shown(const char *s, char *buf, size_t len)
{
	size_t i;

	if (!len)
		return buf;
	for (i = 0; s[i] && i + 1 < len; i++)
		buf[i] = s[i];
	buf[i] = '\0';
	text_sanitize(buf, false);
	return buf;
}
