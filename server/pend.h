// SPDX-License-Identifier: MIT
/*
 * stunt-server's STUNT pending operations: server/stunt.c decides, this
 * module acts. Armed captures, running probes and delayed packets sit in
 * one fixed table (STUNT_PENDING_MAX) with a deadline each; the loop
 * sleeps until the nearest one. When the set of captures and probes
 * changes, the pcap filter is rebuilt so that only awaited packets wake
 * us. A client that goes away takes its entries with it. Packets are sent
 * through one raw socket.
 */
#ifndef STUNT_SERVER_PEND_H
#define STUNT_SERVER_PEND_H

#include "server/server.h"

#include <stdint.h>

/* The raw sockets (IPv4, and IPv6 with --primary6) and the capture handle:
 * opened while still privileged. Without them (not root, --no-stunt)
 * STUNT requests get 500 and everything else works; without the IPv6 one
 * only those over IPv6. Also initialises st->stunt. */
void srv_pend_open(struct srv_state *st, const struct srv_config *cfg);
void srv_pend_close(struct srv_state *st);
/* Send one crafted packet now on the raw socket (if there is one). */
void srv_pend_raw(struct srv_state *st, const struct pkt_tcp_spec *spec);
/* A STUNT request from c: the reply goes into c->out (STUNT_BUF bytes of
 * room), the action is taken or armed. */
void srv_pend_stunt(struct srv_state *st, struct srv_client *c, const struct stun_msg *m);
/* c is going away: drop its entries. */
void srv_pend_drop(struct srv_state *st, const struct srv_client *c);
/* The capture handle is readable. */
void srv_pend_capture_read(struct srv_state *st);
/* Rebuild the capture filter if the captures or probes changed. */
void srv_pend_filter_update(struct srv_state *st);
/* Act on the entries whose deadline has come. */
void srv_pend_expire(struct srv_state *st, uint64_t now);
/* Milliseconds until the nearest deadline, at most max_ms. */
int srv_pend_timeout(const struct srv_state *st, uint64_t now, int max_ms);

#endif
