// SPDX-License-Identifier: MIT
/*
 * The peers registered on the other servers of a cluster, as one server
 * remembers them (server/cluster.h): id -> the server holding it, the
 * endpoint that server saw, until when. A hash on the id (a refresh of
 * every registration of every server arrives each TTL / 3, and each looks
 * its id up), the entries in one array. Pure: no I/O, the caller's clock.
 */
#ifndef STUNT_SERVER_CLUSTER_PEERS_H
#define STUNT_SERVER_CLUSTER_PEERS_H

#include "server/cluster_rec.h"

#include <stddef.h>
#include <stdint.h>

struct srv_cluster_peer {
	char			 id[SIG_ID_MAX + 1];
	char			 server[SRV_CLUSTER_NAME_MAX + 1];
	struct stun_addr	 endpoint;
	uint64_t		 expires_ms;
	uint32_t		 next;		/* index + 1 of the next in its bucket, 0: none */
};

struct srv_cluster_peers {
	struct srv_cluster_peer	*v;
	size_t			 n, cap;
	uint32_t		*heads;		/* index + 1 of a bucket's first, 0: none */
	size_t			 nheads;	/* a power of two, at least cap */
};

/* id's entry, or NULL (expired ones too: see _expire). */
struct srv_cluster_peer *srv_cluster_peers_find(const struct srv_cluster_peers *t,
						const char *id);
/* id on server until expires_ms: a new entry or the old one changed.
 * 0, or -ENOMEM, -EINVAL (a bad id or server name). */
int srv_cluster_peers_put(struct srv_cluster_peers *t, const char *id, const char *server,
			  const struct stun_addr *endpoint, uint64_t expires_ms);
/* p (from _find) goes; pointers to entries are stale after this. */
void srv_cluster_peers_remove(struct srv_cluster_peers *t, struct srv_cluster_peer *p);
/* Remove every entry whose expires_ms <= now; how many. */
size_t srv_cluster_peers_expire(struct srv_cluster_peers *t, uint64_t now);
void srv_cluster_peers_free(struct srv_cluster_peers *t);

#endif
