// SPDX-License-Identifier: MIT
/* Proof that a connection reached the session's peer: see sig_proof.h. */
#include "proto/sig_proof.h"
#include "proto/stun_auth.h"

#include <errno.h>
#include <string.h>

static const char proof_label[] = "stunt-conn-v1";

int sig_conn_proof(const uint8_t req_half[SIG_SESSION_KEY_LEN],
		   const uint8_t resp_half[SIG_SESSION_KEY_LEN], uint8_t role, uint32_t sid,
		   uint8_t method, uint8_t out[SIG_PROOF_LEN])
{
	uint8_t key[2 * SIG_SESSION_KEY_LEN], msg[sizeof(proof_label) + 6], md[32];
	struct iovec iov = { msg, sizeof(msg) };
	int err;

	if (role != SIG_PROOF_REQUESTER && role != SIG_PROOF_RESPONDER)
		return -EINVAL;
	memcpy(key, req_half, SIG_SESSION_KEY_LEN);
	memcpy(key + SIG_SESSION_KEY_LEN, resp_half, SIG_SESSION_KEY_LEN);
	/* label and its NUL, role, sid, method */
	memcpy(msg, proof_label, sizeof(proof_label));
	msg[sizeof(proof_label)] = role;
	msg[sizeof(proof_label) + 1] = (uint8_t)(sid >> 24);
	msg[sizeof(proof_label) + 2] = (uint8_t)(sid >> 16);
	msg[sizeof(proof_label) + 3] = (uint8_t)(sid >> 8);
	msg[sizeof(proof_label) + 4] = (uint8_t)sid;
	msg[sizeof(proof_label) + 5] = method;
	err = stun_hmac(STUN_HASH_SHA256, key, sizeof(key), &iov, 1, md);
	if (err < 0)
		return -EIO;
	memcpy(out, md, SIG_PROOF_LEN);
	return 0;
}

bool sig_conn_proof_ok(const uint8_t req_half[SIG_SESSION_KEY_LEN],
		       const uint8_t resp_half[SIG_SESSION_KEY_LEN], uint8_t role, uint32_t sid,
		       uint8_t method, const uint8_t proof[SIG_PROOF_LEN])
{
	uint8_t want[SIG_PROOF_LEN];

	if (sig_conn_proof(req_half, resp_half, role, sid, method, want) < 0)
		return false;
	return stun_memeq_ct(want, proof, SIG_PROOF_LEN) == 0;
}
