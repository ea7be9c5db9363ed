// SPDX-License-Identifier: MIT
/* TURN client messages (RFC 8656 / RFC 6062): requests as bytes, answers
 * read back, long-term credentials, malformed attributes. */
#include "proto/turn.h"
#include "tests/unit/tap.h"

#include <errno.h>

static const uint8_t txid[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

static void allocate_without_credentials(void)
{
	uint8_t buf[256];
	struct stun_msg m;
	const struct stun_attr *a;
	int n;

	n = turn_build_allocate_tcp(buf, sizeof(buf), txid, 600, 0, NULL);
	/* header + REQUESTED-TRANSPORT (4+4) + LIFETIME (4+4) */
	CHECK_EQ(n, 20 + 8 + 8);
	CHECK_EQ(buf[0], 0x00);		/* Allocate request: type 0x0003 */
	CHECK_EQ(buf[1], 0x03);
	CHECK_EQ(buf[3], 16);		/* body length */
	CHECK_EQ(buf[20], 0x00);	/* REQUESTED-TRANSPORT 0x0019, length 4 */
	CHECK_EQ(buf[21], 0x19);
	CHECK_EQ(buf[23], 4);
	CHECK_EQ(buf[24], 6);		/* protocol: TCP */
	CHECK_EQ(buf[25] | buf[26] | buf[27], 0);	/* RFFU */
	CHECK_EQ(stun_parse(buf, (size_t)n, &m), 0);
	CHECK_EQ(m.integrity, -1);
	a = stun_msg_find(&m, TURN_ATTR_LIFETIME);
	CHECK(a && a->len == 4 && stun_rd32(a->val) == 600);
}

static void credentials(void)
{
	struct turn_cred c;
	uint8_t key[16];

	CHECK_EQ(turn_cred_init(&c, "", "x"), -EINVAL);
	CHECK_EQ(turn_cred_init(&c, "us\ner", "x"), -EINVAL);
	CHECK_EQ(turn_cred_init(&c, "user", "pass"), 0);
	CHECK(!c.ready);
	CHECK_EQ(turn_cred_challenge(&c, "realm", 5, (const uint8_t *)"", 0), -EINVAL);
	CHECK_EQ(turn_cred_challenge(&c, "example.org", 11, (const uint8_t *)"n0nce", 5), 0);
	CHECK(c.ready);
	CHECK_EQ(stun_key_long_term("user", 4, "example.org", 11, "pass", 4, key), 0);
	CHECK_MEM(c.key, key, 16);
}

/* alice's credential with the server's realm and nonce, and a
 * CreatePermission for peer built with it into buf and parsed into m,
 * its integrity checked: the message's length */
static int permission(uint8_t *buf, size_t cap, const struct stun_addr *peer,
		      struct turn_cred *c, struct stun_msg *m)
{
	int n;

	turn_cred_init(c, "alice", "secret");
	turn_cred_challenge(c, "lab", 3, (const uint8_t *)"abcdef", 6);
	n = turn_build_create_permission(buf, cap, txid, peer, c);
	CHECK(n > 0);
	CHECK_EQ(stun_parse(buf, (size_t)(n > 0 ? n : 0), m), 0);
	CHECK_EQ(m->method, TURN_METHOD_CREATE_PERMISSION);
	CHECK_EQ(m->cls, STUN_REQUEST);
	CHECK_EQ(stun_check_integrity(m, c->key, 16), 0);
	return n;
}

static void authenticated_requests_verify(void)
{
	uint8_t buf[512];
	struct turn_cred c;
	struct stun_msg m;
	struct stun_addr peer = { .family = STUN_FAMILY_IPV4, .port = 0, .ip = { 198, 18, 2, 2 } };
	struct stun_addr got;
	const struct stun_attr *a;
	const char *s;
	size_t len;
	int n;

	n = permission(buf, sizeof(buf), &peer, &c, &m);
	a = stun_msg_find(&m, TURN_ATTR_XOR_PEER_ADDRESS);
	CHECK(a && stun_attr_get_xor_addr(a, &m, &got) == 0 && stun_addr_equal(&got, &peer));
	a = stun_msg_find(&m, STUN_ATTR_USERNAME);
	CHECK(a && stun_attr_get_text(a, &s, &len) == 0 && len == 5 && !memcmp(s, "alice", 5));
	a = stun_msg_find(&m, STUN_ATTR_NONCE);
	CHECK(a && a->len == 6);
	/* MESSAGE-INTEGRITY is last: anything changed before it breaks it */
	buf[n - 1] ^= 1;
	CHECK_EQ(stun_parse(buf, (size_t)n, &m), 0);
	CHECK_EQ(stun_check_integrity(&m, c.key, 16), -EACCES);

	n = turn_build_connection_bind(buf, sizeof(buf), txid, 0xdeadbeef, &c);
	CHECK(n > 0);
	CHECK_EQ(stun_parse(buf, (size_t)n, &m), 0);
	CHECK_EQ(m.type, 0x000B);
	a = stun_msg_find(&m, TURN_ATTR_CONNECTION_ID);
	CHECK(a && a->len == 4 && stun_rd32(a->val) == 0xdeadbeef);
	CHECK_EQ(stun_check_integrity(&m, c.key, 16), 0);

	n = turn_build_refresh(buf, sizeof(buf), txid, 0, &c);
	CHECK(n > 0);
	CHECK_EQ(stun_parse(buf, (size_t)n, &m), 0);
	CHECK_EQ(m.type, 0x0004);
	a = stun_msg_find(&m, TURN_ATTR_LIFETIME);
	CHECK(a && stun_rd32(a->val) == 0);	/* 0 deletes */

	n = turn_build_connect(buf, sizeof(buf), txid, &peer, &c);
	CHECK(n > 0);
	CHECK_EQ(stun_parse(buf, (size_t)n, &m), 0);
	CHECK_EQ(m.type, 0x000A);

	/* too small a buffer */
	CHECK_EQ(turn_build_create_permission(buf, 40, txid, &peer, &c), -ENOSPC);
	CHECK_EQ(turn_build_create_permission(buf, sizeof(buf), txid, NULL, &c), -EINVAL);
}

/* A 401 Allocate error as coturn sends it, byte by byte. */
static void read_401(void)
{
	static const uint8_t msg[] = {
		0x01, 0x13, 0x00, 0x24,			/* Allocate error, length 36 */
		0x21, 0x12, 0xa4, 0x42,			/* cookie */
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,	/* txid */
		0x00, 0x09, 0x00, 0x10,			/* ERROR-CODE, 16 */
		0x00, 0x00, 0x04, 0x01,			/* class 4, number 1 */
		'U', 'n', 'a', 'u', 't', 'h', 'o', 'r', 'i', 'z', 'e', 'd',
		0x00, 0x15, 0x00, 0x04,			/* NONCE, 4 */
		'n', '0', 'n', 'c',
		0x00, 0x14, 0x00, 0x03,			/* REALM, 3 + 1 padding */
		'l', 'a', 'b', 0x00,
	};
	struct stun_msg m;
	struct turn_msg t;

	CHECK_EQ(stun_parse(msg, sizeof(msg), &m), 0);
	CHECK_EQ(turn_read(&m, NULL, 0, &t), 0);
	CHECK_EQ(t.method, TURN_METHOD_ALLOCATE);
	CHECK_EQ(t.cls, STUN_ERROR);
	CHECK_EQ(t.error, 401);
	CHECK(t.reason_len == 12 && !memcmp(t.reason, "Unauthorized", 12));
	CHECK(t.realm_len == 3 && !memcmp(t.realm, "lab", 3));
	CHECK(t.nonce_len == 4 && !memcmp(t.nonce, "n0nc", 4));
	CHECK(!t.has_relayed && !t.integrity);
}

/* An Allocate success and a ConnectionAttempt built as a server would,
 * read back; integrity checked with the right key and refused with another. */
static void read_success_and_attempt(void)
{
	uint8_t buf[512];
	struct stun_builder b;
	struct stun_msg m;
	struct turn_msg t;
	struct turn_cred c;
	struct stun_addr relayed = { .family = STUN_FAMILY_IPV4, .port = 50123,
				     .ip = { 192, 0, 2, 1 } };
	struct stun_addr peer = { .family = STUN_FAMILY_IPV4, .port = 40000,
				  .ip = { 198, 18, 1, 2 } };
	uint8_t wrong[16] = { 0 };
	int n;

	turn_cred_init(&c, "alice", "secret");
	turn_cred_challenge(&c, "lab", 3, (const uint8_t *)"abcdef", 6);
	stun_build_init(&b, buf, sizeof(buf), stun_type(TURN_METHOD_ALLOCATE, STUN_SUCCESS), txid);
	stun_build_xor_addr(&b, TURN_ATTR_XOR_RELAYED_ADDRESS, &relayed);
	stun_build_xor_addr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS, &peer);
	stun_build_u32(&b, TURN_ATTR_LIFETIME, 600);
	stun_build_integrity(&b, c.key, 16);
	stun_build_fingerprint(&b);
	n = stun_build_finish(&b);
	CHECK(n > 0);
	CHECK_EQ(stun_parse(buf, (size_t)n, &m), 0);
	CHECK_EQ(turn_read(&m, c.key, 16, &t), 0);
	CHECK(t.integrity);
	CHECK(t.has_relayed && stun_addr_equal(&t.relayed, &relayed));
	CHECK(t.has_mapped && stun_addr_equal(&t.mapped, &peer));
	CHECK(t.has_lifetime && t.lifetime == 600);
	CHECK_EQ(turn_read(&m, wrong, 16, &t), -EACCES);

	stun_build_init(&b, buf, sizeof(buf),
			stun_type(TURN_METHOD_CONNECTION_ATTEMPT, STUN_INDICATION), txid);
	stun_build_u32(&b, TURN_ATTR_CONNECTION_ID, 7);
	stun_build_xor_addr(&b, TURN_ATTR_XOR_PEER_ADDRESS, &peer);
	n = stun_build_finish(&b);
	CHECK_EQ(stun_parse(buf, (size_t)n, &m), 0);
	CHECK_EQ(turn_read(&m, NULL, 0, &t), 0);
	CHECK_EQ(t.method, TURN_METHOD_CONNECTION_ATTEMPT);
	CHECK_EQ(t.cls, STUN_INDICATION);
	CHECK(t.has_conn_id && t.conn_id == 7);
	CHECK(t.has_peer && stun_addr_equal(&t.peer, &peer));
}

