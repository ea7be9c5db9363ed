// SPDX-License-Identifier: MIT
/*
 * IPv6 in pkt_parse() and the rewriting functions: real packets field by
 * field, every truncation, malformed and overlong extension header chains,
 * fragments, ICMPv6 errors and their quotes, hop limit and checksums. The
 * checksums in the packets below were computed independently (Python), so
 * pkt_fix_checksums() leaving them unchanged checks its pseudo header.
 */
#include "nfq/pkt.h"
#include "nfq/pkt_build.h"
#include "nfq/pkt_csum.h"
#include "tests/unit/tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>

/* A SYN from [2001:db8:1::10]:40000 to [2001:db8:2::5]:5900, flow label 0x12345. */
static const uint8_t syn6[80] = {
	/* IPv6 */
	0x60, 0x01, 0x23, 0x45, /* version 6, traffic class 0, flow label 0x12345 */
	0x00, 0x28, 0x06, 0x40, /* payload length 40, next header TCP, hop limit 64 */
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, /* 2001:db8:1::10 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x02, 0x00, 0x00, /* 2001:db8:2::5 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
	/* TCP */
	0x9c, 0x40, 0x17, 0x0c, /* ports 40000 -> 5900 */
	0x6b, 0x8b, 0x45, 0x67, /* seq */
	0x00, 0x00, 0x00, 0x00, /* ack */
	0xa0, 0x02, 0xfd, 0x20, /* doff 10, SYN, window 64800 */
	0xa8, 0xe8, 0x00, 0x00, /* checksum, urgent pointer */
	0x02, 0x04, 0x05, 0xa0, /* MSS 1440 */
	0x04, 0x02,             /* SACK permitted */
	0x08, 0x0a, 0x00, 0x01, 0xe2, 0x40, 0x00, 0x00, 0x00, 0x00, /* TS 123456, 0 */
	0x01, 0x03, 0x03, 0x07, /* NOP, window scale 7 */
};

/* Router 2001:db8:ff::1 answers that SYN (hop limit 1 when it died) with time exceeded. */
static const uint8_t icmp6_te[128] = {
	0x60, 0x00, 0x00, 0x00,
	0x00, 0x58, 0x3a, 0x40, /* payload length 88, ICMPv6, hop limit 64 */
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0xff, 0x00, 0x00, /* from 2001:db8:ff::1 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, /* to 2001:db8:1::10 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
	/* ICMPv6 */
	0x03, 0x00, 0x16, 0xa9, /* time exceeded, hop limit; checksum */
	0x00, 0x00, 0x00, 0x00, /* unused */
	/* the whole SYN, quoted */
	0x60, 0x01, 0x23, 0x45, 0x00, 0x28, 0x06, 0x01,
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x02, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
	0x9c, 0x40, 0x17, 0x0c, 0x6b, 0x8b, 0x45, 0x67,
	0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xfd, 0x20,
	0xa8, 0xe8, 0x00, 0x00, 0x02, 0x04, 0x05, 0xa0,
	0x04, 0x02, 0x08, 0x0a, 0x00, 0x01, 0xe2, 0x40,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};

/* UDP [2001:db8:1::10]:54321 -> [2001:db8:2::5]:3478 carrying "abcd". */
static const uint8_t udp6[52] = {
	0x60, 0x00, 0x00, 0x00,
	0x00, 0x0c, 0x11, 0x40, /* payload length 12, UDP, hop limit 64 */
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x02, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
	0xd4, 0x31, 0x0d, 0x96, /* ports */
	0x00, 0x0c, 0xfd, 0xbd, /* length 12, checksum */
	'a', 'b', 'c', 'd',
};

/* The SYN behind hop-by-hop, destination options, routing and an atomic fragment header. */
static const uint8_t chain6[112] = {
	0x60, 0x00, 0x00, 0x00,
	0x00, 0x48, 0x00, 0x40, /* payload length 72, next header hop-by-hop */
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x02, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
	0x3c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, /* @40 hop-by-hop: next dstopts, PadN */
	0x2b, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, /* @48 dstopts: next routing, PadN */
	0x2c, 0x00, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, /* @56 routing: next fragment, type 253, 0 left */
	0x06, 0x00, 0x00, 0x00, 0x11, 0x22, 0x33, 0x44, /* @64 fragment: next TCP, offset 0, no M */
	0x9c, 0x40, 0x17, 0x0c, 0x6b, 0x8b, 0x45, 0x67, /* @72 the SYN's TCP header */
	0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xfd, 0x20,
	0xa8, 0xe8, 0x00, 0x00, 0x02, 0x04, 0x05, 0xa0,
	0x04, 0x02, 0x08, 0x0a, 0x00, 0x01, 0xe2, 0x40,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};

