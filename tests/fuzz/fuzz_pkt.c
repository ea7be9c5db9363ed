// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the IPv4 packet functions: parse; on success rewrite the TTL
 * and recompute every checksum on an exact-size heap copy, then check that
 * the rewritten packet parses again to the same shape; and build a TCP packet
 * from what was parsed.
 */
#include "nfq/pkt.h"
#include "nfq/pkt_build.h"
#include "nfq/pkt_csum.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkt k, k2;
	struct pkt_tcp_spec s;
	uint8_t *c, out[128];
	size_t n;

	pkt_parse_tcpopts(data, size < 40 ? size : 40, &k.tcp.opt);
	/* IPv6 has its own target (fuzz_pkt6.c) */
	if (pkt_parse(data, size, &k) != 0 || k.family != AF_INET)
		return 0;
	c = malloc(size ? size : 1);
	if (c == NULL)
		return 0;
	memcpy(c, data, size);
	if (pkt_set_ttl(c, size, (uint8_t)(k.ip.ttl - 1)) != 0)
		abort();
	/* the incremental update must agree with a full recompute */
	if (pkt_get16(c + 10) != pkt_csum_ip4(c, k.ip.hdr_len) &&
	    pkt_csum_fold(pkt_csum_add(0, data, k.ip.hdr_len)) == 0)
		abort();
	if (pkt_fix_checksums(c, size) != 0)
		abort();
	if (pkt_parse(c, size, &k2) != 0 || k2.l4 != k.l4 || k2.len != k.len ||
	    k2.payload_len != k.payload_len)
		abort();
	free(c);

	if (k.l4 == PKT_L4_TCP) {
		memset(&s, 0, sizeof(s));
		s.saddr = k.ip.daddr;
		s.daddr = k.ip.saddr;
		s.sport = k.tcp.dport;
		s.dport = k.tcp.sport;
		s.seq = k.tcp.ack;
		s.ack = k.tcp.seq + 1;
		s.flags = PKT_TCP_SYN | PKT_TCP_ACK;
		s.opt = k.tcp.opt;
		s.ttl = 64;
		if (pkt_build_tcp(&s, out, sizeof(out), &n) != 0 || pkt_parse(out, n, &k2) != 0)
			abort();
		if ((k2.tcp.opt.present & ~(uint32_t)PKT_OPT_SACK) !=
		    (k.tcp.opt.present & ~(uint32_t)PKT_OPT_SACK))
			abort();
	}
	return 0;
}
