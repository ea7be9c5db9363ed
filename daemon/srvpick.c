// SPDX-License-Identifier: MIT
/* Which of stuntd's servers to try next (daemon/srvpick.h). */
#include "daemon/srvpick.h"

#include <string.h>

void d_srvpick_init(struct d_srvpick *p, size_t n)
{
	size_t i;

	memset(p, 0, sizeof(*p));
	p->n = n > D_MAX_SERVERS ? D_MAX_SERVERS : n;
	for (i = 0; i < p->n; i++)
		p->s[i].backoff_ms = D_SRV_BACKOFF_MIN_MS;
}

int d_srvpick_next(const struct d_srvpick *p, uint64_t now, size_t limit, int busy)
{
	size_t i;

	if (limit > p->n)
		limit = p->n;
	for (i = 0; i < limit; i++)
		if ((int)i != busy && now >= p->s[i].next_try_ms)
			return (int)i;
	return -1;
}

uint64_t d_srvpick_failed(struct d_srvpick *p, size_t i, uint64_t now)
{
	struct d_srvpick_srv *s;
	uint64_t wait;

	if (i >= p->n)
		return 0;
	s = &p->s[i];
	wait = s->backoff_ms;
	s->next_try_ms = now + wait;
	s->fails++;
	s->backoff_ms = wait * 2 > D_SRV_BACKOFF_MAX_MS ? D_SRV_BACKOFF_MAX_MS : wait * 2;
	return wait;
}

void d_srvpick_ok(struct d_srvpick *p, size_t i)
{
	if (i >= p->n)
		return;
	p->s[i].backoff_ms = D_SRV_BACKOFF_MIN_MS;
	p->s[i].fails = 0;
	p->s[i].next_try_ms = 0;
}
