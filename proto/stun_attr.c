// SPDX-License-Identifier: MIT
#include "proto/stun_attr.h"
#include "proto/stunt_codes.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

bool stun_attr_is_known(uint16_t type)
{
	switch (type) {
	case STUN_ATTR_MAPPED_ADDRESS:
	case STUN_ATTR_RESPONSE_ADDRESS:
	case STUN_ATTR_CHANGE_REQUEST:
	case STUN_ATTR_SOURCE_ADDRESS:
	case STUN_ATTR_CHANGED_ADDRESS:
	case STUN_ATTR_USERNAME:
	case STUN_ATTR_MESSAGE_INTEGRITY:
	case STUN_ATTR_ERROR_CODE:
	case STUN_ATTR_UNKNOWN_ATTRIBUTES:
	case STUN_ATTR_REALM:
	case STUN_ATTR_NONCE:
	case STUN_ATTR_MESSAGE_INTEGRITY_SHA256:
	case STUN_ATTR_XOR_MAPPED_ADDRESS:
	case STUN_ATTR_PADDING:
	case STUN_ATTR_RESPONSE_PORT:
	case STUN_ATTR_SOFTWARE:
	case STUN_ATTR_ALTERNATE_SERVER:
	case STUN_ATTR_FINGERPRINT:
	case STUN_ATTR_RESPONSE_ORIGIN:
	case STUN_ATTR_OTHER_ADDRESS:
		return true;
	default:
		return stunt_attr_is_known(type);
	}
}

/* ---- addresses ---- */

size_t stun_addr_wire_len(const struct stun_addr *a)
{
	if (!a)
		return 0;
	if (a->family == STUN_FAMILY_IPV4)
		return 8;
	if (a->family == STUN_FAMILY_IPV6)
		return 20;
	return 0;
}

static int addr_decode(const uint8_t *val, size_t len, const uint8_t *key,
		       struct stun_addr *out)
{
	size_t alen, i;

	if (!val || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (len < 4)
		return -EBADMSG;
	/* RFC 8489 14.1: "The first 8 bits of the MAPPED-ADDRESS MUST be set
	 * to 0 and MUST be ignored by receivers." */
	switch (val[1]) {
	case STUN_FAMILY_IPV4:
		alen = 4;
		break;
	case STUN_FAMILY_IPV6:
		alen = 16;
		break;
	default:
		return -EBADMSG;
	}
	if (len != 4 + alen)
		return -EBADMSG;
	out->family = val[1];
	out->port = stun_rd16(val + 2);
	memcpy(out->ip, val + 4, alen);
	if (key) {
		out->port ^= stun_rd16(key);
		for (i = 0; i < alen; i++)
			out->ip[i] ^= key[i];
	}
	return 0;
}

int stun_addr_decode(const uint8_t *val, size_t len, struct stun_addr *out)
{
	return addr_decode(val, len, NULL, out);
}

int stun_addr_decode_xor(const uint8_t *val, size_t len, const uint8_t key[16],
			 struct stun_addr *out)
{
	if (!key)
		return -EINVAL;
	return addr_decode(val, len, key, out);
}

static void msg_xor_key(const struct stun_msg *m, uint8_t key[16])
{
	/* RFC 8489 14.2: X-Port and IPv4 X-Address use the magic cookie,
	 * IPv6 the cookie followed by the 96-bit transaction id. */
	stun_wr32(key, STUN_MAGIC_COOKIE);
	memcpy(key + 4, m->txid, STUN_TXID_LEN);
}

int stun_attr_get_addr(const struct stun_attr *a, struct stun_addr *out)
{
	if (!a)
		return -EINVAL;
	return addr_decode(a->val, a->len, NULL, out);
}

int stun_attr_get_xor_addr(const struct stun_attr *a, const struct stun_msg *m,
			   struct stun_addr *out)
{
	uint8_t key[16];

