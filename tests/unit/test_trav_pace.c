// SPDX-License-Identifier: MIT
/* The schedule of a SYN's copies (daemon/trav/pace.c). */
#include "daemon/trav/pace.h"
#include "tests/unit/tap.h"

/* 100, 200, 400, 800, then 800 ms: doubling, capped */
static void gaps(void)
{
	CHECK_EQ(trav_pace_gap_ms(0), TRAV_PACE_FIRST_MS);
	CHECK_EQ(trav_pace_gap_ms(1), 2 * TRAV_PACE_FIRST_MS);
	CHECK_EQ(trav_pace_gap_ms(2), 4 * TRAV_PACE_FIRST_MS);
	CHECK_EQ(trav_pace_gap_ms(3), TRAV_PACE_MAX_GAP_MS);
	CHECK_EQ(trav_pace_gap_ms(7), TRAV_PACE_MAX_GAP_MS);
	CHECK_EQ(trav_pace_gap_ms(1000000), TRAV_PACE_MAX_GAP_MS);
}

/* not paced until started; due exactly at its time; never early */
static void schedule(void)
{
	struct trav_pace p = { 0 };
	uint64_t t = 5000;

	CHECK(!trav_pace_due(&p, t));
	CHECK(!trav_pace_due(&p, UINT64_MAX));
	trav_pace_start(&p, t);
	CHECK(!trav_pace_due(&p, t + TRAV_PACE_FIRST_MS - 1));
	CHECK(trav_pace_due(&p, t + TRAV_PACE_FIRST_MS));
	CHECK_EQ(p.sent, 1);
	/* the same instant again: the next one is a gap later */
	CHECK(!trav_pace_due(&p, t + TRAV_PACE_FIRST_MS));
	CHECK_EQ(p.next_ms, t + TRAV_PACE_FIRST_MS + trav_pace_gap_ms(1));
	/* late ticks: one copy per tick, the gap counted from the tick */
	CHECK(trav_pace_due(&p, t + 10000));
	CHECK_EQ(p.sent, 2);
	CHECK_EQ(p.next_ms, t + 10000 + trav_pace_gap_ms(2));
}

/* at most TRAV_PACE_MAX copies, whatever the clock does */
static void bounded(void)
{
	struct trav_pace p = { 0 };
	uint64_t t = 1;
	unsigned n = 0, i;

	trav_pace_start(&p, t);
	for (i = 0; i < 100; i++) {
		t += 10000;
		n += trav_pace_due(&p, t);
	}
	CHECK_EQ(n, TRAV_PACE_MAX);
	CHECK_EQ(p.next_ms, 0);
	/* started again after the last copy: still nothing */
	trav_pace_start(&p, t);
	CHECK(!trav_pace_due(&p, t + 100000));
}

/* stopped: nothing more, until started again */
static void stop(void)
{
	struct trav_pace p = { 0 };

	trav_pace_start(&p, 10);
	trav_pace_stop(&p);
	CHECK(!trav_pace_due(&p, 1000000));
	CHECK_EQ(p.sent, 0);
	trav_pace_start(&p, 20);
	CHECK(trav_pace_due(&p, 20 + TRAV_PACE_FIRST_MS));
}

int main(void)
{
	RUN(gaps);
	RUN(schedule);
	RUN(bounded);
	RUN(stop);
	return TAP_DONE();
}
