// SPDX-License-Identifier: MIT
/* The anti-replay window (common/replay.c): in order, out of order inside
 * the window, duplicates, too old, jumps, 0 and the top of the range. */
#include "common/replay.h"
#include "tests/unit/tap.h"

static void in_order(void)
{
	struct replay_win w;
	uint64_t s;

	replay_init(&w);
	for (s = 1; s <= 1000; s++) {
		CHECK_EQ(replay_check(&w, s), REPLAY_NEW);
		CHECK_EQ(replay_accept(&w, s), REPLAY_NEW);
		CHECK_EQ(replay_check(&w, s), REPLAY_DUP);
	}
	CHECK_EQ(replay_accept(&w, 1000), REPLAY_DUP);
	CHECK_EQ(replay_check(&w, 1000 - REPLAY_WINDOW + 1), REPLAY_DUP);
	CHECK_EQ(replay_check(&w, 1000 - REPLAY_WINDOW), REPLAY_OLD);
	CHECK_EQ(replay_check(&w, 1), REPLAY_OLD);
}

static void out_of_order(void)
{
	struct replay_win w;

	replay_init(&w);
	CHECK_EQ(replay_accept(&w, 10), REPLAY_NEW);
	CHECK_EQ(replay_accept(&w, 7), REPLAY_NEW);
	CHECK_EQ(replay_accept(&w, 7), REPLAY_DUP);
	CHECK_EQ(replay_check(&w, 8), REPLAY_NEW);
	CHECK_EQ(replay_accept(&w, 9), REPLAY_NEW);
	CHECK_EQ(replay_accept(&w, 12), REPLAY_NEW);
	/* the older marks moved with the window */
	CHECK_EQ(replay_check(&w, 7), REPLAY_DUP);
	CHECK_EQ(replay_check(&w, 8), REPLAY_NEW);
	CHECK_EQ(replay_check(&w, 9), REPLAY_DUP);
	CHECK_EQ(replay_check(&w, 10), REPLAY_DUP);
	CHECK_EQ(replay_check(&w, 11), REPLAY_NEW);
	CHECK_EQ(replay_check(&w, 12), REPLAY_DUP);
}

static void jumps(void)
{
	struct replay_win w;

	replay_init(&w);
	CHECK_EQ(replay_accept(&w, 5), REPLAY_NEW);
	/* a jump of exactly the window and of more clears the old marks */
	CHECK_EQ(replay_accept(&w, 5 + REPLAY_WINDOW), REPLAY_NEW);
	CHECK_EQ(replay_check(&w, 5), REPLAY_OLD);
	CHECK_EQ(replay_check(&w, 6), REPLAY_NEW);
	CHECK_EQ(replay_accept(&w, 1000000), REPLAY_NEW);
	CHECK_EQ(replay_check(&w, 5 + REPLAY_WINDOW), REPLAY_OLD);
	CHECK_EQ(replay_check(&w, 1000000 - 1), REPLAY_NEW);
	CHECK_EQ(replay_accept(&w, UINT64_MAX), REPLAY_NEW);
	CHECK_EQ(replay_accept(&w, UINT64_MAX), REPLAY_DUP);
	CHECK_EQ(replay_check(&w, UINT64_MAX - 1), REPLAY_NEW);
}

static void zero(void)
{
	struct replay_win w;

	replay_init(&w);
	CHECK_EQ(replay_check(&w, 0), REPLAY_ZERO);
	CHECK_EQ(replay_accept(&w, 0), REPLAY_ZERO);
	CHECK_EQ(w.top, 0);
	CHECK(replay_verdict_name(REPLAY_DUP)[0] == 'r');
}

/* Checking does not change anything: only accept does. */
static void check_is_pure(void)
{
	struct replay_win w, before;

	replay_init(&w);
	replay_accept(&w, 3);
	before = w;
	(void)replay_check(&w, 100);
	(void)replay_check(&w, 2);
	CHECK_MEM(&w, &before, sizeof(w));
}

int main(void)
{
	RUN(in_order);
	RUN(out_of_order);
	RUN(jumps);
	RUN(zero);
	RUN(check_is_pure);
	return TAP_DONE();
}
