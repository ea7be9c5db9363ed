// SPDX-License-Identifier: MIT
#include "proto/stun_msg.h"
#include "proto/stun_attr.h"

#include <errno.h>
#include <string.h>

uint16_t stun_type(uint16_t method, enum stun_class cls)
{
	unsigned c = (unsigned)cls & 3;

	return (uint16_t)((method & 0x000F) | (method & 0x0070) << 1 | (method & 0x0F80) << 2 |
			  (c & 1) << 4 | (c & 2) << 7);
}

uint16_t stun_type_method(uint16_t type)
{
	return (uint16_t)((type & 0x000F) | (type & 0x00E0) >> 1 | (type & 0x3E00) >> 2);
}

enum stun_class stun_type_class(uint16_t type)
{
	return (enum stun_class)((type >> 4 & 1) | (type >> 7 & 2));
}

int stun_frame_len(const uint8_t *buf, size_t len)
{
	uint16_t mlen;

	if (!buf)
		return -EINVAL;
	if (len < 4)
		return 0;
	/* RFC 8489 5: "The most significant 2 bits of every STUN message MUST
	 * be zeroes." */
	if (buf[0] & 0xC0)
		return -EBADMSG;
	mlen = stun_rd16(buf + 2);
	/* "the last 2 bits of this field are always zero" */
	if (mlen & 3)
		return -EBADMSG;
	return STUN_HDR_LEN + mlen;
}

int stun_parse(const uint8_t *buf, size_t len, struct stun_msg *out)
{
	size_t pos, end;
	bool after_mi = false, after_mi256 = false;
	uint16_t mlen;

	if (!buf || !out)
		return -EINVAL;
	memset(out, 0, offsetof(struct stun_msg, attrs));
	out->integrity = out->integrity_sha256 = out->fingerprint = -1;
	if (len < STUN_HDR_LEN)
		return -EMSGSIZE;
	if (buf[0] & 0xC0)
		return -EBADMSG;
	mlen = stun_rd16(buf + 2);
	if (mlen & 3)
		return -EBADMSG;
	end = STUN_HDR_LEN + (size_t)mlen;
	if (len < end)
		return -EMSGSIZE;
	/* One message per call: a datagram with bytes after the message, or a
	 * stream frame cut wrongly, is not a STUN message. */
	if (len > end)
		return -EBADMSG;

	out->buf = buf;
	out->len = end;
	out->type = stun_rd16(buf);
	out->method = stun_type_method(out->type);
	out->cls = (uint8_t)stun_type_class(out->type);
	out->cookie = stun_rd32(buf + 4);
	/* RFC 8489 5: "The Magic Cookie field MUST contain the fixed value
	 * 0x2112A442"; anything else is an RFC 3489 client whose 128-bit
	 * transaction id starts where the cookie would be. */
	out->classic = out->cookie != STUN_MAGIC_COOKIE;
	memcpy(out->txid, buf + 8, STUN_TXID_LEN);

	for (pos = STUN_HDR_LEN; pos < end;) {
		uint16_t atype, alen;
		size_t padded;

		if (end - pos < 4)
			return -EBADMSG;
		atype = stun_rd16(buf + pos);
		alen = stun_rd16(buf + pos + 2);
		padded = ((size_t)alen + 3) & ~(size_t)3;
		/* RFC 8489 14: the value is padded to a multiple of 4 bytes
		 * and the padding counts in the message length. */
		if (end - pos - 4 < padded)
			return -EBADMSG;
		/* "the FINGERPRINT attribute MUST be the last attribute in
		 * the message" (RFC 8489 14.7) */
		if (out->fingerprint >= 0)
			return -EBADMSG;
		/* "agents MUST ignore all other attributes that follow
		 * MESSAGE-INTEGRITY, with the exception of the
		 * MESSAGE-INTEGRITY-SHA256 and FINGERPRINT attributes"
		 * (14.5); after MESSAGE-INTEGRITY-SHA256 only FINGERPRINT
		 * (14.6). */
		if ((after_mi && atype != STUN_ATTR_MESSAGE_INTEGRITY_SHA256 &&
		     atype != STUN_ATTR_FINGERPRINT) ||
		    (after_mi256 && atype != STUN_ATTR_FINGERPRINT)) {
			out->ignored++;
		} else {
			struct stun_attr *a;

			if (out->nattrs == STUN_MAX_ATTRS)
				return -E2BIG;
			a = &out->attrs[out->nattrs];
			a->type = atype;
			a->len = alen;
			a->off = (uint32_t)pos;
			a->val = buf + pos + 4;
			if (atype == STUN_ATTR_MESSAGE_INTEGRITY) {
				out->integrity = (int)out->nattrs;
				after_mi = true;
			} else if (atype == STUN_ATTR_MESSAGE_INTEGRITY_SHA256) {
				out->integrity_sha256 = (int)out->nattrs;
				after_mi256 = true;
			} else if (atype == STUN_ATTR_FINGERPRINT) {
				out->fingerprint = (int)out->nattrs;
			}
			out->nattrs++;
		}
		pos += 4 + padded;
	}
	return 0;
}

