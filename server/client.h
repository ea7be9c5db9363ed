// SPDX-License-Identifier: MIT
/*
 * stunt-server's TCP and TLS clients: accepting, the TLS handshake,
 * reading and framing STUN messages, answering them (Binding here,
 * rendezvous through server/rdv.c, STUNT through server/pend.c), the bounded
 * output queue and the idle timeout.
 *
 * Each client has a bounded input buffer (one STUN message of at most
 * SRV_CLIENT_IN_MAX bytes) and a bounded output buffer. A client whose
 * frame does not fit, whose bytes are not STUN framing, or who does not
 * read its answers is closed and counted. Clients sit on a list ordered by
 * their last activity, so the idle ones are found at its head.
 *
 * TLS clients (accepted on --tls-port) first finish a non-blocking
 * handshake, waiting for whichever direction OpenSSL asks; after that they
 * are ordinary clients whose bytes go through SSL_read / SSL_write.
 */
#ifndef STUNT_SERVER_CLIENT_H
#define STUNT_SERVER_CLIENT_H

#include "server/server.h"

#include <stddef.h>
#include <stdint.h>

/* Accept every pending connection on the listener f. */
void srv_client_accept(struct srv_state *st, const struct srv_config *cfg, struct srv_fd *f);
/* epoll reported events on c; c may be closed on return. */
void srv_client_event(struct srv_state *st, const struct srv_config *cfg, struct srv_client *c,
		      uint32_t events);
/* After a batch of events: close the unauthenticated clients that
 * srv_client_accept() wanted evicted at the client limit, then the clients
 * idle for cfg->idle_s. */
void srv_client_expire(struct srv_state *st, const struct srv_config *cfg, uint64_t now);
/* The secrets file was reloaded (prev -> next): close every registered
 * connection whose id next removes or gives another secret (logged with
 * the id, counted in rdv.revoked) and forget that id's STUNT #1 sessions.
 * Returns how many were closed. */
unsigned srv_client_revoke(struct srv_state *st, const struct srv_secrets *prev,
			   const struct srv_secrets *next);
/* An indication (len bytes in msg, cap bytes of room for its seal) for
 * the registered connection to: sealed with its keys, queued, written when
 * it is writable -- never closed from here. 0, or -ENOSPC when it cannot
 * be sealed (counted in sec.seal_fail too) or its output is full
 * (rdv.fwd_full). */
int srv_client_indicate(struct srv_state *st, struct rdv_conn *to, uint8_t *msg, size_t len,
			size_t cap);
/* Close every client (exit). */
void srv_client_close_all(struct srv_state *st);
/* Queue bytes for c outside its own read path (a report, a probe's answer):
 * never closes c, counts what does not fit. */
void srv_client_queue(struct srv_state *st, struct srv_client *c, const uint8_t *buf,
		      size_t len);

#endif
