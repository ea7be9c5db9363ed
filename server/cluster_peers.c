// SPDX-License-Identifier: MIT
/* Other servers' peers in memory: see server/cluster_peers.h. */
#include "server/cluster_peers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PEERS_MIN	64

static size_t bucket(const struct srv_cluster_peers *t, const char *id)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	while (*id)
		h = (h ^ (uint8_t)*id++) * 16777619u;
	return h & (t->nheads - 1);
}

static void link_in(struct srv_cluster_peers *t, size_t i)
{
	size_t b = bucket(t, t->v[i].id);

	t->v[i].next = t->heads[b];
	t->heads[b] = (uint32_t)(i + 1);
}

static void unlink_from(struct srv_cluster_peers *t, size_t i)
{
	uint32_t *at = &t->heads[bucket(t, t->v[i].id)];

	while (*at && *at != i + 1)
		at = &t->v[*at - 1].next;
	if (*at)
		*at = t->v[i].next;
}

struct srv_cluster_peer *srv_cluster_peers_find(const struct srv_cluster_peers *t,
						const char *id)
{
	uint32_t i;

	if (!t->nheads)
		return NULL;
	for (i = t->heads[bucket(t, id)]; i; i = t->v[i - 1].next)
		if (!strcmp(t->v[i - 1].id, id))
			return &t->v[i - 1];
	return NULL;
}

/* Room for one more: the array and, past its size, the buckets doubled. */
static int grow(struct srv_cluster_peers *t)
{
	size_t ncap = t->cap ? t->cap * 2 : PEERS_MIN, i;
	struct srv_cluster_peer *nv;
	uint32_t *nh;

	if (ncap > UINT32_MAX - 1)
		return -ENOMEM;
	if (!(nv = realloc(t->v, ncap * sizeof(*nv))))
		return -ENOMEM;
	t->v = nv;
	if (!(nh = calloc(ncap, sizeof(*nh))))
		return -ENOMEM;
	free(t->heads);
	t->heads = nh;
	t->nheads = ncap;
	t->cap = ncap;
	for (i = 0; i < t->n; i++)
		link_in(t, i);
	return 0;
}

int srv_cluster_peers_put(struct srv_cluster_peers *t, const char *id, const char *server,
			  const struct stun_addr *endpoint, uint64_t expires_ms)
{
	struct srv_cluster_peer *p = srv_cluster_peers_find(t, id);
	int err;

	if (!sig_id_valid(id, strlen(id)) || !srv_cluster_name_valid(server, strlen(server)))
		return -EINVAL;
	if (!p) {
		if (t->n == t->cap && (err = grow(t)) < 0)
			return err;
		p = &t->v[t->n];
		memset(p, 0, sizeof(*p));
		strcpy(p->id, id);
		link_in(t, t->n++);
	}
	strcpy(p->server, server);
	p->endpoint = *endpoint;
	p->expires_ms = expires_ms;
	return 0;
}

void srv_cluster_peers_remove(struct srv_cluster_peers *t, struct srv_cluster_peer *p)
{
	size_t i = (size_t)(p - t->v), last = t->n - 1;

	unlink_from(t, i);
	if (i != last) {
		/* the last entry moves into the hole */
		unlink_from(t, last);
		t->v[i] = t->v[last];
		link_in(t, i);
	}
	t->n--;
}

size_t srv_cluster_peers_expire(struct srv_cluster_peers *t, uint64_t now)
{
	size_t i = 0, gone = 0;

	while (i < t->n)
		if (t->v[i].expires_ms <= now) {
			srv_cluster_peers_remove(t, &t->v[i]);
			gone++;
		} else {
			i++;
		}
	return gone;
}

void srv_cluster_peers_free(struct srv_cluster_peers *t)
{
	free(t->v);
	free(t->heads);
	memset(t, 0, sizeof(*t));
}
