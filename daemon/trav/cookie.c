// SPDX-License-Identifier: MIT
/* The cookie of a "report our first SYN" policy. See daemon/trav/cookie.h. */
#include "daemon/trav/cookie.h"

uint64_t trav_cookie_make(uint32_t sid, uint8_t method, bool requester, int win)
{
	uint64_t w = win >= 0 && win <= TRAV_COOKIE_WIN_MAX ? (uint64_t)win + 1 : 0;

	return w << 41 | (uint64_t)requester << 40 | (uint64_t)method << 32 | sid;
}

void trav_cookie_parse(uint64_t cookie, uint32_t *sid, uint8_t *method, bool *requester,
		       int *win)
{
	unsigned w = (unsigned)(cookie >> 41) & 0xff;

	*sid = (uint32_t)cookie;
	*method = (uint8_t)(cookie >> 32);
	*requester = (cookie >> 40) & 1;
	*win = w ? (int)w - 1 : TRAV_COOKIE_NO_WIN;
}
