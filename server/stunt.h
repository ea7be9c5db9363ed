// SPDX-License-Identifier: MIT
/*
 * stunt-server's STUNT requests (docs/protocol.md section 4) as pure
 * logic: CAPTURE, SEND-PACKET and PROBE-UNSOLICITED in, a reply (or a
 * refusal) and an action for the loop out. The pending-operation code (server/pend.c) does the
 * capturing (server/capture.c), the raw-socket sending and the timers.
 *
 * Who may ask: any TCP (or TLS) control connection -- the TCP handshake
 * proves its source address -- or, with require_auth, only one that has
 * authenticated through rendezvous (401 otherwise).
 *
 * Where packets go: only to the control connection's own IP address, and
 * for SEND-PACKET only to a port the server has seen that client use
 * (the control connection's mapped port, or the source port of a SYN it
 * captured for this connection): its own mapped endpoints, never a third
 * party -- and, with no_spoof, only from the server's own addresses (a
 * foreign STUNT-SOURCE gets 403). A request carrying STUNT-TARGET with another IP (CAPTURE: one not
 * the server's), or a SEND-PACKET to a port not seen, is refused with 403
 * and counted. PROBE-UNSOLICITED goes to the client's own IP at the port
 * it names -- that is the question it asks.
 *
 * Over IPv6 (a control connection to --primary6 / --alternate6) only
 * PROBE-UNSOLICITED is served, under the same rules: to the connection's
 * own IPv6 address, from the server's IPv6 address and port the change
 * flags name, the same tokens and slots (the share table keys on the
 * address of either family). CAPTURE and SEND-PACKET get 500 there.
 *
 * How much: every packet sent takes a token from the connection's bucket
 * and from the server's (429 when empty); a connection has at most
 * STUNT_CONN_PENDING captures, probes and scheduled packets outstanding,
 * all the connections from one client IP address together
 * STUNT_ADDR_SHARE (its fair share of the table: 429 "Fair share used",
 * counted as share_limited) and the server STUNT_PENDING_MAX (429);
 * delays and timeouts are bounded (400 beyond).
 */
#ifndef STUNT_SERVER_STUNT_H
#define STUNT_SERVER_STUNT_H

#include "server/rate.h"
#include "nfq/pkt_build.h"
#include "proto/stunt.h"

#include <stdbool.h>

#define STUNT_CAPTURE_MS_DEFAULT	5000
#define STUNT_CAPTURE_MS_MAX		30000
#define STUNT_PROBE_MS_DEFAULT		1500
#define STUNT_PROBE_MS_MAX		5000
#define STUNT_DELAY_MS_MAX		5000
#define STUNT_CONN_PENDING		4
#define STUNT_PENDING_MAX		64	/* = SRV_CAP_WANT_MAX */
/* outstanding actions of all the connections of one client IP address:
 * max(STUNT_CONN_PENDING, STUNT_PENDING_MAX / 8) */
#define STUNT_ADDR_SHARE		(STUNT_PENDING_MAX / 8 > STUNT_CONN_PENDING ? \
					 STUNT_PENDING_MAX / 8 : STUNT_CONN_PENDING)
#define STUNT_KNOWN_PORTS		8
#define STUNT_TTL_DEFAULT		64
#define STUNT_RATE_CONN_DEFAULT		5	/* packets per second per connection */
#define STUNT_BURST_CONN_DEFAULT	10
#define STUNT_RATE_ALL_DEFAULT		200	/* packets per second, whole server */
#define STUNT_BURST_ALL_DEFAULT		400
#define STUNT_BUF			512	/* any reply or report fits */

enum stunt_verdict {
	STUNT_V_CAPTURE,	/* capture armed */
	STUNT_V_SEND,		/* packet scheduled */
	STUNT_V_PROBE,		/* probe started */
	STUNT_V_BAD,		/* 400: malformed, or delay / timeout out of range */
	STUNT_V_AUTH,		/* 401: not authenticated (require_auth) */
	STUNT_V_THIRD_PARTY,	/* 403: a destination not the client's own */
	STUNT_V_RATE,		/* 429: token bucket empty */
	STUNT_V_BUSY,		/* 429: too many outstanding */
	STUNT_V_SHARE,		/* 429: the client address's fair share is used */
	STUNT_V_UNAVAILABLE,	/* 500: no raw socket / capture (of the connection's
				 * family), or CAPTURE / SEND-PACKET over IPv6 */
	STUNT_V_NO_ALT,		/* 400: change IP asked of a one-address server */
	STUNT_V_NO_SPOOF,	/* 403: a foreign source asked of a --no-spoof server */
	STUNT_V_DROP,		/* not a request: dropped */
	STUNT_V_MAX,
};

const char *stunt_verdict_name(enum stunt_verdict v);
/* Is this one of the STUNT methods (0x0A0-0x0A3)? */
bool srv_stunt_is_ours(uint16_t method);

