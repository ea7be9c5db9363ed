/* SPDX-License-Identifier: MIT */
/*
 * Which of stuntd's servers to try next (daemon/sig.c connects, this only
 * decides; no I/O, no clock of its own). The servers are in order of
 * preference. Each has its own retry time and backoff: a failed attempt or
 * a lost registration puts it off for its backoff (1 s, doubling to 60 s),
 * a registration resets it. With no server in use the most preferred one
 * whose time has come is tried; with one in use only the more preferred
 * ones are (the background attempt to move back), so the list is walked
 * down at once when a server goes and up again as each returns.
 */
#ifndef STUNT_DAEMON_SRVPICK_H
#define STUNT_DAEMON_SRVPICK_H

#include <stddef.h>
#include <stdint.h>

#define D_MAX_SERVERS		4
#define D_SRV_BACKOFF_MIN_MS	1000
#define D_SRV_BACKOFF_MAX_MS	60000

struct d_srvpick_srv {
	uint64_t	next_try_ms;	/* not tried before this */
	uint64_t	backoff_ms;	/* the next failure puts it off this long */
	unsigned long	fails;		/* failures since its last registration */
};

struct d_srvpick {
	size_t			n;
	struct d_srvpick_srv	s[D_MAX_SERVERS];
};

/* n servers (at most D_MAX_SERVERS), each to be tried at once. */
void d_srvpick_init(struct d_srvpick *p, size_t n);

/*
 * The server to connect to now: the most preferred of servers 0..limit-1
 * (limit: the index of the one in use, or n when none is) whose retry
 * time has come, skipping busy (a server an attempt is already under way
 * to; -1: none). -1 when there is none.
 */
int d_srvpick_next(const struct d_srvpick *p, uint64_t now, size_t limit, int busy);

/* Server i failed (an attempt, or it was lost): put off for its backoff,
 * which doubles; returns that wait in ms. */
uint64_t d_srvpick_failed(struct d_srvpick *p, size_t i, uint64_t now);

/* Server i accepted our registration: its backoff starts afresh. */
void d_srvpick_ok(struct d_srvpick *p, size_t i);

#endif
