// SPDX-License-Identifier: MIT
#include "common/httpmini.h"
#include "tests/unit/tap.h"

static enum httpmini_res parse(const char *s, struct httpmini_req *r)
{
	return httpmini_parse(s, strlen(s), r);
}

static void scrape_requests_parsed(void)
{
	static const char prom[] = "GET /metrics HTTP/1.1\r\nHost: 10.0.0.1:9477\r\n"
				   "User-Agent: Prometheus/2.45.0\r\nAccept: text/plain;"
				   "version=0.0.4;q=1,*/*;q=0.1\r\nX-Prometheus-Scrape-Timeout-"
				   "Seconds: 10\r\n\r\n";
	struct httpmini_req r;

	CHECK_EQ(parse(prom, &r), HTTPMINI_OK);
	CHECK(!strcmp(r.method, "GET"));
	CHECK(!strcmp(r.path, "/metrics"));
	CHECK_EQ(r.minor, 1);
	CHECK_EQ(r.head_len, strlen(prom));
	CHECK_EQ(httpmini_status(&r, "/metrics"), 200);
	/* HTTP/1.0 without headers, bare LF line ends, a query */
	CHECK_EQ(parse("GET /metrics HTTP/1.0\n\n", &r), HTTPMINI_OK);
	CHECK_EQ(r.minor, 0);
	CHECK_EQ(r.head_len, 23);
	CHECK_EQ(parse("GET /metrics?name=x HTTP/1.1\r\n\r\n", &r), HTTPMINI_OK);
	CHECK(!strcmp(r.path, "/metrics"));
	CHECK_EQ(httpmini_status(&r, "/metrics"), 200);
	/* bytes after the head (a body, a pipelined request) are not the head's */
	CHECK_EQ(parse("GET /metrics HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n", &r), HTTPMINI_OK);
	CHECK_EQ(r.head_len, 25);
}

static void other_resources_and_methods(void)
{
	struct httpmini_req r;

	CHECK_EQ(parse("POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", &r), HTTPMINI_OK);
	CHECK_EQ(httpmini_status(&r, "/metrics"), 405);
	CHECK_EQ(parse("HEAD /metrics HTTP/1.1\r\n\r\n", &r), HTTPMINI_OK);
	CHECK_EQ(httpmini_status(&r, "/metrics"), 405);
	CHECK_EQ(parse("GET / HTTP/1.1\r\n\r\n", &r), HTTPMINI_OK);
	CHECK_EQ(httpmini_status(&r, "/metrics"), 404);
	CHECK_EQ(parse("GET /metricsx HTTP/1.1\r\n\r\n", &r), HTTPMINI_OK);
	CHECK_EQ(httpmini_status(&r, "/metrics"), 404);
	CHECK_EQ(parse("get /metrics HTTP/1.1\r\n\r\n", &r), HTTPMINI_OK);	/* methods are case-sensitive */
	CHECK_EQ(httpmini_status(&r, "/metrics"), 405);
}

static void truncated_requests_want_more(void)
{
	static const char full[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
	struct httpmini_req r;
	size_t n;

	/* every proper prefix of a good head: read more, never an answer */
	for (n = 0; n < sizeof(full) - 1; n++)
		CHECK_EQ(httpmini_parse(full, n, &r), HTTPMINI_MORE);
	CHECK_EQ(httpmini_parse(full, sizeof(full) - 1, &r), HTTPMINI_OK);
}

static void malformed_requests_refused(void)
{
	static const char *const bad[] = {
		"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",	/* a TLS ClientHello */
		"SSH-2.0-OpenSSH_9.2\r\n",
		" GET /metrics HTTP/1.1\r\n\r\n",
		"GET  /metrics HTTP/1.1\r\n\r\n",
		"GET metrics HTTP/1.1\r\n\r\n",
		"GET http://x/metrics HTTP/1.1\r\n\r\n",
		"GET * HTTP/1.1\r\n\r\n",
		"GET /metrics\r\n\r\n",				/* HTTP/0.9 */
		"GET /metrics HTTP/1.1 \r\n\r\n",
		"GET /metrics http/1.1\r\n\r\n",
		"GET /metrics HTTP/x.1\r\n\r\n",
		"GET /metrics HTTP/1.1\r\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nHost x\r\n\r\n",	/* no colon */
		"GET /metrics HTTP/1.1\r\n: x\r\n\r\n",		/* no name */
		"GET /metrics HTTP/1.1\r\nHost: a\x01" "b\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nHost: \xc3\xa9\r\n\r\n",
		"GET /met\x7frics HTTP/1.1\r\n\r\n",
		"GE\0T /metrics HTTP/1.1\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nHost: x\r\n\rX",
	};
	struct httpmini_req r;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* the embedded NUL: measure up to the last byte written */
		size_t len = i == 17 ? 26 : strlen(bad[i]);

		if (httpmini_parse(bad[i], len, &r) != HTTPMINI_BAD) {
			fprintf(stderr, "bad request %zu accepted\n", i);
			CHECK(0);
		}
	}
	CHECK_EQ(httpmini_error_status(HTTPMINI_BAD), 400);
	/* another version: well formed, not served */
	CHECK_EQ(parse("GET /metrics HTTP/2.0\r\n\r\n", &r), HTTPMINI_VERSION);
	CHECK_EQ(parse("GET /metrics HTTP/1.2\r\n\r\n", &r), HTTPMINI_VERSION);
	CHECK_EQ(httpmini_error_status(HTTPMINI_VERSION), 505);
}

