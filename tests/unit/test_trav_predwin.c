// SPDX-License-Identifier: MIT
/* The width of predict's window on a busy sequential NAT (daemon/trav/predwin.c). */
#include "daemon/trav/predwin.h"
#include "tests/unit/tap.h"

static void blend(void)
{
	CHECK_EQ(trav_predwin_blend(0, 0, 700), 700);
	CHECK_EQ(trav_predwin_blend(1000, 1, 0), 500);
	CHECK_EQ(trav_predwin_blend(999, 1, 1000), 1000);	/* rounded up */
}

/* base + 1.5 x the ports the others take in the lead, up to the maximum */
static void count(void)
{
	CHECK_EQ(trav_predwin_count(0, 250), TRAV_PREDWIN_BASE);
	CHECK_EQ(trav_predwin_count(0, 100000), TRAV_PREDWIN_BASE);
	/* 30/s for 250 ms: 7.5 ports, x1.5 = 11.25 -> 12 */
	CHECK_EQ(trav_predwin_count(300, 250), TRAV_PREDWIN_BASE + 12);
	/* 100/s for 300 ms: 30 x 1.5 = 45 */
	CHECK_EQ(trav_predwin_count(1000, 300), TRAV_PREDWIN_BASE + 45);
	/* the widest window still fits, one more does not */
	CHECK_EQ(trav_predwin_count(1000, 533), TRAV_PREDWIN_BASE + 80);
	CHECK_EQ(trav_predwin_count(1000, 534), 0);
	CHECK_EQ(trav_predwin_count(100000, 1000), 0);
	/* no overflow at the extremes */
	CHECK_EQ(trav_predwin_count(UINT32_MAX, UINT32_MAX), 0);
}

/* foreign ports over the time measured, at least TRAV_PREDWIN_MIN_MS */
static void pace(void)
{
	struct trav_predwin_pace p = { 0 };

	CHECK_EQ(trav_predwin_pace_tenths(&p), 0);
	/* one foreign port between Bindings 3 ms apart: 40/s, not 333/s --
	 * and a window, where 333/s had none (the flake of t_stuntd_methods'
	 * seq-pr case: two new flows every 50 ms on the LAN) */
	trav_predwin_pace_add(&p, 1, 3, 1000);
	CHECK_EQ(trav_predwin_pace_tenths(&p), 400);
	CHECK(trav_predwin_count(trav_predwin_pace_tenths(&p), TRAV_PREDWIN_LEAD_MS) > 0);
	CHECK_EQ(trav_predwin_count(3333, TRAV_PREDWIN_LEAD_MS), 0);
	/* short measurements add up: 8 more of 3 ms, none saw a port -> 1 in 27 ms */
	for (int i = 0; i < 8; i++)
		trav_predwin_pace_add(&p, 0, 3, 1100 + 100u * (unsigned)i);
	CHECK_EQ(trav_predwin_pace_tenths(&p), 370);
	/* a busy NAT still reads busy: 12 ports in 40 ms -> 13 in 67 ms */
	trav_predwin_pace_add(&p, 12, 40, 2000);
	CHECK_EQ(trav_predwin_pace_tenths(&p), 1940);
	/* and beyond every window when it is: 60 ports in 50 ms */
	{
		struct trav_predwin_pace q = { 0 };

		trav_predwin_pace_add(&q, 60, 50, 5);
		CHECK_EQ(trav_predwin_pace_tenths(&q), 12000);
		CHECK_EQ(trav_predwin_count(trav_predwin_pace_tenths(&q), TRAV_PREDWIN_LEAD_MS), 0);
	}
	/* older measurements weigh half per half-life: 13 ports in 67 ms,
	 * two half-lives later a quiet 100 ms: 3.25 in 116.75 ms */
	trav_predwin_pace_add(&p, 0, 100, 2000 + 2 * TRAV_PREDWIN_HALF_MS);
	CHECK_EQ(trav_predwin_pace_tenths(&p), 278);
	/* a clock that went backwards ages nothing */
	trav_predwin_pace_add(&p, 0, 0, 10);
	CHECK_EQ(trav_predwin_pace_tenths(&p), 278);
}

int main(void)
{
	RUN(blend);
	RUN(pace);
	RUN(count);
	return TAP_DONE();
}
