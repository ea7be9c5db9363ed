// SPDX-License-Identifier: MIT
/*
 * Direct: the responder can accept (no NAT, or an endpoint-independent
 * mapping and filter: a full cone). It listens on its port and, behind the
 * NAT, sends a TTL-limited primer SYN so that the NAT has the mapping, both
 * before it sends its EXCHANGE; the requester connects to its public
 * endpoint as soon as it receives that EXCHANGE (no common start).
 */
#include "daemon/trav/trav.h"

const struct trav_ops trav_direct_ops = {
	.method = SIG_M_DIRECT, .flags = TRAV_F_EARLY, .role = trav_role_responder_accepts,
};
