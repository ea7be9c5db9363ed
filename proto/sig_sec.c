// SPDX-License-Identifier: MIT
/* Per-message authentication of the signalling connection: see sig_sec.h. */
#include "proto/sig_sec.h"
#include "proto/sig.h"
#include "proto/stun_attr.h"
#include "proto/stun_auth.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <string.h>

static const char key_label[] = "stunt-session-v1";

static int derive(const uint8_t *secret, size_t slen, const char *peer_id, size_t idlen,
		  const uint8_t *nonce, size_t nlen, const char *dir, uint8_t out[SIG_KEY_LEN])
{
	static const uint8_t zero;
	struct iovec iov[7];

	iov[0] = (struct iovec){ (void *)key_label, sizeof(key_label) - 1 };
	iov[1] = (struct iovec){ (void *)&zero, 1 };
	iov[2] = (struct iovec){ (void *)peer_id, idlen };
	iov[3] = (struct iovec){ (void *)&zero, 1 };
	iov[4] = (struct iovec){ (void *)nonce, nlen };
	iov[5] = (struct iovec){ (void *)&zero, 1 };
	iov[6] = (struct iovec){ (void *)dir, 3 };
	return stun_hmac(STUN_HASH_SHA256, secret, slen, iov, 7, out);
}

int sig_session_keys(const uint8_t *secret, size_t slen, const char *peer_id,
		     const uint8_t *nonce, size_t nlen, struct sig_keys *out)
{
	size_t idlen = peer_id ? strnlen(peer_id, SIG_ID_MAX + 1) : 0;
	int err;

	if (!secret || !slen || !sig_id_valid(peer_id, idlen) || !nonce || !nlen || !out)
		return -EINVAL;
	if ((err = derive(secret, slen, peer_id, idlen, nonce, nlen, "c2s", out->c2s)) < 0 ||
	    (err = derive(secret, slen, peer_id, idlen, nonce, nlen, "s2c", out->s2c)) < 0)
		return err;
	return 0;
}

void sig_sec_start(struct sig_sec *s, const struct sig_keys *k, bool server)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->tx_key, server ? k->s2c : k->c2s, SIG_KEY_LEN);
	memcpy(s->rx_key, server ? k->c2s : k->s2c, SIG_KEY_LEN);
	replay_init(&s->rx);
	s->on = true;
}

void sig_sec_stop(struct sig_sec *s)
{
	OPENSSL_cleanse(s, sizeof(*s));
	s->on = false;
}

int sig_sec_seal(struct sig_sec *s, uint8_t *buf, size_t len, size_t cap)
{
	struct stun_builder b;
	struct stun_msg m;
	bool fp;
	int err;

	if (!s || !s->on || !buf || len > cap)
		return -EINVAL;
	if (stun_parse(buf, len, &m) < 0 || m.classic)
		return -EINVAL;
	if (m.integrity >= 0 || m.integrity_sha256 >= 0)
		return -EEXIST;
	fp = m.fingerprint >= 0;
	if (fp)
		len = m.attrs[m.fingerprint].off;
	memset(&b, 0, sizeof(b));
	b.buf = buf;
	b.cap = cap;
	b.len = len;
	stun_wr16(buf + 2, (uint16_t)(len - STUN_HDR_LEN));
	stun_build_u64(&b, SIG_ATTR_SEQ, s->tx_seq + 1);
	stun_build_integrity_sha256(&b, s->tx_key, SIG_KEY_LEN);
	if (fp)
		stun_build_fingerprint(&b);
	if ((err = stun_build_finish(&b)) < 0)
		return err == -EMSGSIZE ? -ENOSPC : err;
	s->tx_seq++;
	return err;
}

enum sig_sec_verdict sig_sec_open(struct sig_sec *s, const struct stun_msg *m)
{
	const struct stun_attr *a;
	uint64_t seq;

	if (!s || !s->on || !m)
		return SIG_SEC_MISSING;
	if (m->integrity_sha256 < 0 || !(a = stun_msg_find(m, SIG_ATTR_SEQ)) ||
	    stun_attr_get_u64(a, &seq) < 0)
		return SIG_SEC_MISSING;
	/* full length only, and nothing hidden after it but FINGERPRINT */
	if (m->attrs[m->integrity_sha256].len != STUN_HMAC_SHA256_LEN || m->ignored ||
	    m->integrity >= 0)
		return SIG_SEC_BAD_MAC;
	if (stun_check_integrity_sha256(m, s->rx_key, SIG_KEY_LEN) != 0)
		return SIG_SEC_BAD_MAC;
	if (replay_accept(&s->rx, seq) != REPLAY_NEW)
		return SIG_SEC_REPLAY;
	return SIG_SEC_OK;
}

const char *sig_sec_verdict_name(enum sig_sec_verdict v)
{
	static const char *const names[SIG_SEC_MAX] = {
		[SIG_SEC_OK] = "ok",
		[SIG_SEC_MISSING] = "no integrity",
		[SIG_SEC_BAD_MAC] = "bad integrity",
		[SIG_SEC_REPLAY] = "replayed",
	};

	return (unsigned)v < SIG_SEC_MAX ? names[v] : "?";
}
