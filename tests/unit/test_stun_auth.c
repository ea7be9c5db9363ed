// SPDX-License-Identifier: MIT
/* CRC-32, HMACs, keys, and MESSAGE-INTEGRITY-SHA256 (no RFC 5769 vector). */
#include "proto/stun_attr.h"
#include "proto/stun_auth.h"
#include "proto/stun_msg.h"
#include "tests/unit/tap.h"

#include <errno.h>

static const uint8_t txid[12] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2 };

static uint32_t crc_bitwise(const uint8_t *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;

	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
	}
	return ~c;
}

static void crc32_matches_the_definition(void)
{
	uint8_t all[256];

	/* the CRC-32/ISO-HDLC check value */
	CHECK_EQ(stun_crc32(0, "123456789", 9), 0xCBF43926u);
	CHECK_EQ(stun_crc32(0, "", 0), 0);
	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	for (size_t n = 0; n <= sizeof(all); n += 17)
		CHECK_EQ(stun_crc32(0, all, n), crc_bitwise(all, n));
	/* running value: two halves equal the whole */
	CHECK_EQ(stun_crc32(stun_crc32(0, all, 100), all + 100, 156), stun_crc32(0, all, 256));
}

static void hmac_known_answers(void)
{
	/* RFC 2202 / RFC 4231 test case 2 */
	static const uint8_t sha1[20] = {
		0xef, 0xfc, 0xdf, 0x6a, 0xe5, 0xeb, 0x2f, 0xa2, 0xd2, 0x74,
		0x16, 0xd5, 0xf1, 0x84, 0xdf, 0x9c, 0x25, 0x9a, 0x7c, 0x79,
	};
	static const uint8_t sha256[32] = {
		0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
		0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
		0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43,
	};
	char d1[] = "what do ya want ", d2[] = "for nothing?";
	struct iovec iov[2] = { { d1, 16 }, { d2, 12 } };
	uint8_t out[32];

	CHECK_EQ(stun_hmac(STUN_HASH_SHA1, (const uint8_t *)"Jefe", 4, iov, 2, out), 0);
	CHECK_MEM(out, sha1, 20);
	CHECK_EQ(stun_hmac(STUN_HASH_SHA256, (const uint8_t *)"Jefe", 4, iov, 2, out), 0);
	CHECK_MEM(out, sha256, 32);
	CHECK_EQ(stun_hmac(STUN_HASH_SHA256, (const uint8_t *)"", 0, iov, 2, out), -EINVAL);
	CHECK_EQ(stun_memeq_ct(sha1, sha1, 20), 0);
	CHECK(stun_memeq_ct(sha1, sha256, 20) != 0);
}

static void long_term_keys(void)
{
	uint8_t k1[16], k2[16], k3[32];

	CHECK_EQ(stun_key_long_term("user", 4, "realm", 5, "pass", 4, k1), 0);
	CHECK_EQ(stun_key_long_term("user", 4, "realm", 5, "pasS", 4, k2), 0);
	CHECK(memcmp(k1, k2, 16) != 0);
	/* "user:realm:pass" split differently is the same string */
	CHECK_EQ(stun_key_long_term("user:realm", 10, "", 0, "pass", 4, k2), 0);
	CHECK(memcmp(k1, k2, 16) != 0);
	CHECK_EQ(stun_key_long_term_sha256("user", 4, "realm", 5, "pass", 4, k3), 0);
}

static int build_signed(uint8_t *buf, size_t cap, const uint8_t *key, size_t keylen, bool fp)
{
	struct stun_builder b;

	stun_build_init(&b, buf, cap, stun_type(STUN_METHOD_BINDING, STUN_REQUEST), txid);
	stun_build_text(&b, STUN_ATTR_USERNAME, "alice", 5);
	stun_build_text(&b, STUN_ATTR_SOFTWARE, "stunt", 5);
	stun_build_integrity_sha256(&b, key, keylen);
	if (fp)
		stun_build_fingerprint(&b);
	return stun_build_finish(&b);
}

