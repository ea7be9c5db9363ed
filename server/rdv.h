// SPDX-License-Identifier: MIT
/*
 * stunt-server's rendezvous (docs/protocol.md section 5) as pure logic: a
 * registry of authenticated control connections and the answer to each
 * signalling request. No I/O: the caller passes fresh random bytes and the
 * clock, and sends what comes out -- a reply to the sender and, for
 * EXCHANGE / SCHEDULE / RELAY, an indication to another connection.
 *
 *   REGISTER      id in the secrets file? challenge nonce : 403
 *   AUTHENTICATE  HMAC-SHA256(secret, label, id, nonce) right? the nonce
 *                 is used up either way; success : 401. A second
 *                 connection authenticating the same id replaces the first.
 *                 On success the connection's session keys are derived
 *                 (c->sec, proto/sig_sec.h): the success response and
 *                 everything after it is sealed by the caller.
 *   LOOKUP        sender authenticated (else 401), peer registered
 *                 (else 404): the peer's endpoint as the server sees it.
 *   EXCHANGE, SCHEDULE, RELAY
 *                 sender authenticated, within its signalling budget (a
 *                 token bucket per registered id, sig_rate per second in
 *                 bursts of sig_burst, kept across its reconnections
 *                 (the buckets of the last RDV_BUDGETS_KEPT ids that
 *                 closed are remembered):
 *                 429 "Signalling rate limit" beyond, counted as
 *                 "signal_limited", nothing relayed), target registered:
 *                 the target gets
 *                 an indication with the sender's SIG-PEER-ID and the other
 *                 attributes copied verbatim (relayed, not interpreted);
 *                 SCHEDULE adds the start time (now + delay, server clock).
 *                 Each indication carries SIG-SENDER, the sender's `peer`
 *                 address (never a SIG-SENDER of the request): the target
 *                 checks the sender's candidates against it.
 *                 An EXCHANGE relayed both ways between two ids with one
 *                 SESSION-ID makes that session "agreed" (kept
 *                 RDV_SESSION_MS, at most RDV_SESSIONS_MAX). Fair share:
 *                 an id that has started RDV_SESSION_SHARE live sessions
 *                 reuses one of its own for a new one (one whose SYN-ACKs
 *                 are out, else its oldest; counted in share_reused), so
 *                 no id can push the others' out.
 *   SYNACK        STUNT #1: sender authenticated, peer registered, the
 *                 session agreed between exactly these two (else 403,
 *                 counted as "forbidden"), the server able to send raw
 *                 packets (else 500). The sender's SIG-SYN is kept; when
 *                 the peer's is there too, out->synack holds two SYN-ACKs:
 *                 to each side's control address at the port its SYN-SYN
 *                 names, from the other side's control address and port,
 *                 with the other's sequence number and options
 *                 (pkt_synack.h). Once per session; nothing is relayed.
 *
 * With a cluster (server/cluster.h) a target not registered here may be
 * registered on another server (r->remote_find): LOOKUP answers with the
 * endpoint that server saw; EXCHANGE / SCHEDULE / RELAY build the same
 * indication and return it with out->fwd_remote for the caller to send to
 * that server; SYNACK is refused (403, "unavailable").
 *
 * Only requests are answered; anything else of ours is dropped.
 */
#ifndef STUNT_SERVER_RDV_H
#define STUNT_SERVER_RDV_H

#include "server/rate.h"
#include "server/secrets.h"
#include "nfq/pkt_build.h"
#include "proto/sig.h"
#include "proto/sig_sec.h"
#include "proto/stun_msg.h"

#include <stdbool.h>

#define RDV_NONCE_LEN		16
#define RDV_MAX_DELAY_MS	60000	/* SCHEDULE: start at most this far ahead */
/* The reply and the indication fit in this (SIG-DATA is at most 1024). */
#define RDV_BUF			2048

/* Per control connection; embedded in the loop's client. */
struct rdv_conn {
	struct stun_addr	 peer;		/* as the server sees it */
	bool			 authed;
	char			 id[SIG_ID_MAX + 1];	/* authenticated id */
	bool			 nonce_pending;
	char			 nonce_id[SIG_ID_MAX + 1];
	uint8_t			 nonce[RDV_NONCE_LEN];
	uint64_t		 nonce_seq;	/* the nonce's place in the server's order */
	bool			 listed;	/* in the registry */
	struct srv_bucket	 sig;		/* relayed signalling budget (authed) */
	/* from AUTHENTICATE's success on, every message of this connection,
	 * both ways, is sealed (proto/sig_sec.h); the loop opens and seals */
	struct sig_sec		 sec;
};

#define RDV_SESSIONS_MAX	256
#define RDV_SESSION_MS		60000
/* live sessions one id may have started: max(4, RDV_SESSIONS_MAX / 8) */
#define RDV_SESSION_SHARE	(RDV_SESSIONS_MAX / 8 > 4 ? RDV_SESSIONS_MAX / 8 : 4)
/* Relayed signalling per registered id: far above what a stuntd sends (a
 * session costs it 2-5 EXCHANGE / SCHEDULE / RELAY; 200 at once is the
 * load test), far below what a flood would. */
