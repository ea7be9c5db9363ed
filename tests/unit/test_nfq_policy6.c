// SPDX-License-Identifier: MIT
/*
 * The policy table with IPv6 flows: the flow is [2001:db8:1::2]:40000 (this
 * host) -> [2001:db8:2::7]:5900 (the peer, behind its stateful firewall);
 * the router whose hop limit the first SYN runs out at is 2001:db8:ff::1.
 * A flow acts on packets of its own family only.
 */
#include "nfq/nfq_policy.h"
#include "nfq/pkt.h"
#include "nfq/pkt_build.h"
#include "tests/unit/tap.h"

#include <arpa/inet.h>
#include <errno.h>

#define LOCAL   "2001:db8:1::2"
#define REMOTE  "2001:db8:2::7"
#define ROUTER  "2001:db8:ff::1"
#define LPORT   40000
#define RPORT   5900
#define ISN     0x11223344u

static void a6(const char *s, uint8_t out[16])
{
	inet_pton(AF_INET6, s, out);
}

static struct nfq_flow flow6(void)
{
	struct nfq_flow f = {
		.lport = LPORT, .rport = RPORT, .proto = PKT_PROTO_TCP, .family = AF_INET6,
	};

	a6(LOCAL, f.laddr6);
	a6(REMOTE, f.raddr6);
	return f;
}

/* A 60-byte IPv6 TCP segment of the flow (no options), outbound or inbound, parsed into *k. */
static size_t tcp6(uint8_t *b, int outbound, uint8_t flags, uint8_t hlim, struct pkt *k)
{
	memset(b, 0, 60);
	b[0] = 0x60;
	pkt_put16(b + 4, 20);
	b[6] = PKT_PROTO_TCP;
	b[7] = hlim;
	a6(outbound ? LOCAL : REMOTE, b + 8);
	a6(outbound ? REMOTE : LOCAL, b + 24);
	pkt_put16(b + 40, outbound ? LPORT : RPORT);
	pkt_put16(b + 42, outbound ? RPORT : LPORT);
	pkt_put32(b + 44, outbound ? ISN : 0x99990000u);
	pkt_put32(b + 48, flags & PKT_TCP_ACK ? ISN + 1 : 0);
	b[52] = 0x50;
	b[53] = flags;
	pkt_put16(b + 54, 64800);
	CHECK_EQ(pkt_fix_checksums(b, 60), 0);
	CHECK_EQ(pkt_parse(b, 60, k), 0);
	return 60;
}

/* An ICMPv6 error from src quoting the flow's SYN as it arrived (hop limit 1). */
static size_t icmp6_err(uint8_t *b, const char *src, uint8_t type, uint8_t code, struct pkt *k)
{
	struct pkt qk;

	memset(b, 0, 108);
	b[0] = 0x60;
	pkt_put16(b + 4, 68);           /* 8 ICMPv6 + the 60-byte SYN */
	b[6] = PKT_PROTO_ICMPV6;
	b[7] = 64;
	a6(src, b + 8);
	a6(LOCAL, b + 24);
	b[40] = type;
	b[41] = code;
	tcp6(b + 48, 1, PKT_TCP_SYN, 1, &qk);
	CHECK_EQ(pkt_fix_checksums(b, 108), 0);
	CHECK_EQ(pkt_parse(b, 108, k), 0);
	return 108;
}

/* The same SYN over IPv4, ports equal: what an IPv6 flow must leave alone. */
static void tcp4_syn(uint8_t *b, struct pkt *k)
{
	struct pkt_tcp_spec s;
	size_t n = 0;

	memset(&s, 0, sizeof(s));
	inet_pton(AF_INET, "10.1.0.2", &s.saddr);
	inet_pton(AF_INET, "198.51.100.7", &s.daddr);
	s.sport = LPORT;
	s.dport = RPORT;
	s.seq = ISN;
	s.flags = PKT_TCP_SYN;
	s.ttl = 64;
	CHECK_EQ(pkt_build_tcp(&s, b, 128, &n), 0);
	CHECK_EQ(pkt_parse(b, n, k), 0);
}

