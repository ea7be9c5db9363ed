/* SPDX-License-Identifier: MIT */
/*
 * Proof that a TCP connection reached the session's peer (docs/security.md,
 * "The right peer"). Each side of a TCP session sends 16 random bytes, its
 * key half, in its EXCHANGE (SIG-SESSION-KEY); only the two peers (and the
 * server that relays the EXCHANGEs) know both. On a connection each side
 * proves it holds them:
 *
 *   PROOF = HMAC-SHA256(requester half | responder half,
 *                       "stunt-conn-v1" 0x00 ROLE SID(4, big-endian) METHOD)[0..16)
 *
 * ROLE is 'R' for the requester's proof (in its session header) and 'P' for
 * the responder's (the host method's hello, daemon/trav/host.c), so that
 * neither can be reflected as the other; SID and METHOD bind it to one
 * session and one attempt. A host on another LAN that happens to have the
 * peer's private address knows neither half: it can neither send a proof
 * nor learn one it could use elsewhere. Pure.
 */
#ifndef STUNT_PROTO_SIG_PROOF_H
#define STUNT_PROTO_SIG_PROOF_H

#include "proto/sig.h"

#include <stdbool.h>
#include <stdint.h>

#define SIG_PROOF_LEN		16
#define SIG_PROOF_REQUESTER	'R'
#define SIG_PROOF_RESPONDER	'P'

/* 0, or -EINVAL (bad role) / -EIO (HMAC failed) */
int sig_conn_proof(const uint8_t req_half[SIG_SESSION_KEY_LEN],
		   const uint8_t resp_half[SIG_SESSION_KEY_LEN], uint8_t role, uint32_t sid,
		   uint8_t method, uint8_t out[SIG_PROOF_LEN]);
/* Is proof right for these inputs (constant-time compare)? */
bool sig_conn_proof_ok(const uint8_t req_half[SIG_SESSION_KEY_LEN],
		       const uint8_t resp_half[SIG_SESSION_KEY_LEN], uint8_t role, uint32_t sid,
		       uint8_t method, const uint8_t proof[SIG_PROOF_LEN]);

#endif
