/* SPDX-License-Identifier: MIT */
/*
 * stuntd's state, shared by its files: the event loop (daemon/loop.c), the
 * signalling session with stunt-server (daemon/sig.c), the control socket
 * (daemon/control.c), traversal sessions (daemon/session.h: session.c,
 * negotiate.c, race.c, confirm.c, peers.c; the methods in daemon/trav/) and
 * the hand-off of the winning socket (daemon/handoff.c), and SIGHUP's
 * re-read configuration applied (daemon/reload.c). One process, one epoll
 * loop, one instance of struct stuntd.
 */
#ifndef STUNT_DAEMON_STUNTD_H
#define STUNT_DAEMON_STUNTD_H

#include "daemon/config.h"
#include "daemon/hostaddr6.h"
#include "daemon/srvpick.h"
#include "daemon/trav/predwin.h"
#include "nfq/nfq_engine.h"
#include "nfq/nfq_rules.h"
#include "probes/probe.h"
#include "proto/sig.h"
#include "proto/sig_sec.h"
#include "proto/stun_msg.h"

#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define D_QUEUE_DEFAULT		7421
#define D_MARK_DEFAULT		0x7421u
/* A server silent this long is asked (a Binding) and must answer within
 * D_KEEPALIVE_WAIT_MS: a dead one is noticed within 4.5 s of its last
 * word, at one small request each 2 s (the server's idle timeout is 30 s) */
#define D_KEEPALIVE_MS		2000
#define D_KEEPALIVE_WAIT_MS	2500
/* ... or this long while the server's host still acknowledges (a lossy path) */
#define D_KEEPALIVE_LOSSY_MS	6000
/* no server in use: an attempt this slow does not hold up the next server's */
#define D_SIG_PARALLEL_MS	1000
#define D_SIG_REPLY_MS		5000	/* a signalling request unanswered this long: lost */
#define D_TICK_MS		50	/* longest epoll wait when idle */
#define D_TICK_BUSY_MS		5	/* ... while a session is being connected: its timers
					   (start time, connect delays) are checked this often */
#define D_SIG_BUF		16384
#define D_MAX_PENDING		512	/* signalling requests awaiting an answer: hundreds of
					 * sessions may be connecting at once */
#define D_PROBE_TIMEOUT_MS	3000
#define D_CTL_LINE_MAX		4096
/* Happy Eyeballs (SIG_NAT_V4_LATER): the scheduled IPv4 methods start this
 * long after the common start when simopen6 races; RFC 8305's Connection
 * Attempt Delay (at least 100 ms, 250 recommended). simopen6 is established
 * about one host round trip after that start on both sides, so 100 ms keeps
 * the IPv4 methods from starting at all up to a 100 ms RTT when IPv6 works,
 * and is what they lose when it does not (docs/benchmarks.md). */
#define D_HE_DELAY_MS		100
#define D_SCHEDULE_DELAY_MS	20	/* the common start: this long after each side
					 * receives the schedule (see put_schedule) */
#define D_RST_GUARD_MS		60000	/* outbound RSTs of a session's flows dropped this long */

struct d_ev {
	int	fd;
	void	(*cb)(struct d_ev *ev, uint32_t events);
	void	*arg;
};

/* ---- daemon/loop.c ---- */
int d_loop_init(void);
int d_loop_add(struct d_ev *ev, uint32_t events);
int d_loop_mod(struct d_ev *ev, uint32_t events);
void d_loop_del(struct d_ev *ev);
/* Wait at most timeout_ms and run the callbacks. */
int d_loop_run_once(int timeout_ms);

/* ---- method counters (status) ---- */
struct d_counter {
	unsigned long	tried, won, failed;
	unsigned long	syns_again;	/* SYN copies the daemon's clock sent (trav/pace.h) */
};

struct d_pending {
	bool		used;
	uint8_t		txid[STUN_TXID_LEN];
	uint16_t	method;
	uint32_t	session_id;
	uint64_t	sent_ms;
};

