// SPDX-License-Identifier: MIT
/* A SYN-ACK consistent with both SYNs: see pkt_synack.h. */
#include "nfq/pkt_synack.h"

#include <errno.h>
#include <string.h>

#define SYNACK_TTL	64

int pkt_syn_desc_from(const struct pkt *k, struct pkt_syn_desc *d)
{
	if (!k || !d || k->l4 != PKT_L4_TCP ||
	    (k->tcp.flags & (PKT_TCP_SYN | PKT_TCP_ACK | PKT_TCP_RST)) != PKT_TCP_SYN)
		return -EINVAL;
	memset(d, 0, sizeof(*d));
	d->seq = k->tcp.seq;
	d->window = k->tcp.window;
	d->opt = k->tcp.opt;
	d->opt.present &= PKT_OPT_MSS | PKT_OPT_WSCALE | PKT_OPT_SACK_OK | PKT_OPT_TS;
	d->opt.sack_blocks = 0;
	d->opt.ts_ecr = 0;
	return 0;
}

void pkt_synack_spec(const struct pkt_syn_desc *own, const struct pkt_syn_desc *peer,
		     uint32_t peer_addr, uint16_t peer_port, uint32_t own_addr, uint16_t own_port,
		     uint8_t ttl, struct pkt_tcp_spec *out)
{
	uint32_t both = own->opt.present & peer->opt.present;

	memset(out, 0, sizeof(*out));
	out->saddr = peer_addr;
	out->daddr = own_addr;
	out->sport = peer_port;
	out->dport = own_port;
	out->seq = peer->seq;
	out->ack = own->seq + 1;
	out->flags = PKT_TCP_SYN | PKT_TCP_ACK;
	out->window = peer->window;
	out->ttl = ttl ? ttl : SYNACK_TTL;
	out->dont_fragment = 1;
	if (peer->opt.present & PKT_OPT_MSS) {
		out->opt.present |= PKT_OPT_MSS;
		out->opt.mss = peer->opt.mss;
	}
	if (both & PKT_OPT_WSCALE) {
		out->opt.present |= PKT_OPT_WSCALE;
		out->opt.wscale = peer->opt.wscale;
	}
	if (both & PKT_OPT_SACK_OK)
		out->opt.present |= PKT_OPT_SACK_OK;
	if (both & PKT_OPT_TS) {
		out->opt.present |= PKT_OPT_TS;
		out->opt.ts_val = peer->opt.ts_val;
		out->opt.ts_ecr = own->opt.ts_val;
	}
}
