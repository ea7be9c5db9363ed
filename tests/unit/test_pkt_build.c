// SPDX-License-Identifier: MIT
/* Checksums (known answers), TTL rewrite, checksum repair, build -> parse round trips. */
#include "nfq/pkt.h"
#include "nfq/pkt_build.h"
#include "nfq/pkt_csum.h"
#include "tests/unit/tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

/* The SYN of test_pkt.c: 192.168.1.10:40000 -> 203.0.113.5:5900, MSS/SACK/TS/WS. */
static const uint8_t syn[60] = {
	0x45, 0x00, 0x00, 0x3c, 0x1c, 0x46, 0x40, 0x00,
	0x40, 0x06,             /* TTL 64, TCP */
	0x20, 0xbe,             /* header checksum (independently computed) */
	0xc0, 0xa8, 0x01, 0x0a, 0xcb, 0x00, 0x71, 0x05,
	0x9c, 0x40, 0x17, 0x0c, 0x6b, 0x8b, 0x45, 0x67,
	0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xfa, 0xf0,
	0x08, 0xd6,             /* TCP checksum (independently computed) */
	0x00, 0x00,
	0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a,
	0x00, 0x01, 0xe2, 0x40, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x03, 0x03, 0x07,
};

/* The ICMP time exceeded of test_pkt.c, from router 10.0.0.1, quoting that SYN. */
static const uint8_t icmp_te[56] = {
	0x45, 0xc0, 0x00, 0x38, 0x00, 0x01, 0x00, 0x00,
	0x40, 0x01, 0xae, 0x51, /* TTL 64, ICMP, header checksum */
	0x0a, 0x00, 0x00, 0x01, 0xc0, 0xa8, 0x01, 0x0a,
	0x0b, 0x00, 0x90, 0xc0, /* time exceeded, ICMP checksum */
	0x00, 0x00, 0x00, 0x00,
	0x45, 0x00, 0x00, 0x3c, 0x1c, 0x46, 0x40, 0x00,
	0x01, 0x06, 0x5f, 0xbe, 0xc0, 0xa8, 0x01, 0x0a,
	0xcb, 0x00, 0x71, 0x05, 0x9c, 0x40, 0x17, 0x0c,
	0x6b, 0x8b, 0x45, 0x67,
};

/* UDP 10.0.0.2:54321 -> 10.0.0.1:3478 "abcd" */
static const uint8_t udp[32] = {
	0x45, 0x00, 0x00, 0x20, 0x00, 0x00, 0x40, 0x00,
	0x40, 0x11, 0x26, 0xcb, 0x0a, 0x00, 0x00, 0x02,
	0x0a, 0x00, 0x00, 0x01, 0xd4, 0x31, 0x0d, 0x96,
	0x00, 0x0c,
	0x45, 0x45,             /* UDP checksum (independently computed) */
	'a', 'b', 'c', 'd',
};

