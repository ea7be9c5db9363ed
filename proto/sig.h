// SPDX-License-Identifier: MIT
/*
 * Signalling between stuntd and stunt-server (rendezvous), in STUN framing
 * over the same TCP (or TLS) control connection as STUNT: register an id,
 * authenticate it, look up a peer, exchange candidates / port predictions /
 * sequence numbers, agree a start time, and relay small opaque messages.
 * Codes in proto/stunt_codes.h, exchanges in docs/protocol.md.
 *
 * Conventions as in proto/stunt.h: sig_put_*() appends to a started
 * builder, sig_get_*() checks method/class (-ENOMSG) and attributes
 * (-EBADMSG). Messages that the server relays (EXCHANGE, SCHEDULE, RELAY)
 * are requests from the sender, carrying the *target's* SIG-PEER-ID, and
 * indications to the target, carrying the *sender's*; the same struct
 * decodes both, the class tells which.
 *
 * Strings (peer ids, service names) are copied into the struct and
 * NUL-terminated; SIG-DATA is a pointer into the parsed message.
 */
#ifndef STUNT_PROTO_SIG_H
#define STUNT_PROTO_SIG_H

#include "proto/stun_attr.h"
#include "proto/stun_msg.h"
#include "proto/stunt_codes.h"

#define SIG_ID_MAX		64	/* peer ids and service names, bytes */
#define SIG_NONCE_MAX		64
#define SIG_CREDENTIAL_LEN	32
#define SIG_DATA_MAX		1024
#define SIG_MAX_CANDIDATES	12
#define SIG_MAX_METHODS		16
#define SIG_SESSION_KEY_LEN	16

/* An id is 1-64 bytes of [A-Za-z0-9._-]: it appears in the secrets file
 * ("ID SECRET"), in "peer/service" on the command line and in logs. */
bool sig_id_valid(const char *s, size_t len);

/*
 * Credential: HMAC-SHA256(secret, "stunt-auth-v1" 0x00 id 0x00 nonce),
 * where nonce is the server's challenge from the REGISTER response. The
 * server keeps each nonce for one AUTHENTICATE only, so a credential
 * cannot be replayed.
 */
int sig_credential(const uint8_t *secret, size_t slen, const char *peer_id,
		   const uint8_t *nonce, size_t nlen, uint8_t out[SIG_CREDENTIAL_LEN]);
/* 0 if cred is right (constant-time compare), -EACCES if not. */
int sig_credential_check(const uint8_t *secret, size_t slen, const char *peer_id,
			 const uint8_t *nonce, size_t nlen,
			 const uint8_t cred[SIG_CREDENTIAL_LEN]);

/* Traversal method ids in SIG-METHODS; names as in `stuntctl --method`. */
enum sig_method {
	SIG_M_DIRECT = 1, SIG_M_PORTMAP, SIG_M_REVERSAL, SIG_M_SIMOPEN, SIG_M_STUNT1,
	SIG_M_STUNT2, SIG_M_SYNTH, SIG_M_PREDICT, SIG_M_SHOTGUN, SIG_M_UDP, SIG_M_RELAY,
	SIG_M_HOST,	/* a direct connect to a host candidate (same NAT, daemon/trav/host.c) */
	SIG_M_SIMOPEN6,	/* simultaneous open over IPv6 (daemon/trav/simopen6.c) */
	SIG_M_UDP6,	/* UDP hole punching over IPv6 (daemon/trav/udp.c) */
	SIG_M_MAX = SIG_M_UDP6,
};
const char *sig_method_name(unsigned id);	/* NULL if unknown */
int sig_method_id(const char *name);		/* -ENOENT if unknown */

/*
 * SIG-CANDIDATE:
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Kind      |   Protocol    |           Priority            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |0 0 0 0 0 0 0 0|    Family     |         X-Port                |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                X-Address (32 or 128 bits)                     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * X-Port / X-Address are XOR'd with the magic cookie followed by twelve
 * zero bytes -- not the transaction id -- so that the server can copy the
 * attribute verbatim into the relayed indication (which has another
 * transaction id) and NAT ALGs still do not recognise the address.
 */
#define SIG_CAND_HOST		1	/* an interface address (method host: IPv4;
					   method simopen6: a global IPv6 address);
					   the other methods' own address is kind SRFLX */