static int addr_is(const uint8_t a[16], const char *s)
{
	uint8_t b[16];

	inet_pton(AF_INET6, s, b);
	return memcmp(a, b, 16) == 0;
}

/* an exact-size heap copy, so that ASan sees any read past the end */
static uint8_t *dup_n(const uint8_t *p, size_t n)
{
	uint8_t *b = malloc(n ? n : 1);

	memcpy(b, p, n);
	return b;
}

static void parses_syn6(void)
{
	struct pkt k;

	CHECK_EQ(pkt_parse(syn6, sizeof(syn6), &k), 0);
	CHECK_EQ(k.family, AF_INET6);
	CHECK_EQ(k.len, 80);
	CHECK_EQ(k.ip6.flow, 0x12345);
	CHECK_EQ(k.ip6.tclass, 0);
	CHECK_EQ(k.ip6.payload_len, 40);
	CHECK_EQ(k.ip6.hop_limit, 64);
	CHECK_EQ(k.ip6.next, PKT_PROTO_TCP);
	CHECK_EQ(k.ip6.proto, PKT_PROTO_TCP);
	CHECK_EQ(k.ip6.n_ext, 0);
	CHECK(addr_is(k.ip6.saddr, "2001:db8:1::10"));
	CHECK(addr_is(k.ip6.daddr, "2001:db8:2::5"));
	CHECK_EQ(k.ip.saddr, 0);        /* the IPv4 header stays zero */
	CHECK_EQ(k.ip.hdr_len, 0);
	CHECK_EQ(k.fragment, 0);
	CHECK_EQ(k.l4, PKT_L4_TCP);
	CHECK_EQ(k.l4_off, 40);
	CHECK_EQ(k.l4_len, 40);
	CHECK_EQ(k.tcp.sport, 40000);
	CHECK_EQ(k.tcp.dport, 5900);
	CHECK_EQ(k.tcp.seq, 0x6b8b4567);
	CHECK_EQ(k.tcp.flags, PKT_TCP_SYN);
	CHECK_EQ(k.tcp.opt.mss, 1440);
	CHECK_EQ(k.tcp.opt.present, PKT_OPT_MSS | PKT_OPT_SACK_OK | PKT_OPT_TS | PKT_OPT_WSCALE);
	CHECK_EQ(k.payload_off, 80);
	CHECK_EQ(k.payload_len, 0);
	/* pkt_parse6() says the same */
	CHECK_EQ(pkt_parse6(syn6, sizeof(syn6), &k), 0);
	CHECK_EQ(k.tcp.seq, 0x6b8b4567);
}

static void parses_icmp6_time_exceeded_quote(void)
{
	struct pkt k;

	CHECK_EQ(pkt_parse(icmp6_te, sizeof(icmp6_te), &k), 0);
	CHECK_EQ(k.l4, PKT_L4_ICMP6);
	CHECK(addr_is(k.ip6.saddr, "2001:db8:ff::1"));
	CHECK_EQ(k.icmp.type, PKT_ICMP6_TIMXCEED);
	CHECK_EQ(k.icmp.code, 0);
	CHECK_EQ(k.icmp.csum, 0x16a9);
	CHECK(k.icmp.quote.valid);
	CHECK_EQ(k.icmp.quote.family, AF_INET6);
	CHECK_EQ(k.icmp.quote.off, 48);
	CHECK_EQ(k.icmp.quote.ip6.hop_limit, 1);
	CHECK_EQ(k.icmp.quote.ip6.proto, PKT_PROTO_TCP);
	CHECK_EQ(k.icmp.quote.ip6.payload_len, 40);
	CHECK(addr_is(k.icmp.quote.ip6.saddr, "2001:db8:1::10"));
	CHECK(addr_is(k.icmp.quote.ip6.daddr, "2001:db8:2::5"));
	CHECK(k.icmp.quote.has_ports);
	CHECK_EQ(k.icmp.quote.sport, 40000);
	CHECK_EQ(k.icmp.quote.dport, 5900);
	CHECK(k.icmp.quote.has_seq);
	CHECK_EQ(k.icmp.quote.seq, 0x6b8b4567);
	CHECK_EQ(k.icmp.quote.l4_len, 40);
}

static void icmp6_unreachable_quotes_too(void)
{
	uint8_t b[sizeof(icmp6_te)];
	struct pkt k;

	memcpy(b, icmp6_te, sizeof(b));
	b[40] = PKT_ICMP6_UNREACH;
	b[41] = 1;              /* administratively prohibited */
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), 0);
	CHECK_EQ(k.icmp.type, PKT_ICMP6_UNREACH);
	CHECK(k.icmp.quote.valid && k.icmp.quote.has_seq);
	CHECK_EQ(k.icmp.quote.dport, 5900);
	CHECK(pkt_icmp6_is_error(PKT_ICMP6_PACKET_TOO_BIG));
	CHECK(pkt_icmp6_is_error(PKT_ICMP6_PARAMPROB));
	CHECK(!pkt_icmp6_is_error(0));
	CHECK(!pkt_icmp6_is_error(127));
	CHECK(!pkt_icmp6_is_error(PKT_ICMP6_ECHO));
}

static void icmp6_echo_and_garbage_quotes(void)
{
	uint8_t b[sizeof(icmp6_te)];
	struct pkt k;

	memcpy(b, icmp6_te, sizeof(b));
	b[40] = PKT_ICMP6_ECHO;
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), 0);
	CHECK_EQ(k.l4, PKT_L4_ICMP6);
	CHECK(!k.icmp.quote.valid);

	/* an ICMPv6 error quoting an IPv4 header: not a quote */
	memcpy(b, icmp6_te, sizeof(b));
	b[48] = 0x45;
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), 0);
	CHECK(!k.icmp.quote.valid);
	CHECK(!k.icmp.quote.has_ports);

	/* the quoted packet's next header is a destination options header cut off by the quote */
	memcpy(b, icmp6_te, sizeof(b));
	b[54] = PKT_PROTO_DSTOPTS;
	b[89] = 0xff;           /* its length: 2048 bytes */
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), 0);
	CHECK(k.icmp.quote.valid);
	CHECK(!k.icmp.quote.has_ports);

	/* a quoted non-first fragment has no ports */
	memcpy(b, icmp6_te, sizeof(b));
	b[54] = PKT_PROTO_FRAGMENT;
	b[88] = PKT_PROTO_TCP;
	b[89] = 0;
	pkt_put16(b + 90, 8 << 3);      /* offset 64 bytes */
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), 0);
	CHECK(k.icmp.quote.valid);
	CHECK(k.icmp.quote.ip6.has_frag);
	CHECK(!k.icmp.quote.has_ports);
}

static void icmp_family_mismatch_is_other(void)
{
	uint8_t b[sizeof(icmp6_te)];
	struct pkt k;

	/* ICMP (v4's protocol 1) in IPv6 means nothing: some other protocol */
	memcpy(b, icmp6_te, sizeof(b));
	b[6] = PKT_PROTO_ICMP;
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), 0);
	CHECK_EQ(k.l4, PKT_L4_OTHER);
	CHECK_EQ(k.l4_off, 40);
	CHECK(!k.icmp.quote.valid);
}

static void parses_udp6(void)
{
	uint8_t b[sizeof(udp6)];
	struct pkt k;

	CHECK_EQ(pkt_parse(udp6, sizeof(udp6), &k), 0);
	CHECK_EQ(k.l4, PKT_L4_UDP);
	CHECK_EQ(k.udp.sport, 54321);
	CHECK_EQ(k.udp.dport, 3478);
	CHECK_EQ(k.udp.len, 12);
	CHECK_EQ(k.payload_off, 48);
	CHECK_EQ(k.payload_len, 4);
	memcpy(b, udp6, sizeof(b));
	pkt_put16(b + 44, 13);  /* longer than the packet */
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), -EINVAL);
	pkt_put16(b + 44, 0);   /* a jumbogram's UDP length: not ours */
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), -EINVAL);
}

static void parses_extension_chain(void)
{
	struct pkt k;

	CHECK_EQ(pkt_parse(chain6, sizeof(chain6), &k), 0);
	CHECK_EQ(k.ip6.next, PKT_PROTO_HOPOPTS);
	CHECK_EQ(k.ip6.proto, PKT_PROTO_TCP);
	CHECK_EQ(k.ip6.n_ext, 4);
	CHECK_EQ(k.ip6.ext_len, 32);
	CHECK_EQ(k.ip6.rh_segleft, 0);
	CHECK(k.ip6.has_frag);
	CHECK_EQ(k.ip6.frag_id, 0x11223344);
	CHECK_EQ(k.fragment, 0);        /* RFC 6946: an atomic fragment is whole */
	CHECK_EQ(k.l4, PKT_L4_TCP);
	CHECK_EQ(k.l4_off, 72);
	CHECK_EQ(k.l4_len, 40);
	CHECK_EQ(k.tcp.seq, 0x6b8b4567);
}

static void every_truncated_prefix_is_rejected(void)
{
	const struct { const uint8_t *p; size_t n; } v[] = {
		{ syn6, sizeof(syn6) }, { icmp6_te, sizeof(icmp6_te) },
		{ udp6, sizeof(udp6) }, { chain6, sizeof(chain6) },
	};
	struct pkt k;
	size_t i, n;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		for (n = 0; n < v[i].n; n++) {
			uint8_t *b = dup_n(v[i].p, n);

			CHECK_EQ(pkt_parse(b, n, &k), -EMSGSIZE);
			CHECK_EQ(k.family, 0);
			free(b);
		}
}

static void truncated_prefix_with_matching_payload_len_is_safe(void)
{
	/* shorten the payload length along with the buffer: headers must be found missing */
	struct pkt k;
	size_t n;
	int r;

	for (n = 40; n < sizeof(chain6); n++) {
		uint8_t *b = dup_n(chain6, n);

		pkt_put16(b + 4, (uint16_t)(n - 40));
		r = pkt_parse(b, n, &k);
		CHECK(r == -EMSGSIZE || r == -EINVAL);
		free(b);
	}
	for (n = 40; n < sizeof(icmp6_te); n++) {
		uint8_t *b = dup_n(icmp6_te, n);

		pkt_put16(b + 4, (uint16_t)(n - 40));
		r = pkt_parse(b, n, &k);
		if (n < 48) {
			CHECK_EQ(r, -EMSGSIZE);
		} else {
			CHECK_EQ(r, 0);
			CHECK_EQ(k.icmp.quote.valid, n >= 88);
			CHECK_EQ(k.icmp.quote.has_ports, n >= 92);
			CHECK_EQ(k.icmp.quote.has_seq, n >= 96);
		}
		free(b);
	}
}

static void oversized_lengths_rejected(void)
{
	uint8_t b[sizeof(chain6)];
	struct pkt k;

	/* payload length beyond the buffer */
	memcpy(b, syn6, sizeof(syn6));
	pkt_put16(b + 4, 41);
	CHECK_EQ(pkt_parse(b, sizeof(syn6), &k), -EMSGSIZE);
	pkt_put16(b + 4, 0xffff);
	CHECK_EQ(pkt_parse(b, sizeof(syn6), &k), -EMSGSIZE);
	/* an extension header longer than the packet */
	memcpy(b, chain6, sizeof(b));
	b[49] = 0xff;           /* dstopts of 2048 bytes */
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), -EMSGSIZE);
	/* a payload length that ends inside the chain */
	memcpy(b, chain6, sizeof(b));
	pkt_put16(b + 4, 20);
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), -EMSGSIZE);
	/* a jumbogram: payload length 0 and a hop-by-hop header */
	memcpy(b, chain6, sizeof(b));
	pkt_put16(b + 4, 0);
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), -EMSGSIZE);
	/* payload length 0 with no next header is an empty packet */
	memcpy(b, syn6, sizeof(syn6));
	pkt_put16(b + 4, 0);
	b[6] = PKT_PROTO_NONE;
	CHECK_EQ(pkt_parse(b, sizeof(syn6), &k), 0);
	CHECK_EQ(k.len, 40);
	CHECK_EQ(k.l4, PKT_L4_OTHER);
	CHECK_EQ(k.payload_len, 0);
}

static void malformed_chains_rejected(void)
{
	uint8_t b[sizeof(chain6)];
	struct pkt k;
	int i;

	/* hop-by-hop anywhere but first */
	memcpy(b, chain6, sizeof(b));
	b[48] = PKT_PROTO_HOPOPTS;
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), -EINVAL);
	/* a second routing header */
	memcpy(b, chain6, sizeof(b));
	b[56] = PKT_PROTO_ROUTING;
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), -EINVAL);
	/* a second fragment header */
	memcpy(b, chain6, sizeof(b));
	b[64] = PKT_PROTO_FRAGMENT;
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), -EINVAL);
	/* destination options twice is allowed (before and after routing) */
	memcpy(b, chain6, sizeof(b));
	b[56] = PKT_PROTO_DSTOPTS;
	b[64] = PKT_PROTO_TCP;  /* the fragment header's bytes as dstopts, length 0 */
	b[65] = 0;
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), 0);
	CHECK_EQ(k.ip6.n_ext, 4);
	CHECK_EQ(k.ip6.has_frag, 0);
	CHECK_EQ(k.tcp.seq, 0x6b8b4567);
	/* three times is not (hop-by-hop, then dstopts at 48, 56 and 64) */
	memcpy(b, chain6, sizeof(b));
	b[48] = PKT_PROTO_DSTOPTS;
	b[56] = PKT_PROTO_DSTOPTS;
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), -EINVAL);
	/* a "loop": every header names the same kind as the next, up to the end */
	memcpy(b, chain6, sizeof(b));
	b[6] = PKT_PROTO_DSTOPTS;
	for (i = 40; i + 8 <= (int)sizeof(b); i += 8) {
		b[i] = PKT_PROTO_DSTOPTS;
		b[i + 1] = 0;
	}
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), -EINVAL);
	CHECK_EQ(k.family, 0);
}

static void fragments(void)
{
	uint8_t b[sizeof(chain6)];
	struct pkt k;

	/* a non-first fragment: what follows the fragment header is data */
	memcpy(b, chain6, sizeof(b));
	pkt_put16(b + 66, (uint16_t)(24 << 3));  /* offset 192 bytes */
	b[84] = 0x00;           /* a bad doff, if it were TCP */
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), 0);
	CHECK(k.fragment);
	CHECK_EQ(k.ip6.frag_off, 24);
	CHECK_EQ(k.ip6.proto, PKT_PROTO_TCP);
	CHECK_EQ(k.l4, PKT_L4_NONE);
	CHECK_EQ(k.l4_off, 0);

	/* a first fragment (M) with the whole TCP header parses it */
	memcpy(b, chain6, sizeof(b));
	pkt_put16(b + 66, 1);
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), 0);
	CHECK(k.fragment);
	CHECK(k.ip6.frag_more);
	CHECK_EQ(k.l4, PKT_L4_TCP);
	CHECK_EQ(k.tcp.seq, 0x6b8b4567);

	/* ... too short for its TCP header: legal, no L4 */
	pkt_put16(b + 4, 40);
	CHECK_EQ(pkt_parse(b, 80, &k), 0);
	CHECK(k.fragment);
	CHECK_EQ(k.l4, PKT_L4_NONE);

	/* ... its header chain going on in the next fragment: no L4 either */
	b[64] = PKT_PROTO_DSTOPTS;
	b[73] = 0xff;
	CHECK_EQ(pkt_parse(b, 80, &k), 0);
	CHECK(k.fragment);
	CHECK_EQ(k.l4, PKT_L4_NONE);

	/* ... but the same cut without a fragment header is malformed */
	memcpy(b, chain6, sizeof(b));
	b[56] = PKT_PROTO_TCP;
	pkt_put16(b + 4, 30);
	CHECK_EQ(pkt_parse(b, 70, &k), -EMSGSIZE);
}

