// SPDX-License-Identifier: MIT
/* Per-peer budgets: see daemon/budget.h. */
#include "daemon/budget.h"
#include "daemon/session.h"

#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* a token is D_RATE_UNIT units; per_min tokens a minute is per_min units a
 * millisecond: exact in integers */
#define D_RATE_UNIT	60000ull

static void refill(struct d_rate_slot *e, unsigned per_min, uint64_t now)
{
	uint64_t cap = per_min * D_RATE_UNIT;

	if (now > e->t_ms)
		e->units += (now - e->t_ms) * per_min;
	if (e->units > cap)
		e->units = cap;
	if (now > e->t_ms)
		e->t_ms = now;
}

bool d_rate_take(struct d_rate *r, const char *peer, unsigned per_min, uint64_t now)
{
	struct d_rate_slot *e = NULL, *free_slot = NULL;
	size_t i;

	if (per_min == 0)
		return false;
	for (i = 0; i < D_RATE_PEERS; i++) {
		struct d_rate_slot *x = &r->slot[i];

		if (x->peer[0] == '\0') {
			if (free_slot == NULL)
				free_slot = x;
			continue;
		}
		if (!strcmp(x->peer, peer)) {
			e = x;
			break;
		}
		/* a full bucket says nothing: its slot may be reused */
		refill(x, per_min, now);
		if (x->units >= per_min * D_RATE_UNIT && free_slot == NULL)
			free_slot = x;
	}
	if (e == NULL) {
		if (free_slot == NULL)
			return false;
		e = free_slot;
		memset(e, 0, sizeof(*e));
		snprintf(e->peer, sizeof(e->peer), "%s", peer);
		e->t_ms = now;
		e->units = per_min * D_RATE_UNIT;
	}
	refill(e, per_min, now);
	if (e->units < D_RATE_UNIT)
		return false;
	e->units -= D_RATE_UNIT;
	return true;
}

static struct d_rate s_starts;

int d_budget_admit_any(char *why, size_t whylen)
{
	const struct d_config *c = &g_d->cfg;
	const struct d_session *s;
	unsigned n = 0;

	for (s = g_d->sessions; s; s = s->next)
		n += !sess_over(s);
	if (n < c->max_sessions)
		return 0;
	snprintf(why, whylen, "busy: %s runs %u of max-sessions %u", c->id, n, c->max_sessions);
	g_d->sessions_busy++;
	return -EBUSY;
}

int d_budget_admit(const char *peer, uint64_t now, char *why, size_t whylen)
{
	const struct d_config *c = &g_d->cfg;
	const struct d_session *s;
	unsigned n = 0;

	if (d_budget_admit_any(why, whylen) < 0)
		return -EBUSY;
	for (s = g_d->sessions; s; s = s->next)
		if (!s->requester && !sess_over(s) && !strcmp(s->peer, peer))
			n++;
	if (n >= c->max_peer_sessions) {
		snprintf(why, whylen, "busy: peer %s has %u sessions running on %s "
			 "(max-peer-sessions %u)", peer, n, c->id, c->max_peer_sessions);
		g_d->sessions_busy++;
		return -EBUSY;
	}
	if (!d_rate_take(&s_starts, peer, c->max_peer_starts, now)) {
		snprintf(why, whylen, "busy: peer %s started more than %u sessions in the last "
			 "minute on %s (max-peer-starts)", peer, c->max_peer_starts, c->id);
		g_d->starts_busy++;
		return -EBUSY;
	}
	return 0;
}
