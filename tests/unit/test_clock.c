// SPDX-License-Identifier: MIT
#include "common/clock.h"
#include "tests/unit/tap.h"

#include <time.h>

static void clock_is_monotonic_and_in_ms(void)
{
	uint64_t a = clock_ms(), b;
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	nanosleep(&ts, NULL);
	b = clock_ms();
	CHECK(b >= a + 20);
	CHECK(b < a + 5000);
	CHECK(clock_us() / 1000 >= b);
}

int main(void)
{
	RUN(clock_is_monotonic_and_in_ms);
	return TAP_DONE();
}