	if (!a || !m)
		return -EINVAL;
	msg_xor_key(m, key);
	return addr_decode(a->val, a->len, key, out);
}

int stun_build_addr_xor_key(struct stun_builder *b, uint16_t type, const struct stun_addr *addr,
			    const uint8_t key[16])
{
	size_t wlen = stun_addr_wire_len(addr), i;
	uint8_t *p;

	if (!b)
		return -EINVAL;
	if (!wlen) {
		if (!b->err)
			b->err = -EINVAL;
		return b->err;
	}
	if (!(p = stun_build_reserve(b, type, wlen)))
		return b->err;
	p[0] = 0;
	p[1] = addr->family;
	stun_wr16(p + 2, addr->port);
	memcpy(p + 4, addr->ip, wlen - 4);
	if (key) {
		p[2] ^= key[0];
		p[3] ^= key[1];
		for (i = 0; i < wlen - 4; i++)
			p[4 + i] ^= key[i];
	}
	return 0;
}

int stun_build_addr(struct stun_builder *b, uint16_t type, const struct stun_addr *addr)
{
	return stun_build_addr_xor_key(b, type, addr, NULL);
}

int stun_build_xor_addr(struct stun_builder *b, uint16_t type, const struct stun_addr *addr)
{
	uint8_t key[16];

	if (!b)
		return -EINVAL;
	if (b->err)
		return b->err;
	/* the builder's buffer already holds the header */
	stun_wr32(key, STUN_MAGIC_COOKIE);
	memcpy(key + 4, b->buf + 8, STUN_TXID_LEN);
	return stun_build_addr_xor_key(b, type, addr, key);
}

int stun_addr_from_sockaddr(struct stun_addr *out, const struct sockaddr *sa, socklen_t salen)
{
	if (!out || !sa)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET && salen >= (socklen_t)sizeof(struct sockaddr_in)) {
		struct sockaddr_in sin;

		memcpy(&sin, sa, sizeof(sin));
		out->family = STUN_FAMILY_IPV4;
		out->port = ntohs(sin.sin_port);
		memcpy(out->ip, &sin.sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && salen >= (socklen_t)sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 sin6;

		memcpy(&sin6, sa, sizeof(sin6));
		out->family = STUN_FAMILY_IPV6;
		out->port = ntohs(sin6.sin6_port);
		memcpy(out->ip, &sin6.sin6_addr, 16);
		return 0;
	}
	return -EAFNOSUPPORT;
}

const char *stun_addr_str(const struct stun_addr *a, char *buf, size_t cap)
{
	bool v6 = a->family == STUN_FAMILY_IPV6;
	char ip[INET6_ADDRSTRLEN];

	if (cap == 0)
		return buf;
	if ((!v6 && a->family != STUN_FAMILY_IPV4) ||
	    inet_ntop(v6 ? AF_INET6 : AF_INET, a->ip, ip, sizeof(ip)) == NULL)
		snprintf(buf, cap, "?");
	else if (a->port == 0)
		snprintf(buf, cap, "%s", ip);
	else
		snprintf(buf, cap, v6 ? "[%s]:%u" : "%s:%u", ip, a->port);
	return buf;
}

int stun_addr_to_sockaddr(const struct stun_addr *a, struct sockaddr_storage *ss, socklen_t *salen)
{
	if (!a || !ss)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (a->family == STUN_FAMILY_IPV4) {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(a->port) };

		memcpy(&sin.sin_addr, a->ip, 4);
		memcpy(ss, &sin, sizeof(sin));
		if (salen)
			*salen = sizeof(sin);
		return 0;
	}
	if (a->family == STUN_FAMILY_IPV6) {
		struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(a->port) };

		memcpy(&sin6.sin6_addr, a->ip, 16);
		memcpy(ss, &sin6, sizeof(sin6));
		if (salen)
			*salen = sizeof(sin6);
		return 0;
	}
	return -EAFNOSUPPORT;
}

bool stun_addr_equal(const struct stun_addr *a, const struct stun_addr *b)
{
	size_t n = stun_addr_wire_len(a);

	return n && b && a->family == b->family && a->port == b->port && !memcmp(a->ip, b->ip, n - 4);
}

