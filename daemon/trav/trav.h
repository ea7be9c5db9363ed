/* SPDX-License-Identifier: MIT */
/*
 * One traversal attempt: one method, one local port, one side's part of it.
 * A side either connects (a marked socket bound to its port connects to the
 * peer's public endpoint, the first SYN TTL-limited where the method says)
 * or accepts (a marked listener on its port; behind a NAT a TTL-limited
 * "primer" SYN from the same port first creates the NAT's mapping).
 *
 *   method    requester   responder   file
 *   direct    connect     accept      daemon/trav/direct.c
 *   portmap   accept if its gateway mapped the port, else connect;
 *             the responder the other role             daemon/trav/portmap.c
 *   reversal  accept      connect     daemon/trav/reversal.c
 *   simopen   connect*    connect*    daemon/trav/simopen.c   (* TTL-limited first SYN)
 *   stunt1    connect*    connect*    daemon/trav/stunt1.c    (the server sends the SYN-ACKs)
 *   synth     connect*    connect*    daemon/trav/synth.c     (the first SYN repeated at once)
 *   stunt2    connect     connect*    daemon/trav/stunt2.c    (the requester 250 ms later)
 *   predict   connect*xN  connect*xN  daemon/trav/predict.c   (a window of N simultaneous opens,
 *                                                       each first SYN repeated as synth's)
 *   udp       punch*      punch*      daemon/trav/udp.c       (UDP sessions only; * TTL-limited
 *                                                       first packet)
 *   relay     connect     allocate    daemon/trav/relay.c     (to the responder's TURN relayed
 *                                                       address; the responder binds the
 *                                                       server's ConnectionAttempt; roles
 *                                                       swapped when only the requester
 *                                                       has a TURN server)
 *   shotgun   the random side connect*x256 to the other's port, the other
 *             (EIM, port known) connect x1000+ from its port to random
 *             ports of the random side's address     daemon/trav/shotgun.c
 *             (256 mappings of 64512 ports, 1000 guesses: P = 98.1 %)
 *
 * Only simopen, stunt1, synth, stunt2, predict, shotgun and udp start at the
 * common start time (SCHEDULE). direct, reversal, portmap and relay start as
 * soon as both roles and the peer's candidates are known, ordered by the signalling so that the
 * accepting side listens (and has primed its NAT or mapped its port) before
 * the connecting side can send its SYN: the responder listens before it
 * sends its EXCHANGE, the requester connects on receiving it; the requester
 * listens before it sends SCHEDULE, the responder connects on the SCHEDULE
 * indication (daemon/session.c).
 *
 * Every flow gets "drop outbound RST" for D_RST_GUARD_MS from the moment its
 * socket exists, so closing a loser never sends an RST that could destroy a
 * NAT mapping; connecting flows also get "drop inbound RST / ICMP errors"
 * until the deadline, so an early SYN answered by the peer's NAT does not
 * abort the connect: the kernel just retransmits.
 */
#ifndef STUNT_DAEMON_TRAV_TRAV_H
#define STUNT_DAEMON_TRAV_TRAV_H

#include "daemon/stuntd.h"
#include "daemon/trav/cookie.h"
#include "nfq/pkt_synack.h"

#define TRAV_PRIMER_MS		300	/* the primer socket is closed after this */
#define TRAV_PRIMER_PORT	9	/* discard: an EIF NAT maps whatever the destination */
#define TRAV_STUNT2_DELAY_MS	250	/* stunt2: the requester's connect after the SYN */
#define TRAV_WINDOW_MAX		16	/* predict: sockets of one attempt */
#define TRAV_PREDICT_N		16	/* predict: the window we advertise */
#define TRAV_BINDING_TIMEOUT_MS	1000	/* predict: the fresh STUN Binding */
#define TRAV_MAX_POLICIES	(4 * TRAV_WINDOW_MAX + 4)
/* shotgun (daemon/trav/shotgun.c): the odds are 1 - (1 - SOCKETS / R)^probes with
 * R = 65536 - PORT_MIN ports: 98.1 % after 1000 probes, 99.96 % after 2000 */
#define TRAV_SHOTGUN_SOCKETS	256	/* random side: mappings held open */
#define TRAV_SHOTGUN_MAX_PROBES	3000	/* easy side: guesses, at most */
#define TRAV_SHOTGUN_RATE_PER_MS 2	/* ... paced: 1000 in 500 ms */
#define TRAV_SHOTGUN_PROBE_MS	900	/* a probe is closed this long after its SYN
					 * (before the kernel would retransmit it, 1 s;
					 * a hit needs a round trip shorter than this) */
