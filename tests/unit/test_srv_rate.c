// SPDX-License-Identifier: MIT
/*
 * stunt-server's token buckets (server/rate.c): the burst passes, the
 * rest waits for the refill, sources do not share a bucket, the table
 * stays under its global cap whatever the number of sources, a flood does
 * not evict a source that is still limited, the hash seed is random.
 */
#include "server/rate.h"
#include "tests/unit/tap.h"

static struct stun_addr ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
	struct stun_addr x;

	memset(&x, 0, sizeof(x));
	x.family = STUN_FAMILY_IPV4;
	x.ip[0] = a;
	x.ip[1] = b;
	x.ip[2] = c;
	x.ip[3] = d;
	x.port = port;
	return x;
}

static void bucket_burst_then_refill(void)
{
	struct srv_bucket b = { .milli = 3000, .last_ms = 1000 };
	unsigned i, n = 0;

	for (i = 0; i < 10; i++)
		n += srv_bucket_take(&b, 10, 3, 1000);
	CHECK_EQ(n, 3);
	/* 10/s: one token per 100 ms */
	CHECK(!srv_bucket_take(&b, 10, 3, 1050));
	CHECK(srv_bucket_take(&b, 10, 3, 1100));
	CHECK(!srv_bucket_take(&b, 10, 3, 1100));
	/* a long pause refills to the burst, not beyond */
	for (i = 0, n = 0; i < 10; i++)
		n += srv_bucket_take(&b, 10, 3, 100000);
	CHECK_EQ(n, 3);
	/* a clock that goes back takes nothing away and gives nothing */
	CHECK(!srv_bucket_take(&b, 10, 3, 50));
	/* rate 0: no limit */
	for (i = 0, n = 0; i < 100; i++)
		n += srv_bucket_take(&b, 0, 3, 0);
	CHECK_EQ(n, 100);
}

static void per_source_buckets(void)
{
	struct srv_rate r;
	struct stun_addr a = ip4(198, 18, 1, 2, 1000), a2 = ip4(198, 18, 1, 2, 2000);
	struct stun_addr b = ip4(198, 18, 2, 2, 1000);
	unsigned i, na = 0, nb = 0;

	CHECK_EQ(srv_rate_init(&r, 50, 5, 100, 7), 0);
	CHECK_EQ(r.nslots, 128);
	for (i = 0; i < 20; i++) {
		na += srv_rate_allow(&r, i & 1 ? &a : &a2, 0);	/* the port does not matter */
		nb += srv_rate_allow(&r, &b, 0);
	}
	CHECK_EQ(na, 5);
	CHECK_EQ(nb, 5);
	CHECK(srv_rate_allow(&r, &a, 20));	/* 50/s: a token per 20 ms */
	CHECK(!srv_rate_allow(&r, &a, 20));
	srv_rate_free(&r);
}

static void ipv6_sources(void)
{
	struct srv_rate r;
	struct stun_addr a, b;
	unsigned i, n = 0;

	memset(&a, 0, sizeof(a));
	a.family = STUN_FAMILY_IPV6;
	a.ip[0] = 0x20;
	a.ip[15] = 1;
	b = a;
	b.ip[15] = 2;
	CHECK_EQ(srv_rate_init(&r, 1, 2, 8, 0), 0);
	for (i = 0; i < 5; i++)
		n += srv_rate_allow(&r, &a, 0);
	CHECK_EQ(n, 2);
	CHECK(srv_rate_allow(&r, &b, 0));
	srv_rate_free(&r);
}

static void table_is_bounded(void)
{
	struct srv_rate r;
	struct stun_addr x, v = ip4(192, 0, 2, 99, 1);
	unsigned i, used = 0, passed = 0;

	CHECK_EQ(srv_rate_init(&r, 1, 1, 64, 3), 0);
	CHECK_EQ(r.max_used, 48);
	/* the victim is in the table and has used its token */
	CHECK(srv_rate_allow(&r, &v, 0));
	CHECK(!srv_rate_allow(&r, &v, 0));
	/* a spoofed flood from 100000 sources within 100 ms: fixed memory, at
	 * most max_used entries, each source gets at most its burst */
	for (i = 0; i < 100000; i++) {
		x = ip4(10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i, 1);
		passed += srv_rate_allow(&r, &x, i / 1000);
	}
	for (i = 0; i < r.nslots; i++)
		used += r.slots[i].used;
	CHECK(used <= r.max_used);
	CHECK_EQ(used, r.used);
	CHECK(passed <= r.max_used);
	CHECK(r.full_refused >= 100000 - r.max_used);
	/* the flood did not evict the victim's bucket: still empty (1/s) */
	CHECK(!srv_rate_allow(&r, &v, 100));
	/* once the flood's buckets are full again (stale), new sources get
	 * in, freeing them on the way */
	x = ip4(198, 51, 100, 7, 1);
	CHECK(srv_rate_allow(&r, &x, 5000));
	CHECK(!srv_rate_allow(&r, &x, 5000));
	CHECK(r.evicted > 0);
	CHECK(srv_rate_allow(&r, &v, 5000));
	srv_rate_free(&r);
}

/* a table fills to its cap and no further; stale entries make room */
static void global_cap(void)
{
	struct srv_rate r;
	struct stun_addr x;
	unsigned i, in = 0;

	CHECK_EQ(srv_rate_init(&r, 10, 2, 1024, 11), 0);
	CHECK_EQ(r.max_used, 768);
	for (i = 0; i < 4096; i++) {
		x = ip4(10, 9, (uint8_t)(i >> 8), (uint8_t)i, 1);
		in += srv_rate_allow(&r, &x, 0);
	}
	CHECK_EQ(r.used, in);
	CHECK(r.used <= 768);
	CHECK(r.used > 600);	/* the windows, not the cap, refuse a few before it */
	CHECK_EQ(r.full_refused, 4096 - in);
	/* 200 ms later (2 tokens at 10/s) every bucket is full: stale */
	for (i = 0, in = 0; i < 4096; i++) {
		x = ip4(10, 8, (uint8_t)(i >> 8), (uint8_t)i, 1);
		in += srv_rate_allow(&r, &x, 200);
	}
	CHECK(in > 600);
	CHECK(r.used <= 768);
	srv_rate_free(&r);
}

static void random_seed(void)
{
	struct srv_rate a, b;

	CHECK_EQ(srv_rate_init(&a, 1, 1, 8, SRV_RATE_SEED_RANDOM), 0);
	CHECK_EQ(srv_rate_init(&b, 1, 1, 8, SRV_RATE_SEED_RANDOM), 0);
	CHECK(a.seed_random && b.seed_random);
	CHECK(a.seed != b.seed);	/* 2^-32 to be equal by chance */
	srv_rate_free(&a);
	srv_rate_free(&b);
	CHECK_EQ(srv_rate_init(&a, 1, 1, 8, 1234), 0);
	CHECK_EQ(a.seed, 1234);
	srv_rate_free(&a);
}

int main(void)
{
	RUN(bucket_burst_then_refill);
	RUN(per_source_buckets);
	RUN(ipv6_sources);
	RUN(table_is_bounded);
	RUN(global_cap);
	RUN(random_seed);
	return TAP_DONE();
}