#define RDV_SIG_RATE_DEFAULT	100	/* per second */
#define RDV_SIG_BURST_DEFAULT	1000
#define RDV_BUDGETS_KEPT	1024	/* buckets of ids gone, for their return */

/* A peer registered on another server of the cluster (server/cluster.h):
 * LOOKUP answers with its endpoint, EXCHANGE / SCHEDULE / RELAY build the
 * indication as for a local peer and leave it to the caller to send to
 * that server, SYNACK is refused (STUNT #1 needs one server to send both
 * SYN-ACKs: 403, counted as "unavailable"). */
#define RDV_SERVER_MAX		64
struct rdv_remote {
	char			 server[RDV_SERVER_MAX + 1];
	struct stun_addr	 endpoint;
};

/* The signalling budget of an id whose connection closed. */
struct rdv_budget {
	char			 id[SIG_ID_MAX + 1];	/* "": free */
	struct srv_bucket	 b;
};

/* A session the server relayed EXCHANGEs for, and its SYNs (STUNT #1). */
struct rdv_session {
	char			 id[2][SIG_ID_MAX + 1];	/* [0]: its first EXCHANGE's sender */
	uint32_t		 sid;
	bool			 exchanged[2];	/* an EXCHANGE from id[i] was relayed */
	bool			 has_syn[2];
	struct sig_syn		 syn[2];
	struct stun_addr	 addr[2];	/* id[i]'s control address at its SYNACK */
	bool			 sent;
	uint8_t			 repeated[2];	/* SYN-ACKs sent to id[i] again (SIG_SYNACK_REPEATS) */
	uint64_t		 expires_ms;	/* 0: free */
};

struct srv_rdv {
	const struct srv_secrets *secrets;
	struct rdv_conn		**reg;		/* authenticated connections */
	size_t			  n, cap;
	uint64_t		  nonces;	/* REGISTER nonces handed out */
	bool			  raw_ok;	/* SYNACK: raw packets can be sent */
	bool			  no_spoof;	/* SYNACK refused: --no-spoof */
	unsigned		  sig_rate;	/* 0: no signalling budget */
	unsigned		  sig_burst;
	uint64_t		  share_reused;	/* sessions replaced by their id's own */
	/* peers of other servers: NULL without a cluster; true and *out if
	 * id is registered on another server (local registrations first) */
	bool			(*remote_find)(const void *ctx, const char *id, uint64_t now_ms,
					       struct rdv_remote *out);
	const void		 *remote_ctx;
	struct rdv_session	  sess[RDV_SESSIONS_MAX];
	struct rdv_budget	  kept[RDV_BUDGETS_KEPT];
};

enum rdv_verdict {
	RDV_V_OK,		/* answered with success (and maybe forwarded) */
	RDV_V_BAD,		/* 400: malformed signalling request */
	RDV_V_UNKNOWN_ID,	/* 403: REGISTER of an id not in the secrets */
	RDV_V_AUTH_FAIL,	/* 401: wrong HMAC, stale nonce, or not authenticated */
	RDV_V_NO_PEER,		/* 404: target not registered */
	RDV_V_DROP,		/* not a request: dropped */
	RDV_V_FORBIDDEN,	/* 403: SYNACK for a session not agreed between the two */
	RDV_V_UNAVAILABLE,	/* 500: SYNACK, but no raw socket */
	RDV_V_LIMITED,		/* 429: over the sender's signalling budget */
	RDV_V_MAX,
};

const char *rdv_verdict_name(enum rdv_verdict v);

struct rdv_out {
	enum rdv_verdict	 verdict;
	size_t			 reply_len;	/* to the sender; 0: nothing */
	struct rdv_conn		*fwd_to;	/* NULL: nothing to forward */
	size_t			 fwd_len;
	bool			 fwd_remote;	/* forward to fwd_id on remote.server */
	char			 fwd_id[SIG_ID_MAX + 1];
	struct rdv_remote	 remote;
	size_t			 nsynack;	/* SYNACK: packets to send now */
	struct pkt_tcp_spec	 synack[2];
};

/* Is this a signalling method (REGISTER .. RELAY)? */
bool srv_rdv_is_ours(uint16_t method);

/*
 * Handle one parsed signalling message m from connection c. rnd: 16 fresh
 * random bytes (nonce, indication transaction id). reply and fwd: RDV_BUF
 * bytes each. Returns 0, or -ENOMEM (registry growth), -EINVAL.
 */
int srv_rdv_handle(struct srv_rdv *r, struct rdv_conn *c, const struct stun_msg *m,
		   const uint8_t rnd[16], uint64_t now_ms, uint8_t *reply, uint8_t *fwd,
		   struct rdv_out *out);

/* An error reply to m (e.g. 500 when the indication could not be queued). */
size_t srv_rdv_error(const struct stun_msg *m, uint16_t code, const char *reason,
		     uint8_t *buf, size_t cap);

/* The connection goes away: take it out of the registry. */
void srv_rdv_drop(struct srv_rdv *r, struct rdv_conn *c);
/* id's secret was removed or changed: forget its STUNT #1 sessions. */
void srv_rdv_forget(struct srv_rdv *r, const char *id);
/* Registered connection of this id, or NULL. */
struct rdv_conn *srv_rdv_find(const struct srv_rdv *r, const char *id);
void srv_rdv_free(struct srv_rdv *r);

#endif