static void oversized_requests_refused(void)
{
	static char big[HTTPMINI_HEAD_MAX * 2];
	struct httpmini_req r;
	size_t n;

	/* a method or target longer than the request line allows: at once */
	memset(big, 'A', sizeof(big));
	CHECK_EQ(httpmini_parse(big, HTTPMINI_METHOD_MAX + 1, &r), HTTPMINI_BAD);
	CHECK_EQ(httpmini_parse(big, HTTPMINI_METHOD_MAX, &r), HTTPMINI_MORE);
	memcpy(big, "GET /", 5);
	CHECK_EQ(httpmini_parse(big, 5 + HTTPMINI_TARGET_MAX, &r), HTTPMINI_BAD);
	CHECK_EQ(httpmini_parse(big, 4 + HTTPMINI_TARGET_MAX, &r), HTTPMINI_MORE);
	/* headers that never end */
	n = (size_t)snprintf(big, sizeof(big), "GET /metrics HTTP/1.1\r\n");
	while (n + 8 < sizeof(big)) {
		memcpy(big + n, "X-A: b\r\n", 8);
		n += 8;
	}
	CHECK_EQ(httpmini_parse(big, HTTPMINI_HEAD_MAX - 1, &r), HTTPMINI_MORE);
	CHECK_EQ(httpmini_parse(big, HTTPMINI_HEAD_MAX, &r), HTTPMINI_TOO_BIG);
	CHECK_EQ(httpmini_parse(big, n, &r), HTTPMINI_TOO_BIG);
	CHECK_EQ(httpmini_error_status(HTTPMINI_TOO_BIG), 431);
	/* one that ends exactly at the limit still passes */
	n = (size_t)snprintf(big, sizeof(big), "GET /metrics HTTP/1.1\r\nX: ");
	memset(big + n, 'y', HTTPMINI_HEAD_MAX - n - 4);
	memcpy(big + HTTPMINI_HEAD_MAX - 4, "\r\n\r\n", 4);
	CHECK_EQ(httpmini_parse(big, HTTPMINI_HEAD_MAX, &r), HTTPMINI_OK);
	CHECK_EQ(r.head_len, HTTPMINI_HEAD_MAX);
}

static void response_heads(void)
{
	char b[256];
	int n;

	n = httpmini_head(b, sizeof(b), 200, "text/plain; version=0.0.4", 123);
	CHECK(n > 0);
	CHECK(!strcmp(b, "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
		      "Content-Length: 123\r\nConnection: close\r\n\r\n"));
	n = httpmini_head(b, sizeof(b), 405, "text/plain", 0);
	CHECK(n > 0 && strstr(b, "HTTP/1.1 405 Method Not Allowed\r\n") == b);
	CHECK(strstr(b, "\r\nAllow: GET\r\n") != NULL);
	CHECK_EQ(httpmini_head(b, 40, 200, "text/plain", 1), -1);
	CHECK(!strcmp(httpmini_reason(431), "Request Header Fields Too Large"));
}

int main(void)
{
	RUN(scrape_requests_parsed);
	RUN(other_resources_and_methods);
	RUN(truncated_requests_want_more);
	RUN(malformed_requests_refused);
	RUN(oversized_requests_refused);
	RUN(response_heads);
	return TAP_DONE();
}