static void classifies_ipv6_direction_and_kind(void)
{
	struct nfq_flow f = flow6(), other = flow6();
	uint8_t b[128];
	struct pkt k;

	tcp6(b, 1, PKT_TCP_SYN, 64, &k);
	CHECK_EQ(nfq_flow_classify(&f, &k), NFQ_MATCH_OUT_ANY | NFQ_MATCH_OUT_SYN);
	tcp6(b, 1, PKT_TCP_RST | PKT_TCP_ACK, 64, &k);
	CHECK_EQ(nfq_flow_classify(&f, &k), NFQ_MATCH_OUT_ANY | NFQ_MATCH_OUT_RST);
	tcp6(b, 0, PKT_TCP_RST, 64, &k);
	CHECK_EQ(nfq_flow_classify(&f, &k), NFQ_MATCH_IN_ANY | NFQ_MATCH_IN_RST);
	tcp6(b, 0, PKT_TCP_SYN | PKT_TCP_ACK, 64, &k);
	CHECK_EQ(nfq_flow_classify(&f, &k), NFQ_MATCH_IN_ANY | NFQ_MATCH_IN_SYNACK);
	icmp6_err(b, ROUTER, PKT_ICMP6_TIMXCEED, 0, &k);
	CHECK_EQ(k.l4, PKT_L4_ICMP6);
	CHECK_EQ(nfq_flow_classify(&f, &k),
		 NFQ_MATCH_IN_ANY | NFQ_MATCH_IN_ICMP_ERR | NFQ_MATCH_IN_ICMP_TE);
	/* the firewall's "administratively prohibited" is an error, not time exceeded */
	icmp6_err(b, REMOTE, PKT_ICMP6_UNREACH, 1, &k);
	CHECK_EQ(nfq_flow_classify(&f, &k), NFQ_MATCH_IN_ANY | NFQ_MATCH_IN_ICMP_ERR);
	/* ICMPv6 type 3 is time exceeded; ICMPv4's 3 (unreachable) number means nothing here */
	icmp6_err(b, ROUTER, PKT_ICMP6_ECHO, 0, &k);
	CHECK_EQ(nfq_flow_classify(&f, &k), 0);

	a6("2001:db8:2::8", other.raddr6);      /* another peer is another flow */
	tcp6(b, 1, PKT_TCP_SYN, 64, &k);
	CHECK_EQ(nfq_flow_classify(&other, &k), 0);
	memset(other.raddr6, 0, 16);            /* ... unless the remote is a wildcard */
	CHECK_EQ(nfq_flow_classify(&other, &k), NFQ_MATCH_OUT_ANY | NFQ_MATCH_OUT_SYN);
}

static void flows_keep_to_their_family(void)
{
	struct nfq_flow w4, w6;
	uint8_t b[128];
	struct pkt k6, k4;

	tcp6(b, 1, PKT_TCP_SYN, 64, &k6);
	tcp4_syn(b, &k4);
	/* "every SYN from local port 40000": an IPv4 flow (family 0, as IPv4 callers write it) */
	memset(&w4, 0, sizeof(w4));
	w4.lport = LPORT;
	CHECK_EQ(nfq_flow_classify(&w4, &k4), NFQ_MATCH_OUT_ANY | NFQ_MATCH_OUT_SYN);
	CHECK_EQ(nfq_flow_classify(&w4, &k6), 0);
	w4.family = AF_INET;
	CHECK_EQ(nfq_flow_classify(&w4, &k4), NFQ_MATCH_OUT_ANY | NFQ_MATCH_OUT_SYN);
	CHECK_EQ(nfq_flow_classify(&w4, &k6), 0);
	/* the same wildcard flow for IPv6 */
	memset(&w6, 0, sizeof(w6));
	w6.lport = LPORT;
	w6.family = AF_INET6;
	CHECK_EQ(nfq_flow_classify(&w6, &k6), NFQ_MATCH_OUT_ANY | NFQ_MATCH_OUT_SYN);
	CHECK_EQ(nfq_flow_classify(&w6, &k4), 0);
}

