// SPDX-License-Identifier: MIT
/* The request head of a metrics scrape, and a response head: see common/httpmini.h. */
#include "common/httpmini.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* RFC 9110 5.6.2 tchar, without the locale */
static bool tchar(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool vchar(uint8_t c)
{
	return c >= 0x21 && c <= 0x7e;
}

/*
 * The line end at p[*i]: CRLF or LF. HTTPMINI_OK with *i past it,
 * HTTPMINI_MORE when n bytes end before it is known, else HTTPMINI_BAD.
 */
static enum httpmini_res line_end(const uint8_t *p, size_t n, size_t *i)
{
	if (*i < n && p[*i] == '\r')
		(*i)++;
	if (*i == n)
		return HTTPMINI_MORE;
	if (p[*i] != '\n')
		return HTTPMINI_BAD;
	(*i)++;
	return HTTPMINI_OK;
}

/*
 * METHOD SP TARGET SP HTTP/D.D EOL from the first n bytes, checked as far
 * as they go (garbage is refused at its first byte, not when a line end
 * finally comes). HTTPMINI_OK with *end past the line end.
 */
static enum httpmini_res request_line(const uint8_t *p, size_t n, struct httpmini_req *r,
				      size_t *end)
{
	static const char proto[] = "HTTP/";
	size_t i = 0, t, k;
	int major;

	while (i < n && tchar(p[i]))
		i++;
	if (i > HTTPMINI_METHOD_MAX)
		return HTTPMINI_BAD;
	if (i == n)
		return HTTPMINI_MORE;
	if (i == 0 || p[i] != ' ')
		return HTTPMINI_BAD;
	memcpy(r->method, p, i);
	r->method[i] = '\0';
	t = ++i;
	while (i < n && vchar(p[i]))
		i++;
	if (i - t > HTTPMINI_TARGET_MAX)
		return HTTPMINI_BAD;
	if (i > t && p[t] != '/')
		return HTTPMINI_BAD;	/* origin-form only: no "*", no absolute URI */
	if (i == n)
		return HTTPMINI_MORE;
	if (i == t || p[i] != ' ')
		return HTTPMINI_BAD;
	for (k = t; k < i && p[k] != '?'; k++)
		r->path[k - t] = (char)p[k];
	r->path[k - t] = '\0';
	i++;
	for (k = 0; k < sizeof(proto) - 1; k++, i++) {
		if (i == n)
			return HTTPMINI_MORE;
		if (p[i] != (uint8_t)proto[k])
			return HTTPMINI_BAD;
	}
	if (i + 3 > n)
		return n - i >= 1 && (p[i] < '0' || p[i] > '9') ? HTTPMINI_BAD : HTTPMINI_MORE;
	if (p[i] < '0' || p[i] > '9' || p[i + 1] != '.' || p[i + 2] < '0' || p[i + 2] > '9')
		return HTTPMINI_BAD;
	major = p[i] - '0';
	r->minor = p[i + 2] - '0';
	i += 3;
	if (line_end(p, n, &i) != HTTPMINI_OK)
		return i == n ? HTTPMINI_MORE : HTTPMINI_BAD;
	*end = i;
	return major == 1 && r->minor <= 1 ? HTTPMINI_OK : HTTPMINI_VERSION;
}

enum httpmini_res httpmini_parse(const void *buf, size_t len, struct httpmini_req *r)
{
	const uint8_t *p = buf;
	size_t n = len < HTTPMINI_HEAD_MAX ? len : HTTPMINI_HEAD_MAX, i = 0, j;
	enum httpmini_res res;
	bool colon;

	memset(r, 0, sizeof(*r));
	res = request_line(p, n, r, &i);
	if (res == HTTPMINI_OK) {
		/* header lines up to the empty one: visible ASCII, SP, HTAB, a colon */
		for (;;) {
			j = i;
			if (i < n && (p[i] == '\r' || p[i] == '\n')) {
				res = line_end(p, n, &i);
				if (res == HTTPMINI_OK)
					r->head_len = i;
				break;
			}
			for (colon = false; i < n && (vchar(p[i]) || p[i] == ' ' || p[i] == '\t');
			     i++)
				colon |= p[i] == ':';
			res = line_end(p, n, &i);
			if (res != HTTPMINI_OK)
				break;
			if (!colon || p[j] == ':')
				return HTTPMINI_BAD;
		}
	}
	if (res == HTTPMINI_MORE && len >= HTTPMINI_HEAD_MAX)
		return HTTPMINI_TOO_BIG;
	return res;
}

int httpmini_status(const struct httpmini_req *r, const char *path)
{
	if (strcmp(r->path, path))
		return 404;
	return strcmp(r->method, "GET") ? 405 : 200;
}

int httpmini_error_status(enum httpmini_res res)
{
	return res == HTTPMINI_TOO_BIG ? 431 : res == HTTPMINI_VERSION ? 505 : 400;
}

const char *httpmini_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 505: return "HTTP Version Not Supported";
	}
	return "Error";
}

int httpmini_head(char *buf, size_t cap, int status, const char *ctype, size_t body_len)
{
	int n;

	n = snprintf(buf, cap,
		     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
		     "Connection: close\r\n\r\n",
		     status, httpmini_reason(status), ctype, body_len,
		     status == 405 ? "Allow: GET\r\n" : "");
	return n < 0 || (size_t)n >= cap ? -1 : n;
}
