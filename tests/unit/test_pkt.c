// SPDX-License-Identifier: MIT
/* pkt_parse(): real packets field by field, every truncation, bad IHL / doff / options. */
#include "nfq/pkt.h"
#include "tests/unit/tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>

/* A Linux SYN from 192.168.1.10:40000 to 203.0.113.5:5900 with the usual options. */
static const uint8_t syn[60] = {
	/* IPv4 */
	0x45, 0x00,             /* version 4, IHL 5; TOS 0 */
	0x00, 0x3c,             /* total length 60 */
	0x1c, 0x46,             /* id 0x1c46 */
	0x40, 0x00,             /* DF, offset 0 */
	0x40, 0x06,             /* TTL 64, protocol TCP */
	0x20, 0xbe,             /* header checksum */
	0xc0, 0xa8, 0x01, 0x0a, /* 192.168.1.10 */
	0xcb, 0x00, 0x71, 0x05, /* 203.0.113.5 */
	/* TCP */
	0x9c, 0x40,             /* source port 40000 */
	0x17, 0x0c,             /* destination port 5900 */
	0x6b, 0x8b, 0x45, 0x67, /* seq 0x6b8b4567 */
	0x00, 0x00, 0x00, 0x00, /* ack 0 */
	0xa0, 0x02,             /* doff 10 (40 bytes), SYN */
	0xfa, 0xf0,             /* window 64240 */
	0x08, 0xd6,             /* checksum */
	0x00, 0x00,             /* urgent pointer */
	0x02, 0x04, 0x05, 0xb4, /* MSS 1460 */
	0x04, 0x02,             /* SACK permitted */
	0x08, 0x0a, 0x00, 0x01, 0xe2, 0x40, 0x00, 0x00, 0x00, 0x00, /* TS 123456, 0 */
	0x01,                   /* NOP */
	0x03, 0x03, 0x07,       /* window scale 7 */
};

/* Router 10.0.0.1 answers that SYN (which reached it with TTL 1) with time exceeded. */
static const uint8_t icmp_te[56] = {
	/* outer IPv4 */
	0x45, 0xc0,             /* IHL 5, TOS 0xc0 (internetwork control) */
	0x00, 0x38,             /* total length 56 */
	0x00, 0x01, 0x00, 0x00, /* id 1, no flags */
	0x40, 0x01,             /* TTL 64, protocol ICMP */
	0xae, 0x51,             /* header checksum */
	0x0a, 0x00, 0x00, 0x01, /* from the router 10.0.0.1 */
	0xc0, 0xa8, 0x01, 0x0a, /* to 192.168.1.10 */
	/* ICMP */
	0x0b, 0x00,             /* time exceeded, in transit */
	0x90, 0xc0,             /* checksum */
	0x00, 0x00, 0x00, 0x00, /* unused */
	/* quoted IPv4 header of the SYN */
	0x45, 0x00, 0x00, 0x3c, 0x1c, 0x46, 0x40, 0x00,
	0x01, 0x06,             /* TTL 1 when it died, TCP */
	0x5f, 0xbe,
	0xc0, 0xa8, 0x01, 0x0a, 0xcb, 0x00, 0x71, 0x05,
	/* first 8 bytes of its TCP header */
	0x9c, 0x40, 0x17, 0x0c, /* ports 40000 -> 5900 */
	0x6b, 0x8b, 0x45, 0x67, /* seq */
};

/* A UDP datagram 10.0.0.2:54321 -> 10.0.0.1:3478 carrying "abcd". */
static const uint8_t udp[32] = {
	0x45, 0x00, 0x00, 0x20, /* total length 32 */
	0x00, 0x00, 0x40, 0x00, /* id 0, DF */
	0x40, 0x11, 0x26, 0xcb, /* TTL 64, UDP, checksum */
	0x0a, 0x00, 0x00, 0x02,
	0x0a, 0x00, 0x00, 0x01,
	0xd4, 0x31, 0x0d, 0x96, /* ports 54321 -> 3478 */
	0x00, 0x0c, 0x45, 0x45, /* length 12, checksum */
	'a', 'b', 'c', 'd',
};

