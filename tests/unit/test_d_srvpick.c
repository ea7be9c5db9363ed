// SPDX-License-Identifier: MIT
/* Which of stuntd's servers to try next (daemon/srvpick.c). */
#include "daemon/srvpick.h"
#include "tests/unit/tap.h"

#include <string.h>

/* nothing in use: the list in order of preference, a failed one skipped
 * until its backoff has passed */
static void failover_order(void)
{
	struct d_srvpick p;
	uint64_t t = 5000;

	d_srvpick_init(&p, 3);
	CHECK_EQ(d_srvpick_next(&p, t, 3, -1), 0);
	CHECK_EQ(d_srvpick_failed(&p, 0, t), D_SRV_BACKOFF_MIN_MS);
	CHECK_EQ(d_srvpick_next(&p, t, 3, -1), 1);	/* the next one, at once */
	CHECK_EQ(d_srvpick_failed(&p, 1, t), D_SRV_BACKOFF_MIN_MS);
	CHECK_EQ(d_srvpick_next(&p, t, 3, -1), 2);
	CHECK_EQ(d_srvpick_failed(&p, 2, t), D_SRV_BACKOFF_MIN_MS);
	CHECK_EQ(d_srvpick_next(&p, t + 999, 3, -1), -1);	/* all put off */
	CHECK_EQ(d_srvpick_next(&p, t + 1000, 3, -1), 0);	/* the preferred first again */
	/* an attempt under way to 0: the next one may go in parallel */
	CHECK_EQ(d_srvpick_next(&p, t + 1000, 3, 0), 1);
	/* one server: never anything else */
	d_srvpick_init(&p, 1);
	CHECK_EQ(d_srvpick_next(&p, t, 1, 0), -1);
	CHECK_EQ(d_srvpick_next(&p, t, 4, -1), 0);	/* limit past n: n */
}

/* the backoff doubles to its cap, a registration resets it */
static void backoff(void)
{
	struct d_srvpick p;
	uint64_t t = 0, w, expect = D_SRV_BACKOFF_MIN_MS;
	int i;

	d_srvpick_init(&p, 2);
	for (i = 0; i < 10; i++) {
		w = d_srvpick_failed(&p, 0, t);
		CHECK_EQ(w, expect);
		CHECK_EQ(d_srvpick_next(&p, t + w - 1, 1, -1), -1);
		CHECK_EQ(d_srvpick_next(&p, t + w, 1, -1), 0);
		t += w;
		expect = expect * 2 > D_SRV_BACKOFF_MAX_MS ? D_SRV_BACKOFF_MAX_MS : expect * 2;
	}
	CHECK_EQ(p.s[0].fails, 10);
	CHECK_EQ(d_srvpick_failed(&p, 0, t), D_SRV_BACKOFF_MAX_MS);
	d_srvpick_ok(&p, 0);
	CHECK_EQ(p.s[0].fails, 0);
	CHECK_EQ(d_srvpick_next(&p, t, 2, -1), 0);	/* at once again */
	CHECK_EQ(d_srvpick_failed(&p, 0, t), D_SRV_BACKOFF_MIN_MS);
	/* each server has its own */
	CHECK_EQ(d_srvpick_failed(&p, 1, t), D_SRV_BACKOFF_MIN_MS);
	CHECK_EQ(d_srvpick_failed(&p, 7, t), 0);	/* out of range: ignored */
}

/* in use: only the more preferred ones are tried (moving back), never the
 * one in use or a less preferred one */
static void move_back(void)
{
	struct d_srvpick p;
	uint64_t t = 100000;

	d_srvpick_init(&p, 3);
	(void)d_srvpick_failed(&p, 0, t);	/* lost 0, registered with 1 */
	d_srvpick_ok(&p, 1);
	CHECK_EQ(d_srvpick_next(&p, t, 1, -1), -1);	/* 0 is put off */
	CHECK_EQ(d_srvpick_next(&p, t + 1000, 1, -1), 0);
	CHECK_EQ(d_srvpick_next(&p, t + 1000, 1, 0), -1);	/* already trying it */
	(void)d_srvpick_failed(&p, 0, t + 1000);		/* still down: 2 s */
	CHECK_EQ(d_srvpick_next(&p, t + 2999, 1, -1), -1);
	CHECK_EQ(d_srvpick_next(&p, t + 3000, 1, -1), 0);
	/* in use: the first: nothing to move back to */
	CHECK_EQ(d_srvpick_next(&p, t + 3000, 0, -1), -1);
}

int main(void)
{
	RUN(failover_order);
	RUN(backoff);
	RUN(move_back);
	return TAP_DONE();
}
