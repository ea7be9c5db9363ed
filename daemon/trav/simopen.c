// SPDX-License-Identifier: MIT
/*
 * TCP simultaneous open (P2PNAT): both sides connect from their port to the
 * other's public endpoint at the scheduled start. The first SYN of each side
 * leaves with the discovered syn_ttl (rewritten in the queue), crosses its
 * own NAT(s) -- which now hold the outbound state -- and dies before the
 * peer's NAT, so that NAT has nothing to answer with RST. Inbound RSTs and
 * ICMP errors of the flow (the time-exceeded answering that SYN) are dropped
 * so the kernel does not abort the connect; outbound RSTs are dropped. The
 * kernel's retransmitted SYN (about 1 s later, full TTL) finds state in both
 * NATs and Linux completes the simultaneous open (SYN / SYN-ACK both ways).
 */
#include "daemon/trav/trav.h"

const struct trav_ops trav_simopen_ops = {
	.method = SIG_M_SIMOPEN, .role = trav_role_connect, .arm = trav_arm_syn_ttl,
};
