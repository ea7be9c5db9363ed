// SPDX-License-Identifier: MIT
/*
 * The probe's one event loop: poll(2) over every socket of every test, STUN
 * transactions with RFC 8489-style retransmission over UDP (RTO 100 ms,
 * doubling), STUN framing over TCP, timers, and a bound on the whole run.
 * Tests (probe_udp.c, probe_tcp.c, probe_ttl.c) start transactions and get
 * a callback when each one ends; a callback may start more.
 *
 * A transaction whose missing answer is itself the result (a filtering
 * test) is "absence" kind: it gives up once the absence window has passed
 * since its first send. The window grows with the largest round trip seen
 * so far, so a slow path waits longer, and it never passes the deadline.
 * When the path has lost packets by then, an unanswered absence
 * transaction gets a second window, retransmitted at a steady
 * PROBE_RTO_MS pace, so that loss alone is unlikely to explain its silence.
 *
 * The loop counts the path's loss for the tests' confidence: every send of
 * an answered UDP transaction but the one answered is a lost round trip, a
 * non-absence one that got no answer lost them all; TCP sockets add their
 * retransmissions (TCP_INFO).
 *
 * The server's address (probe_loop_server) lets the loop give up at once
 * when, before any answer, the network says the server cannot be reached:
 * an ICMP destination unreachable for a UDP packet to it (IP_RECVERR), a
 * refused or unreachable TCP connect to it (default TTL only: a TTL-limited
 * SYN's time-exceeded is a measurement). Port unreachable / refused must
 * come for each transport in use; host or network unreachable is enough
 * from either.
 */
#ifndef STUNT_PROBES_PROBE_LOOP_H
#define STUNT_PROBES_PROBE_LOOP_H

#include "common/addr.h"
#include "proto/stun_attr.h"
#include "proto/stun_msg.h"

#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#define PROBE_RTO_MS		100	/* first retransmission timeout (RFC 8489: 500) */
#define PROBE_RTO_MAX_MS	1600
#define PROBE_ABSENCE_MIN_MS	400	/* shortest wait before "no answer" is a result */
#define PROBE_LOOP_MAX_SOCKS	64
#define PROBE_LOOP_MAX_TX	96
#define PROBE_LOOP_MAX_TIMERS	16

struct probe_loop;
struct probe_sock;
struct probe_tx;

enum probe_sock_kind { PROBE_SK_UDP, PROBE_SK_TCP, PROBE_SK_OTHER };

typedef void (*probe_ready_cb)(struct probe_loop *L, struct probe_sock *s, short revents);
typedef void (*probe_msg_cb)(struct probe_loop *L, struct probe_sock *s, const struct stun_msg *m);
typedef void (*probe_tx_cb)(struct probe_loop *L, struct probe_tx *t);
typedef void (*probe_timer_cb)(struct probe_loop *L, void *arg);

struct probe_sock {
	int		 fd;
	enum probe_sock_kind kind;
	bool		 connecting;	/* TCP: connect() under way */
	bool		 dead;		/* TCP: failed or closed; fd kept until the end */
	bool		 borrowed;	/* OTHER: the fd is not ours to close (libpcap's) */
	short		 events;	/* OTHER: what to poll for */
	uint16_t	 lport;		/* local port, host order */
	bool		 v6;		/* an IPv6 socket: its answers, losses and
					   errors are not the IPv4 server's */
	union addr_sa	 dst;		/* TCP: where it connects */
	bool		 ttl_limited;	/* TCP: its SYN has a small TTL */
	uint64_t	 t_start;
	probe_ready_cb	 on_ready;	/* OTHER: called on any event */
	probe_msg_cb	 on_msg;	/* TCP: messages no transaction claims */
	void		*arg;
	size_t		 rlen;
	uint8_t		 rbuf[2048];
};

enum probe_tx_status { PROBE_TX_PENDING = 0, PROBE_TX_OK, PROBE_TX_NOANSWER, PROBE_TX_ERROR };

struct probe_tx {
	struct probe_sock	*s;
	union addr_sa		 dst;
	uint8_t			 req[512];
	size_t			 reqlen;
	uint8_t			 txid[STUN_TXID_LEN];
	bool			 absence;
	bool			 second;	/* absence: in its second window */
	uint64_t		 window_ms;	/* absence: when the current window opened */
	bool			 sent;
	enum probe_tx_status	 status;
	uint64_t		 first_ms, next_ms;
	unsigned		 rto_ms, sends;
	/* the answer */
	union addr_sa		 from;
	unsigned		 rtt_ms;
	bool			 has_mapped, has_other, has_origin;
	struct stun_addr	 mapped, other, origin;
	uint16_t		 err_code;	/* error response: its code */
	bool			 was_request;	/* the "answer" was a request (hairpin) */
	bool			 server_waits;	/* the answer waits at the server (PROBE-
						 * UNSOLICITED's timeout): no RTT sample */
	uint8_t			 resp[512];
	size_t			 resplen;
	/* the test's */
	probe_tx_cb		 done;
	void			*arg;
	int			 tag;
};

struct probe_timer {
	uint64_t	 at;
	probe_timer_cb	 fn;
	void		*arg;
	bool		 weak;	/* does not keep the loop running by itself */
};

