// SPDX-License-Identifier: MIT
/*
 * STUN attribute codecs: addresses (plain and XOR), ERROR-CODE,
 * UNKNOWN-ATTRIBUTES, text attributes, and the RFC 5780 behaviour-discovery
 * attributes. Getters take a parsed attribute (proto/stun_msg.h) and return
 * 0 or -EBADMSG when the value is malformed; builders append to a
 * stun_builder and return 0 or its sticky error.
 */
#ifndef STUNT_PROTO_STUN_ATTR_H
#define STUNT_PROTO_STUN_ATTR_H

#include "proto/stun_msg.h"

#include <sys/socket.h>

/* Attribute types (IANA "STUN Attributes"). 0x0000-0x7FFF are
 * comprehension-required, 0x8000-0xFFFF comprehension-optional. */
#define STUN_ATTR_MAPPED_ADDRESS		0x0001	/* RFC 8489 */
#define STUN_ATTR_RESPONSE_ADDRESS		0x0002	/* RFC 3489 only */
#define STUN_ATTR_CHANGE_REQUEST		0x0003	/* RFC 5780, RFC 3489 */
#define STUN_ATTR_SOURCE_ADDRESS		0x0004	/* RFC 3489 only */
#define STUN_ATTR_CHANGED_ADDRESS		0x0005	/* RFC 3489 only */
#define STUN_ATTR_USERNAME			0x0006
#define STUN_ATTR_PASSWORD			0x0007	/* RFC 3489 only */
#define STUN_ATTR_MESSAGE_INTEGRITY		0x0008
#define STUN_ATTR_ERROR_CODE			0x0009
#define STUN_ATTR_UNKNOWN_ATTRIBUTES		0x000A
#define STUN_ATTR_REFLECTED_FROM		0x000B	/* RFC 3489 only */
#define STUN_ATTR_REALM				0x0014
#define STUN_ATTR_NONCE				0x0015
#define STUN_ATTR_MESSAGE_INTEGRITY_SHA256	0x001C	/* RFC 8489 */
#define STUN_ATTR_PASSWORD_ALGORITHM		0x001D
#define STUN_ATTR_USERHASH			0x001E
#define STUN_ATTR_XOR_MAPPED_ADDRESS		0x0020
#define STUN_ATTR_PADDING			0x0026	/* RFC 5780 */
#define STUN_ATTR_RESPONSE_PORT			0x0027	/* RFC 5780 */
#define STUN_ATTR_PASSWORD_ALGORITHMS		0x8002
#define STUN_ATTR_ALTERNATE_DOMAIN		0x8003
#define STUN_ATTR_SOFTWARE			0x8022
#define STUN_ATTR_ALTERNATE_SERVER		0x8023
#define STUN_ATTR_FINGERPRINT			0x8028
#define STUN_ATTR_RESPONSE_ORIGIN		0x802B	/* RFC 5780 */
#define STUN_ATTR_OTHER_ADDRESS			0x802C	/* RFC 5780 */

/* Error codes (RFC 8489 14.8, RFC 5780 7.2). */
#define STUN_ERR_TRY_ALTERNATE		300
#define STUN_ERR_BAD_REQUEST		400
#define STUN_ERR_UNAUTHORIZED		401
#define STUN_ERR_FORBIDDEN		403
#define STUN_ERR_NOT_FOUND		404	/* stunt signalling only */
#define STUN_ERR_TIMEOUT		408	/* stunt capture only */
#define STUN_ERR_UNKNOWN_ATTRIBUTE	420
#define STUN_ERR_STALE_NONCE		438
#define STUN_ERR_RATE_LIMITED		429	/* stunt only */
#define STUN_ERR_SERVER_ERROR		500

/* Is this an attribute type that this library has a codec for (STUN and
 * the stunt extensions)? */
bool stun_attr_is_known(uint16_t type);

/*
 * MAPPED-ADDRESS and its relatives (RESPONSE-ORIGIN, OTHER-ADDRESS,
 * SOURCE-ADDRESS, CHANGED-ADDRESS, RESPONSE-ADDRESS, ALTERNATE-SERVER):
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |0 0 0 0 0 0 0 0|    Family     |           Port                |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                 Address (32 bits or 128 bits)                 |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * XOR-MAPPED-ADDRESS has the same layout; X-Port is the port XOR the top
 * 16 bits of the cookie, X-Address the address XOR the cookie (IPv4) or
 * XOR cookie || transaction id (IPv6).
 */
#define STUN_FAMILY_IPV4	0x01
#define STUN_FAMILY_IPV6	0x02

