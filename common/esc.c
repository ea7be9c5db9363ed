// SPDX-License-Identifier: MIT
#include "common/esc.h"

#include <stdio.h>
#include <string.h>

/* bytes of dst one source byte needs */
static size_t esc_width(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '\\' ? 1 : 4;
}

static void esc_put(char *dst, size_t *o, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	if (esc_width(c) == 1) {
		dst[(*o)++] = (char)c;
		return;
	}
	dst[(*o)++] = '\\';
	dst[(*o)++] = 'x';
	dst[(*o)++] = hex[c >> 4];
	dst[(*o)++] = hex[c & 15];
}

const char *esc_str(char *dst, size_t size, const void *src, size_t len)
{
	const unsigned char *s = src;
	char tail[40];
	size_t i, o = 0, total = 0;
	int tl;

	if (size == 0)
		return dst;
	for (i = 0; i < len; i++)
		total += esc_width(s[i]);
	if (total < size) {
		for (i = 0; i < len; i++)
			esc_put(dst, &o, s[i]);
		dst[o] = '\0';
		return dst;
	}
	/* too long: as many whole bytes as leave room for the tail */
	for (i = 0; i < len; i++) {
		tl = snprintf(tail, sizeof(tail), "...(%zu more bytes)", len - i - 1);
		if (o + esc_width(s[i]) + (size_t)tl + 1 > size)
			break;
		esc_put(dst, &o, s[i]);
	}
	tl = snprintf(tail, sizeof(tail), "...(%zu more bytes)", len - i);
	if (o + (size_t)tl + 1 <= size) {
		memcpy(dst + o, tail, (size_t)tl);
		o += (size_t)tl;
	}
	dst[o] = '\0';
	return dst;
}

const char *esc_cstr(char *dst, size_t size, const char *src)
{
	return esc_str(dst, size, src ? src : "", src ? strlen(src) : 0);
}
