/* SPDX-License-Identifier: MIT */
/*
 * A traversal session, shared by the files that run it (the rest of stuntd
 * sees only the d_session_* calls of stuntd.h):
 *
 *   session.c     its life: created, failed, answered, ticked, freed; the
 *                 control socket's view (status) and the queue's reports
 *   negotiate.c   LOOKUP / EXCHANGE / SCHEDULE / RELAY with the peer through
 *                 stunt-server, each method's gather before our EXCHANGE,
 *                 and the relay round
 *   race.c        arming and starting the attempts, the events they report
 *                 (struct trav_events), the winner, losers cancelled silently
 *   confirm.c     the hand-off header protocol on the winning connection
 *                 (12-byte session header, 'K'), and which of several met
 *                 pairs is the session's (trav_next_conn)
 *   peers.c       "which of my allowed peers are online" (LOOKUP each)
 *   budget.c      a peer's sessions at once and starts a minute (daemon/budget.h)
 *
 * The methods live in daemon/trav/, behind trav.h: a session holds one
 * struct trav_attempt per method it races and never looks inside a->priv.
 */
#ifndef STUNT_DAEMON_SESSION_H
#define STUNT_DAEMON_SESSION_H

#include "daemon/hostaddr.h"
#include "daemon/hostaddr6.h"
#include "daemon/stuntd.h"
#include "daemon/trav/strategy.h"
#include "daemon/trav/trav.h"

#define S_HDR_LEN		12
#define S_HDR_PROOF_LEN		(S_HDR_LEN + 16)	/* version 2: + SIG_PROOF_LEN */
#define S_HDR_MAGIC		"STNT"
/* header byte 6: flags (0 from older stuntds, which ignore it) */
#define S_HDR_F_FRAMED		0x01	/* relay: I speak daemon/relayhc.c's framing */
#define S_HOLD_MS		100	/* a held connection: the early proof's
					 * margin (confirm.c, hold_expire) */
#define S_KEEP_DONE_MS		30000	/* finished sessions stay in status this long */
#define S_PEERQ_BIT		0x80000000u	/* a session id with it: a peer query's */
/* When a relay can follow (a side has a TURN server, no method forced), the
 * race of direct methods gets this share of the connect timeout, counted
 * from the connect request; the relay round gets the rest (4 s of the
 * default 10 s: an Allocate with its 401 round, a CreatePermission, one
 * EXCHANGE each way and a SCHEDULE through stunt-server, a connect and a
 * ConnectionBind -- about 8 round trips). */
#define S_RACE_SHARE_PCT	60
/* A peer the server does not know may be between two registrations (its
 * signalling connection lost under loss is made again within seconds):
 * its LOOKUP is asked again every S_PEER_AGAIN_MS for S_PEER_WAIT_MS from
 * the connect request before "peer X is not registered" is the answer. */
#define S_PEER_WAIT_MS		5000
#define S_PEER_AGAIN_MS		500
/* The longest the requester's SCHEDULE (or, simopen6 in the responder-first
 * order, the responder's EXCHANGE) waits for such a first SYN's report (the
 * queue answers in well under a millisecond when the host is idle) */
#define S_SYN_FIRST_WAIT_MS	200

enum s_state { S_LOOKUP, S_MAPPING, S_EXCHANGE, S_WAIT_SCHEDULE, S_SCHEDULED, S_RUNNING, S_CONFIRM,
	       S_CONNECTED, S_FAILED };