static uint32_t addr(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

static void parses_linux_syn_with_options(void)
{
	struct pkt k;

	CHECK_EQ(pkt_parse(syn, sizeof(syn), &k), 0);
	CHECK_EQ(k.family, AF_INET);
	CHECK_EQ(k.len, 60);
	CHECK_EQ(k.ip.hdr_len, 20);
	CHECK_EQ(k.ip.ttl, 64);
	CHECK_EQ(k.ip.id, 0x1c46);
	CHECK_EQ(k.ip.csum, 0x20be);
	CHECK_EQ(k.ip.frag, PKT_IP_DF);
	CHECK_EQ(k.fragment, 0);
	CHECK(k.ip.saddr == addr("192.168.1.10"));
	CHECK(k.ip.daddr == addr("203.0.113.5"));
	CHECK_EQ(k.l4, PKT_L4_TCP);
	CHECK_EQ(k.l4_off, 20);
	CHECK_EQ(k.l4_len, 40);
	CHECK_EQ(k.tcp.sport, 40000);
	CHECK_EQ(k.tcp.dport, 5900);
	CHECK_EQ(k.tcp.seq, 0x6b8b4567);
	CHECK_EQ(k.tcp.flags, PKT_TCP_SYN);
	CHECK_EQ(k.tcp.window, 64240);
	CHECK_EQ(k.tcp.hdr_len, 40);
	CHECK_EQ(k.tcp.opt.present, PKT_OPT_MSS | PKT_OPT_SACK_OK | PKT_OPT_TS | PKT_OPT_WSCALE);
	CHECK_EQ(k.tcp.opt.mss, 1460);
	CHECK_EQ(k.tcp.opt.wscale, 7);
	CHECK_EQ(k.tcp.opt.ts_val, 123456);
	CHECK_EQ(k.tcp.opt.ts_ecr, 0);
	CHECK_EQ(k.payload_off, 60);
	CHECK_EQ(k.payload_len, 0);
}

static void parses_icmp_time_exceeded_quote(void)
{
	struct pkt k;

	CHECK_EQ(pkt_parse(icmp_te, sizeof(icmp_te), &k), 0);
	CHECK_EQ(k.l4, PKT_L4_ICMP);
	CHECK(k.ip.saddr == addr("10.0.0.1"));
	CHECK_EQ(k.icmp.type, PKT_ICMP_TIMXCEED);
	CHECK_EQ(k.icmp.code, 0);
	CHECK(k.icmp.quote.valid);
	CHECK_EQ(k.icmp.quote.family, AF_INET);
	CHECK_EQ(k.icmp.quote.off, 28);
	CHECK_EQ(k.icmp.quote.ip.ttl, 1);
	CHECK_EQ(k.icmp.quote.ip.proto, PKT_PROTO_TCP);
	CHECK_EQ(k.icmp.quote.ip.tot_len, 60);
	CHECK(k.icmp.quote.ip.saddr == addr("192.168.1.10"));
	CHECK(k.icmp.quote.ip.daddr == addr("203.0.113.5"));
	CHECK(k.icmp.quote.has_ports);
	CHECK_EQ(k.icmp.quote.sport, 40000);
	CHECK_EQ(k.icmp.quote.dport, 5900);
	CHECK(k.icmp.quote.has_seq);
	CHECK_EQ(k.icmp.quote.seq, 0x6b8b4567);
	CHECK_EQ(k.icmp.quote.l4_len, 8);
}

static void icmp_quote_of_four_bytes_has_ports_but_no_seq(void)
{
	uint8_t b[52];
	struct pkt k;

	/* RFC 792 routers must quote 64 bits; a stingy one quoting 4 still gives ports */
	memcpy(b, icmp_te, sizeof(b));
	pkt_put16(b + 2, sizeof(b));
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), 0);
	CHECK(k.icmp.quote.valid);
	CHECK(k.icmp.quote.has_ports);
	CHECK(!k.icmp.quote.has_seq);
}

