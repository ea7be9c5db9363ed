// SPDX-License-Identifier: MIT
/* The per-peer start budget's token bucket (daemon/budget.c, d_rate_take). */
#include "daemon/budget.h"
#include "tests/unit/tap.h"

#include <stdlib.h>

static struct d_rate r;

/* a fresh peer has a full minute's worth, then one a (60 / per_min) s */
static void bucket(void)
{
	uint64_t t = 1000000;
	int i, n = 0;

	memset(&r, 0, sizeof(r));
	for (i = 0; i < 40; i++)
		n += d_rate_take(&r, "mallory", 30, t);
	CHECK_EQ(n, 30);
	CHECK(!d_rate_take(&r, "mallory", 30, t + 1999));	/* 2 s per start */
	CHECK(d_rate_take(&r, "mallory", 30, t + 2000));
	CHECK(!d_rate_take(&r, "mallory", 30, t + 2001));
	/* others are not affected */
	CHECK(d_rate_take(&r, "alice", 30, t + 2001));
	/* a minute idle: full again, not more */
	n = 0;
	for (i = 0; i < 40; i++)
		n += d_rate_take(&r, "mallory", 30, t + 600000);
	CHECK_EQ(n, 30);
	/* a clock that goes back gives nothing */
	CHECK(!d_rate_take(&r, "mallory", 30, t));
	/* per_min 0: nothing */
	CHECK(!d_rate_take(&r, "bob", 0, t));
}

/* The table: full of busy peers, a new one is refused; a peer whose bucket
 * is full again gives its slot up. */
static void table(void)
{
	char id[32];
	int i, ok = 0;
	uint64_t t = 5000;

	memset(&r, 0, sizeof(r));
	for (i = 0; i < D_RATE_PEERS; i++) {
		snprintf(id, sizeof(id), "p%d", i);
		ok += d_rate_take(&r, id, 10, t);
	}
	CHECK_EQ(ok, D_RATE_PEERS);
	CHECK(!d_rate_take(&r, "late", 10, t));		/* every slot busy */
	CHECK(d_rate_take(&r, "p7", 10, t));		/* known ones go on */
	CHECK(d_rate_take(&r, "late", 10, t + 60000));	/* refilled: a slot is free */
	/* the evicted one starts afresh: it had a full bucket anyway */
	ok = 0;
	for (i = 0; i < 20; i++)
		ok += d_rate_take(&r, "late", 10, t + 60000);
	CHECK_EQ(ok, 9);
}

int main(void)
{
	RUN(bucket);
	RUN(table);
	return TAP_DONE();
}
