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
 *   host      connect     accept      daemon/trav/host.c      (to a host candidate: same
 *                                                       NAT only; the responder's proof
 *                                                       first)
 *   simopen6  connect*    connect     daemon/trav/simopen6.c  (IPv6, to the peer's global
 *                                                       address: through stateful
 *                                                       firewalls; the responder's
 *                                                       proof first; * hop-limited)
 *   udp6      punch*      punch*      daemon/trav/udp.c       (UDP sessions over IPv6, to the
 *                                                       peer's global address; raced
 *                                                       with udp; * hop-limited)
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
 * indication (daemon/negotiate.c, daemon/race.c).
 *
 * The interface (below): a session (daemon/session.h) prepares one attempt
 * per method it races, gives it its identity and a table of events
 * (struct trav_events), and drives it through the generic calls trav_prepare,
 * trav_gather, trav_offer, trav_arm, trav_start, trav_tick, trav_next_conn and
 * trav_close. Each method is one struct trav_ops (its file's export, with
 * the few helpers declared at the end of this header); its private state
 * hangs off a->priv and is freed by its close. A method reports back only through
 * a->events: ready (an endpoint learned, a port mapped, a relay allocated),
 * connected, failed, signal (RELAY text to the peer) and request (a
 * signalling request to the server, whose answer comes back to ops->answer);
 * and asks it for host6 (our IPv6 addresses, read once per session).
 * It never sees the session's structure. Calls flow one way: session ->
 * trav_* -> sockets and nfq policies (daemon/nfq.h).
 *
 * Every flow gets "drop outbound RST" for D_RST_GUARD_MS from the moment its
 * attempt starts (before any packet of it can leave), so closing a loser never sends an RST that could destroy a
 * NAT mapping; connecting flows also get "drop inbound RST / ICMP errors"
 * until the deadline, so an early SYN answered by the peer's NAT does not
 * abort the connect: the kernel just retransmits.
 */
#ifndef STUNT_DAEMON_TRAV_TRAV_H
#define STUNT_DAEMON_TRAV_TRAV_H

#include "daemon/stuntd.h"
#include "daemon/trav/cookie.h"
#include "daemon/trav/pace.h"
#include "daemon/trav/predwin.h"
#include "nfq/pkt.h"
#include "nfq/pkt_synack.h"
#include "proto/sig_proof.h"

#include <sys/socket.h>

#define TRAV_PRIMER_MS		300	/* the primer socket is closed after this */
#define TRAV_PRIMER_PORT	9	/* discard: an EIF NAT maps whatever the destination */
#define TRAV_STUNT2_DELAY_MS	250	/* stunt2: the requester's connect after the SYN */
#define TRAV_WINDOW_MAX		TRAV_PREDWIN_MAX	/* predict: sockets of one attempt */
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
/* host (daemon/trav/host.c): the short deadlines of a LAN path */
#define TRAV_HOST_CONNECT_MS	2000	/* connect and the responder's proof */
#define TRAV_HOST_ACCEPT_MS	5000	/* the listener (up before our EXCHANGE) */

enum trav_role { TRAV_NONE = 0, TRAV_CONNECT, TRAV_ACCEPT };
enum trav_state { TA_IDLE, TA_RUNNING, TA_CONNECTED, TA_FAILED, TA_CANCELLED };

struct d_session;		/* the owner: opaque to the methods */
struct trav_attempt;
struct nfq_policy_spec;
struct nfq_flow;
struct trav_learn;

