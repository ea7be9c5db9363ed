// SPDX-License-Identifier: MIT
/*
 * RFC 5769 test vectors, typed in from the RFC: each must parse, carry the
 * values the RFC states, verify (MESSAGE-INTEGRITY, FINGERPRINT), and come
 * out byte for byte when rebuilt from its parts.
 */
#include "proto/stun_attr.h"
#include "proto/stun_auth.h"
#include "proto/stun_msg.h"
#include "tests/unit/tap.h"

#include <errno.h>
#include <stdlib.h>

static const uint8_t txid_21[12] = {
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
};

static const char short_term_pw[] = "VOkJxbRl1RmTxUk/WvJxBt";

/* 2.1 Sample Request */
static const uint8_t req_21[] = {
	0x00, 0x01, 0x00, 0x58,	/* Binding request, length 88 */
	0x21, 0x12, 0xa4, 0x42,	/* magic cookie */
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, /* txid */
	0x80, 0x22, 0x00, 0x10,	/* SOFTWARE, 16 bytes */
	0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73, 0x74, 0x20, 0x63, 0x6c, 0x69, 0x65,
	0x6e, 0x74,		/* "STUN test client" */
	0x00, 0x24, 0x00, 0x04,	/* PRIORITY */
	0x6e, 0x00, 0x01, 0xff,
	0x80, 0x29, 0x00, 0x08,	/* ICE-CONTROLLED */
	0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36,
	0x00, 0x06, 0x00, 0x09,	/* USERNAME, 9 bytes */
	0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, /* "evtj:h6vY" */
	0x20, 0x20, 0x20,	/* padding (spaces) */
	0x00, 0x08, 0x00, 0x14,	/* MESSAGE-INTEGRITY */
	0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3,
	0xf2, 0x49, 0xc1, 0xb5, 0x71, 0xa2,
	0x80, 0x28, 0x00, 0x04,	/* FINGERPRINT */
	0xe5, 0x7a, 0x3b, 0xcf,
};

/* 2.2 Sample IPv4 Response: 192.0.2.1 port 32853 */
static const uint8_t resp_22[] = {
	0x01, 0x01, 0x00, 0x3c,	/* Binding success response, length 60 */
	0x21, 0x12, 0xa4, 0x42,	/* magic cookie */
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, /* txid */
	0x80, 0x22, 0x00, 0x0b,	/* SOFTWARE, 11 bytes */
	0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, /* "test vector" */
	0x20,			/* padding */
	0x00, 0x20, 0x00, 0x08,	/* XOR-MAPPED-ADDRESS */
	0x00, 0x01, 0xa1, 0x47,	/* IPv4, xor'd port */
	0xe1, 0x12, 0xa6, 0x43,	/* xor'd address */
	0x00, 0x08, 0x00, 0x14,	/* MESSAGE-INTEGRITY */
	0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9, 0x2a, 0xf9,
	0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7,
	0x80, 0x28, 0x00, 0x04,	/* FINGERPRINT */
	0xc0, 0x7d, 0x4c, 0x96,
};

/* 2.3 Sample IPv6 Response: 2001:db8:1234:5678:11:2233:4455:6677 port 32853 */
static const uint8_t resp_23[] = {
	0x01, 0x01, 0x00, 0x48,	/* Binding success response, length 72 */
	0x21, 0x12, 0xa4, 0x42,	/* magic cookie */
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, /* txid */
	0x80, 0x22, 0x00, 0x0b,	/* SOFTWARE */
	0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20,
	0x00, 0x20, 0x00, 0x14,	/* XOR-MAPPED-ADDRESS */
	0x00, 0x02, 0xa1, 0x47,	/* IPv6, xor'd port */
	0x01, 0x13, 0xa9, 0xfa, 0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2,
	0xb9, 0xd9,		/* xor'd address */
	0x00, 0x08, 0x00, 0x14,	/* MESSAGE-INTEGRITY */
	0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92,
	0xc2, 0x75, 0xbf, 0xe3, 0xed, 0x41,
	0x80, 0x28, 0x00, 0x04,	/* FINGERPRINT */
	0xc8, 0xfb, 0x0b, 0x4c,
};

