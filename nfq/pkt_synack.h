/* SPDX-License-Identifier: MIT */
/*
 * The SYN-ACK one side's kernel must receive "from the peer" so that it
 * agrees with what the peer's kernel will do (STUNT #1: stunt-server sends
 * it; the literal SYN-ACK synthesis: the daemon injects it locally). Pure.
 *
 * A SYN is described by what its sender's kernel chose: the sequence
 * number, the window and the options. For the SYN-ACK to "own" (the side
 * receiving it) from "peer":
 *   seq = peer ISN, ack = own ISN + 1, window = the peer SYN's window;
 *   MSS = the peer's (when its SYN had one);
 *   window scale = the peer's, only when both SYNs offered it (RFC 7323
 *     2.2: either side not offering it disables it for both);
 *   SACK-permitted only when both offered it (RFC 2018);
 *   timestamps only when both offered them: TSval = the peer SYN's TSval
 *     (the peer's clock), TSecr = own SYN's TSval (Linux drops a SYN-ACK
 *     whose TSecr it did not send).
 * Both kernels then hold the same view of the connection: what each will
 * send is what the other expects.
 */
#ifndef STUNT_PKT_SYNACK_H
#define STUNT_PKT_SYNACK_H

#include "nfq/pkt_build.h"

#include <stdint.h>

struct pkt_syn_desc {
	uint32_t		seq;
	uint16_t		window;
	struct pkt_tcpopts	opt;	/* PKT_OPT_MSS|WSCALE|SACK_OK|TS */
};

/* Fill the description from a parsed SYN (-EINVAL if k is no TCP SYN). */
int pkt_syn_desc_from(const struct pkt *k, struct pkt_syn_desc *d);

/*
 * The SYN-ACK from peer_addr:peer_port (the peer's public endpoint) to
 * own_addr:own_port, as above, TTL ttl (0: 64), DF set, into out.
 * Addresses in network order.
 */
void pkt_synack_spec(const struct pkt_syn_desc *own, const struct pkt_syn_desc *peer,
		     uint32_t peer_addr, uint16_t peer_port, uint32_t own_addr, uint16_t own_port,
		     uint8_t ttl, struct pkt_tcp_spec *out);

#endif