struct srv_stunt_cfg {
	struct stun_addr sock[2][2];	/* the server's four addresses, as server/stun.h */
	struct stun_addr pub[2][2];	/* the same as clients see them (--external-ip):
					 * what replies name; sock is what packets carry */
	struct stun_addr sock6[2][2];	/* the --primary6 rows (family 0: none) */
	bool		 one_addr;	/* row 1 is row 0: change IP refused (400) */
	bool		 one_addr6;	/* ... of the IPv6 rows */
	bool		 no_spoof;	/* SEND-PACKET from a foreign source refused (403) */
	bool		 available;	/* raw socket and capture handle open */
	bool		 available6;	/* an IPv6 raw socket too: PROBE over IPv6 */
	bool		 require_auth;
	unsigned	 conn_rate, conn_burst;	/* per connection, packets/s */
	unsigned	 all_rate, all_burst;	/* whole server */
};

/* Outstanding actions of one client IP address. */
struct stunt_share {
	uint8_t		family;		/* 0: free */
	uint8_t		ip[16];
	unsigned	n;
};

struct srv_stunt {
	struct srv_stunt_cfg	cfg;
	struct srv_bucket	all;
	unsigned		pending;	/* outstanding actions, all clients */
	uint32_t		next_id;
	/* at most STUNT_PENDING_MAX addresses have an action outstanding */
	struct stunt_share	share[STUNT_PENDING_MAX];
};

/* Actions outstanding for the connections of a's IP address. */
unsigned srv_stunt_share_used(const struct srv_stunt *s, const struct stun_addr *a);

/* Per control connection; embedded in the loop's client. */
struct stunt_conn {
	struct stun_addr	peer;		/* the control connection's source */
	unsigned		rx_ip, rx_port;	/* the server socket it came in on */
	struct srv_bucket	bucket;
	unsigned		pending;
	uint16_t		known[STUNT_KNOWN_PORTS];	/* mapped ports seen */
	unsigned		nknown, known_next;
	bool			has_seq;	/* a SYN was captured: its seq */
	uint32_t		last_seq;
};

/* What the loop is to do. */
struct stunt_action {
	enum stunt_verdict	verdict;
	size_t			reply_len;	/* now, to the client (0: nothing yet) */
	uint8_t			txid[STUN_TXID_LEN];	/* PROBE: of the request */
	uint32_t		capture_id;
	uint32_t		timeout_ms;	/* CAPTURE, PROBE */
	uint32_t		delay_ms;	/* SEND */
	struct stun_addr	target;		/* CAPTURE: where the SYN goes */
	struct pkt_tcp_spec	pkt;		/* SEND, PROBE: to send (IPv4 addresses) */
	struct stun_addr	src, dst;	/* PROBE: pkt's local endpoints, either
						 * family (IPv6: what pkt cannot hold) */
	struct stun_addr	source;		/* SEND, PROBE: where it comes from, as
						 * the client sees it (pkt has the local one) */
};

void srv_stunt_init(struct srv_stunt *s, const struct srv_stunt_cfg *cfg, uint64_t now_ms);
void srv_stunt_conn_init(struct stunt_conn *c, const struct srv_stunt *s,
			 const struct stun_addr *peer, unsigned rx_ip, unsigned rx_port,
			 uint64_t now_ms);

/* The "only to the requesting client" check for SEND-PACKET: may a packet
 * go to port (0: the control connection's) at c's address? */
bool srv_stunt_dest_ok(const struct stunt_conn *c, uint16_t port);
/* A captured SYN of c: remember its source port and sequence number. */
void srv_stunt_conn_saw(struct stunt_conn *c, uint16_t port, uint32_t seq);

/*
 * Handle one parsed STUNT message m from c. authed: the connection has
 * authenticated (rendezvous). rnd: fresh random bytes (capture ids,
 * sequence numbers, source ports of probes). reply: STUNT_BUF bytes.
 * source_ok (may be NULL): for SEND-PACKET with STUNT-SOURCE not one of
 * the server's addresses, is this source allowed (e.g. a registered
 * peer's address)? On STUNT_V_CAPTURE/SEND/PROBE s->pending and
 * c->pending have been incremented: call srv_stunt_done() when the action
 * ends or is cancelled.
 */
int srv_stunt_handle(struct srv_stunt *s, struct stunt_conn *c, bool authed,
		     const struct stun_msg *m, const uint8_t rnd[8], uint64_t now_ms,
		     bool (*source_ok)(const struct stun_addr *src, void *arg), void *arg,
		     uint8_t *reply, struct stunt_action *out);
void srv_stunt_done(struct srv_stunt *s, struct stunt_conn *c);

/*
 * The IPv6 form of the packet spec describes (its TCP segment, spec's
 * addresses replaced by src6 and dst6, the TTL as the hop limit): into
 * buf[0..cap), checksums set, *out_len its length. 0, or what
 * pkt_build_tcp() returns.
 */
int srv_stunt_build6(const struct pkt_tcp_spec *spec, const uint8_t src6[16],
		     const uint8_t dst6[16], uint8_t *buf, size_t cap, size_t *out_len);

/* The SYN-REPORT indication (rep->error 408 for a timeout). */
size_t srv_stunt_report(const struct stunt_syn_report *rep, const uint8_t txid[STUN_TXID_LEN],
			uint8_t *buf, size_t cap);
/* The PROBE-UNSOLICITED success response to the request with this txid. */
size_t srv_stunt_probe_reply(const uint8_t txid[STUN_TXID_LEN], const struct stunt_probe_resp *r,
			     uint8_t *buf, size_t cap);

#endif
