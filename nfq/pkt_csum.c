// SPDX-License-Identifier: MIT
/* Internet checksum: RFC 1071 sums, RFC 1624 incremental update. */
#include "nfq/pkt_csum.h"

#include "nfq/pkt.h"

#include <string.h>

uint32_t pkt_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2) {
		sum += pkt_get16(p + i);
		/* fold early so that no length up to 64 KiB can overflow 32 bits */
		sum = (sum & 0xffff) + (sum >> 16);
	}
	if (len & 1) {
		sum += (uint32_t)p[len - 1] << 8;
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return sum;
}

uint16_t pkt_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Sum of buf with the 16-bit field at csum_off treated as zero. */
static uint32_t sum_skip(uint32_t sum, const uint8_t *p, size_t len, size_t csum_off)
{
	if (csum_off + 2 > len)
		return pkt_csum_add(sum, p, len);
	sum = pkt_csum_add(sum, p, csum_off);
	/* csum_off is even for every header we handle, so word alignment is kept */
	return pkt_csum_add(sum, p + csum_off + 2, len - csum_off - 2);
}

uint16_t pkt_csum_ip4(const uint8_t *hdr, size_t hdr_len)
{
	return pkt_csum_fold(sum_skip(0, hdr, hdr_len, 10));
}

uint16_t pkt_csum_l4(uint32_t saddr, uint32_t daddr, uint8_t proto,
		     const uint8_t *l4, size_t l4_len, size_t csum_off)
{
	uint8_t ph[12];
	uint16_t c;

	/* pseudo header: source, destination, zero, protocol, L4 length */
	memcpy(ph, &saddr, 4);
	memcpy(ph + 4, &daddr, 4);
	ph[8] = 0;
	ph[9] = proto;
	pkt_put16(ph + 10, (uint16_t)l4_len);
	c = pkt_csum_fold(sum_skip(pkt_csum_add(0, ph, sizeof(ph)), l4, l4_len, csum_off));
	/* RFC 768: "If the computed checksum is zero, it is transmitted as all ones" */
	if (proto == PKT_PROTO_UDP && c == 0)
		c = 0xffff;
	return c;
}

uint16_t pkt_csum_l4_6(const uint8_t saddr[16], const uint8_t daddr[16], uint8_t proto,
		       const uint8_t *l4, size_t l4_len, size_t csum_off)
{
	uint8_t ph[40];
	uint16_t c;

	memcpy(ph, saddr, 16);
	memcpy(ph + 16, daddr, 16);
	pkt_put32(ph + 32, (uint32_t)l4_len);
	ph[36] = ph[37] = ph[38] = 0;
	ph[39] = proto;
	c = pkt_csum_fold(sum_skip(pkt_csum_add(0, ph, sizeof(ph)), l4, l4_len, csum_off));
	if (proto == PKT_PROTO_UDP && c == 0)
		c = 0xffff;
	return c;
}

uint16_t pkt_csum_icmp(const uint8_t *icmp, size_t len)
{
	return pkt_csum_fold(sum_skip(0, icmp, len, 2));
}

uint16_t pkt_csum_update16(uint16_t hc, uint16_t old_word, uint16_t new_word)
{
	uint32_t sum = (uint16_t)~hc;

	sum += (uint16_t)~old_word;
	sum += new_word;
	return pkt_csum_fold(sum);
}
