// SPDX-License-Identifier: MIT
#include "common/prom.h"
#include "tests/unit/tap.h"

static void families_and_samples(void)
{
	static const struct prom_label l[2] = { { "method", "simopen" }, { "result", "won" } };
	char buf[1024];
	struct prom_buf b;

	prom_init(&b, buf, sizeof(buf));
	prom_one(&b, "stuntd_sessions", PROM_GAUGE, "Sessions now", 3);
	prom_family(&b, "stuntd_attempts_total", PROM_COUNTER, "Attempts by method");
	prom_sample(&b, "stuntd_attempts_total", l, 2, 18446744073709551615ull);
	prom_sample(&b, "stuntd_attempts_total", l, 1, 0);
	CHECK(prom_ok(&b));
	CHECK_EQ(b.len, strlen(buf));
	CHECK(!strcmp(buf, "# HELP stuntd_sessions Sessions now\n"
		      "# TYPE stuntd_sessions gauge\n"
		      "stuntd_sessions 3\n"
		      "# HELP stuntd_attempts_total Attempts by method\n"
		      "# TYPE stuntd_attempts_total counter\n"
		      "stuntd_attempts_total{method=\"simopen\",result=\"won\"} 18446744073709551615\n"
		      "stuntd_attempts_total{method=\"simopen\"} 0\n"));
}

static void escaping(void)
{
	static const struct prom_label l = { "peer", "a\"b\\c\nd" };
	char buf[256];
	struct prom_buf b;

	prom_init(&b, buf, sizeof(buf));
	prom_family(&b, "x_total", PROM_COUNTER, "back\\slash \"quoted\"\nline");
	prom_sample(&b, "x_total", &l, 1, 1);
	CHECK(prom_ok(&b));
	/* help: backslash and newline; label values: the double quote too */
	CHECK(!strcmp(buf, "# HELP x_total back\\\\slash \"quoted\"\\nline\n"
		      "# TYPE x_total counter\n"
		      "x_total{peer=\"a\\\"b\\\\c\\nd\"} 1\n"));
}

static void names_checked(void)
{
	static const struct prom_label bad_label = { "__name", "x" }, dash = { "a-b", "x" };
	char buf[256];
	struct prom_buf b;

	CHECK(prom_name_ok("stunt_server:rate_total"));
	CHECK(prom_name_ok("_x9"));
	CHECK(!prom_name_ok("9x"));
	CHECK(!prom_name_ok(""));
	CHECK(!prom_name_ok("a-b"));
	CHECK(!prom_name_ok("a b"));
	CHECK(!prom_name_ok("\xc3\xa9"));
	CHECK(prom_label_name_ok("method"));
	CHECK(!prom_label_name_ok("a:b"));
	CHECK(!prom_label_name_ok("__reserved"));
	/* a counter not ending in _total, a bad sample name, bad labels */
	prom_init(&b, buf, sizeof(buf));
	prom_family(&b, "x_count", PROM_COUNTER, "h");
	CHECK(!prom_ok(&b));
	prom_init(&b, buf, sizeof(buf));
	prom_sample(&b, "x y", NULL, 0, 1);
	CHECK(!prom_ok(&b));
	prom_init(&b, buf, sizeof(buf));
	prom_sample(&b, "x", &bad_label, 1, 1);
	CHECK(!prom_ok(&b));
	prom_init(&b, buf, sizeof(buf));
	prom_sample(&b, "x", &dash, 1, 1);
	CHECK(!prom_ok(&b));
}

static void overflow_counted(void)
{
	char buf[16];
	struct prom_buf b;

	prom_init(&b, buf, sizeof(buf));
	prom_one(&b, "a_gauge", PROM_GAUGE, "a fairly long help text", 12345);
	CHECK(!prom_ok(&b));
	CHECK(b.len > sizeof(buf));	/* what it would have needed */
	CHECK_EQ(strlen(buf), sizeof(buf) - 1);
	/* nothing written past the buffer, exactly full is not ok (the NUL) */
	prom_init(&b, buf, 3);
	prom_sample(&b, "ab", NULL, 0, 0);
	CHECK(!prom_ok(&b));
	CHECK_EQ(b.len, 5);
}

int main(void)
{
	RUN(families_and_samples);
	RUN(escaping);
	RUN(names_checked);
	RUN(overflow_counted);
	return TAP_DONE();
}
