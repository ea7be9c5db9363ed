// SPDX-License-Identifier: MIT
/*
 * STUN message authentication and fingerprinting (RFC 8489 9, 14.5-14.7):
 * FINGERPRINT (CRC-32 XOR 0x5354554e), MESSAGE-INTEGRITY (HMAC-SHA1, 20
 * bytes) and MESSAGE-INTEGRITY-SHA256 (HMAC-SHA256, 16-32 bytes), and the
 * short-term / long-term keys. HMAC and digests come from OpenSSL's
 * libcrypto; the CRC is ours.
 *
 * Checks return 0 when the attribute is there and right, -ENOENT when it
 * is absent, -EBADMSG when it is malformed and -EACCES when it does not
 * match (wrong key or altered message).
 */
#ifndef STUNT_PROTO_STUN_AUTH_H
#define STUNT_PROTO_STUN_AUTH_H

#include "proto/stun_msg.h"

#include <sys/uio.h>

#define STUN_FINGERPRINT_XOR	0x5354554eu
#define STUN_HMAC_SHA1_LEN	20
#define STUN_HMAC_SHA256_LEN	32
#define STUN_LONG_TERM_KEY_LEN	16	/* MD5 */

enum stun_hash {
	STUN_HASH_SHA1,
	STUN_HASH_SHA256,
};

/* CRC-32 as in ISO/HDLC (the Ethernet / zlib CRC). crc is the running
 * value; start with 0. */
uint32_t stun_crc32(uint32_t crc, const void *data, size_t len);

int stun_check_fingerprint(const struct stun_msg *m);
int stun_build_fingerprint(struct stun_builder *b);

int stun_check_integrity(const struct stun_msg *m, const uint8_t *key, size_t keylen);
int stun_check_integrity_sha256(const struct stun_msg *m, const uint8_t *key, size_t keylen);
int stun_build_integrity(struct stun_builder *b, const uint8_t *key, size_t keylen);
int stun_build_integrity_sha256(struct stun_builder *b, const uint8_t *key, size_t keylen);

/*
 * Keys (RFC 8489 9.1, 9.2). Short-term: the password itself, after
 * OpaqueString (SASLprep in RFC 5389) preparation; that preparation is the
 * identity for printable ASCII, which is all this project uses, so it is
 * not implemented: the caller passes the password bytes as the key.
 * Long-term: MD5(username ":" realm ":" password), or SHA-256 of the same
 * string when PASSWORD-ALGORITHM says SHA-256.
 */
int stun_key_long_term(const char *user, size_t ulen, const char *realm, size_t rlen,
		       const char *pass, size_t plen, uint8_t key[STUN_LONG_TERM_KEY_LEN]);
int stun_key_long_term_sha256(const char *user, size_t ulen, const char *realm, size_t rlen,
			      const char *pass, size_t plen, uint8_t key[32]);

/* HMAC over the concatenation of iov[0..n). out must hold 20 (SHA1) or 32
 * (SHA256) bytes. */
int stun_hmac(enum stun_hash hash, const uint8_t *key, size_t keylen, const struct iovec *iov,
	      size_t n, uint8_t *out);

/* Constant-time comparison: 0 when equal. */
int stun_memeq_ct(const void *a, const void *b, size_t len);

#endif
