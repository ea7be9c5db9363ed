// SPDX-License-Identifier: MIT
/*
 * The method and attribute codes stunt adds to STUN framing: STUNT (TCP
 * SYN capture and test packets, thesis 3.2.2) and signalling (rendezvous).
 * docs/protocol.md explains every one of them.
 *
 * Why these numbers. The thesis used method 0x003 for Capture Request and
 * attributes 0x0100-0x0102; 0x003 is TURN's Allocate. Assigned STUN methods
 * today are 0x001-0x00C (Binding, RFC 3489 Shared Secret, TURN 0x003-0x009,
 * RFC 6062 0x00A-0x00C) and 0x080 (GOOG-PING). We use 0x0A0-0x0AF for STUNT
 * and 0x0B0-0x0BF for signalling: unassigned, far from the TURN block, and
 * still inside 0x000-0x7FF so every type value keeps the two top bits zero.
 *
 * Attributes come from the Designated-Expert halves of both ranges, where
 * nothing is registered near these values: 0x5A00-0x5AFF for
 * comprehension-required attributes (an old peer answers 420 rather than
 * misread a request) and 0xDA00-0xDAFF for comprehension-optional ones.
 * Low byte 0x0_ is STUNT, 0x1_ signalling.
 */
#ifndef STUNT_PROTO_STUNT_CODES_H
#define STUNT_PROTO_STUNT_CODES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* STUNT methods (binding over TCP is plain STUN Binding, 0x001) */
#define STUNT_METHOD_CAPTURE		0x0A0	/* arm capture of my next SYN */
#define STUNT_METHOD_SYN_REPORT		0x0A1	/* indication: what was captured */
#define STUNT_METHOD_SEND_PACKET	0x0A2	/* send me a SYN / SYN-ACK */
#define STUNT_METHOD_PROBE_UNSOLICITED	0x0A3	/* how does my NAT answer a SYN? */

/* Signalling methods */
#define SIG_METHOD_REGISTER		0x0B0	/* id -> challenge nonce */
#define SIG_METHOD_AUTHENTICATE		0x0B1	/* id + nonce + HMAC credential */
#define SIG_METHOD_LOOKUP		0x0B2	/* is peer registered, where */
#define SIG_METHOD_EXCHANGE		0x0B3	/* candidates, predictions, ISN */
#define SIG_METHOD_SCHEDULE		0x0B4	/* agree a start time */
#define SIG_METHOD_RELAY		0x0B5	/* opaque control message */
#define SIG_METHOD_SYNACK		0x0B6	/* STUNT #1: my SYN; send us SYN-ACKs */

#define STUNT_METHOD_FIRST		0x0A0
#define SIG_METHOD_LAST			0x0B6

/* STUNT attributes (comprehension-required) */
#define STUNT_ATTR_CAPTURE_ID		0x5A00	/* u32 */
#define STUNT_ATTR_TIMEOUT		0x5A01	/* u32, milliseconds */
#define STUNT_ATTR_PACKET		0x5A02	/* 16 bytes, see stunt.h */
#define STUNT_ATTR_SYN_INFO		0x5A03	/* 16 bytes, see stunt.h */
#define STUNT_ATTR_TCP_OPTIONS		0x5A04	/* 0-40 raw option bytes */
#define STUNT_ATTR_TARGET		0x5A05	/* address (plain form) */
#define STUNT_ATTR_SOURCE		0x5A06	/* address (plain form) */
#define STUNT_ATTR_PROBE_PORT		0x5A07	/* port + 16 reserved bits */
#define STUNT_ATTR_PROBE_RESULT		0x5A08	/* 8 bytes, see stunt.h */

/* Signalling attributes */
#define SIG_ATTR_PEER_ID		0x5A10	/* text, 1-64 bytes */
#define SIG_ATTR_CREDENTIAL		0x5A11	/* 32 bytes HMAC-SHA256 */
#define SIG_ATTR_CANDIDATE		0x5A12	/* kind, proto, priority, xaddr */
#define SIG_ATTR_PREDICTION		0x5A13	/* 8 bytes, see sig.h */
#define SIG_ATTR_ISN			0x5A14	/* u32 TCP sequence number */
#define SIG_ATTR_START_TIME		0x5A15	/* u64 ms, server clock */
#define SIG_ATTR_SERVER_TIME		0x5A16	/* u64 ms, server clock */
#define SIG_ATTR_DATA			0x5A17	/* opaque, <= SIG_DATA_MAX */
#define SIG_ATTR_SESSION_ID		0x5A18	/* u32 */
#define SIG_ATTR_SERVICE		0x5A19	/* text, 1-64 bytes */
#define SIG_ATTR_METHODS		0x5A1A	/* list of traversal method ids */
#define SIG_ATTR_DELAY			0x5A1B	/* u32 ms */
#define SIG_ATTR_SYN			0x5A1C	/* 16 bytes, see sig.h */
#define SIG_ATTR_SEQ			0x5A40	/* u64, per-direction message number
						 * (proto/sig_sec.h) */
#define SIG_ATTR_NAT_INFO		0xDA10	/* optional: discovery summary */
#define SIG_ATTR_SESSION_KEY		0xDA11	/* optional: 16 random bytes (udp) */
#define SIG_ATTR_ROUND			0xDA12	/* optional: 4 bytes, see sig.h */
#define SIG_ATTR_SENDER			0xDA13	/* optional: XOR'd address, added by the
						 * server to the indications it relays */

/* Is this one of the codes above? (stun_attr_is_known() asks.) */
bool stunt_attr_is_known(uint16_t type);
/* Decoding bound for a text attribute of ours (0xFFFF for other types). */
size_t stunt_text_max(uint16_t type);
/* Is this method number in stunt's blocks (0x0A0-0x0BF)? */
bool stunt_method_is_ours(uint16_t method);

#endif