/* 2.4 Sample Request with Long-Term Authentication */
static const uint8_t req_24[] = {
	0x00, 0x01, 0x00, 0x60,	/* Binding request, length 96 */
	0x21, 0x12, 0xa4, 0x42,	/* magic cookie */
	0x78, 0xad, 0x34, 0x33, 0xc6, 0xad, 0x72, 0xc0, 0x29, 0xda, 0x41, 0x2e, /* txid */
	0x00, 0x06, 0x00, 0x12,	/* USERNAME, 18 bytes: U+30DE U+30C8 U+30EA U+30C3 U+30AF U+30B9 */
	0xe3, 0x83, 0x9e, 0xe3, 0x83, 0x88, 0xe3, 0x83, 0xaa, 0xe3, 0x83, 0x83, 0xe3, 0x82,
	0xaf, 0xe3, 0x82, 0xb9,
	0x00, 0x00,		/* padding */
	0x00, 0x15, 0x00, 0x1c,	/* NONCE, 28 bytes */
	0x66, 0x2f, 0x2f, 0x34, 0x39, 0x39, 0x6b, 0x39, 0x35, 0x34, 0x64, 0x36, 0x4f, 0x4c,
	0x33, 0x34, 0x6f, 0x4c, 0x39, 0x46, 0x53, 0x54, 0x76, 0x79, 0x36, 0x34, 0x73, 0x41,
	0x00, 0x14, 0x00, 0x0b,	/* REALM, 11 bytes */
	0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x6f, 0x72, 0x67, /* "example.org" */
	0x00,			/* padding */
	0x00, 0x08, 0x00, 0x14,	/* MESSAGE-INTEGRITY */
	0xf6, 0x70, 0x24, 0x65, 0x6d, 0xd6, 0x4a, 0x3e, 0x02, 0xb8, 0xe0, 0x71, 0x2e, 0x85,
	0xc9, 0xa2, 0x8c, 0xa8, 0x96, 0x66,
};

static const char user_24[] = "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf"
			      "\xe3\x82\xb9";
static const char nonce_24[] = "f//499k954d6OL34oL9FSTvy64sA";

static const struct stun_addr addr_22 = {
	.family = STUN_FAMILY_IPV4, .port = 32853, .ip = { 192, 0, 2, 1 },
};
static const struct stun_addr addr_23 = {
	.family = STUN_FAMILY_IPV6,
	.port = 32853,
	.ip = { 0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78, 0x00, 0x11, 0x22, 0x33, 0x44,
		0x55, 0x66, 0x77 },
};

static const uint8_t *pw(void)
{
	return (const uint8_t *)short_term_pw;
}

static void sample_request_parses(void)
{
	struct stun_msg m;
	const struct stun_attr *a;
	const char *s;
	size_t n;

	CHECK_EQ(stun_parse(req_21, sizeof(req_21), &m), 0);
	CHECK_EQ(m.method, STUN_METHOD_BINDING);
	CHECK_EQ(m.cls, STUN_REQUEST);
	CHECK(!m.classic);
	CHECK_MEM(m.txid, txid_21, 12);
	CHECK_EQ(m.nattrs, 6);
	CHECK_EQ(m.integrity, 4);
	CHECK_EQ(m.fingerprint, 5);
	CHECK_EQ(m.integrity_sha256, -1);
	CHECK((a = stun_msg_find(&m, STUN_ATTR_SOFTWARE)) != NULL);
	CHECK_EQ(stun_attr_get_text(a, &s, &n), 0);
	CHECK(n == 16 && !memcmp(s, "STUN test client", 16));
	CHECK((a = stun_msg_find(&m, STUN_ATTR_USERNAME)) != NULL);
	CHECK_EQ(stun_attr_get_text(a, &s, &n), 0);
	CHECK(n == 9 && !memcmp(s, "evtj:h6vY", 9));
	/* PRIORITY and ICE-CONTROLLED are not ours: optional is fine, the
	 * required PRIORITY (0x0024) is reported unknown */
	{
		uint16_t unk[4];

		CHECK_EQ(stun_msg_unknown_required(&m, unk, 4), 1);
		CHECK_EQ(unk[0], 0x0024);
	}
}

static void sample_request_verifies(void)
{
	struct stun_msg m;

	CHECK_EQ(stun_parse(req_21, sizeof(req_21), &m), 0);
	CHECK_EQ(stun_check_fingerprint(&m), 0);
	CHECK_EQ(stun_check_integrity(&m, pw(), strlen(short_term_pw)), 0);
	CHECK_EQ(stun_check_integrity(&m, (const uint8_t *)"VOkJxbRl1RmTxUk/WvJxBu", 22), -EACCES);
	CHECK_EQ(stun_check_integrity_sha256(&m, pw(), strlen(short_term_pw)), -ENOENT);
}

