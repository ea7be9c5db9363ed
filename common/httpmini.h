/* SPDX-License-Identifier: MIT */
/*
 * The little of HTTP/1.x a metrics endpoint needs (RFC 9112): the request
 * head parsed, pure and bounds-checked, and a response head written. A
 * scraper sends "GET /metrics HTTP/1.1", a few header lines and an empty
 * line; nothing after the head is read (the answer closes the connection,
 * so there is no keep-alive and no body to find). The header lines are not
 * interpreted, only checked to be lines: whatever a client says in them
 * changes nothing, so nothing in them can be turned against the server.
 */
#ifndef STUNT_COMMON_HTTPMINI_H
#define STUNT_COMMON_HTTPMINI_H

#include <stddef.h>

#define HTTPMINI_HEAD_MAX	2048	/* request line and headers, empty line included */
#define HTTPMINI_METHOD_MAX	16
#define HTTPMINI_TARGET_MAX	256

enum httpmini_res {
	HTTPMINI_MORE = 0,	/* no end of the head yet: read more */
	HTTPMINI_OK = 1,	/* a whole head, parsed */
	HTTPMINI_BAD = -1,	/* not an HTTP/1.x request head: 400 */
	HTTPMINI_TOO_BIG = -2,	/* HTTPMINI_HEAD_MAX bytes without the end of the head: 431 */
	HTTPMINI_VERSION = -3,	/* well formed, but not HTTP/1.0 or 1.1: 505 */
};

struct httpmini_req {
	char	method[HTTPMINI_METHOD_MAX + 1];
	char	path[HTTPMINI_TARGET_MAX + 1];	/* the target without its "?query" */
	int	minor;				/* HTTP/1.minor */
	size_t	head_len;			/* bytes of the head, empty line included */
};

/*
 * Parse the request head at the start of buf (len bytes, not NUL-terminated,
 * any bytes). Lines end in CRLF or a bare LF (RFC 9112 2.2). The request
 * line is METHOD SP TARGET SP HTTP/1.x: a method of token characters, an
 * origin-form target ("/...") of visible ASCII; each header line must be
 * visible ASCII, spaces and tabs. A request line too long for r is
 * HTTPMINI_BAD (not HTTPMINI_TOO_BIG: it is not a head that might still end).
 */
enum httpmini_res httpmini_parse(const void *buf, size_t len, struct httpmini_req *r);

/*
 * The status to answer a parsed request with, for a server whose only
 * resource is path: 200 (GET of path, a query ignored), 405 (another
 * method on path), 404 (anything else).
 */
int httpmini_status(const struct httpmini_req *r, const char *path);
/* The status for a parse result below HTTPMINI_MORE: 400, 431 or 505. */
int httpmini_error_status(enum httpmini_res res);
/* "OK", "Not Found"...; "Error" for a status it does not know. */
const char *httpmini_reason(int status);

/*
 * "HTTP/1.1 STATUS REASON", Content-Type (ctype), Content-Length, "Allow: GET"
 * with a 405, "Connection: close" and the empty line, into buf: its length,
 * or -1 when it does not fit cap.
 */
int httpmini_head(char *buf, size_t cap, int status, const char *ctype, size_t body_len);

#endif