struct probe_loop {
	uint64_t		 start_ms, deadline_ms;
	unsigned		 rtt_max_ms;
	unsigned		 rt_sent, rt_lost;	/* UDP round trips tried, lost */
	unsigned		 holds;		/* tests waiting for something else */
	unsigned		 nsocks, ntx, ntimers;
	struct probe_sock	*socks[PROBE_LOOP_MAX_SOCKS];
	struct probe_tx		*tx[PROBE_LOOP_MAX_TX];
	struct probe_timer	 timers[PROBE_LOOP_MAX_TIMERS];
	int			 verbose;
	/* the progress line on stderr (probe_cfg.progress) */
	bool			 progress, progress_shown;
	uint64_t		 progress_next;
	/* the server, and what the network said of it (errno per transport) */
	struct sockaddr_in	 srv;
	bool			 srv_udp, srv_tcp;	/* transports in use */
	bool			 heard;			/* any transaction answered */
	int			 unreach_udp, unreach_tcp;
	bool			 gave_up;		/* ended early: server unreachable */
};

void probe_loop_init(struct probe_loop *L, unsigned timeout_ms);
void probe_loop_free(struct probe_loop *L);
/* The server (primary address and port) and the transports the run uses
 * with it: see the top of this file. */
void probe_loop_server(struct probe_loop *L, const struct sockaddr_in *srv, bool udp, bool tcp);
/* Run until nothing is pending (transactions, holds, timers), the deadline,
 * or the server is known unreachable (L->gave_up). */
void probe_loop_run(struct probe_loop *L);
uint64_t probe_loop_absence_ms(const struct probe_loop *L);
/* Round trips tried and lost on the path so far: UDP transactions, plus
 * each TCP socket's segments sent and retransmitted (one lost segment is
 * counted as a lost round trip: its ACK, or the data, went missing). */
void probe_loop_loss(const struct probe_loop *L, unsigned *lost, unsigned *sent);
/* Could the silence of t (an absence transaction, or a try count) be loss? */
bool probe_loop_doubtful(const struct probe_loop *L, unsigned tries);

/* A UDP socket bound to INADDR_ANY:port (0: any), or NULL with errno. */
struct probe_sock *probe_sock_udp(struct probe_loop *L, uint16_t port);
/* A TCP socket bound to port (0: any; reuse: SO_REUSEADDR + SO_REUSEPORT),
 * optional IP TTL (0: default), with a non-blocking connect to dst under way. */
struct probe_sock *probe_sock_tcp(struct probe_loop *L, uint16_t port, bool reuse, int ttl,
				  const struct sockaddr_in *dst);
/* The same over IPv6 (IPV6_V6ONLY, any port; probe6.c). */
struct probe_sock *probe_sock_udp6(struct probe_loop *L);
struct probe_sock *probe_sock_tcp6(struct probe_loop *L, const struct sockaddr_in6 *dst, bool reuse);
/* Any other descriptor: on_ready gets the poll events. */
struct probe_sock *probe_sock_other(struct probe_loop *L, int fd, short events, probe_ready_cb cb,
				    void *arg);

/* A Binding request (CHANGE-REQUEST flags if change != 0) to dst on s. */
struct probe_tx *probe_tx_binding(struct probe_loop *L, struct probe_sock *s,
				  const struct sockaddr_in *dst, uint32_t change, bool absence,
				  probe_tx_cb done, void *arg, int tag);
/* The same to an IPv6 destination (NULL on a TCP socket). */
struct probe_tx *probe_tx_binding6(struct probe_loop *L, struct probe_sock *s,
				   const struct sockaddr_in6 *dst, uint32_t change, bool absence,
				   probe_tx_cb done, void *arg, int tag);
/* Its request alone (FINGERPRINT, CHANGE-REQUEST if change != 0) in buf,
 * txid filled: its length or -errno. */
int probe_binding_build(uint8_t *buf, size_t cap, uint32_t change, uint8_t txid[STUN_TXID_LEN]);
/* The addresses a success answer names, any family: XOR-MAPPED- (else
 * MAPPED-) ADDRESS, OTHER- (else CHANGED-) ADDRESS, RESPONSE-ORIGIN; each
 * flag is set only when its attribute was there and parsed. */
void probe_answer_addrs(const struct stun_msg *m, bool *has_mapped, struct stun_addr *mapped,
			bool *has_other, struct stun_addr *other, bool *has_origin,
			struct stun_addr *origin);
/* A request built by the caller (its transaction id at bytes 8..20). */
struct probe_tx *probe_tx_raw(struct probe_loop *L, struct probe_sock *s,
			      const struct sockaddr_in *dst, const uint8_t *req, size_t len,
			      bool absence, probe_tx_cb done, void *arg, int tag);

/* A weak timer fires only while something else keeps the loop running
 * (a timeout for a hold); every timer fires at the latest when the loop ends. */
int probe_timer_add(struct probe_loop *L, uint64_t at_ms, bool weak, probe_timer_cb fn, void *arg);

/* A fresh random transaction id. */
void probe_txid(uint8_t txid[STUN_TXID_LEN]);
/* A mapped address learnt from a STUN answer as a probe endpoint (IPv4 only). */
struct probe_ep;
void probe_ep_from(struct probe_ep *e, const struct stun_addr *a);

void probe_sin(struct sockaddr_in *sin, uint32_t ip_be, uint16_t port);

#endif