enum d_srv_state { SRV_DOWN, SRV_CONNECTING, SRV_REGISTERING, SRV_AUTHENTICATING, SRV_UP,
		  SRV_HANDSHAKE /* TLS, between CONNECTING and REGISTERING */ };

/* One signalling connection (daemon/sig.c) to server idx of the list: the
 * one in use, or an attempt (at a failover, or in the background at a
 * more preferred server to move back to). */
struct d_sigconn {
	enum d_srv_state	state;
	size_t			idx;		/* g_d->cfg.servers[idx] */
	struct d_ev		ev;
	uint8_t			rbuf[D_SIG_BUF];
	size_t			rlen;
	uint8_t			wbuf[D_SIG_BUF * 2];
	size_t			wlen;
	uint64_t		started_ms;	/* connect() */
	uint64_t		last_rx_ms;	/* the server's last message */
	uint64_t		ping_ms;	/* keepalive unanswered since; 0: none */
	struct ssl_st		*tls;		/* once connected, with TLS on */
	bool			tls_want_write;	/* OpenSSL waits for the socket to be writable */
	/* per-message integrity (proto/sig_sec.h): keys derived at REGISTER's
	 * answer, on from AUTHENTICATE's success */
	struct sig_keys		sig_keys;
	struct sig_sec		sec;
	struct d_pending	pend[D_MAX_PENDING];
	struct stun_addr	mapped;		/* as this server sees us */
	int64_t			offset_ms;	/* this server's clock - ours */
};

/* what status says of each server of the list */
struct d_srv_info {
	char		why[D_NAME_MAX + 160];	/* its last failure or loss; "" */
	uint64_t	since_ms;	/* in use since / failed at */
};

struct d_ctl_client;
struct ssl_ctx_st;
struct ssl_st;
struct d_session;
struct d_handoff;

struct stuntd {
	struct d_config		cfg;
	char			secret[D_SECRET_MAX];
	size_t			secret_len;
	bool			foreground;
	bool			no_rules;
	const char		*rules_tool;
	uint64_t		start_ms;

	/* rules and queue */
	struct nfq_rules_cfg	rules;
	char			rules_state[D_PATH_MAX + 32];
	bool			rules_held;
	struct nfq_engine	*nfq;
	struct d_ev		nfq_ev;
	uint32_t		mark;

	/* discovery */
	bool			have_probe;
	struct probe_result	probe;
	struct d_v6pub		v6pub;		/* our IPv6 address as server6 saw it */
	struct d_v6hops		v6hops;		/* our IPv6 firewall's distance */
	struct sig_nat_info	nat;
	int			syn_ttl;	/* TTL of first SYNs; 0: no limit (no NAT) */
	size_t			probe_srv;	/* the server discovery last probed */
	/* predict on a busy sequential NAT (daemon/trav/predwin.h): the pace
	 * of the NAT's port counter (others' mappings per second, tenths:
	 * from every measurement, older ones weighing less) and the lead (ms
	 * from predict's last Binding to its window's start, the mean of the
	 * last measurement and the ones before) */
	struct {
		struct trav_predwin_pace pace;
		uint32_t	pace_tenths;	/* trav_predwin_pace_tenths(&pace) */
		uint64_t	pace_at_ms;	/* 0: never measured */
		uint32_t	lead_ms;
		bool		lead_valid;
		uint16_t	last_count;	/* the last window advertised */
	}			busy;