#define TRAV_SHOTGUN_LEAD_MS	250	/* probes start this long after the common
					 * start, when the random side's mappings exist */
#define TRAV_SHOTGUN_PORT_MIN	1024	/* the random NAT's range: PORT_MIN..65535 */
#define TRAV_SHOTGUN_TICK_MAX	64	/* sockets opened per event-loop tick */
#define TRAV_SHOTGUN_NOFILE	4096	/* RLIMIT_NOFILE raised to this, at most */

enum trav_role { TRAV_NONE = 0, TRAV_CONNECT, TRAV_ACCEPT };
enum trav_state { TA_IDLE, TA_RUNNING, TA_CONNECTED, TA_FAILED, TA_CANCELLED };

struct d_session;
struct trav_pm_job;
struct trav_udp;
struct trav_relay;
struct trav_attempt;
struct trav_shotgun;
struct nfq_policy_spec;

/* A socket's first SYN as the queue saw it leave (stunt1, synth, each
 * socket of predict's window), and whether it went out again at full TTL. */
struct trav_syn {
	bool			has;
	struct pkt_syn_desc	d;
	uint32_t		laddr;		/* its source address (ours) */
	bool			repeated;
};

/* One socket of a window (predict): its port and target, and its first SYN. */
struct trav_win {
	struct d_ev		ev;
	struct trav_attempt	*a;
	uint16_t		lport;
	uint16_t		rport;
	bool			failed;
	struct trav_syn		syn;
};

struct trav_attempt {
	struct d_session	*s;
	uint8_t			method;
	enum trav_role		role;
	enum trav_state		state;
	int			ttl;		/* first SYN (connect) or primer TTL; 0: none */
	uint16_t		lport;
	uint32_t		raddr;		/* network order */
	uint16_t		rport;
	struct d_ev		ev;		/* connecting socket, or listener */
	struct d_ev		pev;		/* primer */
	int			conn;		/* established socket, -1 */
	uint64_t		t_start, t_end, primer_close_ms, start_at;
	uint32_t		pol[TRAV_MAX_POLICIES];
	uint16_t		pol_lport[TRAV_MAX_POLICIES];	/* its flow's ports */
	uint16_t		pol_rport[TRAV_MAX_POLICIES];
	size_t			npol;
	char			why[128];
	struct trav_pm_job	*pm;		/* portmap: the gateway mapping, or NULL */
	struct trav_relay	*relay;		/* relay: the TURN allocation, or NULL */
	/* predict */
	bool			has_pred;	/* we are sequential: pred is ours */
	struct sig_prediction	pred;
	bool			has_rpred;	/* the peer is: rpred is its */
	struct sig_prediction	rpred;
	struct trav_win		win[TRAV_WINDOW_MAX];
	size_t			nwin;
	struct trav_udp		*udp;		/* udp: daemon/trav/udp.c's state, or NULL */
	/* shotgun */
	bool			sg_hard;	/* we are the random side */
	struct trav_shotgun	*sg;		/* its sockets, while it runs */
	/* stunt1, synth: our first SYN */
	struct trav_syn		syn;
	bool			peer_syn;	/* synth, predict: the peer's has left */
	bool			syn_told;	/* predict: RELAY "syn" sent */
};

/* Role of this side for method (requester or not): TRAV_NONE if unknown. */
enum trav_role trav_direct_role(bool requester);
enum trav_role trav_reversal_role(bool requester);
enum trav_role trav_simopen_role(bool requester);
enum trav_role trav_portmap_role(bool requester);
enum trav_role trav_stunt2_role(bool requester);
enum trav_role trav_predict_role(bool requester);
enum trav_role trav_relay_role(bool requester);
enum trav_role trav_shotgun_role(bool requester);
enum trav_role trav_stunt1_role(bool requester);
enum trav_role trav_synth_role(bool requester);
enum trav_role trav_role_of(uint8_t method, bool requester);

/* Create and bind the attempt's socket (port chosen by the kernel). */
int trav_prepare(struct trav_attempt *a, struct d_session *s, uint8_t method, bool requester);
/* Start it towards raddr:rport at now. */
int trav_start(struct trav_attempt *a, uint64_t now);
void trav_tick(struct trav_attempt *a, uint64_t now);
/* Close everything but a->conn when keep_conn; drop its guard policies
 * when it won. */
