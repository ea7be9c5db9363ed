// SPDX-License-Identifier: MIT
/*
 * STUNT #2: the responder's public port is predictable (endpoint-
 * independent mapping, port preserved) but its filter would drop the
 * requester's SYN. At the start the responder sends one SYN from its port
 * to the requester's public endpoint, TTL-limited so that it crosses its
 * own NAT(s) -- which now let that endpoint in -- and dies before the
 * requester's NAT, which therefore has nothing to answer. The requester
 * connects TRAV_STUNT2_DELAY_MS later with a plain SYN, through the state
 * that SYN left.
 *
 * The seeds abandon that socket (no RST leaves the host) and listen on the
 * same port. Through a Linux NAT that cannot work: its connection tracking
 * holds the abandoned SYN's sequence number, and the listener answers the
 * requester with a SYN-ACK carrying a new ISN (the same hash, ~250 ms later:
 * ~4 million further on), far outside the window the tracker allows, so
 * the SYN-ACK is "invalid", is not translated, and leaves the NAT with its
 * private source address (seen in the lab: gwb forwards 10.2.0.10 > ...).
 * So the responder keeps the socket of its SYN in SYN_SENT instead of
 * abandoning it: the requester's SYN reaches that socket (an exact match
 * takes precedence over any listener anyway), which answers with a SYN-ACK
 * of the same ISN as its SYN, which the tracker accepts. Its inbound RSTs
 * and ICMP errors (the time-exceeded of its SYN) are dropped as for simopen,
 * its outbound RSTs always. Unlike simopen, the requester's SYN is not
 * TTL-limited and need not be simultaneous: it is sent only once the
 * responder's NAT expects it.
 */
#include "daemon/trav/trav.h"

/* The responder's SYN TTL-limited, the requester's plain and later. */
static void arm(struct trav_attempt *a, const struct trav_peer *p, int syn_ttl)
{
	(void)p;
	a->ttl = a->requester ? 0 : syn_ttl;
	if (a->requester)
		a->start_at += TRAV_STUNT2_DELAY_MS;
}

const struct trav_ops trav_stunt2_ops = {
	.method = SIG_M_STUNT2, .role = trav_role_connect, .arm = arm,
};