	/* signalling: two connections, the one in use (cur) and an attempt */
	struct d_sigconn	sc[2];
	int			cur;		/* sc[cur] is registered; -1: none is */
	struct d_srvpick	pick;		/* which server next (daemon/srvpick.h) */
	struct d_srv_info	srv[D_MAX_SERVERS];
	unsigned long		srv_changes;	/* server changes since the first registration */
	bool			registered_once;
	struct stun_addr	mapped;		/* control connection as the server in use sees it */
	bool			have_mapped;
	uint32_t		public_ip;	/* network order */
	int64_t			server_offset_ms;	/* server clock - our clock */
	struct ssl_ctx_st	*tls_ctx;	/* NULL: plain TCP (daemon/tls.c) */
	unsigned long		tls_refused;	/* servers that failed authentication */
	unsigned long		sec_refused[SIG_SEC_MAX];	/* refused messages by reason */
	unsigned long		peers_refused;	/* sessions refused: peer not allowed, no service */
	unsigned long		candidates_refused;	/* a peer's candidates not on its
							   address as the server sees it, or
							   relay candidates on no known TURN
							   server */
	unsigned long		conns_unproven;		/* connections that did not prove to
							 * be the peer (host's hello, the
							 * session header): dropped */
	unsigned long		methods_refused;	/* forced methods the strategy rejects */
	unsigned long		sessions_busy;		/* max-peer-sessions reached */
	unsigned long		starts_busy;		/* max-peer-starts reached */
	unsigned long		packets_capped;		/* sessions that hit max-session-packets */
	unsigned long		revoked;		/* sessions and hand-offs closed by a
							   SIGHUP that revoked their peer */

	/* control socket */
	struct d_ev		cev;
	gid_t			control_gid;
	bool			have_gid;
	struct d_ctl_client	*clients;
	unsigned long		control_refused;	/* clients neither root nor in the group */

	/* sessions, hand-offs */
	struct d_session	*sessions;
	struct d_handoff	*handoffs;
	uint32_t		next_session;
	struct d_counter	counters[SIG_M_MAX + 1];
};

extern struct stuntd *g_d;
extern volatile sig_atomic_t d_sig_term, d_sig_chld, d_sig_hup;

/* ---- daemon/sig.c: the session with stunt-server ---- */
void d_sig_tick(uint64_t now);
/* Every connection closed (stopping). */
void d_sig_close(const char *why);
bool d_sig_up(void);
/* The server in use (registered), else the most preferred one: its entry
 * in cfg.servers, which discovery probes and predict connects to. */
const struct d_server *d_sig_server(void);
/* JSON of the servers (status: "servers" and "server_index"). */
void d_sig_status_json(FILE *f, uint64_t now);
/* SIGHUP: adopt fresh's server list (names resolved) when it changed; the
 * connections to servers no longer on it are closed. */
void d_sig_reload(const struct d_config *fresh);
/* Start a request of method, with the body written by put(); the answer
 * comes to d_session_on_answer() with session_id. 0 or -errno. */
int d_sig_request(uint16_t method, uint32_t session_id,
		  int (*put)(struct stun_builder *b, const void *arg), const void *arg);
uint64_t d_sig_server_to_local(uint64_t server_ms);
/* With TLS on, the client context (CA loaded): 0, or -EINVAL with err. */
int d_sig_tls_init(char *err, size_t errlen);
void d_sig_tls_fini(void);

/* ---- daemon/discovery.c ---- */
int d_discovery_run(void);
void d_nat_from_probe(const struct probe_result *r, struct sig_nat_info *n, int *syn_ttl);

/* ---- daemon/control.c ---- */
int d_control_open(void);
void d_control_close(void);
/* Answer a connect request: json (one line, no '\n') and fd (-1: none). */
void d_control_answer(struct d_ctl_client *c, const char *json, int fd);

/* ---- the sessions (daemon/session.h) ---- */
/* A control client asks for peer/service. On failure the answer is sent. */
void d_session_request(struct d_ctl_client *c, const char *peer, const char *service,
		       const char *method);
void d_session_on_answer(uint16_t method, uint32_t session_id, const struct stun_msg *m);
void d_session_on_indication(const struct stun_msg *m);
void d_session_tick(uint64_t now);
int d_session_wait_ms(void);	/* how long the loop may sleep: short while connecting */
void d_session_ctl_gone(struct d_ctl_client *c);
void d_session_peers_answer(struct d_ctl_client *c);
/* JSON array of the sessions, into a memstream. */
void d_session_status_json(FILE *f, uint64_t now);
void d_session_shutdown(void);
/* The server in use changed or was lost: sessions that still need it (in
 * negotiation) fail with why; those racing or connected go on, and those
 * still at their LOOKUP wait for the next registration (they have told no
 * one anything yet). Returns how many failed. */