static void syn_hop_limit_and_suppression(void)
{
	struct nfq_policy_table t;
	struct nfq_policy_spec s;
	struct nfq_decision d;
	struct nfq_flow f = flow6(), f4;
	uint8_t b[128];
	struct pkt k;

	nfq_policy_table_init(&t);
	nfq_spec_syn_ttl(&s, &f, 1, 2, 1000);
	CHECK_EQ(nfq_policy_add(&t, &s, 0, NULL), 0);
	nfq_spec_drop_inbound_errors(&s, &f, 1000);
	CHECK_EQ(nfq_policy_add(&t, &s, 0, NULL), 0);
	nfq_spec_drop_outbound_rst(&s, &f, 1000);
	CHECK_EQ(nfq_policy_add(&t, &s, 0, NULL), 0);
	/* an IPv4 flow on the same ports, with the same kinds of policies, must not act */
	memset(&f4, 0, sizeof(f4));
	f4.lport = LPORT;
	nfq_spec_drop_inbound_errors(&s, &f4, 1000);
	CHECK_EQ(nfq_policy_add(&t, &s, 0, NULL), 0);

	/* the first SYN leaves with hop limit 2 */
	tcp6(b, 1, PKT_TCP_SYN, 64, &k);
	CHECK_EQ(nfq_policy_decide(&t, &k, NFQ_MATCH_OUT_ALL, 10, &d), 1);
	CHECK(d.set_ttl && !d.drop);
	CHECK_EQ(d.ttl, 2);
	CHECK_EQ(pkt_set_ttl(b, 60, d.ttl), 0);
	CHECK_EQ(pkt_parse(b, 60, &k), 0);
	CHECK_EQ(k.ip6.hop_limit, 2);
	/* the retransmission goes as it is */
	tcp6(b, 1, PKT_TCP_SYN, 64, &k);
	CHECK_EQ(nfq_policy_decide(&t, &k, NFQ_MATCH_OUT_ALL, 20, &d), 0);
	CHECK(!d.set_ttl && !d.drop);
	/* the router's time exceeded, the firewall's reject and the peer's RST are dropped */
	icmp6_err(b, ROUTER, PKT_ICMP6_TIMXCEED, 0, &k);
	CHECK_EQ(nfq_policy_decide(&t, &k, NFQ_MATCH_IN_ALL, 30, &d), 1);
	CHECK(d.drop);
	icmp6_err(b, REMOTE, PKT_ICMP6_UNREACH, 1, &k);
	CHECK_EQ(nfq_policy_decide(&t, &k, NFQ_MATCH_IN_ALL, 30, &d), 1);
	CHECK(d.drop);
	tcp6(b, 0, PKT_TCP_RST | PKT_TCP_ACK, 64, &k);
	CHECK_EQ(nfq_policy_decide(&t, &k, NFQ_MATCH_IN_ALL, 30, &d), 1);
	CHECK(d.drop);
	/* our kernel's RST to the peer's SYN is dropped too */
	tcp6(b, 1, PKT_TCP_RST | PKT_TCP_ACK, 64, &k);
	CHECK_EQ(nfq_policy_decide(&t, &k, NFQ_MATCH_OUT_ALL, 30, &d), 1);
	CHECK(d.drop);
	/* the peer's SYN-ACK passes */
	tcp6(b, 0, PKT_TCP_SYN | PKT_TCP_ACK, 64, &k);
	CHECK_EQ(nfq_policy_decide(&t, &k, NFQ_MATCH_IN_ALL, 30, &d), 0);
	CHECK(!d.drop);
	/* after the timeout nothing is dropped */
	tcp6(b, 0, PKT_TCP_RST, 64, &k);
	CHECK_EQ(nfq_policy_decide(&t, &k, NFQ_MATCH_IN_ALL, 1000, &d), 0);
	CHECK(!d.drop);
	nfq_policy_table_free(&t);
}

static void time_exceeded_reported_with_router6(void)
{
	struct nfq_policy_table t;
	struct nfq_policy_spec s;
	struct nfq_decision d;
	struct nfq_flow f = flow6();
	uint8_t b[128], r[16];
	struct pkt k;

	nfq_policy_table_init(&t);
	nfq_spec_report_icmp_te(&s, &f, 1000, 77);
	CHECK_EQ(nfq_policy_add(&t, &s, 0, NULL), 0);
	icmp6_err(b, ROUTER, PKT_ICMP6_TIMXCEED, 0, &k);
	CHECK_EQ(nfq_policy_decide(&t, &k, NFQ_MATCH_IN_ALL, 5, &d), 1);
	CHECK(!d.drop);
	CHECK_EQ(d.n_events, 1);
	CHECK_EQ(d.ev[0].cookie, 77);
	CHECK_EQ(d.ev[0].icmp_type, PKT_ICMP6_TIMXCEED);
	CHECK(d.ev[0].has_seq);
	CHECK_EQ(d.ev[0].seq, ISN);
	CHECK_EQ(d.ev[0].router, 0);
	a6(ROUTER, r);
	CHECK_MEM(d.ev[0].router6, r, 16);
	CHECK_EQ(d.ev[0].ttl, 64);
	CHECK_EQ(d.ev[0].pkt->family, AF_INET6);
	nfq_policy_table_free(&t);
}

