// SPDX-License-Identifier: MIT
/* The schedule of a SYN's copies. See daemon/trav/pace.h. */
#include "daemon/trav/pace.h"

uint32_t trav_pace_gap_ms(unsigned n)
{
	uint32_t gap = TRAV_PACE_FIRST_MS;

	while (n-- > 0 && gap < TRAV_PACE_MAX_GAP_MS)
		gap *= 2;
	return gap < TRAV_PACE_MAX_GAP_MS ? gap : TRAV_PACE_MAX_GAP_MS;
}

void trav_pace_start(struct trav_pace *p, uint64_t now)
{
	if (p->sent >= TRAV_PACE_MAX) {
		p->next_ms = 0;
		return;
	}
	p->next_ms = now + trav_pace_gap_ms(p->sent);
}

bool trav_pace_due(struct trav_pace *p, uint64_t now)
{
	if (p->next_ms == 0 || now < p->next_ms)
		return false;
	p->sent++;
	trav_pace_start(p, now);
	return true;
}

void trav_pace_stop(struct trav_pace *p)
{
	p->next_ms = 0;
}
