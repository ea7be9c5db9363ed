// SPDX-License-Identifier: MIT
/*
 * Token buckets for stunt-server: one bucket (srv_bucket_take) and a
 * bounded table of buckets keyed by source IP address (srv_rate_allow), so
 * that unauthenticated UDP cannot turn the server into a reflector and an
 * authenticated client cannot make it send packets without limit. Pure:
 * the caller passes the clock; no allocation after srv_rate_init.
 *
 * The table is open-addressed with a short probe window. When every slot
 * of the window is taken, the entry idle the longest is replaced: a new
 * source then starts with a full bucket, which is no worse than a table
 * without it, and memory stays fixed whatever the number of sources.
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
	struct srv_rate_slot	*slots;
	uint64_t		 evicted;	/* entries replaced while still in use */
};

/* nslots is rounded up to a power of two (at least SRV_RATE_PROBE).
 * 0 or -ENOMEM. */
int srv_rate_init(struct srv_rate *r, unsigned rate_per_s, unsigned burst, size_t nslots,
		  uint32_t seed);
void srv_rate_free(struct srv_rate *r);
/* One token for source a's IP (the port is ignored). */
bool srv_rate_allow(struct srv_rate *r, const struct stun_addr *a, uint64_t now_ms);

#endif
