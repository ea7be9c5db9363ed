/* SPDX-License-Identifier: MIT */
/*
 * Per-message authentication of the signalling connection between stuntd
 * and stunt-server (docs/protocol.md 5.x, docs/security.md).
 *
 * AUTHENTICATE proves the peer knows its secret for one server nonce.
 * From its success response on, every message on that connection, in both
 * directions and whatever its method (signalling, STUNT, Binding
 * keepalives, indications the server relays), ends with
 *
 *   SIG-SEQ (u64)  MESSAGE-INTEGRITY-SHA256 (32 bytes)  [FINGERPRINT]
 *
 * The HMAC key is a session key per direction, derived from the peer's
 * secret and the one-use registration nonce:
 *
 *   K_c2s = HMAC-SHA256(secret, "stunt-session-v1" 0x00 id 0x00 nonce 0x00 "c2s")
 *   K_s2c = HMAC-SHA256(secret, "stunt-session-v1" 0x00 id 0x00 nonce 0x00 "s2c")
 *
 * rather than the secret itself: a message recorded on one registration
 * does not verify on any other (the nonce differs), so replay state is
 * needed only per connection and stays small; a message of one direction
 * does not verify in the other (no reflection); and the long-term secret
 * only ever keys two HMACs per registration.
 *
 * SIG-SEQ starts at 1 in each direction and grows by one per message; the
 * receiver keeps an anti-replay window (common/replay.h) and refuses a
 * number it has seen or one below its window. The transaction id is
 * covered by the HMAC too, but over a stream the number is what makes a
 * repeated message recognisable.
 *
 * Pure: no I/O, no clock. sig_sec_open() marks the number seen only after
 * the HMAC verified.
 */
#ifndef STUNT_PROTO_SIG_SEC_H
#define STUNT_PROTO_SIG_SEC_H

#include "common/replay.h"
#include "proto/stun_msg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIG_KEY_LEN		32
/* What sealing adds to a message: SIG-SEQ (4 + 8) and MESSAGE-INTEGRITY-SHA256 (4 + 32). */
#define SIG_SEAL_OVERHEAD	48

struct sig_keys {
	uint8_t	c2s[SIG_KEY_LEN];	/* stuntd -> stunt-server */
	uint8_t	s2c[SIG_KEY_LEN];	/* stunt-server -> stuntd */
};

int sig_session_keys(const uint8_t *secret, size_t slen, const char *peer_id,
		     const uint8_t *nonce, size_t nlen, struct sig_keys *out);

/* One end of one connection. */
struct sig_sec {
	bool			on;
	uint8_t			tx_key[SIG_KEY_LEN];
	uint8_t			rx_key[SIG_KEY_LEN];
	uint64_t		tx_seq;		/* last sent */
	struct replay_win	rx;
};

/* Start with fresh numbers; server: true at stunt-server, false at stuntd. */
void sig_sec_start(struct sig_sec *s, const struct sig_keys *k, bool server);
/* Forget the keys (connection closed). */
void sig_sec_stop(struct sig_sec *s);

/*
 * Seal the finished message buf[0..len) in place (cap bytes of room):
 * SIG-SEQ and MESSAGE-INTEGRITY-SHA256 are appended, before a FINGERPRINT
 * if the message has one (recomputed). Returns the new length, or -EINVAL
 * (not on, not a STUN message), -EEXIST (already has an integrity
 * attribute), -ENOSPC (no room); after an error the buffer holds nothing
 * to send. The number is used up only on success.
 */
int sig_sec_seal(struct sig_sec *s, uint8_t *buf, size_t len, size_t cap);

enum sig_sec_verdict {
	SIG_SEC_OK = 0,
	SIG_SEC_MISSING,	/* no SIG-SEQ or no MESSAGE-INTEGRITY-SHA256 */
	SIG_SEC_BAD_MAC,	/* HMAC does not match: wrong key or altered */
	SIG_SEC_REPLAY,		/* number seen already, or below the window */
	SIG_SEC_MAX,
};

/* Verify a parsed message; on SIG_SEC_OK its number is marked seen. */
enum sig_sec_verdict sig_sec_open(struct sig_sec *s, const struct stun_msg *m);
const char *sig_sec_verdict_name(enum sig_sec_verdict v);

#endif
