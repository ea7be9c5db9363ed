// SPDX-License-Identifier: MIT
/*
 * Direct: the responder can accept (no NAT, or an endpoint-independent
 * mapping and filter: a full cone). It listens on its port and, behind the
 * NAT, sends a TTL-limited primer SYN so that the NAT has the mapping; the
 * requester connects to its public endpoint TRAV_CONNECT_DELAY_MS later.
 */
#include "daemon/trav.h"

enum trav_role trav_direct_role(bool requester)
{
	return requester ? TRAV_CONNECT : TRAV_ACCEPT;
}