static void integrity_sha256_round_trip(void)
{
	static const uint8_t key[] = "s3cret";
	uint8_t buf[256];
	struct stun_msg m;
	int n;

	n = build_signed(buf, sizeof(buf), key, 6, true);
	CHECK(n > 0);
	CHECK_EQ(stun_parse(buf, (size_t)n, &m), 0);
	CHECK_EQ(stun_check_integrity_sha256(&m, key, 6), 0);
	CHECK_EQ(stun_check_integrity_sha256(&m, key, 5), -EACCES);
	CHECK_EQ(stun_check_integrity(&m, key, 6), -ENOENT);
	CHECK_EQ(stun_check_fingerprint(&m), 0);
	buf[25] ^= 1; /* inside USERNAME */
	CHECK_EQ(stun_parse(buf, (size_t)n, &m), 0);
	CHECK_EQ(stun_check_integrity_sha256(&m, key, 6), -EACCES);
	CHECK_EQ(stun_check_fingerprint(&m), -EACCES);
}

/* A peer may send a truncated MESSAGE-INTEGRITY-SHA256 (16..32 bytes, a
 * multiple of 4); the check compares that many bytes. */
static void integrity_sha256_truncated(void)
{
	static const uint8_t key[] = "k";
	uint8_t buf[256], mac[32];
	struct stun_builder b;
	struct stun_msg m;
	struct iovec iov;
	uint8_t *p;
	int n;

	stun_build_init(&b, buf, sizeof(buf), stun_type(STUN_METHOD_BINDING, STUN_REQUEST), txid);
	stun_build_text(&b, STUN_ATTR_USERNAME, "bob", 3);
	p = stun_build_reserve(&b, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, 16);
	iov.iov_base = buf;
	iov.iov_len = (size_t)(p - 4 - buf);
	stun_hmac(STUN_HASH_SHA256, key, 1, &iov, 1, mac);
	memcpy(p, mac, 16);
	n = stun_build_finish(&b);
	CHECK_EQ(stun_parse(buf, (size_t)n, &m), 0);
	CHECK_EQ(stun_check_integrity_sha256(&m, key, 1), 0);
	p[15] ^= 0x80;
	CHECK_EQ(stun_check_integrity_sha256(&m, key, 1), -EACCES);
	/* 12 bytes is too short, 18 not a multiple of 4 */
	m.attrs[m.integrity_sha256].len = 12;
	CHECK_EQ(stun_check_integrity_sha256(&m, key, 1), -EBADMSG);
	m.attrs[m.integrity_sha256].len = 18;
	CHECK_EQ(stun_check_integrity_sha256(&m, key, 1), -EBADMSG);
}

static void integrity_checks_lengths(void)
{
	static const uint8_t key[] = "k";
	uint8_t buf[128];
	struct stun_builder b;
	struct stun_msg m;
	int n;

	/* a 16-byte MESSAGE-INTEGRITY is malformed */
	stun_build_init(&b, buf, sizeof(buf), stun_type(STUN_METHOD_BINDING, STUN_REQUEST), txid);
	stun_build_reserve(&b, STUN_ATTR_MESSAGE_INTEGRITY, 16);
	n = stun_build_finish(&b);
	CHECK_EQ(stun_parse(buf, (size_t)n, &m), 0);
	CHECK_EQ(stun_check_integrity(&m, key, 1), -EBADMSG);
	CHECK_EQ(stun_check_integrity(&m, NULL, 0), -EINVAL);
	/* and a 2-byte FINGERPRINT */
	stun_build_init(&b, buf, sizeof(buf), stun_type(STUN_METHOD_BINDING, STUN_REQUEST), txid);
	stun_build_reserve(&b, STUN_ATTR_FINGERPRINT, 2);
	n = stun_build_finish(&b);
	CHECK_EQ(stun_parse(buf, (size_t)n, &m), 0);
	CHECK_EQ(stun_check_fingerprint(&m), -EBADMSG);
}

static void builder_errors_are_sticky(void)
{
	uint8_t buf[40];
	struct stun_builder b;

	stun_build_init(&b, buf, sizeof(buf), 1, txid);
	CHECK_EQ(stun_build_integrity(&b, (const uint8_t *)"k", 1), -ENOSPC);
	CHECK_EQ(stun_build_fingerprint(&b), -ENOSPC);
	CHECK_EQ(stun_build_finish(&b), -ENOSPC);
	stun_build_init(&b, buf, sizeof(buf), 1, txid);
	CHECK_EQ(stun_build_integrity(&b, NULL, 0), -EINVAL);
	CHECK_EQ(stun_build_finish(&b), -EINVAL);
}

int main(void)
{
	RUN(crc32_matches_the_definition);
	RUN(hmac_known_answers);
	RUN(long_term_keys);
	RUN(integrity_sha256_round_trip);
	RUN(integrity_sha256_truncated);
	RUN(integrity_checks_lengths);
	RUN(builder_errors_are_sticky);
	return TAP_DONE();
}
