// SPDX-License-Identifier: MIT
#include "common/esc.h"
#include "tests/unit/tap.h"

static void printable_text_unchanged(void)
{
	char b[ESC_BUF(64)];

	CHECK(!strcmp(esc_cstr(b, sizeof(b), "session 7: refused (no method)"),
		      "session 7: refused (no method)"));
	CHECK(!strcmp(esc_cstr(b, sizeof(b), ""), ""));
	CHECK(!strcmp(esc_cstr(b, sizeof(b), NULL), ""));
}

static void controls_and_backslash_escaped(void)
{
	char b[ESC_BUF(64)];

	/* a forged second log line and a terminal colour sequence */
	CHECK(!strcmp(esc_cstr(b, sizeof(b), "bad\nstuntd: info: fake\x1b[31m"),
		      "bad\\x0astuntd: info: fake\\x1b[31m"));
	CHECK(!strcmp(esc_cstr(b, sizeof(b), "a\\x0a"), "a\\x5cx0a"));
	CHECK(!strcmp(esc_cstr(b, sizeof(b), "\r\t\x7f"), "\\x0d\\x09\\x7f"));
	/* 8-bit: C1 CSI and UTF-8 alike */
	CHECK(!strcmp(esc_cstr(b, sizeof(b), "\x9b" "2J\xc3\xa9"), "\\x9b2J\\xc3\\xa9"));
	/* a NUL byte inside the data is shown, not an end */
	CHECK(!strcmp(esc_str(b, sizeof(b), "a\0b", 3), "a\\x00b"));
}

static void long_text_capped_with_count(void)
{
	char src[1024], b[64];
	size_t i;

	for (i = 0; i < sizeof(src); i++)
		src[i] = 'a';
	esc_str(b, sizeof(b), src, sizeof(src));
	CHECK(strlen(b) < sizeof(b));
	CHECK(strstr(b, "...(") != NULL);
	/* the count is the bytes not shown */
	{
		size_t shown = (size_t)(strstr(b, "...(") - b);
		char want[40];

		snprintf(want, sizeof(want), "...(%zu more bytes)", sizeof(src) - shown);
		CHECK(!strcmp(b + shown, want));
		CHECK(shown > 20);
	}
	/* escapes are never cut in half */
	for (i = 0; i < sizeof(src); i++)
		src[i] = '\n';
	esc_str(b, sizeof(b), src, sizeof(src));
	{
		size_t shown = (size_t)(strstr(b, "...(") - b);

		CHECK_EQ(shown % 4, 0);
		for (i = 0; i < shown; i += 4)
			CHECK(!memcmp(b + i, "\\x0a", 4));
	}
	/* exactly fitting text has no tail */
	CHECK(!strcmp(esc_str(b, 5, "abcd", 4), "abcd"));
	CHECK(!strcmp(esc_str(b, 5, "\n", 1), "\\x0a"));
}

static void tiny_buffers_stay_terminated(void)
{
	char b[8];

	memset(b, 'x', sizeof(b));
	esc_str(b, 1, "abc", 3);
	CHECK_EQ(b[0], '\0');
	memset(b, 'x', sizeof(b));
	esc_str(b, 4, "\n\n", 2);
	CHECK(strlen(b) < 4);
	CHECK(strchr(b, '\n') == NULL);
	memset(b, 'x', sizeof(b));
	CHECK(esc_str(b, 0, "abc", 3) == b);
	CHECK_EQ(b[0], 'x');	/* size 0: nothing written */
}

static void terminal_variant_keeps_backslash(void)
{
	char b[ESC_BUF(64)];

	CHECK(!strcmp(esc_term(b, sizeof(b), "err \\x0a\n\x1b[2J"), "err \\x0a\\x0a\\x1b[2J"));
	CHECK(!strcmp(esc_term(b, sizeof(b), NULL), ""));
}

int main(void)
{
	RUN(printable_text_unchanged);
	RUN(controls_and_backslash_escaped);
	RUN(long_text_capped_with_count);
	RUN(tiny_buffers_stay_terminated);
	RUN(terminal_variant_keeps_backslash);
	return TAP_DONE();
}
