// SPDX-License-Identifier: MIT
/* Anti-replay window: see replay.h. */
#include "common/replay.h"

#include <string.h>

void replay_init(struct replay_win *w)
{
	memset(w, 0, sizeof(*w));
}

enum replay_verdict replay_check(const struct replay_win *w, uint64_t seq)
{
	uint64_t back;

	if (seq == 0)
		return REPLAY_ZERO;
	if (seq > w->top)
		return REPLAY_NEW;
	back = w->top - seq;
	if (back >= REPLAY_WINDOW)
		return REPLAY_OLD;
	return (w->seen >> back) & 1 ? REPLAY_DUP : REPLAY_NEW;
}

enum replay_verdict replay_accept(struct replay_win *w, uint64_t seq)
{
	enum replay_verdict v = replay_check(w, seq);
	uint64_t shift;

	if (v != REPLAY_NEW)
		return v;
	if (seq > w->top) {
		shift = seq - w->top;
		w->seen = shift >= REPLAY_WINDOW ? 0 : w->seen << shift;
		w->seen |= 1;
		w->top = seq;
	} else {
		w->seen |= (uint64_t)1 << (w->top - seq);
	}
	return REPLAY_NEW;
}

const char *replay_verdict_name(enum replay_verdict v)
{
	static const char *const names[] = { "new", "replayed", "too old", "zero" };

	return (unsigned)v < sizeof(names) / sizeof(names[0]) ? names[v] : "?";
}
