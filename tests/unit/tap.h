/* SPDX-License-Identifier: MIT */
/*
 * Minimal test harness: each test program runs named cases and prints one
 * TAP-style line per case ("ok - name" / "not ok - name"); tests/run.sh counts
 * them. CHECK() records a failure and goes on so one run shows every failure.
 */
#ifndef STUNT_TAP_H
#define STUNT_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_case_failed;
static int tap_failures;

#define CHECK(cond)                                                              \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, \
				__LINE__, #cond);                                \
			tap_case_failed = 1;                                     \
		}                                                                \
	} while (0)

#define CHECK_EQ(a, b)                                                              \
	do {                                                                        \
		long long tap_a_ = (long long)(a), tap_b_ = (long long)(b);         \
		if (tap_a_ != tap_b_) {                                             \
			fprintf(stderr, "%s:%d: CHECK_EQ(%s, %s) failed: %lld != %lld\n", \
				__FILE__, __LINE__, #a, #b, tap_a_, tap_b_);        \
			tap_case_failed = 1;                                        \
		}                                                                   \
	} while (0)

#define CHECK_MEM(a, b, n) CHECK(memcmp((a), (b), (n)) == 0)

static inline void tap_run(const char *name, void (*fn)(void))
{
	tap_case_failed = 0;
	fn();
	printf("%s - %s\n", tap_case_failed ? "not ok" : "ok", name);
	fflush(stdout);
	if (tap_case_failed)
		tap_failures++;
}

#define RUN(fn) tap_run(#fn, fn)
#define TAP_DONE() (tap_failures ? 1 : 0)

#endif