/* How an attempt reports to its session (set by the session at prepare). */
struct trav_events {
	/* trav_gather's work is done: 0, or -errno with a->why */
	void	(*ready)(struct trav_attempt *a, int err);
	/* a->conn is established (a->state TA_CONNECTED) */
	void	(*connected)(struct trav_attempt *a);
	/* a->state TA_FAILED, a->why says why */
	void	(*failed)(struct trav_attempt *a);
	/* requester: write the session header on fd now, before the peer has
	 * proved itself on it (host: its proof and its ack then come in one
	 * flight); a->t_hdr says when it went. 0 or -errno. */
	int	(*early_hdr)(struct trav_attempt *a, int fd);
	/* RELAY "sid verb text" to the peer (its session's attempt of the
	 * same method gets it in ops->peer_signal) */
	void	(*signal)(struct trav_attempt *a, const char *verb, const char *text);
	/* a signalling request to the server about this session; its answer
	 * comes to ops->answer. 0 or -errno. */
	int	(*request)(struct trav_attempt *a, uint16_t method,
			   int (*put)(struct stun_builder *b, const void *arg), const void *arg);
	/* our global IPv6 addresses (simopen6): the session's list, read once
	 * for it (daemon/hostaddr6.h, struct d_host6: n of them, or -errno) */
	const struct d_host6 *(*host6)(struct trav_attempt *a);
};

/* What the peer said for an attempt's method (EXCHANGE), checked by the session. */
struct trav_peer {
	const struct sig_nat_info	*nat;		/* its SIG-NAT-INFO */
	uint32_t			ip;		/* its public IP (network order) */
	uint8_t				kind;		/* its candidate's SIG_CAND_* */
	uint32_t			addr;		/* portmap / relay / udp: the candidate's IP, else 0 */
	uint16_t			port;		/* the candidate's port */
	const struct sig_prediction	*pred;		/* its window (predict), or NULL */
	const uint8_t			*key;		/* its key half (udp), or NULL */
	const uint8_t			*own_key;	/* ours (host), or NULL */
	const uint32_t			*hosts;		/* its host addresses (host) */
	size_t				nhosts;
	const uint8_t			*ip6;		/* its IPv6 address (simopen6), or NULL */
	const uint8_t			*relay6;	/* relay: its IPv6 relayed address
							   (kind relay, vouched), or NULL */
	bool				v6_first;	/* simopen6: the responder's SYN first
							   (SIG_NAT_V6_FIRST, both sides) */
	bool				udp_final_only;	/* udp, udp6 racing: the responder
							   is done on the requester's FINAL */
};

/* A socket's first SYN as the queue saw it leave (stunt1, synth, each
 * socket of predict's window, every flow whose first SYN leaves at full
 * TTL), whether it went out again at full TTL, and its copies' clock. */
struct trav_syn {
	bool			has;
	struct pkt_syn_desc	d;
	uint32_t		laddr;		/* its source address (ours): IPv4 */
	uint8_t			laddr6[16];	/* IPv6 (an IPv6 attempt's) */
	bool			repeated;
	bool			paced;		/* full TTL from the first: copies from then on */
	struct trav_pace	pace;		/* daemon/trav/pace.h */
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

/* ops->flags */
#define TRAV_F_EARLY		0x01	/* needs no common start: started as soon as
					 * the listener is known to be up (session.h) */
#define TRAV_F_OWN_GUARD	0x02	/* guards each of its flows itself (no RST
					 * guard on lport by trav_start) */
#define TRAV_F_REPORT_SYN	0x04	/* the queue reports its socket's first SYN
					 * (ops->syn_left) */
#define TRAV_F_CONFIRMED	0x08	/* its connection is authenticated already:
					 * no session header, handed on at once */
#define TRAV_F_GATHER_LAST	0x10	/* its gather reads the NAT's port counter:
					 * run after every other, right before the
					 * EXCHANGE (predict) */
#define TRAV_F_OWN_ENDPOINT	0x20	/* its candidate is not its socket's public
					 * port (host, portmap, relay, udp): nothing
					 * for trav_learn_start to learn */
#define TRAV_F_SYN_FIRST	0x40	/* one side's hop-limited first SYN must
					 * leave before the peer's: its connect
					 * starts early and the queue reports that
					 * SYN (TRAV_F_REPORT_SYN); our next
					 * message -- the SCHEDULE, or the
					 * responder's EXCHANGE -- on which the peer
					 * connects, waits for it (sess_held_due,
					 * simopen6) */

