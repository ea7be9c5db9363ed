// SPDX-License-Identifier: MIT
/* The cookie of a "report our first SYN" policy (daemon/trav/cookie.c). */
#include "daemon/trav/cookie.h"
#include "proto/sig.h"
#include "tests/unit/tap.h"

static void round_trip(uint32_t sid, uint8_t method, bool req, int win, int want_win)
{
	uint32_t s = 0;
	uint8_t m = 0;
	bool r = !req;
	int w = 99;

	trav_cookie_parse(trav_cookie_make(sid, method, req, win), &s, &m, &r, &w);
	CHECK_EQ(s, sid);
	CHECK_EQ(m, method);
	CHECK_EQ(r, req);
	CHECK_EQ(w, want_win);
}

/* stunt1 / synth: the attempt's own socket */
static void own_socket(void)
{
	round_trip(1, SIG_M_STUNT1, true, TRAV_COOKIE_NO_WIN, TRAV_COOKIE_NO_WIN);
	round_trip(0xffffffffu, SIG_M_SYNTH, false, TRAV_COOKIE_NO_WIN, TRAV_COOKIE_NO_WIN);
	round_trip(42, SIG_M_MAX, true, TRAV_COOKIE_NO_WIN, TRAV_COOKIE_NO_WIN);
}

/* the layout before window entries existed: what an older cookie meant */
static void layout(void)
{
	uint64_t c = (uint64_t)1 << 40 | (uint64_t)SIG_M_SYNTH << 32 | 7u;
	uint32_t s;
	uint8_t m;
	bool r;
	int w;

	CHECK(trav_cookie_make(7, SIG_M_SYNTH, true, TRAV_COOKIE_NO_WIN) == c);
	trav_cookie_parse(c, &s, &m, &r, &w);
	CHECK_EQ(w, TRAV_COOKIE_NO_WIN);
	/* entry 0 is not "no entry" */
	CHECK(trav_cookie_make(7, SIG_M_PREDICT, true, 0) !=
	      trav_cookie_make(7, SIG_M_PREDICT, true, TRAV_COOKIE_NO_WIN));
}

/* predict: every entry of a window, no part bleeding into another */
static void window(void)
{
	int i;

	for (i = 0; i <= TRAV_COOKIE_WIN_MAX; i++) {
		round_trip(0x80000001u, SIG_M_PREDICT, i & 1, i, i);
		round_trip(0, 0xff, !(i & 1), i, i);
	}
	/* out of range: stored as no entry, the rest intact */
	round_trip(5, SIG_M_PREDICT, true, TRAV_COOKIE_WIN_MAX + 1, TRAV_COOKIE_NO_WIN);
	round_trip(5, SIG_M_PREDICT, false, -7, TRAV_COOKIE_NO_WIN);
}

int main(void)
{
	RUN(own_socket);
	RUN(layout);
	RUN(window);
	return TAP_DONE();
}