void trav_close(struct trav_attempt *a, bool keep_conn);
const char *trav_state_name(enum trav_state st);

/* daemon/trav/portmap.c: map a->lport on the gateway in a thread; done(a, err)
 * runs in the event loop when it is mapped (0) or not (-errno, a->why). */
int trav_portmap_map(struct trav_attempt *a, bool forced,
		     void (*done)(struct trav_attempt *a, int err));
/* Mapped: the candidate to advertise (SIG_CAND_PORTMAP, external endpoint). */
bool trav_portmap_candidate(const struct trav_attempt *a, struct sig_candidate *c);
/* Session over: remove the mapping (in a thread; the job outlives a). */
void trav_portmap_release(struct trav_attempt *a);
/* stuntd stops: wait (bounded) for mappings in flight and remove all. */
void trav_portmap_shutdown(void);

/* daemon/trav/relay.c: allocate a TCP relay on the TURN server (--turn) and
 * permit peer_ip (network order); done(a, err) runs in the event loop when
 * the relayed address is ready (0) or not (-errno, a->why). 0 if started,
 * -errno at once (a->why: no TURN server configured, ...). */
int trav_relay_allocate(struct trav_attempt *a, uint32_t peer_ip,
			void (*done)(struct trav_attempt *a, int err));
/* Allocated: the candidate to advertise (SIG_CAND_RELAY, the relayed address). */
bool trav_relay_candidate(const struct trav_attempt *a, struct sig_candidate *c);
/* trav_start of the allocating side: wait for the server's ConnectionAttempt. */
int trav_relay_accept(struct trav_attempt *a, uint64_t now);
/* trav_close: a winner keeps its allocation while its connection lives,
 * anything else deletes it. */
void trav_relay_release(struct trav_attempt *a, bool keep_conn);
/* Timeouts, refreshes, and the end of won relays; stuntd stops: delete all. */
void trav_relay_tick(uint64_t now);
size_t trav_relay_count(void);
void trav_relay_shutdown(void);

/* daemon/trav/predict.c: before our EXCHANGE, when this side is sequential:
 * learn the last public port (a fresh STUN Binding over TCP to the server)
 * and fill a->pred. 0 or -errno (a->why). */
int trav_predict_learn(struct trav_attempt *a, const struct sig_nat_info *own);
/* The candidate port of our EXCHANGE: the first prediction. */
uint16_t trav_predict_first(const struct sig_prediction *p);
/* Port i (0-based) of the window p predicts. */
uint16_t trav_predict_port(const struct sig_prediction *p, size_t i);
/* At the start: open and connect the window. */
int trav_predict_start(struct trav_attempt *a, uint64_t now);
/* The SYN of window entry w left (w->syn.has) / the peer's window did (its
 * RELAY "syn"): RELAY ours, send each SYN of ours again once both left. */
void trav_predict_syn(struct trav_attempt *a, struct trav_win *w);
void trav_predict_peer_syn(struct trav_attempt *a);

/* daemon/trav/udp.c: UDP hole punching (a->ev is a UDP socket, not marked) */
enum trav_role trav_udp_role(bool requester);
int trav_udp_prepare(struct trav_attempt *a);
/* Learn the socket's public endpoint (STUN Binding over UDP to the
 * server); done(a, err) runs in the loop: 0, or -errno with a->why. */
int trav_udp_learn(struct trav_attempt *a, void (*done)(struct trav_attempt *a, int err));
/* The candidate to advertise (SIG_CAND_SRFLX, IPPROTO_UDP, mapped) and our
 * half of the session key. */
bool trav_udp_candidate(const struct trav_attempt *a, struct sig_candidate *c);
void trav_udp_own_key(const struct trav_attempt *a, uint8_t key[SIG_SESSION_KEY_LEN]);
/* Before the start: the peer's key half (NULL: it sent none) and the TTL
 * of the first punch packet (0: not limited). */
void trav_udp_arm(struct trav_attempt *a, const uint8_t *peer_key, int first_ttl,
		  unsigned delay_ms);
int trav_udp_start(struct trav_attempt *a, uint64_t now);
void trav_udp_tick(struct trav_attempt *a, uint64_t now);
void trav_udp_close(struct trav_attempt *a);
/* Is buf a punch-handshake datagram (a late duplicate an application or
 * forwarder should drop)? */
bool trav_udp_is_handshake(const uint8_t *buf, size_t len);
/* daemon/trav/shotgun.c: are we the side that holds the sockets (the random one)?
 * The same answer on both sides (requester on a pair the strategy would not
 * pick). */
