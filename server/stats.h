// SPDX-License-Identifier: MIT
/*
 * stunt-server's counters: every request answered, everything refused or
 * dropped, and why. The loop bumps them; the periodic status line and the
 * --stats JSON dump are formatted here (pure: into a caller's buffer).
 */
#ifndef STUNT_SERVER_STATS_H
#define STUNT_SERVER_STATS_H

#include "server/rdv.h"
#include "server/stun.h"
#include "server/stunt.h"
#include "proto/stunt_codes.h"

#include <stddef.h>
#include <stdint.h>

struct srv_stats {
	uint64_t	udp_rx;			/* datagrams received */
	uint64_t	udp_tx;			/* responses sent */
	uint64_t	udp_tx_err;		/* sendto failed */
	uint64_t	udp_changed;		/* sent from another socket (CHANGE-REQUEST) */
	uint64_t	udp_verdict[SRV_V_MAX];
	uint64_t	tcp_accepted;
	uint64_t	tcp_refused;		/* over the client limit (refused, or an
						 * unauthenticated client evicted) */
	uint64_t	tcp_closed;		/* closed by the client */
	uint64_t	tcp_idle;		/* closed: idle timeout */
	uint64_t	tcp_bad_frame;		/* closed: not STUN framing, or too large */
	uint64_t	tcp_backpressure;	/* reading paused: client does not read its answers */
	uint64_t	tcp_rx_msgs;		/* framed messages received */
	uint64_t	tcp_verdict[SRV_V_MAX];
	uint64_t	tcp_clients;		/* now open (gauge) */
	uint64_t	rdv[RDV_V_MAX];		/* signalling requests by outcome */
	uint64_t	rdv_method[SIG_METHOD_LAST - SIG_METHOD_REGISTER + 1];
						/* ... and by method, REGISTER first */
	uint64_t	rdv_fwd;		/* indications forwarded to a peer */
	uint64_t	rdv_fwd_full;		/* not forwarded: the peer does not read (500) */
	uint64_t	rdv_synack;		/* STUNT #1 SYN-ACKs sent */
	uint64_t	rdv_registered;		/* authenticated peers now (gauge) */
	uint64_t	rdv_revoked;		/* registrations closed at SIGHUP: id removed
						 * or its secret changed */
	uint64_t	rdv_share_reused;	/* STUNT #1 sessions that replaced their
						 * own id's oldest (fair share) */
	uint64_t	udp_rate_limited;	/* answer not sent: source over its rate */
	uint64_t	tls_accepted;		/* TLS handshakes completed */
	uint64_t	tls_fail;		/* closed: handshake failed (not TLS, ...) */
	uint64_t	stunt[STUNT_V_MAX];	/* STUNT requests by outcome */
	uint64_t	stunt_reports;		/* SYN-REPORTs with a captured SYN */
	uint64_t	stunt_timeouts;		/* SYN-REPORTs 408: nothing captured */
	uint64_t	stunt_sent;		/* raw packets sent */
	uint64_t	stunt_send_err;		/* raw packets that could not be sent */
	uint64_t	stunt_probe[4];		/* probe results: drop, rst, icmp, synack */
	uint64_t	stunt_lost;		/* report or answer not queued: client gone or full */
	/* per-message integrity on authenticated connections (proto/sig_sec.h):
	 * refused messages by reason (SIG_SEC_MISSING, _BAD_MAC, _REPLAY),
	 * and messages to a client dropped because they could not be sealed */
	uint64_t	sec[SIG_SEC_MAX];
	uint64_t	sec_seal_fail;
	/* the cluster (server/cluster.h), all 0 without --redis */
	uint64_t	redis_link;		/* SRV_REDIS_OFF, _DOWN, _UP */
	uint64_t	cluster_remote;		/* peers of other servers known now (gauge) */
	uint64_t	cluster_fwd_out;	/* indications sent to another server */
	uint64_t	cluster_fwd_in;		/* ... received from one */
	uint64_t	cluster_fwd_lost;	/* received for a peer gone or not reading */
	uint64_t	cluster_unreached;	/* not sent (Redis down) or nobody on
						 * that server's channel */
	uint64_t	cluster_bad;		/* records or messages from Redis refused */
};

#define SRV_REDIS_OFF	0	/* no --redis */
#define SRV_REDIS_DOWN	1
#define SRV_REDIS_UP	2

/* Everything refused or dropped (the number the status line leads with). */
uint64_t srv_stats_refused(const struct srv_stats *s);

/* One line for the log (with --redis, "; redis up|down remote N" at its
 * end). Returns snprintf's result. */
int srv_stats_line(const struct srv_stats *s, char *buf, size_t cap);
/* One JSON object on one line:
 * {"udp":{"rx":N,"tx":N,"tx_err":N,"changed":N,"binding":N,...},
 *  "tcp":{"accepted":N,...,"binding":N,...},
 *  "rdv":{"registered":N,"fwd":N,"fwd_full":N,"ok":N,"unknown_id":N,...},
 *  "stunt":{"capture":N,...,"third_party":N,...,"sent":N,"reports":N,...},
 *  "tls":{"accepted":N,"fail":N},
 *  "sec":{"verified":N,"missing":N,"bad_mac":N,"replay":N,"seal_fail":N},
 *  "cluster":{"redis":"up"|"down","remote":N,"fwd_out":N,"fwd_in":N,
 *             "fwd_lost":N,"unreached":N,"bad":N}	(--redis only)
 *  "refused":N}
 * Returns snprintf's result. */
int srv_stats_json(const struct srv_stats *s, char *buf, size_t cap);

#endif
