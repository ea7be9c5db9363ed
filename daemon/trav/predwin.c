// SPDX-License-Identifier: MIT
/* The width of predict's window on a busy sequential NAT (predwin.h). */
#include "daemon/trav/predwin.h"

uint32_t trav_predwin_blend(uint32_t old_tenths, int old_valid, uint32_t new_tenths)
{
	if (!old_valid)
		return new_tenths;
	return (uint32_t)(((uint64_t)old_tenths + new_tenths + 1) / 2);
}

void trav_predwin_pace_add(struct trav_predwin_pace *p, uint32_t ports, uint32_t interval_ms,
			   uint64_t now_ms)
{
	uint64_t age = p->at_ms && now_ms > p->at_ms ? now_ms - p->at_ms : 0;
	int halvings;

	/* whole half-lives only: the weights need no libm, and an estimate
	 * younger than one half-life is taken as it is */
	for (halvings = 0; age >= TRAV_PREDWIN_HALF_MS && halvings < 64; halvings++) {
		p->ports /= 2;
		p->ms /= 2;
		age -= TRAV_PREDWIN_HALF_MS;
	}
	p->ports += ports;
	p->ms += interval_ms;
	if (now_ms > p->at_ms)
		p->at_ms = now_ms;
	if (!p->at_ms)
		p->at_ms = 1;	/* measured */
}

uint32_t trav_predwin_pace_tenths(const struct trav_predwin_pace *p)
{
	double ms = p->ms < TRAV_PREDWIN_MIN_MS ? TRAV_PREDWIN_MIN_MS : p->ms;
	double t = p->ports * 10000.0 / ms + 0.5;

	if (!p->at_ms)
		return 0;
	return t >= 4e9 ? 4000000000u : (uint32_t)t;
}

uint16_t trav_predwin_count(uint32_t pace_tenths, uint32_t lead_ms)
{
	/* foreign ports in lead_ms, times 1.5, rounded up:
	 * pace/10 * lead/1000 * 3/2 = pace * lead * 3 / 20000 */
	uint64_t x = (uint64_t)pace_tenths * lead_ms;	/* < 2^64: both are 32-bit */
	uint64_t n;

	if (x > (uint64_t)TRAV_PREDWIN_MAX * 20000u)	/* far too many: no 3x overflow */
		return 0;
	n = TRAV_PREDWIN_BASE + (x * 3 + 19999) / 20000;
	return n > TRAV_PREDWIN_MAX ? 0 : (uint16_t)n;
}