static void flow_live_and_remove_by_family(void)
{
	struct nfq_policy_table t;
	struct nfq_policy_spec s;
	struct nfq_flow f = flow6(), f4;
	uint8_t b[128];
	struct pkt k, k4;

	nfq_policy_table_init(&t);
	tcp6(b, 1, PKT_TCP_SYN, 64, &k);
	tcp4_syn(b, &k4);
	/* an IPv4 flow naming the IPv4 SYN's remote: live for that one only */
	memset(&f4, 0, sizeof(f4));
	f4.lport = LPORT;
	f4.raddr = k4.ip.daddr;
	nfq_spec_drop_outbound_rst(&s, &f4, 1000);
	CHECK_EQ(nfq_policy_add(&t, &s, 0, NULL), 0);
	CHECK_EQ(nfq_policy_flow_live(&t, &k4, 1), 1);
	CHECK_EQ(nfq_policy_flow_live(&t, &k, 1), 0);
	nfq_spec_drop_outbound_rst(&s, &f, 1000);
	CHECK_EQ(nfq_policy_add(&t, &s, 0, NULL), 0);
	CHECK_EQ(nfq_policy_flow_live(&t, &k, 1), 1);
	/* the families' flows differ even with equal ports and zero IPv4 fields */
	f4 = f;
	f4.family = 0;
	CHECK_EQ(nfq_policy_remove_flow(&t, &f4), 0);
	CHECK_EQ(nfq_policy_remove_flow(&t, &f), 1);
	CHECK_EQ(nfq_policy_flow_live(&t, &k, 1), 0);
	CHECK_EQ(nfq_policy_count(&t), 1);
	nfq_policy_table_free(&t);
}

static void ipv6_replacement_accepted_with_checksums(void)
{
	struct nfq_policy_table t;
	struct nfq_policy_spec s;
	struct nfq_decision d;
	struct nfq_flow f = flow6();
	uint8_t b[128], syn[64];
	struct pkt k;

	nfq_policy_table_init(&t);
	tcp6(syn, 0, PKT_TCP_SYN | PKT_TCP_ACK, 64, &k);
	syn[56] ^= 0xff;        /* a wrong checksum: the table repairs it */
	nfq_spec_replace(&s, &f, NFQ_MATCH_IN_ICMP_TE, syn, 60, 1000);
	CHECK_EQ(nfq_policy_add(&t, &s, 0, NULL), 0);
	icmp6_err(b, ROUTER, PKT_ICMP6_TIMXCEED, 0, &k);
	CHECK_EQ(nfq_policy_decide(&t, &k, NFQ_MATCH_IN_ALL, 5, &d), 1);
	CHECK(d.replace != NULL);
	CHECK_EQ(d.replace_len, 60);
	syn[56] ^= 0xff;
	CHECK_MEM(d.replace, syn, 60);
	/* 40 bytes of IPv6 header claiming 20 more: no replacement */
	nfq_spec_replace(&s, &f, NFQ_MATCH_IN_ICMP_TE, syn, 50, 1000);
	CHECK_EQ(nfq_policy_add(&t, &s, 0, NULL), -EINVAL);
	nfq_policy_table_free(&t);
}

int main(void)
{
	RUN(classifies_ipv6_direction_and_kind);
	RUN(flows_keep_to_their_family);
	RUN(syn_hop_limit_and_suppression);
	RUN(time_exceeded_reported_with_router6);
	RUN(flow_live_and_remove_by_family);
	RUN(ipv6_replacement_accepted_with_checksums);
	return TAP_DONE();
}
