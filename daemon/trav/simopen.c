// SPDX-License-Identifier: MIT
/*
 * TCP simultaneous open (P2PNAT): both sides connect from their port to the
 * other's public endpoint at the scheduled start. The first SYN of each side
 * leaves with the discovered syn_ttl (rewritten in the queue), crosses its
 * own NAT(s) -- which now hold the outbound state -- and dies before the
 * peer's NAT, so that NAT has nothing to answer with RST. Inbound RSTs and
 * ICMP errors of the flow (the time-exceeded answering that SYN) are dropped
 * so the kernel does not abort the connect; outbound RSTs are dropped. The
 * queue reports that first SYN, and from TRAV_PACE_FIRST_MS later the
 * daemon's clock (daemon/trav/pace.h) sends it again at full TTL until the
 * flow is answered: by then the peer's first SYN has left too (both sides
 * start at the common start), so both NATs hold outbound state, the copy
 * crosses the peer's NAT as the reply direction of its flow and Linux
 * completes the simultaneous open (SYN / SYN-ACK both ways). A copy that
 * arrives before the peer's SYN left is dropped or answered with a RST by
 * its NAT (our guard drops that RST) and the next copy goes on. With --syn-pacing
 * off the kernel's retransmitted SYN (about 1 s later, full TTL) does it.
 * synth is the same with the first copy timed by the peer's signal.
 */
#include "daemon/trav/trav.h"

#include "common/clock.h"

/* Our first SYN left (TTL-limited): its full-TTL copies from now on. */
static void syn_left(struct trav_attempt *a, int win)
{
	(void)win;
	if (g_d->cfg.syn_pacing)
		trav_pace_start(&a->syn.pace, clock_ms());
}

const struct trav_ops trav_simopen_ops = {
	.method = SIG_M_SIMOPEN, .flags = TRAV_F_REPORT_SYN, .role = trav_role_connect,
	.arm = trav_arm_syn_ttl, .syn_left = syn_left,
};