size_t d_session_server_gone(const char *why);
/* Registered (again): the waiting sessions send their LOOKUP. */
void d_session_server_up(void);
void d_session_on_nfq_event(const struct nfq_event *ev);

/* ---- daemon/handoff.c ---- */
/* Take over fd (the winning socket) for service e: connect/splice or exec;
 * framed (a relayed session whose requester speaks the framing of
 * daemon/relayhc.c): answered D_ACK_FRAMED, and the relay connection stays
 * ours. Returns 0, or -errno (fd closed). */
int d_handoff_start(int fd, const struct d_expose *e, const char *peer, bool framed);
void d_handoff_reap(void);
void d_handoff_shutdown(void);
size_t d_handoff_count(void);
/* Bytes the running tcp: hand-offs of peer (NULL: every peer) copied so
 * far: from the peer to the service, and back (added to *from and *to). */
void d_handoff_bytes(const char *peer, uint64_t *from, uint64_t *to);

/* Close the hand-offs (spliced, exec: children, UDP forwarders) whose peer
 * may no longer use their service under c (a SIGHUP revoked it), each
 * logged "revoked"; returns how many. */
size_t d_handoff_revoke(const struct d_config *c);

/* ---- daemon/relayhc.c: a relayed session's connection, framed ---- */
#define D_ACK_FRAMED	'H'	/* the responder's ack: handed off, framed from here */
/* Copy the relay connection f (framed, proto/hcframe.h) to the plain socket
 * p and back, half-closes included; both taken. service: the tcp: service
 * p is the target of (revocation, bytes), NULL otherwise. 0 or -errno. */
int d_relayhc_start(int f, int p, const char *peer, const char *service);
/* f to one end of a loopback TCP connection; returns the other end (for
 * the control client or an exec: child), or -errno (f closed). */
int d_relayhc_pair(int f, const char *peer);
void d_relayhc_tick(uint64_t now);
/* The tcp: services' ones: as d_handoff_count / _bytes / _revoke. */
size_t d_relayhc_count(void);
void d_relayhc_bytes(const char *peer, uint64_t *from, uint64_t *to);
size_t d_relayhc_revoke(const struct d_config *c);
void d_relayhc_shutdown(void);

/* ---- daemon/peers.c (the rest in session.h) ---- */
/* A tcp: hand-off of peer ended after copying from / to bytes. */
void d_peer_bytes(const char *peer, uint64_t from, uint64_t to);
/* Bytes of every tcp: hand-off, ended or running, since the start. */
void d_peer_bytes_total(uint64_t *from, uint64_t *to);

/* ---- daemon/metrics.c: metrics ADDR:PORT (off: nothing) ---- */
/* Listen (before the privileges are dropped): 0, or -errno and why. */
int d_metrics_open(char *why, size_t cap);
void d_metrics_tick(uint64_t now);
void d_metrics_close(void);

/* ---- daemon/reload.c: SIGHUP's re-read configuration, applied ---- */
void d_reload_apply(const struct d_config *fresh);
bool d_reload_still_allowed(const struct d_config *c, const char *service, const char *peer);

/* ---- daemon/udpfwd.c: udp:HOST:PORT services ---- */
int d_udpfwd_start(int fd, const struct d_expose *e, const char *peer);
size_t d_udpfwd_revoke(const struct d_config *c);
size_t d_udpfwd_count(void);
void d_udpfwd_shutdown(void);

/* ---- small helpers (daemon/util.c) ---- */
void d_json_str(FILE *f, const char *s);
const char *d_ip_str(uint32_t ip_be, char *buf);
/* "IP:PORT" (AF_INET) or "[IP]:PORT" (AF_INET6) of sa in buf (len bytes,
 * INET6_ADDRSTRLEN + 8 is enough), "?" for another family */
struct sockaddr;
const char *d_ep_str(const struct sockaddr *sa, char *buf, size_t len);
int d_set_nonblock(int fd);
/* syn-pacing's clock for the data of a thin TCP stream (signalling, a
 * traversal's header and answer): common/tcprto.h, failure logged */
void d_tcp_short_rto(int fd);

#endif
