/* SPDX-License-Identifier: MIT */
/*
 * Internet checksums (RFC 1071) for IPv4 headers and TCP/UDP/ICMP, for
 * TCP/UDP/ICMPv6 over IPv6 (RFC 8200 8.1 pseudo header), and the
 * incremental update of RFC 1624 for a single changed 16-bit word (a TTL
 * rewrite changes one word of the IPv4 header).
 *
 * Checksum values are in host byte order; store them with pkt_put16().
 */
#ifndef STUNT_PKT_CSUM_H
#define STUNT_PKT_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* One's complement sum of big-endian 16-bit words, unfolded; odd tails padded with 0. */
uint32_t pkt_csum_add(uint32_t sum, const uint8_t *p, size_t len);

/* Fold a sum to 16 bits and complement it: the value to store in a checksum field. */
uint16_t pkt_csum_fold(uint32_t sum);

/* The IPv4 header checksum of hdr[0..hdr_len), the checksum field counted as zero. */
uint16_t pkt_csum_ip4(const uint8_t *hdr, size_t hdr_len);

/*
 * The TCP / UDP checksum over the pseudo header (saddr, daddr in network byte
 * order, proto, l4_len) and l4[0..l4_len), the checksum field at csum_off
 * counted as zero. For UDP a result of 0 is sent as 0xffff (RFC 768);
 * pkt_csum_l4() does that when proto is UDP.
 */
uint16_t pkt_csum_l4(uint32_t saddr, uint32_t daddr, uint8_t proto,
		     const uint8_t *l4, size_t l4_len, size_t csum_off);

/*
 * The same over IPv6: the pseudo header is source, destination (16 bytes
 * each), the 32-bit upper-layer length, three zero bytes and the next header
 * proto. ICMPv6 (PKT_PROTO_ICMPV6, csum_off 2) has one too. A UDP result of 0
 * is sent as 0xffff: over IPv6 a zero UDP checksum means none, which RFC 8200
 * does not allow.
 */
uint16_t pkt_csum_l4_6(const uint8_t saddr[16], const uint8_t daddr[16], uint8_t proto,
		       const uint8_t *l4, size_t l4_len, size_t csum_off);

/* The ICMP checksum (no pseudo header), the checksum field at offset 2 counted as zero. */
uint16_t pkt_csum_icmp(const uint8_t *icmp, size_t len);

/*
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), the new checksum when one 16-bit
 * word covered by checksum hc changes from old_word to new_word.
 */
uint16_t pkt_csum_update16(uint16_t hc, uint16_t old_word, uint16_t new_word);

#endif