/* REQUESTED-ADDRESS-FAMILY (RFC 8656 18.11, RFC 6156 4.1.1): after
 * REQUESTED-TRANSPORT, family then 24 bits RFFU; left out with family 0. */
static void allocate_with_family(void)
{
	uint8_t buf[256];
	struct stun_msg m;
	const struct stun_attr *a;
	int n;

	n = turn_build_allocate_tcp(buf, sizeof(buf), txid, 600, STUN_FAMILY_IPV6, NULL);
	CHECK_EQ(n, 20 + 8 + 8 + 8);
	CHECK_EQ(buf[28], 0x00);	/* REQUESTED-ADDRESS-FAMILY 0x0017, length 4 */
	CHECK_EQ(buf[29], 0x17);
	CHECK_EQ(buf[30], 0x00);
	CHECK_EQ(buf[31], 4);
	CHECK_EQ(buf[32], 0x02);	/* IPv6 */
	CHECK_EQ(buf[33] | buf[34] | buf[35], 0);
	CHECK_EQ(stun_parse(buf, (size_t)n, &m), 0);
	a = stun_msg_find(&m, TURN_ATTR_REQUESTED_FAMILY);
	CHECK(a && a->len == 4 && a->val[0] == STUN_FAMILY_IPV6);
	n = turn_build_allocate_tcp(buf, sizeof(buf), txid, 600, STUN_FAMILY_IPV4, NULL);
	CHECK_EQ(n, 20 + 8 + 8 + 8);
	CHECK_EQ(buf[32], 0x01);
	n = turn_build_allocate_tcp(buf, sizeof(buf), txid, 0, 0, NULL);
	CHECK_EQ(n, 20 + 8);		/* neither family nor lifetime */
	CHECK_EQ(stun_parse(buf, (size_t)n, &m), 0);
	CHECK(stun_msg_find(&m, TURN_ATTR_REQUESTED_FAMILY) == NULL);
	CHECK_EQ(turn_build_allocate_tcp(buf, sizeof(buf), txid, 600, 3, NULL), -EINVAL);
	CHECK_EQ(turn_build_allocate_tcp(buf, 40, txid, 600, STUN_FAMILY_IPV6, NULL), -ENOSPC);
}