#define SIG_CAND_SRFLX		2	/* server reflexive (mapped) */
#define SIG_CAND_PREDICTED	3
#define SIG_CAND_PORTMAP	4	/* UPnP / NAT-PMP / PCP mapping */
#define SIG_CAND_RELAY		5

struct sig_candidate {
	uint8_t			kind;
	uint8_t			proto;		/* IPPROTO_TCP / IPPROTO_UDP */
	uint16_t		priority;
	struct stun_addr	addr;
};

/*
 * SIG-PREDICTION (8 bytes):
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   Protocol    |  Allocation   |        Delta (signed)         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |       Last public port        |      Count of predictions     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * The peer tries last + delta * i for i = 1..count.
 */
#define SIG_ALLOC_UNKNOWN	0
#define SIG_ALLOC_PRESERVING	1
#define SIG_ALLOC_SEQUENTIAL	2
#define SIG_ALLOC_RANDOM	3

struct sig_prediction {
	uint8_t		proto;
	uint8_t		allocation;
	int16_t		delta;
	uint16_t	last_port;
	uint16_t	count;
};

/*
 * SIG-NAT-INFO (16 bytes, comprehension-optional): the discovery result
 * in numbers; 0 everywhere means "not measured".
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  UDP mapping  | UDP filtering |   UDP alloc   |  TCP mapping  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | TCP filtering |   TCP alloc   | Unsolicited   |    Flags      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |        UDP delta (signed)     |       TCP delta (signed)      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   NAT hops    |                   reserved                    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * mapping: 1 EIM, 2 ADM, 3 APDM; filtering: 1 EIF, 2 ADF, 3 APDF;
 * alloc: SIG_ALLOC_*; unsolicited: 1 drop, 2 rst, 3 icmp.
 */
#define SIG_NAT_SEQ_REWRITE	0x01
#define SIG_NAT_UPNP		0x02
#define SIG_NAT_NATPMP		0x04
#define SIG_NAT_PCP		0x08
#define SIG_NAT_TURN		0x10	/* not the NAT's: this side has a TURN server
					   configured and can allocate a relay */
#define SIG_NAT_V6_FIRST	0x20	/* not the NAT's: simopen6 in the responder-
					   first order (daemon/trav/simopen6.c): set
					   by a requester that knows it, echoed by a
					   responder that runs it; an older stuntd
					   ignores the bit, and the order stays the
					   requester-first one */
#define SIG_NAT_V4_LATER	0x40	/* not the NAT's: Happy Eyeballs (RFC 8305)
					   -- with simopen6 in the race, both sides
					   start the scheduled IPv4 methods
					   D_HE_DELAY_MS after the common start, and
					   not while simopen6 is established and being
					   proven; set by a requester that knows it,
					   echoed by a responder that runs it; an older
					   stuntd ignores it and starts them at once */

struct sig_nat_info {
	uint8_t		udp_mapping, udp_filtering, udp_alloc;
	uint8_t		tcp_mapping, tcp_filtering, tcp_alloc;
	uint8_t		unsolicited;
	uint8_t		flags;
	int16_t		udp_delta, tcp_delta;
	uint8_t		nat_hops;
};

/*
 * SIG-ROUND (4 bytes, comprehension-optional), in an EXCHANGE: which
 * negotiation round of its session the message belongs to. Absent: the
 * first. Round 1 (SIG_ROUND_RELAY) is the relay round (daemon/negotiate.c): the
 * requester renegotiates an agreed session to relay alone, and the
 * responder answers with an EXCHANGE carrying the same attribute.
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Round     |    Reason     |   Direct race time (ms, u16)  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * Reason: why the relay round (SIG_REASON_*); the time is how long the
 * requester's race of direct methods ran before it gave up (65535: longer,
 * 0: there was none), for the responder's log.
 */
#define SIG_ROUND_RELAY		1
#define SIG_REASON_STRATEGY	1	/* relay from the start; the requester allocates */
#define SIG_REASON_FAILED	2	/* every direct attempt failed */
#define SIG_REASON_TIMEOUT	3	/* the direct race's share of the deadline ran out */