const struct stun_attr *stun_msg_find(const struct stun_msg *m, uint16_t type)
{
	unsigned i;

	if (!m)
		return NULL;
	for (i = 0; i < m->nattrs && i < STUN_MAX_ATTRS; i++)
		if (m->attrs[i].type == type)
			return &m->attrs[i];
	return NULL;
}

size_t stun_msg_unknown_required(const struct stun_msg *m, uint16_t *out, size_t max)
{
	size_t n = 0;
	unsigned i;

	if (!m)
		return 0;
	for (i = 0; i < m->nattrs && i < STUN_MAX_ATTRS; i++) {
		uint16_t t = m->attrs[i].type;

		if (t >= 0x8000 || stun_attr_is_known(t))
			continue;
		if (out && n < max)
			out[n] = t;
		n++;
	}
	return n;
}

int stun_build_fail(struct stun_builder *b, int err)
{
	if (!b->err)
		b->err = err;
	return b->err;
}

static int build_header(struct stun_builder *b, uint8_t *buf, size_t cap, uint16_t type)
{
	memset(b, 0, sizeof(*b));
	b->buf = buf;
	b->cap = cap;
	if (!buf)
		return stun_build_fail(b, -EINVAL);
	if (type & 0xC000)
		return stun_build_fail(b, -EINVAL);
	if (cap < STUN_HDR_LEN)
		return stun_build_fail(b, -ENOSPC);
	stun_wr16(buf, type);
	stun_wr16(buf + 2, 0);
	b->len = STUN_HDR_LEN;
	return 0;
}

int stun_build_init(struct stun_builder *b, uint8_t *buf, size_t cap, uint16_t type,
		    const uint8_t txid[STUN_TXID_LEN])
{
	int err;

	if (!b)
		return -EINVAL;
	if ((err = build_header(b, buf, cap, type)) < 0)
		return err;
	if (!txid)
		return stun_build_fail(b, -EINVAL);
	stun_wr32(buf + 4, STUN_MAGIC_COOKIE);
	memcpy(buf + 8, txid, STUN_TXID_LEN);
	return 0;
}

int stun_build_reply(struct stun_builder *b, uint8_t *buf, size_t cap, uint16_t type,
		     const struct stun_msg *req)
{
	int err;

	if (!b)
		return -EINVAL;
	if ((err = build_header(b, buf, cap, type)) < 0)
		return err;
	if (!req)
		return stun_build_fail(b, -EINVAL);
	/* RFC 3489 11.1: the response carries the request's whole 128-bit
	 * transaction id; RFC 8489 the cookie and the same 96 bits. */
	stun_wr32(buf + 4, req->cookie);
	memcpy(buf + 8, req->txid, STUN_TXID_LEN);
	return 0;
}

uint8_t *stun_build_reserve(struct stun_builder *b, uint16_t type, size_t len)
{
	size_t padded;
	uint8_t *p;

	if (!b || b->err)
		return NULL;
	if (len > 0xFFFF) {
		stun_build_fail(b, -EINVAL);
		return NULL;
	}
	padded = (len + 3) & ~(size_t)3;
	if (b->len - STUN_HDR_LEN + 4 + padded > STUN_MAX_BODY_LEN) {
		stun_build_fail(b, -EMSGSIZE);
		return NULL;
	}
	if (b->cap < b->len || b->cap - b->len < 4 + padded) {
		stun_build_fail(b, -ENOSPC);
		return NULL;
	}
	p = b->buf + b->len;
	stun_wr16(p, type);
	stun_wr16(p + 2, (uint16_t)len);
	memset(p + 4, 0, len);
	memset(p + 4 + len, b->pad, padded - len);
	b->len += 4 + padded;
	stun_wr16(b->buf + 2, (uint16_t)(b->len - STUN_HDR_LEN));
	return p + 4;
}

int stun_build_attr(struct stun_builder *b, uint16_t type, const void *val, size_t len)
{
	uint8_t *p;

	if (!b)
		return -EINVAL;
	if (len && !val)
		return stun_build_fail(b, -EINVAL);
	if (!(p = stun_build_reserve(b, type, len)))
		return b->err;
	if (len)
		memcpy(p, val, len);
	return 0;
}

int stun_build_copy(struct stun_builder *b, const struct stun_msg *m, const uint16_t *skip,
		    size_t nskip)
{
	unsigned i;
	size_t k;

	if (!b)
		return -EINVAL;
	if (!m)
		return stun_build_fail(b, -EINVAL);
	for (i = 0; i < m->nattrs && i < STUN_MAX_ATTRS; i++) {
		const struct stun_attr *a = &m->attrs[i];
		bool drop = a->type == STUN_ATTR_MESSAGE_INTEGRITY ||
			    a->type == STUN_ATTR_MESSAGE_INTEGRITY_SHA256 ||
			    a->type == STUN_ATTR_FINGERPRINT;

		for (k = 0; !drop && skip && k < nskip; k++)
			drop = skip[k] == a->type;
		if (!drop)
			stun_build_attr(b, a->type, a->val, a->len);
	}
	return b->err;
}

int stun_build_finish(struct stun_builder *b)
{
	if (!b)
		return -EINVAL;
	if (b->err)
		return b->err;
	return (int)b->len;
}
