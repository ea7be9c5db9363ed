// SPDX-License-Identifier: MIT
/*
 * Per-message authentication of the signalling connection (proto/sig_sec.c):
 * keys per registration and per direction, seal and open, replays, altered
 * bytes, reflection, FINGERPRINT kept valid, nothing accepted unsealed.
 */
#include "proto/sig.h"
#include "proto/sig_sec.h"
#include "proto/stun_attr.h"
#include "proto/stun_auth.h"
#include "proto/stun_msg.h"
#include "tests/unit/tap.h"

#include <errno.h>

static const uint8_t secret[] = "correct horse battery staple";
static const uint8_t nonce1[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static const uint8_t nonce2[16] = { 2, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

static void pair(struct sig_sec *cl, struct sig_sec *sv, const uint8_t *nonce)
{
	struct sig_keys k;

	CHECK_EQ(sig_session_keys(secret, sizeof(secret) - 1, "alice", nonce, 16, &k), 0);
	sig_sec_start(cl, &k, false);
	sig_sec_start(sv, &k, true);
}

/* A LOOKUP request with a txid from n, optionally with FINGERPRINT. */
static size_t lookup(uint8_t *buf, size_t cap, uint8_t n, bool fp)
{
	uint8_t txid[STUN_TXID_LEN] = { n };
	struct stun_builder b;
	struct sig_lookup l = { .peer_id = "bob" };

	stun_build_init(&b, buf, cap, stun_type(SIG_METHOD_LOOKUP, STUN_REQUEST), txid);
	sig_put_lookup(&b, &l);
	if (fp)
		stun_build_fingerprint(&b);
	return (size_t)stun_build_finish(&b);
}

static enum sig_sec_verdict open_buf(struct sig_sec *s, const uint8_t *buf, size_t len)
{
	struct stun_msg m;

	if (stun_parse(buf, len, &m) < 0)
		return SIG_SEC_MAX;	/* not even STUN */
	return sig_sec_open(s, &m);
}

static void keys_differ(void)
{
	struct sig_keys a, b, c;

	CHECK_EQ(sig_session_keys(secret, sizeof(secret) - 1, "alice", nonce1, 16, &a), 0);
	CHECK_EQ(sig_session_keys(secret, sizeof(secret) - 1, "alice", nonce2, 16, &b), 0);
	CHECK_EQ(sig_session_keys(secret, sizeof(secret) - 1, "alic3", nonce1, 16, &c), 0);
	CHECK(memcmp(a.c2s, a.s2c, SIG_KEY_LEN) != 0);
	CHECK(memcmp(a.c2s, b.c2s, SIG_KEY_LEN) != 0);
	CHECK(memcmp(a.c2s, c.c2s, SIG_KEY_LEN) != 0);
	/* and none of them is the registration credential */
	{
		uint8_t cred[SIG_CREDENTIAL_LEN];

		CHECK_EQ(sig_credential(secret, sizeof(secret) - 1, "alice", nonce1, 16, cred), 0);
		CHECK(memcmp(cred, a.c2s, SIG_KEY_LEN) != 0);
	}
	CHECK_EQ(sig_session_keys(secret, 0, "alice", nonce1, 16, &a), -EINVAL);
	CHECK_EQ(sig_session_keys(secret, 4, "bad id", nonce1, 16, &a), -EINVAL);
	CHECK_EQ(sig_session_keys(secret, 4, "alice", nonce1, 0, &a), -EINVAL);
}

static void seal_open_both_ways(void)
{
	struct sig_sec cl, sv;
	uint8_t buf[512];
	size_t len;
	int n;

	pair(&cl, &sv, nonce1);
	for (int i = 1; i <= 100; i++) {
		len = lookup(buf, sizeof(buf), (uint8_t)i, i & 1);
		n = sig_sec_seal(&cl, buf, len, sizeof(buf));
		CHECK_EQ(n, (int)len + SIG_SEAL_OVERHEAD);
		CHECK_EQ(open_buf(&sv, buf, (size_t)n), SIG_SEC_OK);
		/* the other way, with the other key */
		len = lookup(buf, sizeof(buf), (uint8_t)i, false);
		n = sig_sec_seal(&sv, buf, len, sizeof(buf));
		CHECK_EQ(open_buf(&cl, buf, (size_t)n), SIG_SEC_OK);
	}
	CHECK_EQ(cl.tx_seq, 100);
	CHECK_EQ(sv.tx_seq, 100);
}

static void fingerprint_stays_valid(void)
{
	struct sig_sec cl, sv;
	struct stun_msg m;
	uint8_t buf[512];
	size_t len;
	int n;

	pair(&cl, &sv, nonce1);
	len = lookup(buf, sizeof(buf), 1, true);
	n = sig_sec_seal(&cl, buf, len, sizeof(buf));
	CHECK(n > 0);
	CHECK_EQ(stun_parse(buf, (size_t)n, &m), 0);
	CHECK(m.fingerprint >= 0);
	CHECK_EQ(stun_check_fingerprint(&m), 0);
	CHECK(m.integrity_sha256 >= 0 && m.integrity_sha256 < m.fingerprint);
	CHECK(stun_msg_find(&m, SIG_ATTR_SEQ) != NULL);
	/* a second seal is refused */
	CHECK_EQ(sig_sec_seal(&cl, buf, (size_t)n, sizeof(buf)), -EEXIST);
}

static void replay_refused(void)
{
	struct sig_sec cl, sv;
	uint8_t buf[512], copy[512];
	size_t len;
	int n, n2;

	pair(&cl, &sv, nonce1);
	len = lookup(buf, sizeof(buf), 1, false);
	n = sig_sec_seal(&cl, buf, len, sizeof(buf));
	memcpy(copy, buf, (size_t)n);
	CHECK_EQ(open_buf(&sv, buf, (size_t)n), SIG_SEC_OK);
	CHECK_EQ(open_buf(&sv, copy, (size_t)n), SIG_SEC_REPLAY);
	/* later messages still pass, the old one still does not */
	len = lookup(buf, sizeof(buf), 2, false);
	n2 = sig_sec_seal(&cl, buf, len, sizeof(buf));
	CHECK_EQ(open_buf(&sv, buf, (size_t)n2), SIG_SEC_OK);
	CHECK_EQ(open_buf(&sv, copy, (size_t)n), SIG_SEC_REPLAY);
	/* on another registration (another nonce) it does not even verify */
	pair(&cl, &sv, nonce2);
	CHECK_EQ(open_buf(&sv, copy, (size_t)n), SIG_SEC_BAD_MAC);
}

static void every_altered_byte_refused(void)
{
	struct sig_sec cl, sv;
	uint8_t buf[512], t[512];
	size_t len, i;
	int n, ok = 0;

	pair(&cl, &sv, nonce1);
	len = lookup(buf, sizeof(buf), 1, false);
	n = sig_sec_seal(&cl, buf, len, sizeof(buf));
	for (i = 0; i < (size_t)n; i++) {
		for (int bit = 0; bit < 8; bit++) {
			enum sig_sec_verdict v;

			memcpy(t, buf, (size_t)n);
			t[i] ^= (uint8_t)(1 << bit);
			v = open_buf(&sv, t, (size_t)n);
			if (v == SIG_SEC_OK)
				ok++;
		}
	}
	CHECK_EQ(ok, 0);
	/* and the unaltered one still passes: the tries did not use its number */
	CHECK_EQ(open_buf(&sv, buf, (size_t)n), SIG_SEC_OK);
}

static void reflection_and_wrong_key(void)
{
	struct sig_sec cl, sv, other;
	struct sig_keys k;
	uint8_t buf[512];
	size_t len;
	int n;

	pair(&cl, &sv, nonce1);
	/* the client's own message sent back to it */
	len = lookup(buf, sizeof(buf), 1, false);
	n = sig_sec_seal(&cl, buf, len, sizeof(buf));
	CHECK_EQ(open_buf(&cl, buf, (size_t)n), SIG_SEC_BAD_MAC);
	/* another secret */
	CHECK_EQ(sig_session_keys((const uint8_t *)"wrong", 5, "alice", nonce1, 16, &k), 0);
	sig_sec_start(&other, &k, false);
	len = lookup(buf, sizeof(buf), 2, false);
	n = sig_sec_seal(&other, buf, len, sizeof(buf));
	CHECK_EQ(open_buf(&sv, buf, (size_t)n), SIG_SEC_BAD_MAC);
}

static void unsealed_and_truncated_refused(void)
{
	struct sig_sec cl, sv;
	struct stun_builder b;
	uint8_t buf[512];
	uint8_t txid[STUN_TXID_LEN] = { 7 };
	size_t len;

	pair(&cl, &sv, nonce1);
	len = lookup(buf, sizeof(buf), 1, false);
	CHECK_EQ(open_buf(&sv, buf, len), SIG_SEC_MISSING);
	/* integrity with the right key but no number */
	stun_build_init(&b, buf, sizeof(buf), stun_type(SIG_METHOD_LOOKUP, STUN_REQUEST), txid);
	stun_build_text(&b, SIG_ATTR_PEER_ID, "bob", 3);
	stun_build_integrity_sha256(&b, cl.tx_key, SIG_KEY_LEN);
	CHECK_EQ(open_buf(&sv, buf, (size_t)stun_build_finish(&b)), SIG_SEC_MISSING);
	/* number 0 */
	stun_build_init(&b, buf, sizeof(buf), stun_type(SIG_METHOD_LOOKUP, STUN_REQUEST), txid);
	stun_build_u64(&b, SIG_ATTR_SEQ, 0);
	stun_build_integrity_sha256(&b, cl.tx_key, SIG_KEY_LEN);
	CHECK_EQ(open_buf(&sv, buf, (size_t)stun_build_finish(&b)), SIG_SEC_REPLAY);
	/* no room to seal */
	len = lookup(buf, sizeof(buf), 1, false);
	CHECK_EQ(sig_sec_seal(&cl, buf, len, len + 20), -ENOSPC);
	CHECK_EQ(cl.tx_seq, 0);
	/* off: nothing sealed, nothing opened */
	sig_sec_stop(&cl);
	CHECK_EQ(sig_sec_seal(&cl, buf, len, sizeof(buf)), -EINVAL);
}

int main(void)
{
	RUN(keys_differ);
	RUN(seal_open_both_ways);
	RUN(fingerprint_stays_valid);
	RUN(replay_refused);
	RUN(every_altered_byte_refused);
	RUN(reflection_and_wrong_key);
	RUN(unsealed_and_truncated_refused);
	return TAP_DONE();
}
