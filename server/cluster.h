// SPDX-License-Identifier: MIT
/*
 * Several stunt-servers as one rendezvous (--redis HOST:PORT): the
 * registrations of every server in one Redis, the indications between
 * peers of different servers through its pub/sub. Without --redis none of
 * this runs and the server works from memory alone.
 *
 * Two links to Redis, both on the server's epoll loop through hiredis's
 * async API (no thread, no second loop): one for commands, one subscribed
 * to SRV_CLUSTER_REG_CHANNEL and to this server's own SRV_CLUSTER_TO_PREFIX
 * channel (server/cluster_rec.h has the formats).
 *
 *   A peer authenticates here: SET stunt:peer:ID "NAME ENDPOINT EXPIRES"
 *   with a TTL (--redis-ttl) and PUBLISH "+ID ..." on stunt:reg; both
 *   again every TTL / 3 while it stays. It goes: the key is deleted if it
 *   is still ours, "-ID NAME" published.
 *   Every server keeps the others' registrations in memory from those
 *   notices (and, on each (re)connection, from a SCAN of the keys), each
 *   until its EXPIRES: a server that dies or is cut off stops refreshing
 *   and its peers vanish from the others within the TTL.
 *   LOOKUP of a peer of another server answers from that memory;
 *   EXCHANGE / SCHEDULE / RELAY to one are PUBLISHed to its server's
 *   channel as the indication server/rdv.c built (SIG-SENDER as this
 *   server saw the sender); that server seals and sends it as its own.
 *   One for a peer gone on arrival is dropped and counted.
 *
 * Redis gone: the links are closed and tried again with a growing pause
 * (at most 5 s); a link that answers no PING for 3 s counts as gone (a
 * partition). Meanwhile the server serves its own peers, says so in its
 * log and its stats ("redis":"down"), and once back sets and publishes
 * its registrations again.
 */
#ifndef STUNT_SERVER_CLUSTER_H
#define STUNT_SERVER_CLUSTER_H

#include "server/server.h"

#include <stdint.h>

#define SRV_REDIS_TTL_DEFAULT	30	/* seconds */
#define SRV_REDIS_PORT_DEFAULT	6379

/* Start connecting (cfg->redis_host set); nothing without it. */
void srv_cluster_open(struct srv_state *st, const struct srv_config *cfg);
/* epoll reported events on one of its links. */
void srv_cluster_event(struct srv_state *st, struct srv_fd *f, uint32_t events);
/* Every loop turn: reconnect, refresh, PING, forget expired peers. */
void srv_cluster_tick(struct srv_state *st, uint64_t now);
/* c authenticated here / the registered connection of id goes. */
void srv_cluster_registered(struct srv_state *st, const struct rdv_conn *c);
void srv_cluster_unregistered(struct srv_state *st, const char *id);
/* o->fwd_remote: send the indication fwd (o->fwd_len bytes) to the server
 * holding o->fwd_id. 0, or -ENOTCONN when Redis is down. */
int srv_cluster_forward(struct srv_state *st, const struct rdv_out *o, const uint8_t *fwd);
void srv_cluster_close(struct srv_state *st);

#endif