static void responses_carry_the_addresses(void)
{
	struct stun_msg m;
	struct stun_addr a;
	const char *s;
	size_t n;

	CHECK_EQ(stun_parse(resp_22, sizeof(resp_22), &m), 0);
	CHECK_EQ(m.cls, STUN_SUCCESS);
	CHECK_EQ(stun_attr_get_xor_addr(stun_msg_find(&m, STUN_ATTR_XOR_MAPPED_ADDRESS), &m, &a), 0);
	CHECK(stun_addr_equal(&a, &addr_22));
	CHECK_EQ(stun_attr_get_text(stun_msg_find(&m, STUN_ATTR_SOFTWARE), &s, &n), 0);
	CHECK(n == 11 && !memcmp(s, "test vector", 11));
	CHECK_EQ(stun_check_fingerprint(&m), 0);
	CHECK_EQ(stun_check_integrity(&m, pw(), strlen(short_term_pw)), 0);

	CHECK_EQ(stun_parse(resp_23, sizeof(resp_23), &m), 0);
	CHECK_EQ(stun_attr_get_xor_addr(stun_msg_find(&m, STUN_ATTR_XOR_MAPPED_ADDRESS), &m, &a), 0);
	CHECK(stun_addr_equal(&a, &addr_23));
	CHECK_EQ(stun_check_fingerprint(&m), 0);
	CHECK_EQ(stun_check_integrity(&m, pw(), strlen(short_term_pw)), 0);
}

static void long_term_request_verifies(void)
{
	uint8_t key[STUN_LONG_TERM_KEY_LEN];
	struct stun_msg m;
	const char *s;
	size_t n;

	CHECK_EQ(stun_parse(req_24, sizeof(req_24), &m), 0);
	CHECK_EQ(stun_attr_get_text(stun_msg_find(&m, STUN_ATTR_USERNAME), &s, &n), 0);
	CHECK(n == 18 && !memcmp(s, user_24, 18));
	CHECK_EQ(stun_attr_get_text(stun_msg_find(&m, STUN_ATTR_NONCE), &s, &n), 0);
	CHECK(n == 28 && !memcmp(s, nonce_24, 28));
	CHECK_EQ(stun_attr_get_text(stun_msg_find(&m, STUN_ATTR_REALM), &s, &n), 0);
	CHECK(n == 11 && !memcmp(s, "example.org", 11));
	CHECK_EQ(stun_check_fingerprint(&m), -ENOENT);
	/* the password "TheMatrIX" is unchanged by SASLprep / OpaqueString */
	CHECK_EQ(stun_key_long_term(user_24, 18, "example.org", 11, "TheMatrIX", 9, key), 0);
	CHECK_EQ(stun_check_integrity(&m, key, sizeof(key)), 0);
	CHECK_EQ(stun_key_long_term(user_24, 18, "example.org", 11, "TheMatrix", 9, key), 0);
	CHECK_EQ(stun_check_integrity(&m, key, sizeof(key)), -EACCES);
}

/* Building the same messages from their parts gives the same bytes. */
static void vectors_rebuild_byte_for_byte(void)
{
	static const uint8_t prio[] = { 0x6e, 0x00, 0x01, 0xff };
	static const uint8_t ctl[] = { 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36 };
	uint8_t buf[256], key[16];
	struct stun_builder b;
	struct stun_msg req;

	stun_build_init(&b, buf, sizeof(buf), stun_type(STUN_METHOD_BINDING, STUN_REQUEST), txid_21);
	b.pad = ' ';
	stun_build_text(&b, STUN_ATTR_SOFTWARE, "STUN test client", 16);
	stun_build_attr(&b, 0x0024, prio, sizeof(prio));
	stun_build_attr(&b, 0x8029, ctl, sizeof(ctl));
	stun_build_text(&b, STUN_ATTR_USERNAME, "evtj:h6vY", 9);
	stun_build_integrity(&b, pw(), strlen(short_term_pw));
	stun_build_fingerprint(&b);
	CHECK_EQ(stun_build_finish(&b), sizeof(req_21));
	CHECK_MEM(buf, req_21, sizeof(req_21));

	/* the responses answer the parsed request */
	CHECK_EQ(stun_parse(req_21, sizeof(req_21), &req), 0);
	stun_build_reply(&b, buf, sizeof(buf), stun_type(STUN_METHOD_BINDING, STUN_SUCCESS), &req);
	b.pad = ' ';
	stun_build_text(&b, STUN_ATTR_SOFTWARE, "test vector", 11);
	stun_build_xor_addr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS, &addr_22);
	stun_build_integrity(&b, pw(), strlen(short_term_pw));
	stun_build_fingerprint(&b);
	CHECK_EQ(stun_build_finish(&b), sizeof(resp_22));
	CHECK_MEM(buf, resp_22, sizeof(resp_22));

	stun_build_reply(&b, buf, sizeof(buf), stun_type(STUN_METHOD_BINDING, STUN_SUCCESS), &req);
	b.pad = ' ';
	stun_build_text(&b, STUN_ATTR_SOFTWARE, "test vector", 11);
	stun_build_xor_addr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS, &addr_23);
	stun_build_integrity(&b, pw(), strlen(short_term_pw));
	stun_build_fingerprint(&b);
	CHECK_EQ(stun_build_finish(&b), sizeof(resp_23));
	CHECK_MEM(buf, resp_23, sizeof(resp_23));

	stun_key_long_term(user_24, 18, "example.org", 11, "TheMatrIX", 9, key);
	stun_build_init(&b, buf, sizeof(buf), stun_type(STUN_METHOD_BINDING, STUN_REQUEST),
			req_24 + 8);
	stun_build_text(&b, STUN_ATTR_USERNAME, user_24, 18);
	stun_build_text(&b, STUN_ATTR_NONCE, nonce_24, 28);
	stun_build_text(&b, STUN_ATTR_REALM, "example.org", 11);
	stun_build_integrity(&b, key, sizeof(key));
	CHECK_EQ(stun_build_finish(&b), sizeof(req_24));
	CHECK_MEM(buf, req_24, sizeof(req_24));
}