/* IPv6 peers and relayed addresses: CreatePermission's XOR-PEER-ADDRESS
 * as bytes (RFC 8489 14.2: port XOR the cookie's top half, address XOR
 * cookie and transaction id), an IPv6 Allocate success and ConnectionAttempt
 * read back, and 443 (Peer Address Family Mismatch). */
static void ipv6_addresses(void)
{
	static const uint8_t cookie[4] = { 0x21, 0x12, 0xa4, 0x42 };
	uint8_t buf[512];
	struct stun_builder b;
	struct stun_msg m;
	struct turn_msg t;
	struct turn_cred c;
	struct stun_addr peer = { .family = STUN_FAMILY_IPV6, .port = 0,
				  .ip = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10 } };
	struct stun_addr relayed = { .family = STUN_FAMILY_IPV6, .port = 50123,
				     .ip = { 0x20, 0x01, 0x0d, 0xb8, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10 } };
	const struct stun_attr *a;
	size_t i;
	int n;

	(void)permission(buf, sizeof(buf), &peer, &c, &m);
	a = stun_msg_find(&m, TURN_ATTR_XOR_PEER_ADDRESS);
	CHECK(a && a->len == 20);
	if (a && a->len == 20) {
		CHECK_EQ(a->val[0], 0);
		CHECK_EQ(a->val[1], 0x02);			/* family IPv6 */
		CHECK_EQ(a->val[2], 0x21);			/* port 0 XOR 0x2112 */
		CHECK_EQ(a->val[3], 0x12);
		for (i = 0; i < 16; i++)
			CHECK_EQ(a->val[4 + i], peer.ip[i] ^ (i < 4 ? cookie[i] : txid[i - 4]));
	}

	stun_build_init(&b, buf, sizeof(buf), stun_type(TURN_METHOD_ALLOCATE, STUN_SUCCESS), txid);
	stun_build_xor_addr(&b, TURN_ATTR_XOR_RELAYED_ADDRESS, &relayed);
	stun_build_xor_addr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS, &peer);
	stun_build_u32(&b, TURN_ATTR_LIFETIME, 600);
	stun_build_integrity(&b, c.key, 16);
	n = stun_build_finish(&b);
	CHECK_EQ(stun_parse(buf, (size_t)n, &m), 0);
	CHECK_EQ(turn_read(&m, c.key, 16, &t), 0);
	CHECK(t.has_relayed && t.relayed.family == STUN_FAMILY_IPV6);
	CHECK(stun_addr_equal(&t.relayed, &relayed));
	CHECK(t.has_mapped && stun_addr_equal(&t.mapped, &peer));

	peer.port = 40000;
	stun_build_init(&b, buf, sizeof(buf),
			stun_type(TURN_METHOD_CONNECTION_ATTEMPT, STUN_INDICATION), txid);
	stun_build_u32(&b, TURN_ATTR_CONNECTION_ID, 9);
	stun_build_xor_addr(&b, TURN_ATTR_XOR_PEER_ADDRESS, &peer);
	n = stun_build_finish(&b);
	CHECK_EQ(stun_parse(buf, (size_t)n, &m), 0);
	CHECK_EQ(turn_read(&m, NULL, 0, &t), 0);
	CHECK(t.has_peer && t.peer.family == STUN_FAMILY_IPV6 && stun_addr_equal(&t.peer, &peer));

	/* an XOR-RELAYED-ADDRESS of family IPv6 but IPv4's length */
	stun_build_init(&b, buf, sizeof(buf), stun_type(TURN_METHOD_ALLOCATE, STUN_SUCCESS), txid);
	stun_build_attr(&b, TURN_ATTR_XOR_RELAYED_ADDRESS, "\0\x02\0\0\0\0\0\0", 8);
	n = stun_build_finish(&b);
	CHECK_EQ(stun_parse(buf, (size_t)n, &m), 0);
	CHECK_EQ(turn_read(&m, NULL, 0, &t), -EBADMSG);

	/* 443 Peer Address Family Mismatch */
	stun_build_init(&b, buf, sizeof(buf),
			stun_type(TURN_METHOD_CREATE_PERMISSION, STUN_ERROR), txid);
	stun_build_attr(&b, STUN_ATTR_ERROR_CODE, "\0\0\x04\x2bPeer Address Family Mismatch", 33);
	n = stun_build_finish(&b);
	CHECK_EQ(stun_parse(buf, (size_t)n, &m), 0);
	CHECK_EQ(turn_read(&m, NULL, 0, &t), 0);
	CHECK_EQ(t.error, TURN_ERR_PEER_FAMILY);
}