/* One method. NULL members: the generic behaviour said beside each. */
struct trav_ops {
	uint8_t		method;		/* SIG_M_* */
	unsigned	flags;
	enum trav_role	(*role)(bool requester);
	/* its socket(s); NULL: one marked TCP socket on a port of the kernel's */
	int		(*prepare)(struct trav_attempt *a);
	/* work before our EXCHANGE (learn an endpoint, map a port, allocate a
	 * relay towards a->raddr): 0 started (events->ready follows), 1 done
	 * already, -errno (a->why) */
	int		(*gather)(struct trav_attempt *a);
	/* our candidate (c is our public IP and a->lport already) and what
	 * else the EXCHANGE carries for it */
	void		(*offer)(const struct trav_attempt *a, struct sig_candidate *c,
				 struct sig_exchange *x);
	/* target, first-SYN TTL and start from the peer's candidate;
	 * trav_arm set raddr/rport (p->addr or p->ip, p->port), start_at =
	 * now and ttl (syn_ttl, the discovered first-SYN TTL, when accepting,
	 * else 0) before */
	void		(*arm)(struct trav_attempt *a, const struct trav_peer *p, int syn_ttl);
	/* NULL: listen (and prime) or connect, by a->role */
	int		(*start)(struct trav_attempt *a, uint64_t now);
	void		(*tick)(struct trav_attempt *a, uint64_t now);
	/* the first SYN of its socket (win TRAV_COOKIE_NO_WIN) or of window
	 * entry win left (kept in a->syn / a->win[win].syn) */
	void		(*syn_left)(struct trav_attempt *a, int win);
	/* the peer's attempt of this method signalled (its events->signal) */
	void		(*peer_signal)(struct trav_attempt *a, const char *verb, const char *text);
	/* the server answered its events->request */
	void		(*answer)(struct trav_attempt *a, const struct stun_msg *m);
	/* a->conn is not the pair the requester kept (it closed it, or its
	 * header came on another): make another met socket a->conn. With
	 * data_only, only one whose peer already sent data. 0 or -ENOENT. */
	int		(*next_conn)(struct trav_attempt *a, bool data_only);
	/* free a->priv (a winner keeps what its connection needs) */
	void		(*close)(struct trav_attempt *a, bool keep_conn);
	/* module-wide: timers of state that outlives attempts; stuntd stops */
	void		(*global_tick)(uint64_t now);
	void		(*shutdown)(void);
};

/* The packets a session may send (max-session-packets), shared by its
 * attempts: each connect (its SYN), primer, SYN sent again, shotgun probe
 * and UDP punch takes one (kernel retransmissions are not counted). */
struct trav_budget {
	unsigned	left;
	unsigned	cap;
	bool		hit;		/* logged and counted once */
};

struct trav_attempt {
	/* identity, set by the session at prepare */
	struct d_session		*s;		/* opaque: for the events only */
	const struct trav_events	*events;
	uint32_t			sid;
	bool				requester;
	bool				forced;		/* the requester forced this method */
	struct trav_budget		*budget;	/* the session's; NULL: none */
	char				peer[SIG_ID_MAX + 1];
	uint64_t			deadline;	/* the session's */
	/* the method */
	const struct trav_ops		*ops;
	uint8_t				method;
	enum trav_role			role;
	enum trav_state			state;
	void				*priv;		/* the method's own state (ops->close frees) */
	/* its sockets and flows */
	int			ttl;		/* first SYN (connect) or primer TTL; 0: none */
	uint16_t		lport;
	uint16_t		pub_port;	/* lport after our NAT when learnt
						 * (trav_learn_start), else 0 */
	struct trav_learn	*learn;		/* that Binding while it runs */
	uint8_t			family;		/* 0 (IPv4: raddr) or AF_INET6 (raddr6) */
	uint32_t		raddr;		/* network order */
	uint8_t			raddr6[16];
	uint16_t		rport;
	struct d_ev		ev;		/* connecting socket, or listener */
	struct d_ev		pev;		/* primer */
	int			conn;		/* established socket, -1 */
	uint64_t		t_hdr;		/* events->early_hdr wrote the header
						 * then (clock_ms); 0: it did not */
	uint64_t		t_start, t_end, primer_close_ms, start_at;
	uint32_t		pol[TRAV_MAX_POLICIES];
	uint16_t		pol_lport[TRAV_MAX_POLICIES];	/* its flow's ports */
	uint16_t		pol_rport[TRAV_MAX_POLICIES];
	size_t			npol;
	char			why[128];
	/* a window of sockets (predict) */
	struct trav_win		win[TRAV_WINDOW_MAX];
	size_t			nwin;
	/* stunt1, synth: our first SYN; synth, predict: the peer's has left */
	struct trav_syn		syn;
	bool			peer_syn;
};

