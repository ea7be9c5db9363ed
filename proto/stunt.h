// SPDX-License-Identifier: MIT
/*
 * STUNT over TCP (thesis 3.2.2, reworked): STUN framing on a TCP control
 * connection to stunt-server, plus messages that make the server capture the
 * client's SYN, send test SYNs / SYN-ACKs, and probe how the client's NAT
 * answers an unsolicited SYN. Codes are in proto/stunt_codes.h; exchanges
 * are drawn in docs/protocol.md.
 *
 * Each message has a struct, stunt_put_*() that appends its attributes to a
 * builder the caller started with the right type (stun_build_init / reply),
 * and stunt_get_*() that checks a parsed message's method and class
 * (-ENOMSG if it is another message) and fills the struct (-EBADMSG when an
 * attribute is missing or malformed). Integrity and fingerprint are the
 * caller's (stun_auth.h), added after the put.
 */
#ifndef STUNT_PROTO_STUNT_H
#define STUNT_PROTO_STUNT_H

#include "proto/stun_attr.h"
#include "proto/stun_msg.h"
#include "proto/stunt_codes.h"

/* ---- TCP options of a SYN ---- */

#define STUNT_TCP_OPTS_MAX	40

#define STUNT_OPT_MSS		0x01
#define STUNT_OPT_WSCALE	0x02
#define STUNT_OPT_SACK_PERM	0x04
#define STUNT_OPT_TIMESTAMPS	0x08

struct stunt_tcp_opts {
	uint8_t		present;	/* STUNT_OPT_* */
	uint16_t	mss;
	uint8_t		wscale;
	uint32_t	ts_val;
	uint32_t	ts_ecr;
};

/* Parse raw TCP option bytes (what follows the 20-byte TCP header, doff*4
 * - 20 bytes). 0, or -EBADMSG for a truncated option or a known option of
 * the wrong length. Unknown options are skipped. */
int stunt_tcp_opts_parse(const uint8_t *opt, size_t len, struct stunt_tcp_opts *out);

/*
 * STUNT-SYN-INFO (16 bytes), what the server saw of a captured SYN:
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        Sequence number                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  TTL as seen  |   IP flags    |       IP identification       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          TCP window           |   TCP flags   |   reserved    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |             Milliseconds from arming to capture               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * IP flags: the top 3 bits of the IPv4 fragment field, shifted down (0x2
 * = DF). IPv6: TTL is the hop limit, IP flags and id are 0.
 */
#define STUNT_IP_DF	0x02

struct stunt_syn_info {
	uint32_t	seq;
	uint8_t		ttl;
	uint8_t		ip_flags;
	uint16_t	ip_id;
	uint16_t	window;
	uint8_t		tcp_flags;
	uint32_t	elapsed_ms;
};

/*
 * STUNT-PACKET (16 bytes): a packet the server is asked to send (request)
 * or has scheduled (response).
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Kind      |     Flags     |       Destination port        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          Delay (ms)           |      TTL      |   reserved    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        Sequence number                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     Acknowledgment number                     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * The destination address is never in the message: it is always the
 * address the authenticated control connection comes from.
 * TTL 0: the server's default.
 */
#define STUNT_PKT_SYN		1
#define STUNT_PKT_SYNACK	2

#define STUNT_PKT_F_SEQ		0x01	/* use Sequence number (else server picks) */
#define STUNT_PKT_F_CHANGE_PORT	0x02	/* from the alternate port */
#define STUNT_PKT_F_CHANGE_IP	0x04	/* from the alternate address */
#define STUNT_PKT_F_ACK		0x08	/* use Acknowledgment number (else the
					 * captured SYN's sequence + 1) */
#define STUNT_PKT_F_SOURCE	0x10	/* source given in STUNT-SOURCE */
#define STUNT_PKT_F_ALL		0x1F

struct stunt_packet {
	uint8_t		kind;
	uint8_t		flags;
	uint16_t	dst_port;
	uint16_t	delay_ms;
	uint8_t		ttl;
	uint32_t	seq;
	uint32_t	ack;
};

/* ---- messages ---- */