/* Any single flipped bit after the header is caught by FINGERPRINT or
 * MESSAGE-INTEGRITY, or makes the message unparsable. */
static void every_flipped_bit_is_detected(void)
{
	const struct {
		const uint8_t *v;
		size_t n;
	} vec[] = { { req_21, sizeof(req_21) }, { resp_22, sizeof(resp_22) },
		    { resp_23, sizeof(resp_23) } };
	size_t i, k;
	unsigned bit;

	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		for (k = 0; k < vec[i].n; k++) {
			for (bit = 0; bit < 8; bit++) {
				uint8_t *c = malloc(vec[i].n);
				struct stun_msg m;
				int fp, mi;

				memcpy(c, vec[i].v, vec[i].n);
				c[k] ^= (uint8_t)(1u << bit);
				if (stun_parse(c, vec[i].n, &m) == 0) {
					fp = stun_check_fingerprint(&m);
					mi = stun_check_integrity(&m, pw(), strlen(short_term_pw));
					/* padding bytes are covered by
					 * neither check's meaning but by
					 * both hashes, so: never both ok */
					CHECK(fp != 0 || mi != 0);
				}
				free(c);
			}
		}
	}
}

/* Every prefix: with the original length field it is truncated; with the
 * length field rewritten to fit it parses or fails cleanly, never reading
 * past the end (run under ASan). */
static void every_prefix_is_safe(void)
{
	const struct {
		const uint8_t *v;
		size_t n;
	} vec[] = { { req_21, sizeof(req_21) }, { resp_22, sizeof(resp_22) },
		    { resp_23, sizeof(resp_23) }, { req_24, sizeof(req_24) } };
	size_t i, k;

	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		for (k = 0; k < vec[i].n; k++) {
			uint8_t *c = malloc(k ? k : 1);
			struct stun_msg m;
			struct stun_addr a;
			int err;

			memcpy(c, vec[i].v, k);
			CHECK(stun_parse(c, k, &m) < 0);
			if (k >= STUN_HDR_LEN) {
				stun_wr16(c + 2, (uint16_t)(k - STUN_HDR_LEN));
				err = stun_parse(c, k, &m);
				if ((k - STUN_HDR_LEN) % 4)
					CHECK_EQ(err, -EBADMSG);
				if (err == 0) {
					CHECK(m.nattrs <= 6);
					stun_check_fingerprint(&m);
					stun_check_integrity(&m, pw(), 22);
					stun_attr_get_xor_addr(
						stun_msg_find(&m, STUN_ATTR_XOR_MAPPED_ADDRESS), &m, &a);
				}
			}
			free(c);
		}
	}
}

int main(void)
{
	RUN(sample_request_parses);
	RUN(sample_request_verifies);
	RUN(responses_carry_the_addresses);
	RUN(long_term_request_verifies);
	RUN(vectors_rebuild_byte_for_byte);
	RUN(every_flipped_bit_is_detected);
	RUN(every_prefix_is_safe);
	return TAP_DONE();
}