static void icmp_with_garbage_quote_parses_without_quote(void)
{
	uint8_t b[sizeof(icmp_te)];
	struct pkt k;

	memcpy(b, icmp_te, sizeof(b));
	b[28] = 0x43;           /* quoted IHL 3 */
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), 0);
	CHECK_EQ(k.l4, PKT_L4_ICMP);
	CHECK(!k.icmp.quote.valid);
	CHECK(!k.icmp.quote.has_ports);
}

static void icmp_echo_has_no_quote(void)
{
	uint8_t b[sizeof(icmp_te)];
	struct pkt k;

	memcpy(b, icmp_te, sizeof(b));
	b[20] = PKT_ICMP_ECHO;
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), 0);
	CHECK(!k.icmp.quote.valid);
}

static void parses_udp(void)
{
	struct pkt k;

	CHECK_EQ(pkt_parse(udp, sizeof(udp), &k), 0);
	CHECK_EQ(k.l4, PKT_L4_UDP);
	CHECK_EQ(k.udp.sport, 54321);
	CHECK_EQ(k.udp.dport, 3478);
	CHECK_EQ(k.udp.len, 12);
	CHECK_EQ(k.payload_off, 28);
	CHECK_EQ(k.payload_len, 4);
}

static void bad_udp_length_rejected(void)
{
	uint8_t b[sizeof(udp)];
	struct pkt k;

	memcpy(b, udp, sizeof(b));
	pkt_put16(b + 24, 7);   /* shorter than its own header */
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), -EINVAL);
	pkt_put16(b + 24, 13);  /* longer than the datagram */
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), -EINVAL);
}

static void parses_ip_options(void)
{
	/* the SYN's TCP header behind an IP header with a 4-byte option (IHL 6) */
	uint8_t b[64];
	struct pkt k;

	memcpy(b, syn, 20);
	b[0] = 0x46;
	pkt_put16(b + 2, 64);
	b[20] = 0x94; b[21] = 0x04; b[22] = 0; b[23] = 0; /* router alert */
	memcpy(b + 24, syn + 20, 40);
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), 0);
	CHECK_EQ(k.ip.hdr_len, 24);
	CHECK_EQ(k.l4_off, 24);
	CHECK_EQ(k.tcp.sport, 40000);
	CHECK_EQ(k.tcp.opt.mss, 1460);
}

static void every_truncated_prefix_is_rejected(void)
{
	const struct { const uint8_t *p; size_t n; } v[] = {
		{ syn, sizeof(syn) }, { icmp_te, sizeof(icmp_te) }, { udp, sizeof(udp) },
	};
	struct pkt k;
	size_t i, n;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		for (n = 0; n < v[i].n; n++) {
			/* heap copy of exactly n bytes so ASan sees any over-read */
			uint8_t *b = malloc(n ? n : 1);

			memcpy(b, v[i].p, n);
			CHECK_EQ(pkt_parse(b, n, &k), -EMSGSIZE);
			free(b);
		}
}

static void truncated_prefix_with_matching_tot_len_is_safe(void)
{
	/* shorten tot_len along with the buffer: headers must be found missing, not over-read */
	struct pkt k;
	size_t n;
	int r;

	for (n = 20; n < sizeof(syn); n++) {
		uint8_t *b = malloc(n);

		memcpy(b, syn, n);
		pkt_put16(b + 2, (uint16_t)n);
		r = pkt_parse(b, n, &k);
		CHECK(r == -EMSGSIZE || r == -EINVAL);
		free(b);
	}
	for (n = 20; n < sizeof(icmp_te); n++) {
		uint8_t *b = malloc(n);

		memcpy(b, icmp_te, n);
		pkt_put16(b + 2, (uint16_t)n);
		r = pkt_parse(b, n, &k);
		if (n < 28) {
			CHECK_EQ(r, -EMSGSIZE);
		} else {
			CHECK_EQ(r, 0);
			CHECK_EQ(k.icmp.quote.valid, n >= 48);
			CHECK_EQ(k.icmp.quote.has_ports, n >= 52);
			CHECK_EQ(k.icmp.quote.has_seq, n >= 56);
		}
		free(b);
	}
}