/* CAPTURE request: "capture the next SYN I send you". */
struct stunt_capture_req {
	uint32_t	timeout_ms;	/* 0: server default (no attribute) */
};
/* CAPTURE success: armed; send the SYN to target before timeout. */
struct stunt_capture_resp {
	uint32_t		capture_id;
	uint32_t		timeout_ms;
	struct stun_addr	target;
};
/* SYN-REPORT indication, server to client, once per CAPTURE. */
struct stunt_syn_report {
	uint32_t		capture_id;
	uint16_t		error;		/* 0 captured, else e.g. 408 timeout */
	struct stun_addr	source;		/* the SYN's source as seen (mapped) */
	struct stunt_syn_info	syn;
	uint8_t			opts_raw[STUNT_TCP_OPTS_MAX];
	size_t			opts_len;
	struct stunt_tcp_opts	opts;		/* get: parsed from opts_raw */
};
/* SEND-PACKET request and success response. */
struct stunt_send_req {
	struct stunt_packet	pkt;
	struct stun_addr	source;		/* only with STUNT_PKT_F_SOURCE */
};
struct stunt_send_resp {
	struct stunt_packet	pkt;		/* as it will be sent */
	struct stun_addr	source;		/* the address and port it comes from */
};

/*
 * PROBE-UNSOLICITED: "send an unsolicited SYN to my public address at port
 * P and tell me what comes back". STUNT-PROBE-PORT:
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |            Port P             | Flags (A B)   |   reserved    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * Flags as CHANGE-REQUEST: 0x04 from the alternate address, 0x02 port.
 *
 * STUNT-PROBE-RESULT:
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |    Result     |   ICMP type   |   ICMP code   |  TTL of reply |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                 Milliseconds until the reply                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
#define STUNT_PROBE_DROP	0	/* nothing before the timeout */
#define STUNT_PROBE_RST		1
#define STUNT_PROBE_ICMP	2
#define STUNT_PROBE_SYNACK	3	/* something listens: filter is open */

struct stunt_probe_req {
	uint16_t	port;
	uint8_t		flags;		/* STUN_CHANGE_IP / STUN_CHANGE_PORT */
	uint32_t	timeout_ms;	/* 0: server default */
};
struct stunt_probe_resp {
	uint8_t			result;		/* STUNT_PROBE_* */
	uint8_t			icmp_type;
	uint8_t			icmp_code;
	uint8_t			ttl;
	uint32_t		elapsed_ms;
	struct stun_addr	source;		/* where the probe SYN came from */
};

int stunt_put_capture_req(struct stun_builder *b, const struct stunt_capture_req *r);
int stunt_get_capture_req(const struct stun_msg *m, struct stunt_capture_req *r);
int stunt_put_capture_resp(struct stun_builder *b, const struct stunt_capture_resp *r);
int stunt_get_capture_resp(const struct stun_msg *m, struct stunt_capture_resp *r);
int stunt_put_syn_report(struct stun_builder *b, const struct stunt_syn_report *r);
int stunt_get_syn_report(const struct stun_msg *m, struct stunt_syn_report *r);
int stunt_put_send_req(struct stun_builder *b, const struct stunt_send_req *r);
int stunt_get_send_req(const struct stun_msg *m, struct stunt_send_req *r);
int stunt_put_send_resp(struct stun_builder *b, const struct stunt_send_resp *r);
int stunt_get_send_resp(const struct stun_msg *m, struct stunt_send_resp *r);
int stunt_put_probe_req(struct stun_builder *b, const struct stunt_probe_req *r);
int stunt_get_probe_req(const struct stun_msg *m, struct stunt_probe_req *r);
int stunt_put_probe_resp(struct stun_builder *b, const struct stunt_probe_resp *r);
int stunt_get_probe_resp(const struct stun_msg *m, struct stunt_probe_resp *r);

/* Shared by stunt.c and sig.c: 0 if m is method/one of the classes in
 * class_mask (1 << STUN_REQUEST | ...), else -ENOMSG. */
int stunt_expect(const struct stun_msg *m, uint16_t method, unsigned class_mask);

#endif
