// SPDX-License-Identifier: MIT
/*
 * Token buckets for stunt-server: one bucket (srv_bucket_take) and a
 * bounded table of buckets keyed by source IP address (srv_rate_allow), so
 * that unauthenticated UDP cannot turn the server into a reflector and an
 * authenticated client cannot make it send packets without limit. Pure
 * but for srv_rate_init's seed: the caller passes the clock; no allocation
 * after srv_rate_init.
 *
 * The table is open-addressed with a short probe window, its hash salted
 * with a random seed (getrandom(2)) so that a sender cannot aim at one
 * window from outside. It holds at most max_used entries (3/4 of the
 * slots): a global cap, whatever the number of sources. An entry whose
 * bucket has refilled to the burst is stale -- forgetting it changes
 * nothing -- and is freed when a lookup passes it. A new source with no
 * free slot in its window, or with the table at its cap, is refused (not
 * answered, counted in full_refused) instead of evicting a source that is
 * still being limited: evicting it would hand it a full bucket again, and
 * a flood of spoofed sources could so lift any source's limit.
 */
#ifndef STUNT_SERVER_RATE_H
#define STUNT_SERVER_RATE_H

#include "proto/stun_attr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct srv_bucket {
	uint32_t	milli;		/* tokens x 1000 */
	uint64_t	last_ms;	/* last refill */
};

/* Refill at rate_per_s up to burst, then take one token if there is one.
 * rate_per_s 0 means unlimited (always true). */
bool srv_bucket_take(struct srv_bucket *b, unsigned rate_per_s, unsigned burst, uint64_t now_ms);

#define SRV_RATE_PROBE	8	/* slots looked at per lookup */

struct srv_rate_slot {
	uint8_t			used;
	uint8_t			family;
	uint8_t			ip[16];
	struct srv_bucket	b;
};

struct srv_rate {
	unsigned		 rate_per_s;	/* 0: unlimited */
	unsigned		 burst;
	size_t			 nslots;	/* power of two */
	uint32_t		 seed;
	bool			 seed_random;	/* false: getrandom failed, seeded from the clock */
	struct srv_rate_slot	*slots;
	size_t			 used;		/* entries in the table */
	size_t			 max_used;	/* the global cap: 3/4 of nslots */
	uint64_t		 evicted;	/* stale entries (full bucket) freed */
	uint64_t		 full_refused;	/* new sources refused: no stale entry to replace */
};

#define SRV_RATE_SEED_RANDOM	0	/* seed argument: draw one with getrandom(2) */

/* nslots is rounded up to a power of two (at least SRV_RATE_PROBE).
 * seed SRV_RATE_SEED_RANDOM: from getrandom(2), or the clock if that fails
 * (seed_random says which; tests pass a fixed seed). 0 or -ENOMEM. */
int srv_rate_init(struct srv_rate *r, unsigned rate_per_s, unsigned burst, size_t nslots,
		  uint32_t seed);
void srv_rate_free(struct srv_rate *r);
/* One token for source a's IP (the port is ignored). */
bool srv_rate_allow(struct srv_rate *r, const struct stun_addr *a, uint64_t now_ms);

#endif