static void read_malformed(void)
{
	uint8_t buf[256];
	struct stun_builder b;
	struct stun_msg m;
	struct turn_msg t;
	int n;

	/* CONNECTION-ID of 3 bytes */
	stun_build_init(&b, buf, sizeof(buf),
			stun_type(TURN_METHOD_CONNECTION_ATTEMPT, STUN_INDICATION), txid);
	stun_build_attr(&b, TURN_ATTR_CONNECTION_ID, "abc", 3);
	n = stun_build_finish(&b);
	CHECK_EQ(stun_parse(buf, (size_t)n, &m), 0);
	CHECK_EQ(turn_read(&m, NULL, 0, &t), -EBADMSG);
	/* LIFETIME of 2 bytes */
	stun_build_init(&b, buf, sizeof(buf), stun_type(TURN_METHOD_REFRESH, STUN_SUCCESS), txid);
	stun_build_attr(&b, TURN_ATTR_LIFETIME, "ab", 2);
	n = stun_build_finish(&b);
	CHECK_EQ(stun_parse(buf, (size_t)n, &m), 0);
	CHECK_EQ(turn_read(&m, NULL, 0, &t), -EBADMSG);
	/* XOR-RELAYED-ADDRESS of an unknown family */
	stun_build_init(&b, buf, sizeof(buf), stun_type(TURN_METHOD_ALLOCATE, STUN_SUCCESS), txid);
	stun_build_attr(&b, TURN_ATTR_XOR_RELAYED_ADDRESS, "\0\x07\0\0\0\0\0\0", 8);
	n = stun_build_finish(&b);
	CHECK_EQ(stun_parse(buf, (size_t)n, &m), 0);
	CHECK_EQ(turn_read(&m, NULL, 0, &t), -EBADMSG);
	/* an error without ERROR-CODE */
	stun_build_init(&b, buf, sizeof(buf), stun_type(TURN_METHOD_ALLOCATE, STUN_ERROR), txid);
	n = stun_build_finish(&b);
	CHECK_EQ(stun_parse(buf, (size_t)n, &m), 0);
	CHECK_EQ(turn_read(&m, NULL, 0, &t), -EBADMSG);
	/* a Binding is not TURN */
	stun_build_init(&b, buf, sizeof(buf), stun_type(1, STUN_SUCCESS), txid);
	n = stun_build_finish(&b);
	CHECK_EQ(stun_parse(buf, (size_t)n, &m), 0);
	CHECK_EQ(turn_read(&m, NULL, 0, &t), -ENOMSG);
	CHECK_EQ(strcmp(turn_method_name(TURN_METHOD_CONNECTION_BIND), "ConnectionBind"), 0);
	CHECK_EQ(strcmp(turn_method_name(0x123), "?"), 0);
}

int main(void)
{
	RUN(allocate_without_credentials);
	RUN(credentials);
	RUN(authenticated_requests_verify);
	RUN(read_401);
	RUN(read_success_and_attempt);
	RUN(read_malformed);
	RUN(allocate_with_family);
	RUN(ipv6_addresses);
	return TAP_DONE();
}