struct d_session {
	uint32_t		id;
	bool			requester;
	char			peer[SIG_ID_MAX + 1];
	char			service[SIG_ID_MAX + 1];
	struct d_ctl_client	*ctl;
	enum s_state		state;
	uint8_t			forced;
	uint64_t		t0, deadline, start_at, t_end;
	/* what the peer said (negotiate.c checks it) */
	struct sig_nat_info	peer_nat;
	uint32_t		peer_ip;
	uint16_t		peer_port[SIG_M_MAX + 1];
	uint8_t			peer_kind[SIG_M_MAX + 1];	/* SIG_CAND_* */
	uint32_t		peer_addr[SIG_M_MAX + 1];	/* portmap / relay / udp: its IP */
	bool			peer_has_pred;			/* predict: its window */
	struct sig_prediction	peer_pred;
	bool			peer_has_key;			/* udp, proofs: its key half */
	uint8_t			peer_key[SIG_SESSION_KEY_LEN];
	uint32_t		peer_host[D_MAX_HOST_ADDRS];	/* host: its addresses */
	size_t			npeer_host;
	bool			peer_has_ip6;			/* simopen6: its address */
	bool			v6_first;	/* simopen6 in the responder-first order:
						 * both sides know it (SIG_NAT_V6_FIRST) */
	bool			v4_later;	/* Happy Eyeballs: both sides start the
						 * scheduled IPv4 methods D_HE_DELAY_MS
						 * late (SIG_NAT_V4_LATER, race.c) */
	uint8_t			peer_ip6[16];
	/* relay: its IPv6 candidate, taken (negotiate.c) -- a relayed address
	 * on a TURN server we know (kind SIG_CAND_RELAY), or its own address
	 * for our permission (SIG_CAND_HOST); kind 0: none */
	uint8_t			peer_relay6_kind;
	uint8_t			peer_relay6[16];
	/* ours: the key half of the proofs, the host addresses offered */
	uint8_t			own_key[SIG_SESSION_KEY_LEN];
	struct d_hostaddr	own_host[D_MAX_HOST_ADDRS];
	size_t			nown_host;
	/* our global IPv6 addresses (simopen6): read once, when the session
	 * first needs them (sess_host6), then the same list for each use */
	struct d_host6		own6;
	/* the race */
	uint8_t			methods[TRAV_MAX_METHODS];
	size_t			nmethods;
	struct trav_attempt	att[SIG_M_MAX + 1];
	bool			prepared[SIG_M_MAX + 1];
	bool			gathered[SIG_M_MAX + 1];
	unsigned		learning;	/* public ports being learnt (negotiate.c) */
	struct trav_budget	budget;		/* packets it may still send */
	struct trav_attempt	*winner;
	bool			racing;		/* some attempt was started */
	/* requester in S_LOOKUP whose LOOKUP is not out: stuntd is between
	 * two registrations (a signalling connection lost under loss is made
	 * again within seconds); sent by d_session_server_up() */
	bool			wait_server;
	/* requester in S_LOOKUP: the server said the peer is not registered;
	 * asked again at this time (0: not), see S_PEER_WAIT_MS */
	uint64_t		lookup_at;
	unsigned		lookups_again;
	struct trav_attempt	*asked;		/* the attempt whose server request is out */
	uint16_t		asked_method;	/* ... and its signalling method */
	/* confirm.c: the winning connection's header / ack */
	struct d_ev		wev;
	uint8_t			hdr[S_HDR_PROOF_LEN];
	size_t			hdr_got;
	/* the relay round (SIG-ROUND): 0 in the first */
	uint8_t			round;
	struct sig_round	rinfo;		/* ours (requester) or the requester's */
	uint64_t		race_end;	/* requester: the direct race's share ends */
	uint64_t		hold_by;	/* our SCHEDULE (requester) or EXCHANGE
						 * (responder, v6_first) waits for a first
						 * SYN (TRAV_F_SYN_FIRST) until then; 0: sent */
	char			direct_why[200];	/* how the direct race ended */
	/* a framed relay (daemon/relayhc.c): the relay connection's remote
	 * address, for the connect answer (the client's socket is local) */
	char			relay_remote[INET6_ADDRSTRLEN + 8];	/* "[IPv6]:PORT" */
	struct d_session	*next;
};

/* ---- session.c ---- */
struct d_session *sess_new(bool requester, const char *peer, const char *service);
struct d_session *sess_find(const char *peer, uint32_t id, bool requester);
bool sess_over(const struct d_session *s);
/* The session failed: every attempt stops, the peer is told (tell_peer),
 * the control client answered. */
void sess_fail(struct d_session *s, const char *why, bool tell_peer);
/* The control client's answer to a connect request (once). */
void sess_answer_connect(struct d_session *s, bool ok, const char *method, const char *err,
			 int fd);
/* RELAY "sid verb text" to peer. */
void sess_relay(const char *peer, uint32_t sid, const char *verb, const char *text);
/* One log line per attempt that ran. */
void sess_log_attempts(struct d_session *s);
/* Our SIG-NAT-INFO: the discovery result, and whether we can relay. */
struct sig_nat_info sess_own_nat(void);
/* Do the IPv4 methods run? Not when we signal over IPv6 (an IPv6-only
 * host): no public IPv4 address, no IPv4 server to measure against; then
 * simopen6 alone (and no relay: TURN is reached over IPv4). */
bool sess_have_ipv4(void);
/* A UDP session (stuntctl connect --udp): forced udp (both families
 * raced) or udp6 (IPv6 alone). */
bool sess_is_udp(const struct d_session *s);
/* Can we allocate a relay: a TURN server we reach (over IPv4, or over IPv6
 * when we have no IPv4: --turn an IPv6 address or a name with one)? */
