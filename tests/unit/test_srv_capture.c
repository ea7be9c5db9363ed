// SPDX-License-Identifier: MIT
/*
 * stunt-server's capture conversions (server/capture.c): a captured
 * frame becomes the SYN-REPORT the client gets (seq, TTL, IP id, options
 * raw and parsed), unrelated packets are ignored, a probe's RST or ICMP
 * answer is recognised, and the capture's programs keep what an armed
 * entry waits for and nothing else.
 */
#include "server/capture.h"
#include "server/stunt.h"
#include "nfq/pkt_build.h"
#include "tests/unit/tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdbool.h>

#define CLIENT	"198.18.1.2"
#define SRV1	"192.0.2.1"
#define SRV2	"192.0.2.2"

static uint32_t a4(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

/* An Ethernet frame holding an IPv4 TCP packet; returns its length. */
static size_t tcp_frame(uint8_t *f, const char *src, uint16_t sport, const char *dst,
			uint16_t dport, uint8_t flags, uint32_t seq, uint8_t ttl, uint16_t id)
{
	struct pkt_tcp_spec s;
	size_t len = 0;

	memset(&s, 0, sizeof(s));
	s.saddr = a4(src);
	s.daddr = a4(dst);
	s.sport = sport;
	s.dport = dport;
	s.seq = seq;
	s.flags = flags;
	s.window = 64240;
	s.ttl = ttl;
	s.ip_id = id;
	s.dont_fragment = 1;
	s.opt.present = PKT_OPT_MSS | PKT_OPT_SACK_OK | PKT_OPT_TS | PKT_OPT_WSCALE;
	s.opt.mss = 1460;
	s.opt.wscale = 7;
	s.opt.ts_val = 0x01020304;
	memset(f, 0, 14);
	f[12] = 0x08;
	CHECK_EQ(pkt_build_tcp(&s, f + 14, 1500, &len), 0);
	return 14 + len;
}

static const struct srv_cap_want *syn_want(void)
{
	static struct srv_cap_want w;

	w.kind = SRV_CAP_SYN;
	w.client = a4(CLIENT);
	w.srv = a4(SRV1);
	w.srv_port = 3478;
	return &w;
}

static void link_layers(void)
{
	uint8_t f[128] = { 0 };
	size_t off = 99;

	f[12] = 0x08;
	f[14] = 0x45;
	CHECK_EQ(srv_capture_l3(SRV_DLT_EN10MB, f, 40, &off), 0);
	CHECK_EQ(off, 14);
	f[12] = 0x86;	/* IPv6, its header too short, then not IPv6 inside */
	f[13] = 0xdd;
	CHECK_EQ(srv_capture_l3(SRV_DLT_EN10MB, f, 40, &off), -EMSGSIZE);
	CHECK_EQ(srv_capture_l3(SRV_DLT_EN10MB, f, 54, &off), -EPROTONOSUPPORT);
	f[14] = 0x60;
	CHECK_EQ(srv_capture_l3(SRV_DLT_EN10MB, f, 54, &off), 0);
	CHECK_EQ(off, 14);
	f[12] = 0x86;	/* neither family */
	f[13] = 0x06;
	CHECK_EQ(srv_capture_l3(SRV_DLT_EN10MB, f, 54, &off), -EPROTONOSUPPORT);
	f[12] = 0x08;
	f[13] = 0x00;
	f[14] = 0x45;
	/* 802.1Q tag */
	f[12] = 0x81;
	f[13] = 0x00;
	f[16] = 0x08;
	f[17] = 0x00;
	f[18] = 0x45;
	CHECK_EQ(srv_capture_l3(SRV_DLT_EN10MB, f, 60, &off), 0);
	CHECK_EQ(off, 18);
	CHECK_EQ(srv_capture_l3(SRV_DLT_EN10MB, f, 17, &off), -EMSGSIZE);
	/* Linux cooked (any) */
	memset(f, 0, sizeof(f));
	f[14] = 0x08;
	f[16] = 0x45;
	CHECK_EQ(srv_capture_l3(SRV_DLT_LINUX_SLL, f, 40, &off), 0);
	CHECK_EQ(off, 16);
	CHECK_EQ(srv_capture_l3(SRV_DLT_LINUX_SLL, f, 30, &off), -EMSGSIZE);
	memset(f, 0, sizeof(f));
	f[0] = 0x08;
	f[20] = 0x45;
	CHECK_EQ(srv_capture_l3(SRV_DLT_LINUX_SLL2, f, 40, &off), 0);
	CHECK_EQ(off, 20);
	f[0] = 0x45;
	CHECK_EQ(srv_capture_l3(SRV_DLT_RAW, f, 20, &off), 0);
	CHECK_EQ(off, 0);
	f[0] = 0x60;	/* raw IP: the version says IPv6 */
	CHECK_EQ(srv_capture_l3(SRV_DLT_RAW, f, 20, &off), -EMSGSIZE);
	CHECK_EQ(srv_capture_l3(SRV_DLT_RAW, f, 40, &off), 0);
	CHECK_EQ(srv_capture_l3(SRV_DLT_IPV6, f, 40, &off), 0);
	CHECK_EQ(srv_capture_l3(SRV_DLT_IPV4, f, 40, &off), -EPROTONOSUPPORT);
	CHECK_EQ(srv_capture_l3(147, f, 40, &off), -EPROTONOSUPPORT);
}

static void syn_becomes_report(void)
{
	uint8_t f[256];
	struct stunt_syn_report r;
	size_t len = tcp_frame(f, CLIENT, 40000, SRV1, 3478, PKT_TCP_SYN, 0xdeadbeef, 62, 4242);
	size_t off;

	CHECK_EQ(srv_capture_l3(SRV_DLT_EN10MB, f, len, &off), 0);
	CHECK_EQ(srv_capture_syn_report(f + off, len - off, syn_want(), 17, &r), 0);
	CHECK_EQ(r.syn.seq, 0xdeadbeef);
	CHECK_EQ(r.syn.ttl, 62);
	CHECK_EQ(r.syn.ip_id, 4242);
	CHECK_EQ(r.syn.ip_flags, STUNT_IP_DF);
	CHECK_EQ(r.syn.window, 64240);
	CHECK_EQ(r.syn.tcp_flags, PKT_TCP_SYN);
	CHECK_EQ(r.syn.elapsed_ms, 17);
	CHECK_EQ(r.source.family, STUN_FAMILY_IPV4);
	CHECK_EQ(r.source.port, 40000);
	CHECK_EQ(r.source.ip[0], 198);
	CHECK_EQ(r.source.ip[3], 2);
	/* raw options exactly as on the wire, and parsed */
	CHECK_EQ(r.opts_len, 20);
	CHECK_MEM(r.opts_raw, f + off + 20 + 20, 20);
	CHECK_EQ(r.opts.present, STUNT_OPT_MSS | STUNT_OPT_SACK_PERM | STUNT_OPT_TIMESTAMPS |
				     STUNT_OPT_WSCALE);
	CHECK_EQ(r.opts.mss, 1460);
	CHECK_EQ(r.opts.wscale, 7);
	CHECK_EQ(r.opts.ts_val, 0x01020304);
	/* cut by the snap length after the TCP header: the headers suffice */
	CHECK_EQ(srv_capture_syn_report(f + off, 60, syn_want(), 17, &r), 0);
	CHECK_EQ(r.syn.seq, 0xdeadbeef);
	CHECK_EQ(r.opts_len, 20);
	/* cut inside the TCP header: malformed */
	CHECK_EQ(srv_capture_syn_report(f + off, 30, syn_want(), 17, &r), -EBADMSG);
	CHECK_EQ(srv_capture_syn_report(f + off, 10, syn_want(), 17, &r), -EBADMSG);
}

static void other_packets_ignored(void)
{
	uint8_t f[256];
	struct stunt_syn_report r;
	size_t len;

	/* SYN-ACK, another client, another port, another server address */
	len = tcp_frame(f, CLIENT, 40000, SRV1, 3478, PKT_TCP_SYN | PKT_TCP_ACK, 1, 62, 1);
	CHECK_EQ(srv_capture_syn_report(f + 14, len - 14, syn_want(), 0, &r), -ENOENT);
	len = tcp_frame(f, "198.18.2.2", 40000, SRV1, 3478, PKT_TCP_SYN, 1, 62, 1);
	CHECK_EQ(srv_capture_syn_report(f + 14, len - 14, syn_want(), 0, &r), -ENOENT);
	len = tcp_frame(f, CLIENT, 40000, SRV1, 3479, PKT_TCP_SYN, 1, 62, 1);
	CHECK_EQ(srv_capture_syn_report(f + 14, len - 14, syn_want(), 0, &r), -ENOENT);
	len = tcp_frame(f, CLIENT, 40000, SRV2, 3478, PKT_TCP_SYN, 1, 62, 1);
	CHECK_EQ(srv_capture_syn_report(f + 14, len - 14, syn_want(), 0, &r), -ENOENT);
}

static struct srv_cap_want probe_want(void)
{
	struct srv_cap_want w = { .kind = SRV_CAP_PROBE };

	w.client = a4(CLIENT);
	w.client_port = 40000;
	w.srv = a4(SRV2);
	w.srv_port = 3479;
	return w;
}

static void probe_answers(void)
{
	struct srv_cap_want w = probe_want();
	struct stunt_probe_resp r;
	uint8_t f[256], icmp[128];
	size_t len, qlen;

	memset(&r, 0, sizeof(r));
	len = tcp_frame(f, CLIENT, 40000, SRV2, 3479, PKT_TCP_RST | PKT_TCP_ACK, 0, 61, 0);
	CHECK_EQ(srv_capture_probe_match(f + 14, len - 14, &w, &r), 0);
	CHECK_EQ(r.result, STUNT_PROBE_RST);
	CHECK_EQ(r.ttl, 61);
	len = tcp_frame(f, CLIENT, 40000, SRV2, 3479, PKT_TCP_SYN | PKT_TCP_ACK, 0, 61, 0);
	CHECK_EQ(srv_capture_probe_match(f + 14, len - 14, &w, &r), 0);
	CHECK_EQ(r.result, STUNT_PROBE_SYNACK);
	/* an RST for another port or to another source */
	len = tcp_frame(f, CLIENT, 40001, SRV2, 3479, PKT_TCP_RST, 0, 61, 0);
	CHECK_EQ(srv_capture_probe_match(f + 14, len - 14, &w, &r), -ENOENT);
	len = tcp_frame(f, CLIENT, 40000, SRV1, 3479, PKT_TCP_RST, 0, 61, 0);
	CHECK_EQ(srv_capture_probe_match(f + 14, len - 14, &w, &r), -ENOENT);

	/* ICMP port unreachable from the NAT quoting our SYN */
	len = tcp_frame(f, SRV2, 3479, CLIENT, 40000, PKT_TCP_SYN, 7, 63, 0);
	qlen = 20 + 8;
	memset(icmp, 0, sizeof(icmp));
	icmp[0] = 0x45;
	pkt_put16(icmp + 2, (uint16_t)(20 + 8 + qlen));
	icmp[8] = 62;
	icmp[9] = PKT_PROTO_ICMP;
	memcpy(icmp + 12, &(uint32_t){ a4(CLIENT) }, 4);
	memcpy(icmp + 16, &(uint32_t){ a4(SRV2) }, 4);
	icmp[20] = PKT_ICMP_UNREACH;
	icmp[21] = 3;
	memcpy(icmp + 28, f + 14, qlen);
	CHECK_EQ(pkt_fix_checksums(icmp, 20 + 8 + qlen), 0);
	memset(&r, 0, sizeof(r));
	CHECK_EQ(srv_capture_probe_match(icmp, 20 + 8 + qlen, &w, &r), 0);
	CHECK_EQ(r.result, STUNT_PROBE_ICMP);
	CHECK_EQ(r.icmp_type, 3);
	CHECK_EQ(r.icmp_code, 3);
	CHECK_EQ(r.ttl, 62);
	/* the same ICMP for another probe's port */
	w.client_port = 40001;
	CHECK_EQ(srv_capture_probe_match(icmp, 20 + 8 + qlen, &w, &r), -ENOENT);
	w = probe_want();
	w.srv_port = 3478;
	CHECK_EQ(srv_capture_probe_match(icmp, 20 + 8 + qlen, &w, &r), -ENOENT);
	/* garbage */
	CHECK_EQ(srv_capture_probe_match(icmp, 7, &w, &r), -ENOENT);
}

/* pass PROGRAM FRAME LEN: whether the program keeps an Ethernet frame */
static bool pass(const char *program, const uint8_t *f, size_t len)
{
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 65535);
	struct bpf_program bp;
	bool kept;

	if (!p || pcap_compile(p, &bp, program, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		CHECK(!"the capture program compiles");
		if (p)
			pcap_close(p);
		return false;
	}
	kept = bpf_filter(bp.bf_insns, f, (u_int)len, (u_int)len) != 0;
	pcap_freecode(&bp);
	pcap_close(p);
	return kept;
}

/* The armed program keeps whatever any armed entry could be waiting for
 * (a SYN, an RST, a SYN-ACK, an ICMP error) and nothing of a connection's
 * ordinary traffic; the idle one keeps nothing. */
static void filter_programs(void)
{
	uint8_t f[256], ic[128];
	size_t len;

	len = tcp_frame(f, CLIENT, 40000, SRV1, 3478, PKT_TCP_SYN, 7, 61, 0);
	CHECK(pass(SRV_CAP_FILTER_ARMED, f, len));
	CHECK(!pass(SRV_CAP_FILTER_IDLE, f, len));
	len = tcp_frame(f, CLIENT, 40000, SRV2, 3479, PKT_TCP_RST | PKT_TCP_ACK, 0, 61, 0);
	CHECK(pass(SRV_CAP_FILTER_ARMED, f, len));
	len = tcp_frame(f, CLIENT, 40000, SRV2, 3479, PKT_TCP_SYN | PKT_TCP_ACK, 0, 61, 0);
	CHECK(pass(SRV_CAP_FILTER_ARMED, f, len));
	len = tcp_frame(f, CLIENT, 40000, SRV1, 3478, PKT_TCP_ACK, 7, 61, 0);
	CHECK(!pass(SRV_CAP_FILTER_ARMED, f, len));
	len = tcp_frame(f, CLIENT, 40000, SRV1, 3478, PKT_TCP_ACK | PKT_TCP_PSH | PKT_TCP_FIN, 7, 61, 0);
	CHECK(!pass(SRV_CAP_FILTER_ARMED, f, len));
	/* ICMP: an error is kept, an echo request or reply is not */
	memset(ic, 0, sizeof(ic));
	ic[12] = 0x08;
	ic[14] = 0x45;
	pkt_put16(ic + 16, 20 + 8);
	ic[22] = 64;
	ic[23] = PKT_PROTO_ICMP;
	memcpy(ic + 26, &(uint32_t){ a4(CLIENT) }, 4);
	memcpy(ic + 30, &(uint32_t){ a4(SRV1) }, 4);
	ic[34] = PKT_ICMP_UNREACH;
	ic[35] = 3;
	CHECK(pass(SRV_CAP_FILTER_ARMED, ic, 14 + 28));
	CHECK(!pass(SRV_CAP_FILTER_IDLE, ic, 14 + 28));
	ic[34] = 8;	/* echo request */
	ic[35] = 0;
	CHECK(!pass(SRV_CAP_FILTER_ARMED, ic, 14 + 28));
	ic[34] = 0;	/* echo reply */
	CHECK(!pass(SRV_CAP_FILTER_ARMED, ic, 14 + 28));
}

#define CLIENT6	0x10
#define SRV6	0x06

static void ip6_fill(uint8_t a[16], uint8_t last)
{
	static const uint8_t pfx[4] = { 0x20, 0x01, 0x0d, 0xb8 };

	memset(a, 0, 16);
	memcpy(a, pfx, 4);
	a[15] = last;
}

/* An Ethernet frame holding an IPv6 TCP packet (srv_stunt_build6). */
static size_t tcp6_frame(uint8_t *f, uint8_t src, uint16_t sport, uint8_t dst, uint16_t dport,
			 uint8_t flags, uint8_t hops)
{
	struct pkt_tcp_spec s;
	uint8_t a[16], b[16];
	size_t len = 0;

	memset(&s, 0, sizeof(s));
	s.sport = sport;
	s.dport = dport;
	s.flags = flags;
	s.window = 64240;
	s.ttl = hops;
	ip6_fill(a, src);
	ip6_fill(b, dst);
	memset(f, 0, 14);
	f[12] = 0x86;
	f[13] = 0xdd;
	CHECK_EQ(srv_stunt_build6(&s, a, b, f + 14, 200, &len), 0);
	return 14 + len;
}

/* An IPv6 probe's answers: the client's RST or SYN-ACK, an ICMPv6 error
 * quoting our SYN; not an IPv4 packet, not another address or port. */
static void probe_answers6(void)
{
	struct srv_cap_want w = { .kind = SRV_CAP_PROBE, .v6 = true, .client_port = 40000,
				  .srv_port = 3479 }, w4 = probe_want();
	struct stunt_probe_resp r;
	uint8_t f[256], ic[256];
	size_t len, qlen;

	ip6_fill(w.client6, CLIENT6);
	ip6_fill(w.srv6, SRV6);
	memset(&r, 0, sizeof(r));
	len = tcp6_frame(f, CLIENT6, 40000, SRV6, 3479, PKT_TCP_RST | PKT_TCP_ACK, 63);
	CHECK_EQ(srv_capture_probe_match(f + 14, len - 14, &w, &r), 0);
	CHECK_EQ(r.result, STUNT_PROBE_RST);
	CHECK_EQ(r.ttl, 63);
	CHECK(pass(SRV_CAP_FILTER_ARMED, f, len));
	CHECK(!pass(SRV_CAP_FILTER_IDLE, f, len));
	/* an IPv4 probe does not take it */
	CHECK_EQ(srv_capture_probe_match(f + 14, len - 14, &w4, &r), -ENOENT);
	len = tcp6_frame(f, CLIENT6, 40000, SRV6, 3479, PKT_TCP_SYN | PKT_TCP_ACK, 63);
	CHECK_EQ(srv_capture_probe_match(f + 14, len - 14, &w, &r), 0);
	CHECK_EQ(r.result, STUNT_PROBE_SYNACK);
	CHECK(pass(SRV_CAP_FILTER_ARMED, f, len));
	len = tcp6_frame(f, CLIENT6, 40000, SRV6, 3479, PKT_TCP_ACK, 63);
	CHECK_EQ(srv_capture_probe_match(f + 14, len - 14, &w, &r), -ENOENT);
	CHECK(!pass(SRV_CAP_FILTER_ARMED, f, len));
	len = tcp6_frame(f, CLIENT6, 40001, SRV6, 3479, PKT_TCP_RST, 63);
	CHECK_EQ(srv_capture_probe_match(f + 14, len - 14, &w, &r), -ENOENT);
	len = tcp6_frame(f, 0x11, 40000, SRV6, 3479, PKT_TCP_RST, 63);
	CHECK_EQ(srv_capture_probe_match(f + 14, len - 14, &w, &r), -ENOENT);
	/* an IPv4 answer for an IPv6 probe */
	len = tcp_frame(f, CLIENT, 40000, SRV2, 3479, PKT_TCP_RST, 0, 61, 0);
	CHECK_EQ(srv_capture_probe_match(f + 14, len - 14, &w, &r), -ENOENT);

	/* ICMPv6 administratively prohibited from the firewall (::1) quoting our SYN */
	len = tcp6_frame(f, SRV6, 3479, CLIENT6, 40000, PKT_TCP_SYN, 63);
	qlen = len - 14;
	memset(ic, 0, sizeof(ic));
	ic[12] = 0x86;
	ic[13] = 0xdd;
	ic[14] = 0x60;
	pkt_put16(ic + 18, (uint16_t)(8 + qlen));
	ic[20] = 58;	/* ICMPv6 */
	ic[21] = 64;
	ip6_fill(ic + 22, 0x01);
	ip6_fill(ic + 38, SRV6);
	ic[54] = 1;	/* destination unreachable */
	ic[55] = 1;	/* administratively prohibited */
	memcpy(ic + 62, f + 14, qlen);
	CHECK_EQ(pkt_fix_checksums(ic + 14, 48 + qlen), 0);
	memset(&r, 0, sizeof(r));
	CHECK_EQ(srv_capture_probe_match(ic + 14, 48 + qlen, &w, &r), 0);
	CHECK_EQ(r.result, STUNT_PROBE_ICMP);
	CHECK_EQ(r.icmp_type, 1);
	CHECK_EQ(r.icmp_code, 1);
	CHECK_EQ(r.ttl, 64);
	CHECK(pass(SRV_CAP_FILTER_ARMED, ic, 14 + 48 + qlen));
	/* cut by the snap length inside the quote's TCP header: still ours */
	CHECK_EQ(srv_capture_probe_match(ic + 14, 48 + 40 + 8, &w, &r), 0);
	/* another probe's port */
	w.client_port = 40001;
	CHECK_EQ(srv_capture_probe_match(ic + 14, 48 + qlen, &w, &r), -ENOENT);
	w.client_port = 40000;
	/* an echo reply is no answer, and the program drops it */
	ic[54] = 129;
	ic[55] = 0;
	CHECK_EQ(srv_capture_probe_match(ic + 14, 48 + qlen, &w, &r), -ENOENT);
	CHECK(!pass(SRV_CAP_FILTER_ARMED, ic, 14 + 48 + qlen));
	/* garbage */
	CHECK_EQ(srv_capture_probe_match(ic + 14, 30, &w, &r), -ENOENT);
}

int main(void)
{
	RUN(link_layers);
	RUN(syn_becomes_report);
	RUN(other_packets_ignored);
	RUN(probe_answers);
	RUN(filter_programs);
	RUN(probe_answers6);
	return TAP_DONE();
}
