/* SPDX-License-Identifier: MIT */
/*
 * Per-peer budgets of stuntd (docs/security.md): what an authenticated but
 * hostile peer may make this stuntd do. As the responder: at most
 * max-peer-sessions sessions of one peer at once and max-peer-starts session
 * starts a minute (a token bucket per peer, full at first, refilled at
 * max-peer-starts a minute). The packets a session may send
 * (max-session-packets) are counted by the attempts themselves
 * (trav_budget_take, daemon/trav/attempt.c).
 */
#ifndef STUNT_DAEMON_BUDGET_H
#define STUNT_DAEMON_BUDGET_H

#include "proto/sig.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* More than the peers allow lines can name (D_MAX_ALLOW x D_MAX_ALLOW_PEERS):
 * an entry is evicted only when its bucket is full again (it carries nothing). */
#define D_RATE_PEERS	512

struct d_rate_slot {
	char		peer[SIG_ID_MAX + 1];	/* "": free */
	uint64_t	t_ms;			/* last refill */
	uint64_t	units;			/* tokens x 60000 */
};

struct d_rate {
	struct d_rate_slot	slot[D_RATE_PEERS];
};

/* One start of peer at now, per_min a minute: true if the bucket had a
 * token (taken), false if not (the table full of busy peers counts as
 * not). Pure. */
bool d_rate_take(struct d_rate *r, const char *peer, unsigned per_min, uint64_t now);

/* Either role: may one more session start (max-sessions: every session
 * not over yet)? 0, or -EBUSY with the refusal in why ("busy: ID runs 256 of
 * max-sessions 256"), counted. */
int d_budget_admit_any(char *why, size_t whylen);
/* Responder: may peer start a session now (d_budget_admit_any, its
 * sessions running, its starts in the last minute)? 0, or -EBUSY with the
 * refusal in why ("busy: peer X has 8 sessions running on ID
 * (max-peer-sessions)"), counted. */
int d_budget_admit(const char *peer, uint64_t now, char *why, size_t whylen);

#endif
