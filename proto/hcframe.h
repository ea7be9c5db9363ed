/* SPDX-License-Identifier: MIT */
/*
 * The framing of a relayed session's bytes (docs/protocol.md, "Half-close
 * through a relay"). A TURN server's TCP relay (RFC 6062) ends both
 * connections at the first FIN, so the two stuntds keep the relay
 * connection and carry a half-close in band:
 *
 *   TYPE(1) LEN(2, big-endian) PAYLOAD(LEN)
 *   'D' data, LEN 1..HCF_MAX_DATA;  'E' EOF (this direction ends), LEN 0;
 *   'C' close (both EOFs seen: the connection may go), LEN 0.
 *
 * Pure: no I/O, no allocation; every length is checked against the buffer.
 */
#ifndef STUNT_PROTO_HCFRAME_H
#define STUNT_PROTO_HCFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HCF_HDR_LEN	3
#define HCF_MAX_DATA	16384
#define HCF_MAX_FRAME	(HCF_HDR_LEN + HCF_MAX_DATA)
#define HCF_DATA	'D'
#define HCF_EOF		'E'
#define HCF_CLOSE	'C'

struct hcf_frame {
	uint8_t		type;
	const uint8_t	*data;	/* into the parsed buffer; NULL when len is 0 */
	size_t		len;	/* payload */
	size_t		size;	/* header + payload: what the frame consumes */
};

/* One frame at buf[0..len): 1 with *f, 0 when more bytes are needed, or
 * -EBADMSG (an unknown type, empty data, an EOF or close with a payload,
 * data over HCF_MAX_DATA). */
int hcf_parse(const uint8_t *buf, size_t len, struct hcf_frame *f);

/* The header of a frame of type with a len-byte payload into out[0..3);
 * -EINVAL when that frame is not valid. */
int hcf_put_hdr(uint8_t *out, uint8_t type, size_t len);

/* The order the frames of one direction come in: data, one EOF, one close. */
struct hcf_order {
	bool	eof;
	bool	close;
};
/* 0 when a frame of type may come now (and it is recorded), -EPROTO when
 * not: data or an EOF after the EOF, a close before it, anything after a close. */
int hcf_order_next(struct hcf_order *o, uint8_t type);

#endif