/* ---- ERROR-CODE ---- */

const char *stun_error_phrase(uint16_t code)
{
	switch (code) {
	case STUN_ERR_TRY_ALTERNATE:	return "Try Alternate";
	case STUN_ERR_BAD_REQUEST:	return "Bad Request";
	case STUN_ERR_UNAUTHORIZED:	return "Unauthorized";
	case STUN_ERR_FORBIDDEN:	return "Forbidden";
	case STUN_ERR_NOT_FOUND:	return "Not Found";
	case STUN_ERR_TIMEOUT:		return "Timeout";
	case STUN_ERR_UNKNOWN_ATTRIBUTE: return "Unknown Attribute";
	case STUN_ERR_RATE_LIMITED:	return "Rate Limited";
	case STUN_ERR_STALE_NONCE:	return "Stale Nonce";
	case STUN_ERR_SERVER_ERROR:	return "Server Error";
	default:			return "Error";
	}
}

/* RFC 8489 14.8: the reason phrase is "fewer than 128 characters (which
 * can be as long as 509 bytes when encoding them or 763 bytes when
 * decoding them)". The same bound holds for REALM, NONCE and SOFTWARE. */
#define TEXT_MAX_DECODE	763
#define TEXT_MAX_ENCODE	509
/* USERNAME: "fewer than 509 bytes" (RFC 8489 14.3); RFC 5389 allowed up to
 * 512, which we still accept. */
#define USERNAME_MAX_DECODE	512
#define USERNAME_MAX_ENCODE	508