struct sig_round {
	uint8_t		round;
	uint8_t		reason;
	uint16_t	race_ms;
};

/*
 * SIG-SENDER (comprehension-optional): the sender's control connection as
 * the server sees it (address and port), in the layout and XOR of
 * XOR-MAPPED-ADDRESS (the indication's own transaction id). stunt-server
 * adds it to every indication it relays (EXCHANGE, SCHEDULE, RELAY) and
 * never copies the sender's own: it vouches for the peer's public address,
 * so that a peer cannot name a third party's as its candidates
 * (daemon/negotiate.c). Decoded from indications only: in any other
 * message it is nobody's word and is ignored; a malformed one too (an old
 * server's indication has none).
 */
int sig_build_sender(struct stun_builder *b, const struct stun_addr *sender);
/* Is candidate c on the sender's vouched address (same family and IP; the
 * port is the candidate's own)? A relay candidate is not judged (true): its
 * address is on a TURN server, not the peer's. */
bool sig_candidate_vouched(const struct stun_addr *sender, const struct sig_candidate *c);

/* ---- messages ---- */

/* REGISTER request (id) -> success (challenge nonce). */
struct sig_register {
	char	peer_id[SIG_ID_MAX + 1];
};
struct sig_register_resp {
	uint8_t	nonce[SIG_NONCE_MAX];
	size_t	nonce_len;
};
/* AUTHENTICATE request -> success (the control connection's mapped
 * address and the server's clock) or 401. */
struct sig_auth {
	char	peer_id[SIG_ID_MAX + 1];
	uint8_t	nonce[SIG_NONCE_MAX];
	size_t	nonce_len;
	uint8_t	credential[SIG_CREDENTIAL_LEN];
};
struct sig_auth_resp {
	struct stun_addr	mapped;
	uint64_t		server_time_ms;
};
/* LOOKUP request (peer id) -> success or 404. */
struct sig_lookup {
	char	peer_id[SIG_ID_MAX + 1];
};
struct sig_lookup_resp {
	char			peer_id[SIG_ID_MAX + 1];
	struct stun_addr	endpoint;	/* its control connection, as seen */
	bool			has_nat;
	struct sig_nat_info	nat;
};
/* EXCHANGE request (to server, peer = target) / indication (to target,
 * peer = sender). */
struct sig_exchange {
	char			peer_id[SIG_ID_MAX + 1];
	uint32_t		session_id;
	char			service[SIG_ID_MAX + 1];	/* "" if none */
	uint8_t			methods[SIG_MAX_METHODS];	/* in preference order */
	size_t			nmethods;
	struct sig_candidate	cand[SIG_MAX_CANDIDATES];
	size_t			ncand;
	bool			has_prediction;
	struct sig_prediction	pred;
	bool			has_isn;
	uint32_t		isn;
	bool			has_nat;
	struct sig_nat_info	nat;
	/* udp: each side's random contribution to the key that authenticates
	 * the punch packets (SIG-SESSION-KEY, comprehension-optional) */
	bool			has_key;
	uint8_t			key[SIG_SESSION_KEY_LEN];
	/* SIG-ROUND: absent in the first round */
	bool			has_round;
	struct sig_round	round;
	/* SIG-SENDER, indications only: the peer's address as the server sees it */
	bool			has_sender;
	struct stun_addr	sender;
};
/* SCHEDULE request (peer, session, delay) -> success to the requester and
 * indication to the peer, both with start and server times. */
struct sig_schedule {
	char		peer_id[SIG_ID_MAX + 1];
	uint32_t	session_id;
	uint32_t	delay_ms;	/* request */
	uint64_t	start_time_ms;	/* success / indication, server clock */
	uint64_t	server_time_ms;	/* success / indication, server clock */
	bool		has_sender;	/* SIG-SENDER: indication only */
	struct stun_addr sender;
};
/* RELAY request / indication: opaque bytes between two registered peers. */
struct sig_relay {
	char		 peer_id[SIG_ID_MAX + 1];
	const uint8_t	*data;
	size_t		 len;
	bool		 has_sender;	/* SIG-SENDER: indication only */
	struct stun_addr sender;
};

