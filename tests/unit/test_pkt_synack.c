// SPDX-License-Identifier: MIT
/* pkt_synack: the SYN-ACK "from the peer" agrees with both SYNs. */
#include "nfq/pkt.h"
#include "nfq/pkt_build.h"
#include "nfq/pkt_synack.h"
#include "tests/unit/tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

static uint32_t ip(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

/* A SYN as a Linux host sends it, built and parsed back. */
static void make_syn(uint32_t seq, uint32_t present, uint16_t mss, uint8_t ws, uint32_t tsval,
		     struct pkt *k, uint8_t *buf)
{
	struct pkt_tcp_spec s = { .saddr = ip("10.1.0.10"), .daddr = ip("198.18.2.2"),
				  .sport = 40000, .dport = 40001, .seq = seq,
				  .flags = PKT_TCP_SYN, .window = 64240, .ttl = 2,
				  .dont_fragment = 1 };
	size_t len;

	s.opt.present = present;
	s.opt.mss = mss;
	s.opt.wscale = ws;
	s.opt.ts_val = tsval;
	CHECK_EQ(pkt_build_tcp(&s, buf, 120, &len), 0);
	CHECK_EQ(pkt_parse(buf, len, k), 0);
}

static void test_full_options(void)
{
	const uint32_t all = PKT_OPT_MSS | PKT_OPT_WSCALE | PKT_OPT_SACK_OK | PKT_OPT_TS;
	uint8_t b1[120], b2[120], out[120];
	struct pkt ka, kb, r;
	struct pkt_syn_desc a, b;
	struct pkt_tcp_spec sp;
	size_t len;

	make_syn(1000, all, 1460, 10, 111, &ka, b1);
	make_syn(0xfffffff0u, all, 1400, 7, 222, &kb, b2);
	CHECK_EQ(pkt_syn_desc_from(&ka, &a), 0);
	CHECK_EQ(pkt_syn_desc_from(&kb, &b), 0);
	/* to A from B's public endpoint */
	pkt_synack_spec(&a, &b, ip("198.18.2.2"), 40001, ip("198.18.1.2"), 40000, 0, &sp);
	CHECK_EQ(pkt_build_tcp(&sp, out, sizeof(out), &len), 0);
	CHECK_EQ(pkt_parse(out, len, &r), 0);
	CHECK_EQ(r.ip.saddr, ip("198.18.2.2"));
	CHECK_EQ(r.ip.daddr, ip("198.18.1.2"));
	CHECK_EQ(r.tcp.sport, 40001);
	CHECK_EQ(r.tcp.dport, 40000);
	CHECK_EQ(r.tcp.flags, PKT_TCP_SYN | PKT_TCP_ACK);
	CHECK_EQ(r.tcp.seq, 0xfffffff0u);	/* B's ISN */
	CHECK_EQ(r.tcp.ack, 1001u);		/* A's ISN + 1 */
	CHECK_EQ(r.ip.ttl, 64);
	CHECK_EQ(r.tcp.opt.present & all, all);
	CHECK_EQ(r.tcp.opt.mss, 1400);		/* B's */
	CHECK_EQ(r.tcp.opt.wscale, 7);		/* B's */
	CHECK_EQ(r.tcp.opt.ts_val, 222u);	/* B's clock */
	CHECK_EQ(r.tcp.opt.ts_ecr, 111u);	/* A's TSval echoed */
	/* and the other way round, with the ack wrapping */
	pkt_synack_spec(&b, &a, ip("198.18.1.2"), 40000, ip("198.18.2.2"), 40001, 50, &sp);
	CHECK_EQ(sp.seq, 1000u);
	CHECK_EQ(sp.ack, 0xfffffff1u);
	CHECK_EQ(sp.ttl, 50);
	CHECK_EQ(sp.opt.ts_ecr, 222u);
	CHECK_EQ(sp.opt.mss, 1460);
}

static void test_options_agree(void)
{
	uint8_t b1[120], b2[120];
	struct pkt ka, kb;
	struct pkt_syn_desc a, b;
	struct pkt_tcp_spec sp;

	/* A offers everything, B only MSS and SACK: no window scale, no timestamps */
	make_syn(5, PKT_OPT_MSS | PKT_OPT_WSCALE | PKT_OPT_SACK_OK | PKT_OPT_TS, 1460, 7, 9,
		 &ka, b1);
	make_syn(6, PKT_OPT_MSS | PKT_OPT_SACK_OK, 536, 0, 0, &kb, b2);
	CHECK_EQ(pkt_syn_desc_from(&ka, &a), 0);
	CHECK_EQ(pkt_syn_desc_from(&kb, &b), 0);
	pkt_synack_spec(&a, &b, 1, 2, 3, 4, 0, &sp);
	CHECK_EQ(sp.opt.present, PKT_OPT_MSS | PKT_OPT_SACK_OK);
	CHECK_EQ(sp.opt.mss, 536);
	pkt_synack_spec(&b, &a, 1, 2, 3, 4, 0, &sp);
	CHECK_EQ(sp.opt.present, PKT_OPT_MSS | PKT_OPT_SACK_OK);
	CHECK_EQ(sp.opt.mss, 1460);
	/* no MSS from the peer: none in the SYN-ACK either */
	b.opt.present = 0;
	pkt_synack_spec(&a, &b, 1, 2, 3, 4, 0, &sp);
	CHECK_EQ(sp.opt.present, 0u);
}

static void test_not_a_syn(void)
{
	uint8_t buf[120];
	struct pkt k;
	struct pkt_syn_desc d;

	make_syn(1, PKT_OPT_MSS, 1460, 0, 0, &k, buf);
	k.tcp.flags |= PKT_TCP_ACK;
	CHECK_EQ(pkt_syn_desc_from(&k, &d), -EINVAL);
	k.l4 = PKT_L4_UDP;
	CHECK_EQ(pkt_syn_desc_from(&k, &d), -EINVAL);
	CHECK_EQ(pkt_syn_desc_from(NULL, &d), -EINVAL);
}

int main(void)
{
	RUN(test_full_options);
	RUN(test_options_agree);
	RUN(test_not_a_syn);
	return TAP_DONE();
}
