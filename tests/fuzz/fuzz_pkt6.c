// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the IPv6 packet functions: parse (the input is taken
 * as IPv6 whatever its first byte, so that every input exercises the
 * extension header walk); on success rewrite the hop limit and recompute
 * every checksum on an exact-size heap copy, then check that the rewritten
 * packet parses again to the same shape, that only the hop limit and the
 * checksum field changed, and that a recomputed TCP / UDP / ICMPv6 checksum
 * verifies (the sum over the pseudo header and the data is 0xffff).
 */
#include "nfq/pkt.h"
#include "nfq/pkt_build.h"
#include "nfq/pkt_csum.h"

#include <stdlib.h>
#include <string.h>

/* offset of the L4 checksum field in k's L4 header, or 0 when there is none to fix */
static size_t csum_field(const struct pkt *k)
{
	if (k->fragment || k->l4_off == 0 || k->ip6.rh_segleft != 0)
		return 0;
	switch (k->l4) {
	case PKT_L4_TCP:
		return k->l4_off + 16;
	case PKT_L4_UDP:
		return k->l4_off + 6;
	case PKT_L4_ICMP6:
		return k->l4_off + 2;
	default:
		return 0;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkt k, k2;
	uint8_t *c, ph[40];
	size_t i, cf, l4len;

	if (pkt_parse6(data, size, &k) != 0)
		return 0;
	if (k.family != AF_INET6 || k.len > size || k.l4_off > k.len ||
	    k.payload_off > k.len || (k.l4 != PKT_L4_NONE && k.l4_off < PKT_IP6_HDR))
		abort();
	/* pkt_parse() dispatches an IPv6 packet to the same parser */
	if (pkt_parse(data, size, &k2) != 0 || k2.l4 != k.l4 || k2.len != k.len)
		abort();
	c = malloc(size ? size : 1);
	if (c == NULL)
		return 0;
	memcpy(c, data, size);
	if (pkt_set_ttl(c, size, (uint8_t)(k.ip6.hop_limit - 1)) != 0 ||
	    c[7] != (uint8_t)(k.ip6.hop_limit - 1))
		abort();
	if (pkt_fix_checksums(c, size) != 0)
		abort();
	cf = csum_field(&k);
	for (i = 0; i < size; i++)
		if (c[i] != data[i] && i != 7 && (cf == 0 || (i != cf && i != cf + 1)))
			abort();
	if (cf) {
		/* the receiver's check, written out: pseudo header + data sum to all ones */
		l4len = k.l4 == PKT_L4_UDP ? k.udp.len : k.l4_len;
		memcpy(ph, k.ip6.saddr, 16);
		memcpy(ph + 16, k.ip6.daddr, 16);
		pkt_put32(ph + 32, (uint32_t)l4len);
		memset(ph + 36, 0, 3);
		ph[39] = k.ip6.proto;
		if (pkt_csum_fold(pkt_csum_add(pkt_csum_add(0, ph, sizeof(ph)), c + k.l4_off,
					       l4len)) != 0)
			abort();
	}
	if (pkt_parse6(c, size, &k2) != 0 || k2.l4 != k.l4 || k2.len != k.len ||
	    k2.payload_len != k.payload_len || k2.ip6.proto != k.ip6.proto ||
	    k2.icmp.quote.valid != k.icmp.quote.valid ||
	    k2.icmp.quote.has_ports != k.icmp.quote.has_ports)
		abort();
	free(c);
	return 0;
}