bool trav_shotgun_hard(const struct sig_nat_info *own, const struct sig_nat_info *peer,
		       bool requester);
int trav_shotgun_start(struct trav_attempt *a, uint64_t now);
void trav_shotgun_tick(struct trav_attempt *a, uint64_t now);
/* The hard side's connection was closed by the peer (it kept another pair
 * after two hits): make another established socket a->conn. 0 or -ENOENT. */
int trav_shotgun_next(struct trav_attempt *a);
/* Close every socket but a->conn and free the state. */
void trav_shotgun_close(struct trav_attempt *a);

/* daemon/trav/sock.c: the halves every method is made of */
/* Responder, a window attempt connected: the requester kept another pair
 * of the window (several predictions were right) and closed or ignores
 * a->conn. Make the sibling it kept a->conn: with data_only, only one the
 * header already waits on; else also an established (or SYN_RECV) one.
 * 0, or -ENOENT when there is none. */
int trav_sock_window_next(struct trav_attempt *a, bool data_only);
/* Add a policy recorded in a (removed when a wins, else it expires). */
void trav_sock_policy(struct trav_attempt *a, const struct nfq_policy_spec *s);
int trav_sock_connect(struct trav_attempt *a, uint64_t now);
int trav_sock_accept(struct trav_attempt *a, uint64_t now);
/* A marked TCP socket bound to port (0: the kernel's choice), its port in *bound. */
int trav_sock_marked(uint16_t port, uint16_t *bound);
/* Connect fd (bound to lport) to raddr:rport as the simultaneous-open half:
 * the first SYN leaves with a->ttl (when > 0), inbound RSTs and ICMP errors
 * of the flow are dropped until the session's deadline, its outbound RSTs
 * always. ev->cb must be set; it is added to the loop. */
int trav_sock_connect_flow(struct trav_attempt *a, struct d_ev *ev, uint16_t lport,
			   uint16_t rport, uint64_t now);
/* Add fd (bound to lport) to a's window and connect it to a->raddr:rport
 * as above. A connect that fails at once only fails that socket. */
int trav_sock_window_add(struct trav_attempt *a, int fd, uint16_t lport, uint16_t rport,
			 uint64_t now);

/* daemon/session.c: the session's deadline */
uint64_t d_session_deadline(const struct d_session *s);
/* The cookie of a's "report our first SYN" policy for window entry win
 * (TRAV_COOKIE_NO_WIN: a's own socket); trav_cookie_parse() its parts. */
uint64_t trav_syn_cookie(const struct trav_attempt *a, int win);
/* The queue saw the first SYN of a's socket (win TRAV_COOKIE_NO_WIN: stunt1,
 * synth) or of its window entry win (predict) leave: k is that packet. */
void trav_syn_left(struct trav_attempt *a, int win, const struct pkt *k);
/* Send syn, which left lport -> a->raddr:rport TTL-limited, again at full
 * TTL, once, when both sides' have left: nothing until syn->has and
 * a->peer_syn, while a runs. Rebuilt from what the queue saw (same sequence
 * number, window and options; source syn->laddr), on the raw socket.
 * A failure is logged: the kernel's retransmission is the fallback. */
void trav_sock_syn_again(const struct trav_attempt *a, struct trav_syn *syn, uint16_t lport,
			 uint16_t rport);
/* Fail a running attempt now with why. */
void trav_fail(struct trav_attempt *a, const char *why);

/* daemon/trav/stunt1.c: our SYN left: ask the server for the SYN-ACKs */
void trav_stunt1_syn(struct trav_attempt *a);
/* the server refused the SYNACK request (code) */
void trav_stunt1_refused(struct trav_attempt *a, uint16_t code);
/* daemon/trav/synth.c: our SYN left / the peer's did (its RELAY "syn") */
void trav_synth_syn(struct trav_attempt *a);
void trav_synth_peer_syn(struct trav_attempt *a);

/* daemon/session.c: an attempt has an established socket in a->conn / failed */
void d_session_attempt_connected(struct trav_attempt *a);
void d_session_attempt_failed(struct trav_attempt *a);
/* Its session's id, peer and side; RELAY "sid verb text" to the peer. */
uint32_t d_session_id(const struct d_session *s);
const char *d_session_peer(const struct d_session *s);
bool d_session_requester(const struct d_session *s);
void d_session_relay(const struct d_session *s, const char *verb, const char *text);

#endif