/* ---- the methods (one file each) ---- */
extern const struct trav_ops trav_direct_ops, trav_portmap_ops, trav_reversal_ops,
	trav_simopen_ops, trav_stunt1_ops, trav_synth_ops, trav_stunt2_ops, trav_predict_ops,
	trav_shotgun_ops, trav_udp_ops, trav_relay_ops, trav_host_ops, trav_simopen6_ops,
	trav_udp6_ops;
/* The method's operations, or NULL when this stuntd does not implement it. */
const struct trav_ops *trav_ops_of(uint8_t method);
/* Role of this side for method (requester or not): TRAV_NONE if unknown. */
enum trav_role trav_role_of(uint8_t method, bool requester);
const char *trav_state_name(enum trav_state st);

/* ---- what a session calls (daemon/trav/attempt.c) ---- */
/* Fill a for method of session s (sid, requester, peer, deadline, forced,
 * events) and create its socket(s). 0 or -errno. */
int trav_prepare(struct trav_attempt *a, struct d_session *s, const struct trav_events *ev,
		 uint8_t method, uint32_t sid, bool requester, const char *peer,
		 uint64_t deadline, bool forced);
/* Its work before our EXCHANGE (ops->gather): 0 started, 1 done or none, -errno. */
int trav_gather(struct trav_attempt *a);
/* Our socket's port after our NAT: a->lport, or what trav_learn_start learnt. */
uint16_t trav_public_port(const struct trav_attempt *a);
/* daemon/trav/learn.c: behind an EIM NAT that picks its own ports
 * (trav_eim_learned), a STUN Binding from a->lport learns a->pub_port,
 * without blocking: 0 started (events->ready follows), 1 nothing to learn
 * (not such a NAT, the method offers another endpoint, or learnt), -errno
 * (a->why). trav_tick times it out, trav_close ends it. */
int trav_learn_start(struct trav_attempt *a);
void trav_learn_tick(struct trav_attempt *a, uint64_t now);
void trav_learn_close(struct trav_attempt *a);
/* Our candidate for it, and what else the EXCHANGE carries for it. */
void trav_offer(const struct trav_attempt *a, uint32_t public_ip, struct sig_candidate *c,
		struct sig_exchange *x);
/* Target, TTL and start time from the peer's candidate (syn_ttl: the
 * discovered first-SYN TTL, 0 without a NAT). */
void trav_arm(struct trav_attempt *a, const struct trav_peer *p, int syn_ttl, uint64_t now);
/* Start it towards raddr:rport at now: 0, or -errno (a->state TA_FAILED). */
int trav_start(struct trav_attempt *a, uint64_t now);
void trav_tick(struct trav_attempt *a, uint64_t now);
/* The queue saw the first SYN of a's socket (win TRAV_COOKIE_NO_WIN) or of
 * its window entry win leave: k is that packet. */
void trav_syn_left(struct trav_attempt *a, int win, const struct pkt *k);
void trav_peer_signal(struct trav_attempt *a, const char *verb, const char *text);
void trav_answer(struct trav_attempt *a, const struct stun_msg *m);
/* One mechanism for "several pairs met": ops->next_conn (0 or -ENOENT). */
int trav_next_conn(struct trav_attempt *a, bool data_only);
/* Close everything but a->conn when keep_conn; drop its guard policies
 * when it won. */