static void fix_checksums_agrees_with_an_independent_sum(void)
{
	const struct { const uint8_t *p; size_t n; size_t csum; } v[] = {
		{ syn6, sizeof(syn6), 56 }, { icmp6_te, sizeof(icmp6_te), 42 },
		{ udp6, sizeof(udp6), 46 }, { chain6, sizeof(chain6), 88 },
	};
	uint8_t b[256];
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		memcpy(b, v[i].p, v[i].n);
		CHECK_EQ(pkt_fix_checksums(b, v[i].n), 0);
		CHECK_MEM(b, v[i].p, v[i].n);
		/* a wrong checksum is repaired to the right one */
		b[v[i].csum] ^= 0x5a;
		CHECK_EQ(pkt_fix_checksums(b, v[i].n), 0);
		CHECK_MEM(b, v[i].p, v[i].n);
	}
	/* the ICMPv6 checksum covers the pseudo header: the plain ICMP sum differs */
	CHECK(pkt_csum_icmp(icmp6_te + 40, 88) != pkt_get16(icmp6_te + 42));
}

static void udp6_zero_checksum_is_computed(void)
{
	uint8_t b[sizeof(udp6)];

	/* over IPv4 zero means "none" and stays; IPv6 has no such thing */
	memcpy(b, udp6, sizeof(b));
	pkt_put16(b + 46, 0);
	CHECK_EQ(pkt_fix_checksums(b, sizeof(b)), 0);
	CHECK_MEM(b, udp6, sizeof(b));
}

static void routing_header_with_segments_left_keeps_the_checksum(void)
{
	uint8_t b[sizeof(chain6)];

	/* the pseudo header would need the final destination, not in the fixed header */
	memcpy(b, chain6, sizeof(b));
	b[59] = 1;              /* segments left */
	b[88] ^= 0x5a;
	CHECK_EQ(pkt_fix_checksums(b, sizeof(b)), 0);
	CHECK_EQ(b[88], chain6[88] ^ 0x5a);
}

static void hop_limit_rewrite(void)
{
	uint8_t b[sizeof(chain6)], *t;
	struct pkt k;

	memcpy(b, chain6, sizeof(b));
	CHECK_EQ(pkt_set_ttl(b, sizeof(b), 2), 0);
	CHECK_EQ(b[7], 2);
	/* nothing else changes: no IPv6 header checksum, and the L4 one does not cover it */
	b[7] = chain6[7];
	CHECK_MEM(b, chain6, sizeof(b));
	b[7] = 2;
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), 0);
	CHECK_EQ(k.ip6.hop_limit, 2);
	CHECK_EQ(pkt_fix_checksums(b, sizeof(b)), 0);
	CHECK_EQ(b[88], chain6[88]);
	/* only the fixed header is needed, and all of it */
	t = dup_n(syn6, 40);
	CHECK_EQ(pkt_set_ttl(t, 40, 1), 0);
	CHECK_EQ(t[7], 1);
	CHECK_EQ(pkt_set_ttl(t, 39, 1), -EMSGSIZE);
	free(t);
}

static void version_dispatch(void)
{
	uint8_t b[sizeof(syn6)];
	struct pkt k;

	memcpy(b, syn6, sizeof(b));
	b[0] = 0x50;
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), -EPROTONOSUPPORT);
	CHECK_EQ(pkt_parse6(b, sizeof(b), &k), -EPROTONOSUPPORT);
	CHECK_EQ(pkt_parse6(NULL, 0, &k), -EINVAL);
	/* pkt_parse6() does not take IPv4 */
	b[0] = 0x45;
	CHECK_EQ(pkt_parse6(b, sizeof(b), &k), -EPROTONOSUPPORT);
}

int main(void)
{
	RUN(parses_syn6);
	RUN(parses_icmp6_time_exceeded_quote);
	RUN(icmp6_unreachable_quotes_too);
	RUN(icmp6_echo_and_garbage_quotes);
	RUN(icmp_family_mismatch_is_other);
	RUN(parses_udp6);
	RUN(parses_extension_chain);
	RUN(every_truncated_prefix_is_rejected);
	RUN(truncated_prefix_with_matching_payload_len_is_safe);
	RUN(oversized_lengths_rejected);
	RUN(malformed_chains_rejected);
	RUN(fragments);
	RUN(fix_checksums_agrees_with_an_independent_sum);
	RUN(udp6_zero_checksum_is_computed);
	RUN(routing_header_with_segments_left_keeps_the_checksum);
	RUN(hop_limit_rewrite);
	RUN(version_dispatch);
	return TAP_DONE();
}
