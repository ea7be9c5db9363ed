// SPDX-License-Identifier: MIT
/* The other servers' peers in memory (server/cluster_peers.c): put, find,
 * change, remove, expire, with enough entries to grow the table and fill
 * buckets, each entry checked to be found where it is after every move. */
#include "server/cluster_peers.h"
#include "tests/unit/tap.h"

#include <errno.h>
#include <stdio.h>

#define N	1000

static struct stun_addr ep(uint16_t port)
{
	struct stun_addr a = { .family = STUN_FAMILY_IPV4, .port = port, .ip = { 10, 0, 0, 1 } };

	return a;
}

static char *id_of(unsigned i)
{
	static char buf[SIG_ID_MAX + 1];

	snprintf(buf, sizeof(buf), "peer-%u", i);
	return buf;
}

/* every entry found at its own place, and as many as there should be */
static void all_findable(const struct srv_cluster_peers *t, size_t want)
{
	size_t i;

	CHECK_EQ(t->n, want);
	for (i = 0; i < t->n; i++)
		CHECK(srv_cluster_peers_find(t, t->v[i].id) == &t->v[i]);
}

static void put_find_change_remove(void)
{
	struct srv_cluster_peers t = { 0 };
	struct stun_addr a = ep(1000);
	struct srv_cluster_peer *p;
	unsigned i;

	CHECK(srv_cluster_peers_find(&t, "nobody") == NULL);
	CHECK_EQ(srv_cluster_peers_put(&t, "alice", "s2", &a, 500), 0);
	p = srv_cluster_peers_find(&t, "alice");
	CHECK(p && !strcmp(p->server, "s2") && p->endpoint.port == 1000 && p->expires_ms == 500);
	/* moved to another server: one entry, changed */
	a.port = 2000;
	CHECK_EQ(srv_cluster_peers_put(&t, "alice", "s3", &a, 900), 0);
	p = srv_cluster_peers_find(&t, "alice");
	CHECK(p && !strcmp(p->server, "s3") && p->endpoint.port == 2000 && p->expires_ms == 900);
	CHECK_EQ(t.n, 1);
	CHECK_EQ(srv_cluster_peers_put(&t, "a b", "s3", &a, 900), -EINVAL);
	CHECK_EQ(srv_cluster_peers_put(&t, "bob", "s 3", &a, 900), -EINVAL);
	/* many: the table grows past its first size */
	for (i = 0; i < N; i++)
		CHECK_EQ(srv_cluster_peers_put(&t, id_of(i), "s2", &a, 1000 + i), 0);
	all_findable(&t, N + 1);
	CHECK(t.nheads >= t.n);
	/* remove from the middle, the end, the start: the moved one still found */
	srv_cluster_peers_remove(&t, srv_cluster_peers_find(&t, id_of(500)));
	srv_cluster_peers_remove(&t, &t.v[t.n - 1]);
	srv_cluster_peers_remove(&t, &t.v[0]);
	all_findable(&t, N - 2);
	CHECK(srv_cluster_peers_find(&t, id_of(500)) == NULL);
	CHECK(srv_cluster_peers_find(&t, "alice") == NULL);	/* it was v[0] */
	srv_cluster_peers_free(&t);
	CHECK(t.n == 0 && srv_cluster_peers_find(&t, "peer-1") == NULL);
}

static void expiry(void)
{
	struct srv_cluster_peers t = { 0 };
	struct stun_addr a = ep(1);
	unsigned i;

	for (i = 0; i < N; i++)
		CHECK_EQ(srv_cluster_peers_put(&t, id_of(i), "s2", &a, i % 2 ? 5000 : 1000), 0);
	CHECK_EQ(srv_cluster_peers_expire(&t, 999), 0);
	CHECK_EQ(srv_cluster_peers_expire(&t, 1000), N / 2);
	all_findable(&t, N / 2);
	for (i = 0; i < N; i++)
		CHECK((srv_cluster_peers_find(&t, id_of(i)) != NULL) == (i % 2));
	/* a refresh moves one's expiry on */
	CHECK_EQ(srv_cluster_peers_put(&t, id_of(1), "s2", &a, 9000), 0);
	CHECK_EQ(srv_cluster_peers_expire(&t, 5000), N / 2 - 1);
	all_findable(&t, 1);
	CHECK(srv_cluster_peers_find(&t, id_of(1)) != NULL);
	srv_cluster_peers_free(&t);
}

int main(void)
{
	RUN(put_find_change_remove);
	RUN(expiry);
	return TAP_DONE();
}
