// SPDX-License-Identifier: MIT
/*
 * Connection reversal (seed figures 4-5): only the requester can accept,
 * so the responder, asked through the server (the EXCHANGE that names
 * "reversal" among the methods), connects to the requester's public
 * endpoint. The two halves are those of direct with the roles swapped:
 * the requester listens (and primes) when the peer's EXCHANGE arrives,
 * before it sends SCHEDULE; the responder connects on the SCHEDULE
 * indication, without waiting for the common start.
 */
#include "daemon/trav/trav.h"

const struct trav_ops trav_reversal_ops = {
	.method = SIG_M_REVERSAL, .flags = TRAV_F_EARLY, .role = trav_role_requester_accepts,
};
