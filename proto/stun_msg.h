// SPDX-License-Identifier: MIT
/*
 * STUN message framing (RFC 8489 section 5, RFC 3489 section 11.1): the
 * 20-byte header and the walk over its type-length-value attributes, plus a
 * builder that writes a message into a caller's buffer. Pure: no I/O, no
 * globals, every read bounds-checked.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |0 0|     STUN Message Type     |         Message Length        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                 Magic Cookie (0x2112A442)                     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                                                               |
 * |                     Transaction ID (96 bits)                  |
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Message type: the 12-bit method M11..M0 and the 2-bit class C1 C0 are
 * interleaved:
 *
 *   13  12  11  10   9   8   7   6   5   4   3   2   1   0
 * +---+---+---+---+---+---+---+---+---+---+---+---+---+---+
 * |M11|M10|M9 |M8 |M7 |C1 |M6 |M5 |M4 |C0 |M3 |M2 |M1 |M0 |
 * +---+---+---+---+---+---+---+---+---+---+---+---+---+---+
 *
 * Each attribute:
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Type                  |            Length             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                  Value (variable, padded to 4 bytes)       ....
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * RFC 3489 ("classic") messages have the same layout but a 128-bit
 * transaction id where the cookie is; a message whose cookie field is not
 * 0x2112A442 is parsed as classic (stun_msg.classic) and its first four
 * transaction id bytes are kept in stun_msg.cookie so a reply can echo them.
 */
#ifndef STUNT_PROTO_STUN_MSG_H
#define STUNT_PROTO_STUN_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STUN_HDR_LEN		20
#define STUN_MAGIC_COOKIE	0x2112A442u
#define STUN_TXID_LEN		12
/* The length field is 16 bits and a multiple of 4. */
#define STUN_MAX_BODY_LEN	0xFFFC
#define STUN_MAX_MSG_LEN	(STUN_HDR_LEN + STUN_MAX_BODY_LEN)
/* Attributes kept per parsed message; more make stun_parse() fail (-E2BIG). */
#define STUN_MAX_ATTRS		32

/* Classes (C1 C0). */
enum stun_class {
	STUN_REQUEST	= 0,
	STUN_INDICATION	= 1,
	STUN_SUCCESS	= 2,
	STUN_ERROR	= 3,
};

/* Methods used or recognised here (IANA "STUN Methods"). */
#define STUN_METHOD_BINDING		0x001	/* RFC 8489 */
#define STUN_METHOD_SHARED_SECRET	0x002	/* RFC 3489, reserved since 5389 */
/* TURN (RFC 8656) 0x003-0x009 and RFC 6062 0x00A-0x00C: listed so that our
 * own methods (proto/stunt.h) can be checked not to collide with them. */
#define STUN_METHOD_TURN_FIRST		0x003
#define STUN_METHOD_TURN_LAST		0x00C

/*
 * One attribute of a parsed message. val points into the parsed buffer, so
 * it lives as long as that buffer. off is the offset of the attribute's
 * type field from the start of the message.
 */
struct stun_attr {
	uint16_t	 type;
	uint16_t	 len;
	uint32_t	 off;
	const uint8_t	*val;
};

struct stun_msg {
	const uint8_t	*buf;		/* the whole message (header included) */
	size_t		 len;		/* STUN_HDR_LEN + length */
	uint16_t	 type;
	uint16_t	 method;
	uint8_t		 cls;		/* enum stun_class */
	bool		 classic;	/* RFC 3489: no magic cookie */
	uint32_t	 cookie;	/* 0x2112A442, or classic txid bytes 0-3 */
	uint8_t		 txid[STUN_TXID_LEN];
	/* index into attrs[] of the integrity and fingerprint attributes,
	 * -1 if absent */
	int		 integrity;
	int		 integrity_sha256;
	int		 fingerprint;
	/* attributes after MESSAGE-INTEGRITY that were skipped, see parse */
	unsigned	 ignored;
	unsigned	 nattrs;
	struct stun_attr attrs[STUN_MAX_ATTRS];	/* last: parse clears the rest */
};

/* Type <-> method and class. */
uint16_t stun_type(uint16_t method, enum stun_class cls);
uint16_t stun_type_method(uint16_t type);
enum stun_class stun_type_class(uint16_t type);

/*
 * Length of the message that starts at buf, for framing STUN over a byte
 * stream (RFC 8489 section 6.2.2): > 0 the full message length, 0 if fewer
 * than 4 bytes are there yet, -EBADMSG if the header cannot be STUN.
 */
int stun_frame_len(const uint8_t *buf, size_t len);

/*
 * Parse exactly one message of len bytes. Returns 0, or
 *   -EINVAL   NULL arguments;
 *   -EMSGSIZE buf is shorter than the header or than the length field says;
 *   -EBADMSG  not a well-formed STUN message (bits, lengths, padding,
 *             attribute after FINGERPRINT, bytes after the message);
 *   -E2BIG    more than STUN_MAX_ATTRS attributes.
 * On error *out is left in an unspecified but safe state.
 */
int stun_parse(const uint8_t *buf, size_t len, struct stun_msg *out);

/* First attribute of this type (RFC 8489 14: only the first occurrence
 * needs processing), or NULL. */
const struct stun_attr *stun_msg_find(const struct stun_msg *m, uint16_t type);

/* Comprehension-required attribute types (0x0000-0x7FFF) of m that
 * stun_attr_is_known() does not know, for an UNKNOWN-ATTRIBUTES answer.
 * Writes at most max, returns how many there are. */
size_t stun_msg_unknown_required(const struct stun_msg *m, uint16_t *out, size_t max);

/*
 * Builder. Every call after the first failure returns that failure again,
 * so a sequence of puts can be checked once at stun_build_finish().
 *   -ENOSPC   the caller's buffer is full;
 *   -EMSGSIZE the message would exceed STUN_MAX_MSG_LEN;
 *   -EINVAL   a value out of range.
 */
struct stun_builder {
	uint8_t	*buf;
	size_t	 cap;
	size_t	 len;
	int	 err;
	uint8_t	 pad;		/* padding byte, 0 unless a test wants RFC 5769's ' ' */
};

int stun_build_init(struct stun_builder *b, uint8_t *buf, size_t cap, uint16_t type,
		    const uint8_t txid[STUN_TXID_LEN]);
/* Start a reply to req: same cookie (or classic txid) and transaction id. */
int stun_build_reply(struct stun_builder *b, uint8_t *buf, size_t cap, uint16_t type,
		     const struct stun_msg *req);
int stun_build_attr(struct stun_builder *b, uint16_t type, const void *val, size_t len);
/* Append an attribute of len bytes and return a pointer to its (zeroed)
 * value, or NULL with b->err set. */
uint8_t *stun_build_reserve(struct stun_builder *b, uint16_t type, size_t len);
/* Copy m's attributes except the listed types (and always except
 * MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 and FINGERPRINT). */
int stun_build_copy(struct stun_builder *b, const struct stun_msg *m, const uint16_t *skip,
		    size_t nskip);
/* Total length of the message (> 0), or the first error. */
int stun_build_finish(struct stun_builder *b);
/* Record err as the builder's error unless one is already set; returns
 * the builder's (first) error. Codecs built on the builder use it so that
 * stun_build_finish() reports the first thing that went wrong. */
int stun_build_fail(struct stun_builder *b, int err);

/* Big-endian helpers shared by the codec files. */
static inline uint16_t stun_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t stun_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void stun_wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void stun_wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif
