/* SPDX-License-Identifier: MIT */
/*
 * What the IPv4 parser (pkt.c) and the IPv6 one (pkt6.c) share: the L4
 * headers on top of either, and the quoted packet of an ICMP error. Not an
 * API: callers use pkt_parse() (pkt.h).
 */
#ifndef STUNT_PKT_L4_H
#define STUNT_PKT_L4_H

#include "nfq/pkt.h"

#include <stddef.h>
#include <stdint.h>

/*
 * Parse the L4 header of protocol proto at p[off..k->len) into k (k->family,
 * k->len and k->fragment already set): TCP, UDP, ICMP in IPv4, ICMPv6 in
 * IPv6, anything else as PKT_L4_OTHER. Sets l4, l4_off, l4_len, payload_off
 * and payload_len. A fragment too short for its L4 header is PKT_L4_NONE.
 * 0 or -errno as pkt_parse().
 */
int pkt_parse_l4(const uint8_t *p, size_t off, uint8_t proto, struct pkt *k);

/*
 * The ports and sequence number of a quote whose original L4 header of
 * protocol proto starts at p and has l4 bytes left in the quote.
 */
void pkt_quote_l4(struct pkt_quote *q, uint8_t proto, const uint8_t *p, size_t l4);

/*
 * The quote of an ICMPv6 error: the IPv6 packet at pkt[off..end). A quote
 * that is not IPv6 leaves q->valid at 0; one whose extension headers are cut
 * short or malformed is valid but has no ports.
 */
void pkt_parse_quote6(const uint8_t *pkt, size_t off, size_t end, struct pkt_quote *q);

#endif
