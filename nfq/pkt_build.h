/* SPDX-License-Identifier: MIT */
/*
 * Packet rewriting and building: TTL rewrite with an incremental checksum
 * (IPv4) or hop limit rewrite (IPv6, no header checksum),
 * checksum repair after arbitrary edits, and whole IPv4+TCP packets (the
 * SYN-ACK of the synthesis method) built from parameters. Pure functions.
 */
#ifndef STUNT_PKT_BUILD_H
#define STUNT_PKT_BUILD_H

#include "nfq/pkt.h"

#include <stddef.h>
#include <stdint.h>

/*
 * Set the TTL of the IPv4 datagram in p[0..len) and update the header
 * checksum incrementally (RFC 1624), or the hop limit of the IPv6 packet
 * there (no checksum covers it). Only the fixed header is looked at, so it
 * also works on a fragment. Returns 0, or -errno as pkt_parse() does for the
 * header.
 */
int pkt_set_ttl(uint8_t *p, size_t len, uint8_t ttl);

/*
 * Recompute every checksum of the datagram in p[0..len) after arbitrary
 * edits: the IPv4 header, and the TCP / UDP / ICMP checksum when the datagram
 * is not a fragment (a fragment's L4 checksum covers bytes we do not have).
 * A UDP checksum of zero ("none") is left at zero. IPv6: TCP / UDP / ICMPv6
 * with the IPv6 pseudo header (a zero UDP checksum is computed too: RFC 8200
 * allows none), except when a routing header has segments left: the pseudo
 * header then holds a final destination that is not in the fixed header, and
 * the checksum is left as it is. Returns 0 or -errno.
 */
int pkt_fix_checksums(uint8_t *p, size_t len);

/* Parameters of a TCP packet over IPv4 or IPv6. IPv4 addresses in network byte order. */
struct pkt_tcp_spec {
	uint8_t family;           /* AF_INET (or 0) or AF_INET6 */
	uint32_t saddr;           /* AF_INET */
	uint32_t daddr;
	uint8_t saddr6[16];       /* AF_INET6 */
	uint8_t daddr6[16];
	uint16_t sport;
	uint16_t dport;
	uint32_t seq;
	uint32_t ack;
	uint8_t flags;            /* PKT_TCP_* */
	uint16_t window;
	uint8_t ttl;              /* IPv6: the hop limit */
	uint16_t ip_id;           /* IPv4 only */
	uint8_t tos;              /* IPv6: the traffic class */
	int dont_fragment;        /* set DF, as Linux does on TCP (IPv4 only) */
	struct pkt_tcpopts opt;   /* present: PKT_OPT_MSS|WSCALE|SACK_OK|TS */
	const uint8_t *payload;
	size_t payload_len;
};

/* Bytes of TCP options pkt_build_tcp() writes for opt (a multiple of 4, at most 40). */
size_t pkt_tcpopts_len(const struct pkt_tcpopts *opt);

/*
 * Build the packet into buf[0..cap), all checksums set; *out_len gets its
 * length. Options are laid out as Linux does (MSS, SACK-permitted,
 * timestamps, NOP, window scale) and padded with NOPs. SACK blocks are never
 * written. Returns 0, -EINVAL (no spec / too much payload) or -ENOSPC.
 */
int pkt_build_tcp(const struct pkt_tcp_spec *s, uint8_t *buf, size_t cap, size_t *out_len);

#endif
