// SPDX-License-Identifier: MIT
/*
 * SYN-ACK synthesis, and what stuntd does instead.
 *
 * The literal method (NATBlaster without spoofing across the network):
 * both sides send TTL-limited SYNs, swap sequence numbers and options, and
 * each daemon hands its own kernel a SYN-ACK "from the peer"; the kernel's
 * ACK is to complete the connection through both NATs. Through a Linux NAT
 * it cannot: measured in the lab (port-restricted x port-restricted), gwa's
 * conntrack holds our SYN in SYN_SENT; an ORIGINAL-direction ACK in
 * SYN_SENT is INVALID for nf_conntrack, an invalid packet has no
 * conntrack entry and is not translated, and our ACK leaves gwa's WAN
 * with its private source (10.1.0.10.40001 > 198.18.2.2.40001: Flags [.],
 * the entry staying SYN_SENT [UNREPLIED]). The peer's NAT sees nothing of
 * the kind it could match, and our kernel, believing itself established,
 * retransmits data into the void. (A SYN-ACK in the original direction is
 * as invalid unless the NAT has seen the peer's SYN: SYN_SENT2.)
 *
 * So "synth" keeps each kernel's view and each NAT's view consistent the
 * only way Linux conntrack accepts: a real simultaneous open, without the
 * wait. Both sides connect at the common start with the first SYN
 * TTL-limited (as simopen); the queue reports it (trav_syn_left) and we
 * RELAY "syn" to the peer. When both our SYN and the peer's have left --
 * so both NATs hold outbound state -- we send our SYN again, synthesized
 * from what the queue saw (same sequence number, window and options, full
 * TTL, injected on a raw socket): it crosses the peer's NAT as the reply
 * direction of its SYN (SYN_SENT2), the peer's kernel in SYN_SENT answers
 * with a SYN-ACK, and the handshake completes through state both NATs
 * already hold -- in about one signalling round trip instead of the
 * kernel's first SYN retransmission (1 s, RFC 6298 initial RTO).
 */
#include "daemon/trav/trav.h"

#include <string.h>

/* Our SYN left: tell the peer, and send it again if the peer's did too. */
static void syn_left(struct trav_attempt *a, int win)
{
	(void)win;
	a->events->signal(a, "syn", sig_method_name(a->method));
	trav_sock_syn_again(a, &a->syn, a->lport, a->rport);
}

/* The peer's SYN left (its RELAY "syn synth"). */
static void peer_signal(struct trav_attempt *a, const char *verb, const char *text)
{
	(void)text;
	if (strcmp(verb, "syn"))
		return;
	a->peer_syn = true;
	trav_sock_syn_again(a, &a->syn, a->lport, a->rport);
}

const struct trav_ops trav_synth_ops = {
	.method = SIG_M_SYNTH, .flags = TRAV_F_REPORT_SYN, .role = trav_role_connect,
	.arm = trav_arm_syn_ttl, .syn_left = syn_left, .peer_signal = peer_signal,
};