static void bad_version_and_ihl_rejected(void)
{
	uint8_t b[sizeof(syn)];
	struct pkt k;
	int ihl;

	memcpy(b, syn, sizeof(b));
	b[0] = 0x55;            /* version 5: neither IPv4 nor IPv6 (test_pkt6 has IPv6) */
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), -EPROTONOSUPPORT);
	for (ihl = 0; ihl < 5; ihl++) {
		b[0] = (uint8_t)(0x40 | ihl);
		CHECK_EQ(pkt_parse(b, sizeof(b), &k), -EINVAL);
	}
	b[0] = 0x4f;            /* 60-byte header in a 60-byte buffer: no room for TCP */
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), -EMSGSIZE);
	b[0] = 0x45;
	pkt_put16(b + 2, 19);   /* total length shorter than the header */
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), -EINVAL);
	pkt_put16(b + 2, 61);   /* longer than the buffer */
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), -EMSGSIZE);
}

static void bad_doff_rejected(void)
{
	uint8_t b[sizeof(syn)];
	struct pkt k;
	int doff;

	memcpy(b, syn, sizeof(b));
	for (doff = 0; doff < 5; doff++) {
		b[32] = (uint8_t)(doff << 4);
		CHECK_EQ(pkt_parse(b, sizeof(b), &k), -EINVAL);
	}
	b[32] = 0xf0;           /* 60-byte TCP header, only 40 present */
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), -EMSGSIZE);
	b[32] = 0x50;           /* no options at all is fine */
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), 0);
	CHECK_EQ(k.tcp.opt.present, 0);
	CHECK_EQ(k.payload_len, 20);
}

static void malformed_tcp_options_rejected(void)
{
	const struct { uint8_t o[8]; int r; } v[] = {
		{ { 2, 4, 5, 0xb4, 1, 1, 1, 1 }, 0 },      /* MSS + NOPs */
		{ { 2, 3, 5, 0xb4, 1, 1, 1, 1 }, -EINVAL }, /* MSS with length 3 */
		{ { 1, 1, 1, 1, 1, 1, 1, 2 }, -EINVAL },    /* kind without a length byte */
		{ { 1, 1, 1, 1, 1, 1, 0xfe, 0 }, -EINVAL }, /* length 0 would loop forever */
		{ { 1, 1, 1, 1, 1, 1, 0xfe, 1 }, -EINVAL }, /* length 1 */
		{ { 1, 1, 1, 1, 0xfe, 5, 0, 0 }, -EINVAL }, /* runs past the header */
		{ { 3, 4, 7, 0, 1, 1, 1, 1 }, -EINVAL },    /* wscale with length 4 */
		{ { 4, 3, 0, 1, 1, 1, 1, 1 }, -EINVAL },    /* SACK-permitted with length 3 */
		{ { 5, 2, 1, 1, 1, 1, 1, 1 }, -EINVAL },    /* SACK with no block */
		{ { 8, 8, 0, 0, 0, 0, 0, 0 }, -EINVAL },    /* timestamps with length 8 */
		{ { 0xfd, 4, 1, 2, 0, 9, 9, 9 }, 0 },       /* unknown kind skipped, EOL stops */
	};
	struct pkt_tcpopts o;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		if (pkt_parse_tcpopts(v[i].o, sizeof(v[i].o), &o) != v[i].r) {
			fprintf(stderr, "option vector %zu\n", i);
			CHECK(0);
		}
	}
}

