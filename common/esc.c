// SPDX-License-Identifier: MIT
#include "common/esc.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* bytes of dst one source byte needs */
static size_t esc_width(unsigned char c, bool keep_bs)
{
	return c >= 0x20 && c < 0x7f && (c != '\\' || keep_bs) ? 1 : 4;
}

static void esc_put(char *dst, size_t *o, unsigned char c, bool keep_bs)
{
	static const char hex[] = "0123456789abcdef";

	if (esc_width(c, keep_bs) == 1) {
		dst[(*o)++] = (char)c;
		return;
	}
	dst[(*o)++] = '\\';
	dst[(*o)++] = 'x';
	dst[(*o)++] = hex[c >> 4];
	dst[(*o)++] = hex[c & 15];
}

static const char *esc_any(char *dst, size_t size, const void *src, size_t len, bool keep_bs)
{
	const unsigned char *s = src;
	char tail[40];
	size_t i, o = 0, total = 0;
	int tl;

	if (size == 0)
		return dst;
	for (i = 0; i < len; i++)
		total += esc_width(s[i], keep_bs);
	if (total < size) {
		for (i = 0; i < len; i++)
			esc_put(dst, &o, s[i], keep_bs);
		dst[o] = '\0';
		return dst;
	}
	/* too long: as many whole bytes as leave room for the tail */
	for (i = 0; i < len; i++) {
		tl = snprintf(tail, sizeof(tail), "...(%zu more bytes)", len - i - 1);
		if (o + esc_width(s[i], keep_bs) + (size_t)tl + 1 > size)
			break;
		esc_put(dst, &o, s[i], keep_bs);
	}
	tl = snprintf(tail, sizeof(tail), "...(%zu more bytes)", len - i);
	if (o + (size_t)tl + 1 <= size) {
		memcpy(dst + o, tail, (size_t)tl);
		o += (size_t)tl;
	}
	dst[o] = '\0';
	return dst;
}

const char *esc_str(char *dst, size_t size, const void *src, size_t len)
{
	return esc_any(dst, size, src, len, false);
}

const char *esc_cstr(char *dst, size_t size, const char *src)
{
	return esc_str(dst, size, src ? src : "", src ? strlen(src) : 0);
}

const char *esc_term(char *dst, size_t size, const char *src)
{
	return esc_any(dst, size, src ? src : "", src ? strlen(src) : 0, true);
}
