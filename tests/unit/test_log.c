// SPDX-License-Identifier: MIT
#include "common/log.h"
#include "tests/unit/tap.h"

static void levels(void)
{
	CHECK_EQ(log_level_parse("error"), LOG_LVL_ERR);
	CHECK_EQ(log_level_parse("err"), LOG_LVL_ERR);
	CHECK_EQ(log_level_parse("warning"), LOG_LVL_WARN);
	CHECK_EQ(log_level_parse("warn"), LOG_LVL_WARN);
	CHECK_EQ(log_level_parse("info"), LOG_LVL_INFO);
	CHECK_EQ(log_level_parse("debug"), LOG_LVL_DEBUG);
	CHECK_EQ(log_level_parse("Debug"), -1);
	CHECK_EQ(log_level_parse(""), -1);
	CHECK_EQ(log_level_parse("3"), -1);
	CHECK_EQ(log_level_parse(NULL), -1);
	CHECK(!strcmp(log_level_name(LOG_LVL_WARN), "warning"));
	CHECK(!strcmp(log_level_name(9), "?"));
}

static void iso8601(void)
{
	struct tm tm = { .tm_year = 126, .tm_mon = 11, .tm_mday = 6, .tm_hour = 17,
			 .tm_min = 4, .tm_sec = 9 };
	char b[48];

	CHECK(!strcmp(log_iso8601(b, sizeof(b), &tm, 7, 0), "2026-12-06T17:04:09.007+00:00"));
	CHECK(!strcmp(log_iso8601(b, sizeof(b), &tm, 999, 3600), "2026-12-06T17:04:09.999+01:00"));
	CHECK(!strcmp(log_iso8601(b, sizeof(b), &tm, 0, -(5 * 3600 + 30 * 60)),
		      "2026-12-06T17:04:09.000-05:30"));
	CHECK(!strcmp(log_iso8601(b, sizeof(b), &tm, 123, 20700), "2026-12-06T17:04:09.123+05:45"));
	/* a short buffer stays terminated */
	log_iso8601(b, 11, &tm, 0, 0);
	CHECK(!strcmp(b, "2026-12-06"));
}

static void journal_stream(void)
{
	CHECK(log_journal_match("8:12345", 8, 12345));
	CHECK(!log_journal_match("8:12345", 8, 12346));
	CHECK(!log_journal_match("9:12345", 8, 12345));
	CHECK(!log_journal_match("8:12345x", 8, 12345));
	CHECK(!log_journal_match("8", 8, 0));
	CHECK(!log_journal_match("", 0, 0));
	CHECK(!log_journal_match(NULL, 0, 0));
}

int main(void)
{
	RUN(levels);
	RUN(iso8601);
	RUN(journal_stream);
	return TAP_DONE();
}