struct stun_addr {
	uint8_t		family;		/* STUN_FAMILY_* */
	uint16_t	port;		/* host order */
	uint8_t		ip[16];		/* network order; 4 bytes used for IPv4 */
};

/* Raw value codecs, for attributes defined elsewhere that embed one. */
int stun_addr_decode(const uint8_t *val, size_t len, struct stun_addr *out);
/* XOR with key[0..16): cookie || txid (or cookie || zeros, see stunt.h). */
int stun_addr_decode_xor(const uint8_t *val, size_t len, const uint8_t key[16],
			 struct stun_addr *out);
size_t stun_addr_wire_len(const struct stun_addr *a);	/* 8, 20 or 0 if bad */

int stun_attr_get_addr(const struct stun_attr *a, struct stun_addr *out);
int stun_attr_get_xor_addr(const struct stun_attr *a, const struct stun_msg *m,
			   struct stun_addr *out);
int stun_build_addr(struct stun_builder *b, uint16_t type, const struct stun_addr *addr);
int stun_build_xor_addr(struct stun_builder *b, uint16_t type, const struct stun_addr *addr);
int stun_build_addr_xor_key(struct stun_builder *b, uint16_t type, const struct stun_addr *addr,
			    const uint8_t key[16]);

/* struct sockaddr_in / sockaddr_in6 <-> stun_addr. */
int stun_addr_from_sockaddr(struct stun_addr *out, const struct sockaddr *sa, socklen_t salen);
int stun_addr_to_sockaddr(const struct stun_addr *a, struct sockaddr_storage *ss, socklen_t *salen);
bool stun_addr_equal(const struct stun_addr *a, const struct stun_addr *b);
/* "IP:PORT", "[IP]:PORT" for IPv6, the IP alone when the port is 0, "?"
 * for neither family, in buf[0..cap) (STUN_ADDR_STRLEN holds any): buf. */
#define STUN_ADDR_STRLEN	(46 + 8)	/* INET6_ADDRSTRLEN, brackets, :65535 */
const char *stun_addr_str(const struct stun_addr *a, char *buf, size_t cap);

/*
 * ERROR-CODE:
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           Reserved, should be 0         |Class|     Number    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      Reason Phrase (variable)                                ..
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
struct stun_error {
	uint16_t	 code;		/* 300..699 */
	const char	*reason;	/* points into the message, not NUL-terminated */
	size_t		 reason_len;
};

int stun_attr_get_error(const struct stun_attr *a, struct stun_error *out);
/* reason NULL: the standard phrase for code. */
int stun_build_error(struct stun_builder *b, uint16_t code, const char *reason);
const char *stun_error_phrase(uint16_t code);

/* UNKNOWN-ATTRIBUTES: a list of 16-bit types. *n gets the count; more
 * than max is -E2BIG. */
int stun_attr_get_unknown(const struct stun_attr *a, uint16_t *types, size_t max, size_t *n);
int stun_build_unknown(struct stun_builder *b, const uint16_t *types, size_t n);

/*
 * Text attributes (USERNAME, REALM, NONCE, SOFTWARE, and stunt's own):
 * the bytes are returned as they are, not NUL-terminated. Length limits
 * follow RFC 8489: decoders accept the larger "decoding" bound, builders
 * write no more than the "encoding" bound.
 */
int stun_attr_get_text(const struct stun_attr *a, const char **s, size_t *len);
int stun_build_text(struct stun_builder *b, uint16_t type, const char *s, size_t len);

/* CHANGE-REQUEST (RFC 5780 7.2):
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 A B 0|
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * A: change IP, B: change port. */
#define STUN_CHANGE_IP		0x04
#define STUN_CHANGE_PORT	0x02
int stun_attr_get_change(const struct stun_attr *a, uint32_t *flags);
int stun_build_change(struct stun_builder *b, uint32_t flags);

/* RESPONSE-PORT (RFC 5780 7.5): port, then 16 reserved bits. */
int stun_attr_get_response_port(const struct stun_attr *a, uint16_t *port);
int stun_build_response_port(struct stun_builder *b, uint16_t port);

/* PADDING (RFC 5780 7.6): len bytes whose content is ignored. */
int stun_build_padding(struct stun_builder *b, size_t len);

/* Fixed-size integers, for attributes that are just one. */
int stun_attr_get_u32(const struct stun_attr *a, uint32_t *v);
int stun_attr_get_u64(const struct stun_attr *a, uint64_t *v);
int stun_build_u32(struct stun_builder *b, uint16_t type, uint32_t v);
int stun_build_u64(struct stun_builder *b, uint16_t type, uint64_t v);

#endif
