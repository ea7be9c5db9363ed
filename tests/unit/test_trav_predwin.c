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

int main(void)
{
	RUN(blend);
	RUN(count);
	return TAP_DONE();
}
