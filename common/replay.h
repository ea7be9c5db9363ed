/* SPDX-License-Identifier: MIT */
/*
 * Anti-replay window over 64-bit sequence numbers (the scheme of RFC 4303
 * 3.4.3 / RFC 6479 in its simplest form): the highest number accepted so
 * far and a bitmap of the REPLAY_WINDOW numbers below it. A number is new
 * when it is above the highest, or inside the window and not yet seen;
 * anything at or below highest - REPLAY_WINDOW is too old and refused, so
 * the state is 16 bytes whatever the traffic. 0 is never valid.
 *
 * Pure and bounded. Check first, and mark a number seen (replay_accept)
 * only after the message carrying it has been authenticated, so that a
 * forged message cannot move the window.
 */
#ifndef STUNT_COMMON_REPLAY_H
#define STUNT_COMMON_REPLAY_H

#include <stdint.h>

#define REPLAY_WINDOW	64

struct replay_win {
	uint64_t	top;		/* highest accepted; 0: none yet */
	uint64_t	seen;		/* bit i: top - i accepted (bit 0 = top) */
};

enum replay_verdict {
	REPLAY_NEW = 0,		/* never seen, inside or above the window */
	REPLAY_DUP,		/* seen already: a replay */
	REPLAY_OLD,		/* below the window: cannot tell, refused */
	REPLAY_ZERO,		/* 0 is not a sequence number */
};

void replay_init(struct replay_win *w);
enum replay_verdict replay_check(const struct replay_win *w, uint64_t seq);
/* Mark seq seen (checks again; returns the verdict, REPLAY_NEW if marked). */
enum replay_verdict replay_accept(struct replay_win *w, uint64_t seq);
const char *replay_verdict_name(enum replay_verdict v);

#endif
