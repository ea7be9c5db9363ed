// SPDX-License-Identifier: MIT
/* TURN client messages (RFC 8656, RFC 6062): see turn.h. Pure. */
#include "proto/turn.h"

#include <errno.h>
#include <string.h>

static bool printable(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

int turn_cred_init(struct turn_cred *c, const char *user, const char *pass)
{
	size_t ul, pl;

	if (!c || !user || !pass)
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	ul = strlen(user);
	pl = strlen(pass);
	if (ul == 0 || ul > TURN_USER_MAX || pl > TURN_PASS_MAX || !printable(user, ul) ||
	    !printable(pass, pl))
		return -EINVAL;
	memcpy(c->user, user, ul);
	memcpy(c->pass, pass, pl);
	return 0;
}

int turn_cred_challenge(struct turn_cred *c, const char *realm, size_t rlen,
			const uint8_t *nonce, size_t nlen)
{
	if (!c || (!realm && rlen) || (!nonce && nlen) || rlen > TURN_REALM_MAX ||
	    nlen > TURN_NONCE_MAX || nlen == 0)
		return -EINVAL;
	memcpy(c->realm, realm, rlen);
	c->realm[rlen] = '\0';
	memcpy(c->nonce, nonce, nlen);
	c->nonce_len = nlen;
	if (stun_key_long_term(c->user, strlen(c->user), c->realm, rlen, c->pass,
			       strlen(c->pass), c->key) < 0)
		return -EINVAL;
	c->ready = true;
	return 0;
}

/* USERNAME, REALM, NONCE and MESSAGE-INTEGRITY last (RFC 8489 9.2.3: the
 * request carries the four of them when the client has a nonce). */
static int finish(struct stun_builder *b, const struct turn_cred *c)
{
	if (c && c->ready) {
		stun_build_text(b, STUN_ATTR_USERNAME, c->user, strlen(c->user));
		stun_build_text(b, STUN_ATTR_REALM, c->realm, strlen(c->realm));
		stun_build_text(b, STUN_ATTR_NONCE, (const char *)c->nonce, c->nonce_len);
		stun_build_integrity(b, c->key, sizeof(c->key));
	}
	return stun_build_finish(b);
}

int turn_build_allocate_tcp(uint8_t *buf, size_t cap, const uint8_t txid[STUN_TXID_LEN],
			    uint32_t lifetime, uint8_t family, const struct turn_cred *cred)
{
	struct stun_builder b;
	uint8_t *v;

	if (family != 0 && family != STUN_FAMILY_IPV4 && family != STUN_FAMILY_IPV6)
		return -EINVAL;
	stun_build_init(&b, buf, cap, stun_type(TURN_METHOD_ALLOCATE, STUN_REQUEST), txid);
	/*
	 * REQUESTED-TRANSPORT (RFC 8656 18.7): protocol, then 24 bits RFFU.
	 * RFC 6062 5.1: "the client MUST include a REQUESTED-TRANSPORT
	 * attribute with the value 6 (TCP)".
	 */
	v = stun_build_reserve(&b, TURN_ATTR_REQUESTED_TRANSPORT, 4);
	if (v)
		v[0] = TURN_PROTO_TCP;
	if (family) {
		/* REQUESTED-ADDRESS-FAMILY (RFC 8656 18.11): family, 24 bits RFFU */
		v = stun_build_reserve(&b, TURN_ATTR_REQUESTED_FAMILY, 4);
		if (v)
			v[0] = family;
	}
	if (lifetime)
		stun_build_u32(&b, TURN_ATTR_LIFETIME, lifetime);
	return finish(&b, cred);
}

int turn_build_refresh(uint8_t *buf, size_t cap, const uint8_t txid[STUN_TXID_LEN],
		       uint32_t lifetime, const struct turn_cred *cred)
{
	struct stun_builder b;

	stun_build_init(&b, buf, cap, stun_type(TURN_METHOD_REFRESH, STUN_REQUEST), txid);
	stun_build_u32(&b, TURN_ATTR_LIFETIME, lifetime);
	return finish(&b, cred);
}

static int with_peer(uint8_t *buf, size_t cap, uint16_t method, const uint8_t *txid,
		     const struct stun_addr *peer, const struct turn_cred *cred)
{
	struct stun_builder b;

	if (!peer)
		return -EINVAL;
	stun_build_init(&b, buf, cap, stun_type(method, STUN_REQUEST), txid);
	stun_build_xor_addr(&b, TURN_ATTR_XOR_PEER_ADDRESS, peer);
	return finish(&b, cred);
}

int turn_build_create_permission(uint8_t *buf, size_t cap, const uint8_t txid[STUN_TXID_LEN],
				 const struct stun_addr *peer, const struct turn_cred *cred)
{
	return with_peer(buf, cap, TURN_METHOD_CREATE_PERMISSION, txid, peer, cred);
}

int turn_build_connect(uint8_t *buf, size_t cap, const uint8_t txid[STUN_TXID_LEN],
		       const struct stun_addr *peer, const struct turn_cred *cred)
{
	return with_peer(buf, cap, TURN_METHOD_CONNECT, txid, peer, cred);
}

int turn_build_connection_bind(uint8_t *buf, size_t cap, const uint8_t txid[STUN_TXID_LEN],
			       uint32_t conn_id, const struct turn_cred *cred)
{
	struct stun_builder b;

	stun_build_init(&b, buf, cap, stun_type(TURN_METHOD_CONNECTION_BIND, STUN_REQUEST), txid);
	stun_build_u32(&b, TURN_ATTR_CONNECTION_ID, conn_id);
	return finish(&b, cred);
}

const char *turn_method_name(uint16_t method)
{
	switch (method) {
	case TURN_METHOD_ALLOCATE: return "Allocate";
	case TURN_METHOD_REFRESH: return "Refresh";
	case TURN_METHOD_SEND: return "Send";
	case TURN_METHOD_DATA: return "Data";
	case TURN_METHOD_CREATE_PERMISSION: return "CreatePermission";
	case TURN_METHOD_CHANNEL_BIND: return "ChannelBind";
	case TURN_METHOD_CONNECT: return "Connect";
	case TURN_METHOD_CONNECTION_BIND: return "ConnectionBind";
	case TURN_METHOD_CONNECTION_ATTEMPT: return "ConnectionAttempt";
	default: return "?";
	}
}

int turn_read(const struct stun_msg *m, const uint8_t *key, size_t keylen,
	      struct turn_msg *out)
{
	const struct stun_attr *a;
	struct stun_error e;
	const char *s;
	size_t len;
	int err;

	if (!m || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (m->classic || m->method < TURN_METHOD_ALLOCATE ||
	    m->method > TURN_METHOD_CONNECTION_ATTEMPT)
		return -ENOMSG;
	out->method = m->method;
	out->cls = m->cls;
	memcpy(out->txid, m->txid, STUN_TXID_LEN);
	if (m->integrity >= 0 && key) {
		err = stun_check_integrity(m, key, keylen);
		if (err < 0)
			return err;
		out->integrity = true;
	}
	if (m->cls == STUN_ERROR) {
		/* RFC 8489 14.8: an error response carries ERROR-CODE */
		a = stun_msg_find(m, STUN_ATTR_ERROR_CODE);
		if (!a || stun_attr_get_error(a, &e) < 0)
			return -EBADMSG;
		out->error = e.code;
		out->reason = e.reason;
		out->reason_len = e.reason_len;
	}
	a = stun_msg_find(m, STUN_ATTR_REALM);
	if (a) {
		if (stun_attr_get_text(a, &s, &len) < 0 || len > TURN_REALM_MAX)
			return -EBADMSG;
		out->realm = s;
		out->realm_len = len;
	}
	a = stun_msg_find(m, STUN_ATTR_NONCE);
	if (a) {
		if (stun_attr_get_text(a, &s, &len) < 0 || len > TURN_NONCE_MAX)
			return -EBADMSG;
		out->nonce = (const uint8_t *)s;
		out->nonce_len = len;
	}
	a = stun_msg_find(m, TURN_ATTR_XOR_RELAYED_ADDRESS);
	if (a) {
		if (stun_attr_get_xor_addr(a, m, &out->relayed) < 0)
			return -EBADMSG;
		out->has_relayed = true;
	}
	a = stun_msg_find(m, STUN_ATTR_XOR_MAPPED_ADDRESS);
	if (a) {
		if (stun_attr_get_xor_addr(a, m, &out->mapped) < 0)
			return -EBADMSG;
		out->has_mapped = true;
	}
	a = stun_msg_find(m, TURN_ATTR_XOR_PEER_ADDRESS);
	if (a) {
		if (stun_attr_get_xor_addr(a, m, &out->peer) < 0)
			return -EBADMSG;
		out->has_peer = true;
	}
	a = stun_msg_find(m, TURN_ATTR_LIFETIME);
	if (a) {
		if (stun_attr_get_u32(a, &out->lifetime) < 0)
			return -EBADMSG;
		out->has_lifetime = true;
	}
	a = stun_msg_find(m, TURN_ATTR_CONNECTION_ID);
	if (a) {
		/* RFC 6062 6.2.1: a 32-bit unsigned integral value */
		if (stun_attr_get_u32(a, &out->conn_id) < 0)
			return -EBADMSG;
		out->has_conn_id = true;
	}
	return 0;
}