void trav_close(struct trav_attempt *a, bool keep_conn);
/* Every method's module-wide timers / stuntd stops. */
void trav_global_tick(uint64_t now);
void trav_shutdown(void);

/* ---- what a method calls (daemon/trav/attempt.c, sock.c) ---- */
/* Fail a running attempt now with why (events->failed). */
void trav_fail(struct trav_attempt *a, const char *why);
/* a->state TA_FAILED already (a->why): stamp and report it. */
void trav_report_failed(struct trav_attempt *a);
/* ops->close for a method whose a->priv is one plain allocation. */
void trav_free_priv(struct trav_attempt *a, bool keep_conn);
/* fd is established: it is a->conn (events->connected). */
void trav_connected(struct trav_attempt *a, int fd);
/* The cookie of a's "report our first SYN" policy for window entry win
 * (TRAV_COOKIE_NO_WIN: a's own socket); trav_cookie_parse() its parts. */
uint64_t trav_syn_cookie(const struct trav_attempt *a, int win);
/* Take n packets of the session's budget before sending them: 0, or
 * -EDQUOT (used up: nothing may be sent; a->why says so; the first time
 * logged and counted, security.packets_capped). */
int trav_budget_take(struct trav_attempt *a, unsigned n);
/* The attempt's remote address (raddr or raddr6, by a->family) and rport
 * in ss: its length. */
socklen_t trav_sockaddr(const struct trav_attempt *a, uint16_t rport, struct sockaddr_storage *ss);
/* "IP:PORT" or "[IP]:PORT" of a->raddr / raddr6 and a->rport, in buf */
#define TRAV_EP_STRLEN		(INET6_ADDRSTRLEN + 8)
const char *trav_remote_str(const struct trav_attempt *a, char buf[TRAV_EP_STRLEN]);
/* The flow lport -> the attempt's remote address : rport (TCP, its family). */
void trav_flow(const struct trav_attempt *a, uint16_t lport, uint16_t rport, struct nfq_flow *f);
/* ms left until the session's deadline (at least 1) */
uint32_t trav_left_ms(const struct trav_attempt *a, uint64_t now);

/* daemon/trav/sock.c: the halves every method is made of */
/* The usual ops->prepare: one marked TCP socket on a port of the kernel's. */
int trav_sock_prepare(struct trav_attempt *a);
/* The same with a->priv, priv_size zeroed bytes (freed again on failure;
 * the method's ops->close frees it otherwise). 0 or -errno. */
int trav_sock_prepare_priv(struct trav_attempt *a, size_t priv_size);
/* Add a policy recorded in a (removed when a wins, else it expires). */
void trav_sock_policy(struct trav_attempt *a, const struct nfq_policy_spec *s);
int trav_sock_connect(struct trav_attempt *a, uint64_t now);
int trav_sock_accept(struct trav_attempt *a, uint64_t now);
/* A marked TCP socket bound to port (0: the kernel's choice), its port in *bound. */
int trav_sock_marked(uint16_t port, uint16_t *bound);
/* The same, IPv6, bound to [ip] on a port of the kernel's. */
int trav_sock_marked6(const uint8_t ip[16], uint16_t *bound);
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
/* The window's next_conn (predict): the requester kept another pair of the
 * window (several predictions were right) and closed or ignores a->conn.
 * Make the sibling it kept a->conn: with data_only, only one the header
 * already waits on; else also an established (or SYN_RECV) one. */
int trav_sock_window_next(struct trav_attempt *a, bool data_only);
/* Send syn, which left lport -> a->raddr:rport TTL-limited, again at full
 * TTL, once, when both sides' have left: nothing until syn->has and
 * a->peer_syn, while a runs. Rebuilt from what the queue saw (same sequence
 * number, window and options; source syn->laddr), on the raw socket.
 * A failure is logged: the kernel's retransmission is the fallback.
 * From then on the daemon's clock sends it again (trav_sock_pace_tick). */