bool sess_can_allocate(void);
int sess_put_lookup(struct stun_builder *b, const void *arg);	/* arg: the peer id */

/* ---- negotiate.c ---- */
void sess_on_answer(struct d_session *s, uint16_t method, const struct stun_msg *m);
/* Requester: may the race of direct methods end in the relay round; start it. */
bool sess_can_fall_back(const struct d_session *s);
/* requester: s's LOOKUP, now or once stuntd is registered again */
void sess_lookup(struct d_session *s);
void sess_relay_round(struct d_session *s, uint8_t reason);
bool sess_relay_possible(const struct d_session *s);
/* "; no relay to fall back to: ..." when none can follow, else "" */
const char *sess_no_relay_note(const struct d_session *s);
/* Send the held message -- the requester's SCHEDULE, the responder's
 * EXCHANGE (v6_first) -- once the first SYN of every running connect with
 * a hop-limited first SYN and TRAV_F_SYN_FIRST left (the queue's report)
 * or s->hold_by passed (after the early starts, on each such report, each
 * tick). */
void sess_held_due(struct d_session *s, uint64_t now);
/* The gather of the prepared methods, then our EXCHANGE (trav_events.ready). */
void sess_gather_ready(struct trav_attempt *a, int err);
/* Our global IPv6 addresses for s (ipv6, host-interfaces): read the first
 * time, s->own6 after (trav_events.host6 too). */
const struct d_host6 *sess_host6(struct d_session *s);

/* ---- race.c ---- */
extern const struct trav_events sess_events;
/* Prepare an attempt for each of methods (skipping those prepared). */
int sess_prepare(struct d_session *s, const uint8_t *methods, size_t n);
/* Close and forget method m's attempt and take it out of the race. */
void sess_drop_method(struct d_session *s, uint8_t m);
/* Start now the methods that need no common start (TRAV_F_EARLY) in role;
 * false: the session ended or the relay round began meanwhile. */
bool sess_start_early(struct d_session *s, enum trav_role role);
/* The same for one connecting method m alone (simopen6's responder, before
 * its EXCHANGE, in the v6_first order). */
bool sess_start_early_one(struct d_session *s, uint8_t m);
/* The common start, and each tick while racing. */
void sess_start_race(struct d_session *s, uint64_t now);
void sess_run_due(struct d_session *s, uint64_t now);
/* Every attempt but the winner: cancelled, closed. */
void sess_close_attempts(struct d_session *s);
/* The winner is confirmed: the session is connected. */
void sess_won(struct d_session *s);
/* Every running attempt failed (with why unless it has its own reason),
 * the failed ones counted, one log line per attempt. */
void sess_stop_running(struct d_session *s, const char *why);
/* Every attempt: stopped (a running one failed with why), logged, closed,
 * forgotten, with the peer's candidates: the relay round starts afresh. */
void sess_end_first_round(struct d_session *s, const char *why);

/* ---- confirm.c ---- */
/* Requester: a's connection is the first: send the header, wait for 'K'.
 * While an early header waits for its peer's proof (sess_confirm_early),
 * a is held instead (its connection stays a->conn) until that proof
 * decides: sess_confirm_held. */
void sess_confirm_start(struct d_session *s, struct trav_attempt *a);
/* Requester (trav_events.early_hdr): the header on fd of a, which is still
 * running (the peer's proof comes with its ack). 0 or -EIO. */
int sess_confirm_early(struct trav_attempt *a, int fd);
/* Requester: an attempt whose early header went out failed: start the
 * confirmation on a connection held meanwhile. True when it did. */
bool sess_confirm_held(struct d_session *s);
/* Responder: a's connection waits for the requester's header. */
void sess_confirm_wait(struct d_session *s, struct trav_attempt *a);
/* An authenticated connection (TRAV_F_CONFIRMED): hand it on at once. */
void sess_confirmed(struct d_session *s, struct trav_attempt *a);
/* Responder: connections beyond the first that may carry the header.
 * Requester: the limit of a connection held for an early header's proof. */
void sess_confirm_poll(struct d_session *s);
/* Stop waiting for a header or an ack (the attempts keep their sockets'
 * ownership: a->conn is forgotten when it is the watched one). */
void sess_confirm_stop(struct d_session *s);

/* ---- peers.c ---- */
void sess_peerq_answer(uint32_t qid, const struct stun_msg *m);
void sess_peerq_tick(uint64_t now);
void sess_peerq_ctl_gone(struct d_ctl_client *c);
/* A session with s->peer ended (connected or not): stuntctl peers lists the
 * peer, when, how many sessions. */
void sess_peer_seen(const struct d_session *s, bool connected);

#endif