int stun_attr_get_error(const struct stun_attr *a, struct stun_error *out)
{
	unsigned cls, num;

	if (!a || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (a->len < 4 || a->len - 4 > TEXT_MAX_DECODE)
		return -EBADMSG;
	cls = a->val[2] & 0x07;
	num = a->val[3];
	/* "The Class ... MUST be between 3 and 6. The Number ... MUST be
	 * between 0 and 99." */
	if (cls < 3 || cls > 6 || num > 99)
		return -EBADMSG;
	out->code = (uint16_t)(cls * 100 + num);
	out->reason = (const char *)a->val + 4;
	out->reason_len = a->len - 4u;
	return 0;
}

int stun_build_error(struct stun_builder *b, uint16_t code, const char *reason)
{
	size_t rlen;
	uint8_t *p;

	if (!b)
		return -EINVAL;
	if (!reason)
		reason = stun_error_phrase(code);
	rlen = strlen(reason);
	if (code < 300 || code > 699 || rlen > TEXT_MAX_ENCODE) {
		if (!b->err)
			b->err = -EINVAL;
		return b->err;
	}
	if (!(p = stun_build_reserve(b, STUN_ATTR_ERROR_CODE, 4 + rlen)))
		return b->err;
	p[2] = (uint8_t)(code / 100);
	p[3] = (uint8_t)(code % 100);
	memcpy(p + 4, reason, rlen);
	return 0;
}

/* ---- UNKNOWN-ATTRIBUTES ---- */

int stun_attr_get_unknown(const struct stun_attr *a, uint16_t *types, size_t max, size_t *n)
{
	size_t i, cnt;

	if (!a || !n)
		return -EINVAL;
	*n = 0;
	/* a list of 16-bit values */
	if (a->len & 1)
		return -EBADMSG;
	cnt = a->len / 2u;
	if (cnt > max || (cnt && !types))
		return -E2BIG;
	for (i = 0; i < cnt; i++)
		types[i] = stun_rd16(a->val + 2 * i);
	*n = cnt;
	return 0;
}

int stun_build_unknown(struct stun_builder *b, const uint16_t *types, size_t n)
{
	uint8_t *p;
	size_t i;

	if (!b)
		return -EINVAL;
	if (n && !types) {
		if (!b->err)
			b->err = -EINVAL;
		return b->err;
	}
	if (!(p = stun_build_reserve(b, STUN_ATTR_UNKNOWN_ATTRIBUTES, 2 * n)))
		return b->err;
	for (i = 0; i < n; i++)
		stun_wr16(p + 2 * i, types[i]);
	return 0;
}

/* ---- text ---- */

static size_t text_max(uint16_t type, bool decode)
{
	switch (type) {
	case STUN_ATTR_USERNAME:
		return decode ? USERNAME_MAX_DECODE : USERNAME_MAX_ENCODE;
	case STUN_ATTR_REALM:
	case STUN_ATTR_NONCE:
	case STUN_ATTR_SOFTWARE:
		return decode ? TEXT_MAX_DECODE : TEXT_MAX_ENCODE;
	default:
		return stunt_text_max(type);
	}
}

int stun_attr_get_text(const struct stun_attr *a, const char **s, size_t *len)
{
	if (!a || !s || !len)
		return -EINVAL;
	*s = NULL;
	*len = 0;
	if (a->len > text_max(a->type, true))
		return -EBADMSG;
	*s = (const char *)a->val;
	*len = a->len;
	return 0;
}

int stun_build_text(struct stun_builder *b, uint16_t type, const char *s, size_t len)
{
	if (!b)
		return -EINVAL;
	if (len > text_max(type, false)) {
		if (!b->err)
			b->err = -EINVAL;
		return b->err;
	}
	return stun_build_attr(b, type, s, len);
}

/* ---- RFC 5780 ---- */

int stun_attr_get_change(const struct stun_attr *a, uint32_t *flags)
{
	if (!a || !flags)
		return -EINVAL;
	*flags = 0;
	if (a->len != 4)
		return -EBADMSG;
	/* only the A and B bits mean anything; the rest "MUST be zero"
	 * on send and are ignored here */
	*flags = stun_rd32(a->val) & (STUN_CHANGE_IP | STUN_CHANGE_PORT);
	return 0;
}

int stun_build_change(struct stun_builder *b, uint32_t flags)
{
	return stun_build_u32(b, STUN_ATTR_CHANGE_REQUEST, flags & (STUN_CHANGE_IP | STUN_CHANGE_PORT));
}

int stun_attr_get_response_port(const struct stun_attr *a, uint16_t *port)
{
	if (!a || !port)
		return -EINVAL;
	*port = 0;
	if (a->len != 4)
		return -EBADMSG;
	*port = stun_rd16(a->val);
	return 0;
}

int stun_build_response_port(struct stun_builder *b, uint16_t port)
{
	return stun_build_u32(b, STUN_ATTR_RESPONSE_PORT, (uint32_t)port << 16);
}

int stun_build_padding(struct stun_builder *b, size_t len)
{
	if (!b)
		return -EINVAL;
	return stun_build_reserve(b, STUN_ATTR_PADDING, len) ? 0 : b->err;
}

/* ---- integers ---- */

int stun_attr_get_u32(const struct stun_attr *a, uint32_t *v)
{
	if (!a || !v)
		return -EINVAL;
	*v = 0;
	if (a->len != 4)
		return -EBADMSG;
	*v = stun_rd32(a->val);
	return 0;
}

int stun_attr_get_u64(const struct stun_attr *a, uint64_t *v)
{
	if (!a || !v)
		return -EINVAL;
	*v = 0;
	if (a->len != 8)
		return -EBADMSG;
	*v = (uint64_t)stun_rd32(a->val) << 32 | stun_rd32(a->val + 4);
	return 0;
}

int stun_build_u32(struct stun_builder *b, uint16_t type, uint32_t v)
{
	uint8_t *p;

	if (!b)
		return -EINVAL;
	if (!(p = stun_build_reserve(b, type, 4)))
		return b->err;
	stun_wr32(p, v);
	return 0;
}

int stun_build_u64(struct stun_builder *b, uint16_t type, uint64_t v)
{
	uint8_t *p;

	if (!b)
		return -EINVAL;
	if (!(p = stun_build_reserve(b, type, 8)))
		return b->err;
	stun_wr32(p, (uint32_t)(v >> 32));
	stun_wr32(p + 4, (uint32_t)v);
	return 0;
}