void trav_sock_syn_again(struct trav_attempt *a, struct trav_syn *syn, uint16_t lport,
			 uint16_t rport);
/* Accept one connection on a's listener lfd: its fd when a runs and
 * from_ok(a, source IP) agrees; else it is closed (FIN, not RST), logged
 * "refused a connection from IP:PORT (not NOT_WHOM of PEER)", and -1 (also
 * when nothing was there to accept). */
int trav_sock_accept_from(struct trav_attempt *a, int lfd,
			  bool (*from_ok)(const struct trav_attempt *a, uint32_t ip),
			  const char *not_whom);
/* fd's TCP state (TCP_SYN_SENT, TCP_ESTABLISHED, ...), -1 when unknown. */
int trav_sock_state(int fd);
/* A non-blocking connect's outcome: 1 established, 0 not (yet: any other
 * state, trav_sock_state tells which), else a positive errno (SO_ERROR). */
int trav_sock_connect_result(int fd);
/* The daemon's SYN clock (daemon/trav/pace.h): each of a's flows whose SYN
 * left at full TTL and is still unanswered (its socket in SYN_SENT) goes
 * again when its copy is due; an answered or closed one stops. */
void trav_sock_pace_tick(struct trav_attempt *a, uint64_t now);

/* ---- helpers that methods share (attempt.c) ---- */
/* roles: connect on both sides; the responder accepts (direct); the
 * requester accepts (reversal) */
enum trav_role trav_role_connect(bool requester);
enum trav_role trav_role_responder_accepts(bool requester);
enum trav_role trav_role_requester_accepts(bool requester);
/* arm: the first SYN TTL-limited (simopen, stunt1, synth) */
void trav_arm_syn_ttl(struct trav_attempt *a, const struct trav_peer *p, int syn_ttl);

/* daemon/trav/proof.c: the responder proves it is the peer before a
 * connection that may have reached another host is taken (host, simopen6):
 *
 *   "STNH" PROOF(16)        (sig_conn_proof, role 'P', proto/sig_proof.h)
 *
 * on the connection, first; the requester takes the connection only once
 * it verified (then its session header carries its own proof, confirm.c).
 * A method's private state (a->priv) starts with a struct trav_proof. */
#define TRAV_PROOF_MAGIC	"STNH"
#define TRAV_PROOF_HELLO_LEN	(4 + SIG_PROOF_LEN)
struct trav_proof {
	bool		have_key;
	uint8_t		req_half[SIG_SESSION_KEY_LEN];
	uint8_t		resp_half[SIG_SESSION_KEY_LEN];
	uint8_t		hello[TRAV_PROOF_HELLO_LEN];	/* requester: what came */
	size_t		got;
	bool		early_hdr;	/* requester: the session header goes as
					   the connect completes (host), not after
					   the proof (events->early_hdr) */
};
/* The two key halves from the peer's EXCHANGE (p->key, p->own_key). */
void trav_proof_arm(struct trav_proof *pr, const struct trav_attempt *a,
		    const struct trav_peer *p);
/* Responder: our proof on fd (held for the 'K' when the requester's header
 * is there already, TCP_NODELAY on). 0, or -1 (logged). */
int trav_proof_send(const struct trav_attempt *a, const struct trav_proof *pr, int fd);
/* The d_ev callback of a connecting socket (ev->arg a, a->priv a struct
 * trav_proof first): once established, the requester (with early_hdr:
 * after writing its session header) reads the responder's proof and takes the connection when it verified (else the
 * attempt fails: "ADDR is not PEER (wrong proof): dropped", counted in
 * conns_unproven), the responder sends its proof and takes it. */
void trav_proof_on_connect(struct d_ev *ev, uint32_t events);

/* ---- what the rest of stuntd asks of two methods ---- */
/* relay: live relayed connections (status) */
size_t trav_relay_count(void);
/* udp: is buf a punch-handshake datagram (a late duplicate an application
 * or forwarder should drop)? */
bool trav_udp_is_handshake(const uint8_t *buf, size_t len);

#endif
