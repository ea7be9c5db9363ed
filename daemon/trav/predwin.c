// SPDX-License-Identifier: MIT
/* The width of predict's window on a busy sequential NAT (predwin.h). */
#include "daemon/trav/predwin.h"

uint32_t trav_predwin_blend(uint32_t old_tenths, int old_valid, uint32_t new_tenths)
{
	if (!old_valid)
		return new_tenths;
	return (uint32_t)(((uint64_t)old_tenths + new_tenths + 1) / 2);
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