static uint32_t addr(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

static void ip_checksum_known_answers(void)
{
	/* the classic worked example: 4500 0073 0000 4000 4011 [b861] c0a8 0001 c0a8 00c7 */
	const uint8_t h[20] = {
		0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
		0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
	};

	CHECK_EQ(pkt_csum_ip4(h, sizeof(h)), 0xb861);
	CHECK_EQ(pkt_csum_ip4(syn, 20), 0x20be);
	CHECK_EQ(pkt_csum_ip4(icmp_te, 20), 0xae51);
	/* a header that includes its own correct checksum sums to 0xffff */
	CHECK_EQ(pkt_csum_fold(pkt_csum_add(0, syn, 20)), 0);
}

static void l4_checksum_known_answers(void)
{
	CHECK_EQ(pkt_csum_l4(addr("192.168.1.10"), addr("203.0.113.5"), PKT_PROTO_TCP,
			     syn + 20, 40, 16), 0x08d6);
	CHECK_EQ(pkt_csum_l4(addr("10.0.0.2"), addr("10.0.0.1"), PKT_PROTO_UDP,
			     udp + 20, 12, 6), 0x4545);
	CHECK_EQ(pkt_csum_icmp(icmp_te + 20, 36), 0x90c0);
}

static void odd_length_is_padded(void)
{
	const uint8_t a[3] = { 0x01, 0x02, 0x03 };
	const uint8_t b[4] = { 0x01, 0x02, 0x03, 0x00 };

	CHECK_EQ(pkt_csum_add(0, a, 3), pkt_csum_add(0, b, 4));
	CHECK_EQ(pkt_csum_fold(pkt_csum_add(0, a, 3)), (uint16_t)~0x0402);
}

static void incremental_update_matches_full_recompute(void)
{
	uint8_t h[20];
	unsigned ttl;

	memcpy(h, syn, 20);
	for (ttl = 0; ttl < 256; ttl++) {
		uint16_t old = pkt_get16(h + 8), upd;

		h[8] = (uint8_t)ttl;
		upd = pkt_csum_update16(pkt_get16(h + 10), old, pkt_get16(h + 8));
		CHECK_EQ(upd, pkt_csum_ip4(h, 20));
		pkt_put16(h + 10, upd);
	}
}

static void set_ttl_updates_header_checksum(void)
{
	uint8_t b[sizeof(syn)];
	struct pkt k;

	memcpy(b, syn, sizeof(b));
	CHECK_EQ(pkt_set_ttl(b, sizeof(b), 1), 0);
	CHECK_EQ(b[8], 1);
	CHECK_EQ(pkt_get16(b + 10), 0x5fbe);    /* as quoted by the router above */
	CHECK_EQ(pkt_parse(b, sizeof(b), &k), 0);
	CHECK_EQ(k.ip.ttl, 1);
	CHECK_MEM(b + 20, syn + 20, 40);        /* TCP untouched: TTL is not in the pseudo header */
	CHECK_EQ(pkt_set_ttl(b, sizeof(b), 64), 0);
	CHECK_MEM(b, syn, sizeof(syn));
	CHECK_EQ(pkt_set_ttl(b, 19, 3), -EMSGSIZE);
	b[0] = 0x44;
	CHECK_EQ(pkt_set_ttl(b, sizeof(b), 3), -EINVAL);
	b[0] = 0x55;            /* version 5: neither IPv4 nor IPv6 (test_pkt6 has IPv6) */
	CHECK_EQ(pkt_set_ttl(b, sizeof(b), 3), -EPROTONOSUPPORT);
}

static void fix_checksums_after_edits(void)
{
	uint8_t b[sizeof(syn)], u[sizeof(udp)], ic[sizeof(icmp_te)];

	memcpy(b, syn, sizeof(b));
	memset(b + 10, 0, 2);
	memset(b + 36, 0, 2);
	CHECK_EQ(pkt_fix_checksums(b, sizeof(b)), 0);
	CHECK_MEM(b, syn, sizeof(syn));
	/* change the destination port: both the TCP checksum and nothing else follow */
	pkt_put16(b + 22, 5901);
	CHECK_EQ(pkt_fix_checksums(b, sizeof(b)), 0);
	CHECK_EQ(pkt_get16(b + 10), 0x20be);
	CHECK_EQ(pkt_get16(b + 36), pkt_csum_l4(addr("192.168.1.10"), addr("203.0.113.5"),
						PKT_PROTO_TCP, b + 20, 40, 16));
	CHECK(pkt_get16(b + 36) != 0x08d6);

	memcpy(u, udp, sizeof(u));
	pkt_put16(u + 26, 0x1234);
	CHECK_EQ(pkt_fix_checksums(u, sizeof(u)), 0);
	CHECK_MEM(u, udp, sizeof(udp));
	pkt_put16(u + 26, 0);                   /* "no checksum" stays none */
	CHECK_EQ(pkt_fix_checksums(u, sizeof(u)), 0);
	CHECK_EQ(pkt_get16(u + 26), 0);

	memcpy(ic, icmp_te, sizeof(ic));
	memset(ic + 10, 0xff, 2);
	memset(ic + 22, 0xff, 2);
	CHECK_EQ(pkt_fix_checksums(ic, sizeof(ic)), 0);
	CHECK_MEM(ic, icmp_te, sizeof(icmp_te));

	b[0] = 0x42;
	CHECK_EQ(pkt_fix_checksums(b, sizeof(b)), -EINVAL);
}

static void builds_the_syn_byte_for_byte(void)
{
	struct pkt_tcp_spec s;
	uint8_t b[128];
	size_t n = 0;

	memset(&s, 0, sizeof(s));
	s.saddr = addr("192.168.1.10");
	s.daddr = addr("203.0.113.5");
	s.sport = 40000;
	s.dport = 5900;
	s.seq = 0x6b8b4567;
	s.flags = PKT_TCP_SYN;
	s.window = 64240;
	s.ttl = 64;
	s.ip_id = 0x1c46;
	s.dont_fragment = 1;
	s.opt.present = PKT_OPT_MSS | PKT_OPT_SACK_OK | PKT_OPT_TS | PKT_OPT_WSCALE;
	s.opt.mss = 1460;
	s.opt.ts_val = 123456;
	s.opt.wscale = 7;
	CHECK_EQ(pkt_tcpopts_len(&s.opt), 20);
	CHECK_EQ(pkt_build_tcp(&s, b, sizeof(b), &n), 0);
	CHECK_EQ(n, sizeof(syn));
	CHECK_MEM(b, syn, sizeof(syn));
	CHECK_EQ(pkt_build_tcp(&s, b, 59, &n), -ENOSPC);
	CHECK_EQ(pkt_build_tcp(NULL, b, sizeof(b), &n), -EINVAL);
}

static void synack_round_trip_every_option_set(void)
{
	const uint8_t data[] = "RFB 003.008\n";
	uint32_t set;

	/* every subset of the four options builds into a packet that parses back */
	for (set = 0; set < 16; set++) {
		struct pkt_tcp_spec s;
		struct pkt k;
		uint8_t b[128];
		size_t n = 0;

		memset(&s, 0, sizeof(s));
		s.saddr = addr("198.51.100.7");
		s.daddr = addr("10.1.0.2");
		s.sport = 5900;
		s.dport = 40000;
		s.seq = 0xdeadbeef;
		s.ack = 0x6b8b4568;
		s.flags = PKT_TCP_SYN | PKT_TCP_ACK;
		s.window = 65160;
		s.ttl = 57;
		s.ip_id = 0;
		s.opt.present = (set & 1 ? PKT_OPT_MSS : 0) | (set & 2 ? PKT_OPT_SACK_OK : 0) |
				(set & 4 ? PKT_OPT_TS : 0) | (set & 8 ? PKT_OPT_WSCALE : 0);
		s.opt.mss = 1400;
		s.opt.wscale = 14;
		s.opt.ts_val = 0x01020304;
		s.opt.ts_ecr = 123456;
		if (set == 5) {
			s.payload = data;
			s.payload_len = sizeof(data) - 1;
		}
		CHECK_EQ(pkt_build_tcp(&s, b, sizeof(b), &n), 0);
		CHECK_EQ(pkt_parse(b, n, &k), 0);
		CHECK_EQ(k.tcp.hdr_len % 4, 0);
		CHECK_EQ(k.tcp.opt.present, s.opt.present);
		CHECK_EQ(k.tcp.seq, 0xdeadbeef);
		CHECK_EQ(k.tcp.ack, 0x6b8b4568);
		CHECK_EQ(k.tcp.flags, PKT_TCP_SYN | PKT_TCP_ACK);
		CHECK_EQ(k.tcp.window, 65160);
		CHECK_EQ(k.tcp.sport, 5900);
		CHECK_EQ(k.ip.ttl, 57);
		CHECK(k.ip.saddr == s.saddr && k.ip.daddr == s.daddr);
		CHECK_EQ(k.payload_len, s.payload_len);
		if (s.opt.present & PKT_OPT_MSS)
			CHECK_EQ(k.tcp.opt.mss, 1400);
		if (s.opt.present & PKT_OPT_WSCALE)
			CHECK_EQ(k.tcp.opt.wscale, 14);
		if (s.opt.present & PKT_OPT_TS) {
			CHECK_EQ(k.tcp.opt.ts_val, 0x01020304);
			CHECK_EQ(k.tcp.opt.ts_ecr, 123456);
		}
		/* checksums built right: both verify to zero */
		CHECK_EQ(pkt_csum_fold(pkt_csum_add(0, b, 20)), 0);
		CHECK_EQ(pkt_csum_l4(s.saddr, s.daddr, PKT_PROTO_TCP, b + 20, n - 20, n), 0);
	}
}

/* An IPv6 SYN (the daemon's SYN clock for simopen6): parses back, the TCP
 * checksum verifies over the IPv6 pseudo header summed here by hand. */
static void builds_an_ipv6_syn(void)
{
	struct pkt_tcp_spec s;
	struct pkt k;
	uint8_t b[128], pseudo[40];
	size_t n = 0, tl;

	memset(&s, 0, sizeof(s));
	s.family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8:1::10", s.saddr6);
	inet_pton(AF_INET6, "2001:db8:2::20", s.daddr6);
	s.sport = 40001;
	s.dport = 5000;
	s.seq = 0x11223344;
	s.flags = PKT_TCP_SYN;
	s.window = 64800;
	s.ttl = 64;
	s.tos = 0xb8;
	s.opt.present = PKT_OPT_MSS | PKT_OPT_SACK_OK | PKT_OPT_TS | PKT_OPT_WSCALE;
	s.opt.mss = 1440;
	s.opt.wscale = 7;
	s.opt.ts_val = 99;
	CHECK_EQ(pkt_build_tcp(&s, b, sizeof(b), &n), 0);
	CHECK_EQ(n, (size_t)(40 + 40));
	CHECK_EQ(b[0], 0x6b);			/* version 6, traffic class 0xb8 */
	CHECK_EQ(b[1], 0x80);
	CHECK_EQ(pkt_parse(b, n, &k), 0);
	CHECK_EQ(k.family, AF_INET6);
	CHECK_EQ(k.l4, PKT_L4_TCP);
	CHECK_EQ(k.l4_off, (size_t)40);
	CHECK_EQ(k.ip6.hop_limit, 64);
	CHECK(memcmp(k.ip6.saddr, s.saddr6, 16) == 0 && memcmp(k.ip6.daddr, s.daddr6, 16) == 0);
	CHECK_EQ(k.tcp.sport, 40001);
	CHECK_EQ(k.tcp.dport, 5000);
	CHECK_EQ(k.tcp.seq, 0x11223344);
	CHECK_EQ(k.tcp.flags, PKT_TCP_SYN);
	CHECK_EQ(k.tcp.opt.present, s.opt.present);
	CHECK_EQ(k.tcp.opt.mss, 1440);
	CHECK_EQ(k.payload_len, 0);
	tl = n - 40;
	memcpy(pseudo, s.saddr6, 16);
	memcpy(pseudo + 16, s.daddr6, 16);
	memset(pseudo + 32, 0, 8);
	pseudo[35] = (uint8_t)tl;
	pseudo[39] = PKT_PROTO_TCP;
	CHECK_EQ(pkt_csum_fold(pkt_csum_add(pkt_csum_add(0, pseudo, 40), b + 40, tl)), 0);
	/* a family that is neither */
	s.family = AF_UNIX;
	CHECK_EQ(pkt_build_tcp(&s, b, sizeof(b), &n), -EINVAL);
	/* too small a buffer for the IPv6 header */
	s.family = AF_INET6;
	CHECK_EQ(pkt_build_tcp(&s, b, 79, &n), -ENOSPC);
}

static void build_rejects_oversized_payload(void)
{
	static uint8_t big[65536], out[65536];
	struct pkt_tcp_spec s;
	size_t n = 0;

	memset(&s, 0, sizeof(s));
	s.payload = big;
	s.payload_len = 65535 - 40 + 1;
	CHECK_EQ(pkt_build_tcp(&s, out, sizeof(out), &n), -EINVAL);
	s.payload_len = 65535 - 40;
	CHECK_EQ(pkt_build_tcp(&s, out, sizeof(out), &n), 0);
	CHECK_EQ(n, 65535);
	s.payload = NULL;
	CHECK_EQ(pkt_build_tcp(&s, out, sizeof(out), &n), -EINVAL);
}

int main(void)
{
	RUN(ip_checksum_known_answers);
	RUN(l4_checksum_known_answers);
	RUN(odd_length_is_padded);
	RUN(incremental_update_matches_full_recompute);
	RUN(set_ttl_updates_header_checksum);
	RUN(fix_checksums_after_edits);
	RUN(builds_the_syn_byte_for_byte);
	RUN(synack_round_trip_every_option_set);
	RUN(builds_an_ipv6_syn);
	RUN(build_rejects_oversized_payload);
	return TAP_DONE();
}