static void sack_blocks_are_skipped(void)
{
	const uint8_t o[] = {
		1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, /* NOP NOP TS 1 2 */
		1, 1, 5, 18,                          /* NOP NOP SACK, two blocks */
		0, 0, 0, 10, 0, 0, 0, 20, 0, 0, 0, 30, 0, 0, 0, 40,
	};
	struct pkt_tcpopts t;

	CHECK_EQ(pkt_parse_tcpopts(o, sizeof(o), &t), 0);
	CHECK_EQ(t.sack_blocks, 2);
	CHECK_EQ(t.ts_val, 1);
	CHECK_EQ(t.ts_ecr, 2);
	CHECK_EQ(t.present, PKT_OPT_TS | PKT_OPT_SACK);
}

static void fragments_have_no_l4_header(void)
{
	uint8_t b[sizeof(syn)];
	struct pkt k;

	memcpy(b, syn, sizeof(b));
	pkt_put16(b + 6, 0x0003);       /* offset 24 bytes: a non-first fragment */
	b[32] = 0x00;                   /* what would be a bad doff is just data here */
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), 0);
	CHECK(k.fragment);
	CHECK_EQ(k.l4, PKT_L4_NONE);
	CHECK_EQ(k.l4_off, 0);

	/* a first fragment (MF) too short for its TCP header: legal, no L4 */
	memcpy(b, syn, sizeof(b));
	pkt_put16(b + 2, 32);
	pkt_put16(b + 6, PKT_IP_MF);
	CHECK_EQ(pkt_parse(b, 32, &k), 0);
	CHECK(k.fragment);
	CHECK_EQ(k.l4, PKT_L4_NONE);

	/* a first fragment with the whole TCP header parses it */
	memcpy(b, syn, sizeof(b));
	pkt_put16(b + 6, PKT_IP_MF);
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), 0);
	CHECK(k.fragment);
	CHECK_EQ(k.l4, PKT_L4_TCP);
	CHECK_EQ(k.tcp.seq, 0x6b8b4567);
}

static void trailing_bytes_after_tot_len_ignored(void)
{
	uint8_t b[sizeof(syn) + 6];
	struct pkt k;

	memcpy(b, syn, sizeof(syn));
	memset(b + sizeof(syn), 0xee, 6);
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), 0);
	CHECK_EQ(k.len, 60);
	CHECK_EQ(k.payload_len, 0);
}

static void other_protocol_has_l4_offset(void)
{
	uint8_t b[sizeof(syn)];
	struct pkt k;

	memcpy(b, syn, sizeof(b));
	b[9] = 47;              /* GRE */
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), 0);
	CHECK_EQ(k.l4, PKT_L4_OTHER);
	CHECK_EQ(k.l4_off, 20);
	CHECK_EQ(k.payload_len, 40);
	b[9] = PKT_PROTO_ICMPV6; /* ICMPv6 in IPv4 means nothing */
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), 0);
	CHECK_EQ(k.l4, PKT_L4_OTHER);
	CHECK_EQ(pkt_parse(NULL, 0, &k), -EINVAL);
}

int main(void)
{
	RUN(parses_linux_syn_with_options);
	RUN(parses_icmp_time_exceeded_quote);
	RUN(icmp_quote_of_four_bytes_has_ports_but_no_seq);
	RUN(icmp_with_garbage_quote_parses_without_quote);
	RUN(icmp_echo_has_no_quote);
	RUN(parses_udp);
	RUN(bad_udp_length_rejected);
	RUN(parses_ip_options);
	RUN(every_truncated_prefix_is_rejected);
	RUN(truncated_prefix_with_matching_tot_len_is_safe);
	RUN(bad_version_and_ihl_rejected);
	RUN(bad_doff_rejected);
	RUN(malformed_tcp_options_rejected);
	RUN(sack_blocks_are_skipped);
	RUN(fragments_have_no_l4_header);
	RUN(trailing_bytes_after_tot_len_ignored);
	RUN(other_protocol_has_l4_offset);
	return TAP_DONE();
}
