// SPDX-License-Identifier: MIT
/* Token buckets and the per-source table: see server/rate.h. */
#include "server/rate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

bool srv_bucket_take(struct srv_bucket *b, unsigned rate_per_s, unsigned burst, uint64_t now_ms)
{
	uint64_t cap = (uint64_t)(burst ? burst : 1) * 1000, t;

	if (!rate_per_s)
		return true;
	if (now_ms > b->last_ms) {
		/* rate tokens per 1000 ms = rate milli-tokens per ms */
		t = b->milli + (now_ms - b->last_ms) * rate_per_s;
		b->milli = (uint32_t)(t > cap ? cap : t);
		b->last_ms = now_ms;
	}
	if (b->milli < 1000)
		return false;
	b->milli -= 1000;
	return true;
}

int srv_rate_init(struct srv_rate *r, unsigned rate_per_s, unsigned burst, size_t nslots,
		  uint32_t seed)
{
	size_t n = SRV_RATE_PROBE;

	memset(r, 0, sizeof(*r));
	while (n < nslots && n < ((size_t)1 << 24))
		n <<= 1;
	if (!(r->slots = calloc(n, sizeof(*r->slots))))
		return -ENOMEM;
	r->nslots = n;
	r->max_used = n - n / 4;
	r->rate_per_s = rate_per_s;
	r->burst = burst;
	r->seed = seed;
	r->seed_random = true;
	if (seed == SRV_RATE_SEED_RANDOM &&
	    getrandom(&r->seed, sizeof(r->seed), GRND_NONBLOCK) != (ssize_t)sizeof(r->seed)) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		r->seed = (uint32_t)ts.tv_nsec ^ (uint32_t)ts.tv_sec;
		r->seed_random = false;
	}
	return 0;
}

void srv_rate_free(struct srv_rate *r)
{
	free(r->slots);
	r->slots = NULL;
	r->nslots = 0;
}

/* FNV-1a over the address, salted with the table's seed. */
static uint32_t hash_addr(uint32_t seed, uint8_t family, const uint8_t *ip, size_t iplen)
{
	uint32_t h = 2166136261u ^ seed;
	size_t i;

	h = (h ^ family) * 16777619u;
	for (i = 0; i < iplen; i++)
		h = (h ^ ip[i]) * 16777619u;
	return h ^ (h >> 15);
}

/* Has the bucket refilled to the burst by now (nothing to forget)? */
static bool slot_stale(const struct srv_rate *r, const struct srv_rate_slot *s, uint64_t now_ms)
{
	uint64_t cap = (uint64_t)(r->burst ? r->burst : 1) * 1000;

	if (s->b.milli >= cap)
		return true;
	return now_ms > s->b.last_ms &&
	       (now_ms - s->b.last_ms) * r->rate_per_s >= cap - s->b.milli;
}

/*
 * The whole window is looked at (an entry can be past a free slot, since
 * stale entries are freed where they are found); a stale entry on the way
 * is freed. A new source takes a free slot while the table is under its
 * cap, else it is refused.
 */
bool srv_rate_allow(struct srv_rate *r, const struct stun_addr *a, uint64_t now_ms)
{
	size_t iplen = a->family == STUN_FAMILY_IPV6 ? 16 : 4, i, k, victim = SIZE_MAX;
	struct srv_rate_slot *s;
	uint32_t h;

	if (!r->rate_per_s || !r->slots)
		return true;
	h = hash_addr(r->seed, a->family, a->ip, iplen);
	for (i = 0; i < SRV_RATE_PROBE; i++) {
		k = (h + i) & (r->nslots - 1);
		s = &r->slots[k];
		if (s->used && s->family == a->family && memcmp(s->ip, a->ip, iplen) == 0)
			return srv_bucket_take(&s->b, r->rate_per_s, r->burst, now_ms);
		if (s->used && slot_stale(r, s, now_ms)) {
			s->used = 0;
			r->used--;
			r->evicted++;
		}
		if (!s->used && victim == SIZE_MAX)
			victim = k;
	}
	if (victim == SIZE_MAX || r->used >= r->max_used) {
		/* the window is all live buckets, or the table is at its cap */
		r->full_refused++;
		return false;
	}
	s = &r->slots[victim];
	memset(s, 0, sizeof(*s));
	s->used = 1;
	r->used++;
	s->family = a->family;
	memcpy(s->ip, a->ip, iplen);
	s->b.milli = (uint32_t)(r->burst ? r->burst : 1) * 1000;
	s->b.last_ms = now_ms;
	return srv_bucket_take(&s->b, r->rate_per_s, r->burst, now_ms);
}