/*
 * SYNACK request (STUNT #1): "my SYN of session SESSION-ID with PEER-ID
 * left; when the peer's is here too, send each of us the SYN-ACK the other
 * would have sent". Success: stored (or both sent); 403: no such agreed
 * session between us; 500: the server cannot send raw packets. Once both
 * were sent, the same request again (same port and sequence number, from
 * the same address) means "mine was lost": the server sends that side's
 * SYN-ACK once more, to it only, at most SIG_SYNACK_REPEATS times a
 * session; any other SYNACK for the session gets 403.
 * SIG-SYN (16 bytes):
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          Public port          |            Window             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        Sequence number                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |              MSS              |    WScale     |  Options (*)  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                             TSval                             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * (*) which options the SYN carried: 0x01 MSS, 0x02 window scale,
 * 0x04 SACK-permitted, 0x08 timestamps (= PKT_OPT_*). The port is the
 * SYN's source port after the sender's NAT(s) (the destination of the
 * SYN-ACK to it); the address is never in the message: always the
 * sender's control connection's.
 */
#define SIG_SYNACK_REPEATS	3
#define SIG_SYN_MSS		0x01
#define SIG_SYN_WSCALE		0x02
#define SIG_SYN_SACK_OK		0x04
#define SIG_SYN_TS		0x08
#define SIG_SYN_ALL		0x0F

struct sig_syn {
	uint16_t	port;
	uint16_t	window;
	uint32_t	seq;
	uint16_t	mss;
	uint8_t		wscale;
	uint8_t		present;	/* SIG_SYN_* */
	uint32_t	ts_val;
};
struct sig_synack {
	char		peer_id[SIG_ID_MAX + 1];
	uint32_t	session_id;
	struct sig_syn	syn;
};

int sig_put_register(struct stun_builder *b, const struct sig_register *r);
int sig_get_register(const struct stun_msg *m, struct sig_register *r);
int sig_put_register_resp(struct stun_builder *b, const struct sig_register_resp *r);
int sig_get_register_resp(const struct stun_msg *m, struct sig_register_resp *r);
int sig_put_auth(struct stun_builder *b, const struct sig_auth *r);
int sig_get_auth(const struct stun_msg *m, struct sig_auth *r);
int sig_put_auth_resp(struct stun_builder *b, const struct sig_auth_resp *r);
int sig_get_auth_resp(const struct stun_msg *m, struct sig_auth_resp *r);
int sig_put_lookup(struct stun_builder *b, const struct sig_lookup *r);
int sig_get_lookup(const struct stun_msg *m, struct sig_lookup *r);
int sig_put_lookup_resp(struct stun_builder *b, const struct sig_lookup_resp *r);
int sig_get_lookup_resp(const struct stun_msg *m, struct sig_lookup_resp *r);
int sig_put_exchange(struct stun_builder *b, const struct sig_exchange *r);
int sig_get_exchange(const struct stun_msg *m, struct sig_exchange *r);
/* writes delay (request) or start/server times (other classes), by the
 * class of the message the builder holds */
int sig_put_schedule(struct stun_builder *b, const struct sig_schedule *r);
int sig_get_schedule(const struct stun_msg *m, struct sig_schedule *r);
int sig_put_relay(struct stun_builder *b, const struct sig_relay *r);
int sig_get_relay(const struct stun_msg *m, struct sig_relay *r);
int sig_put_synack(struct stun_builder *b, const struct sig_synack *r);
int sig_get_synack(const struct stun_msg *m, struct sig_synack *r);	/* requests only */

/* Attribute-level codecs, for the server's verbatim relaying and tests. */
int sig_build_candidate(struct stun_builder *b, const struct sig_candidate *c);
int sig_attr_get_candidate(const struct stun_attr *a, struct sig_candidate *c);
int sig_build_nat_info(struct stun_builder *b, const struct sig_nat_info *n);
int sig_attr_get_nat_info(const struct stun_attr *a, struct sig_nat_info *n);
int sig_build_round(struct stun_builder *b, const struct sig_round *r);
/* -EBADMSG if shorter than 4 bytes (a longer value from a newer peer is fine) */
int sig_attr_get_round(const struct stun_attr *a, struct sig_round *r);
/* "relay from the start", "every direct attempt failed", ... ("?" if unknown) */
const char *sig_reason_text(uint8_t reason);

#endif
