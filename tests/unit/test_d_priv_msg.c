// SPDX-License-Identifier: MIT
/* stuntd's privilege-separation messages (daemon/priv_msg.c): round trips,
 * every length check, the spec check (no REPLACE), the INJECT check. */
#include "daemon/priv_msg.h"
#include "nfq/pkt_build.h"
#include "tests/unit/tap.h"

#include <errno.h>
#include <string.h>

static uint8_t buf[D_PRIV_MSG_MAX];

static void policy_add_roundtrip(void)
{
	struct nfq_flow f = { .laddr = 0x0100000a, .raddr = 0x0200000a, .lport = 1000,
			      .rport = 2000, .proto = PKT_PROTO_TCP };
	struct nfq_policy_spec s;
	struct d_priv_msg m;
	uint8_t bytes[40];
	int n;

	nfq_spec_syn_ttl(&s, &f, 1, 2, 5000);
	s.cookie = 0x1122334455667788ull;
	n = d_priv_enc_policy_add(buf, sizeof(buf), 7, &s);
	CHECK(n > 0);
	CHECK_EQ(d_priv_decode(buf, (size_t)n, &m), 0);
	CHECK_EQ(m.hdr.type, D_PRIV_POLICY_ADD);
	CHECK_EQ(m.hdr.seq, 7u);
	CHECK(!memcmp(&m.u.spec.flow, &f, sizeof(f)));
	CHECK_EQ(m.u.spec.action, NFQ_ACT_TTL);
	CHECK_EQ(m.u.spec.ttl, 2);
	CHECK_EQ(m.u.spec.timeout_ms, 5000u);
	CHECK(m.u.spec.cookie == 0x1122334455667788ull);
	CHECK(m.u.spec.bytes == NULL);
	CHECK_EQ(d_priv_spec_check(&m.u.spec), 0);

	/* a replacement: the bytes follow the struct, the pointer is rebuilt */
	memset(bytes, 0xab, sizeof(bytes));
	nfq_spec_replace(&s, &f, NFQ_MATCH_IN_ICMP_TE, bytes, sizeof(bytes), 1000);
	n = d_priv_enc_policy_add(buf, sizeof(buf), 8, &s);
	CHECK(n > 0);
	CHECK_EQ(d_priv_decode(buf, (size_t)n, &m), 0);
	CHECK(m.u.spec.bytes == buf + sizeof(struct d_priv_hdr) + sizeof(struct nfq_policy_spec));
	CHECK_EQ(m.u.spec.len, sizeof(bytes));
	CHECK_MEM(m.u.spec.bytes, bytes, sizeof(bytes));
	/* ... which the privileged side refuses: stuntd never replaces a packet */
	CHECK_EQ(d_priv_spec_check(&m.u.spec), -EPERM);
	/* one byte more or less than spec.len says */
	CHECK_EQ(d_priv_decode(buf, (size_t)n - 1, &m), -EBADMSG);
	((struct d_priv_hdr *)buf)->len++;
	CHECK_EQ(d_priv_decode(buf, (size_t)n + 1, &m), -EBADMSG);
	/* too long a replacement cannot be encoded */
	s.len = NFQ_POLICY_MAX_REPLACE + 1;
	CHECK_EQ(d_priv_enc_policy_add(buf, sizeof(buf), 9, &s), -EINVAL);
	s.len = 10;
	s.bytes = NULL;
	CHECK_EQ(d_priv_enc_policy_add(buf, sizeof(buf), 9, &s), -EINVAL);
}

static void spec_check(void)
{
	struct nfq_flow f = { .lport = 1 };
	struct nfq_policy_spec s, t;
	uint8_t b[20] = { 0 };

	nfq_spec_drop_outbound_rst(&s, &f, 1000);
	CHECK_EQ(d_priv_spec_check(&s), 0);
	t = s;
	t.match = 0;
	CHECK_EQ(d_priv_spec_check(&t), -EINVAL);
	t = s;
	t.match = 0x80000000u;
	CHECK_EQ(d_priv_spec_check(&t), -EINVAL);
	t = s;
	t.timeout_ms = 0;
	CHECK_EQ(d_priv_spec_check(&t), -EINVAL);
	t.timeout_ms = NFQ_POLICY_MAX_TIMEOUT_MS + 1;
	CHECK_EQ(d_priv_spec_check(&t), -EINVAL);
	t = s;
	t.action = 0;
	CHECK_EQ(d_priv_spec_check(&t), -EINVAL);
	t = s;
	t.action = NFQ_ACT_REPLACE;	/* not even without bytes */
	CHECK_EQ(d_priv_spec_check(&t), -EPERM);
	t.action = (enum nfq_action)(NFQ_ACT_REPLACE + 1);
	CHECK_EQ(d_priv_spec_check(&t), -EINVAL);
	t = s;
	t.len = 4;	/* a length without bytes */
	CHECK_EQ(d_priv_spec_check(&t), -EINVAL);
	t = s;
	t.bytes = b;	/* bytes without a length */
	CHECK_EQ(d_priv_spec_check(&t), -EINVAL);
	t.len = sizeof(b);	/* bytes on a policy that is no replacement */
	CHECK_EQ(d_priv_spec_check(&t), -EINVAL);
	nfq_spec_syn_ttl(&t, &f, 1, 2, 1000);
	t.ttl = 0;
	CHECK_EQ(d_priv_spec_check(&t), -EINVAL);
}

static void small_messages(void)
{
	struct nfq_flow f = { .rport = 9, .proto = PKT_PROTO_TCP };
	struct d_priv_msg m;
	uint8_t pkt[28] = { 0x45 };
	int n;

	n = d_priv_enc_policy_remove(buf, sizeof(buf), 1, 42);
	CHECK_EQ(d_priv_decode(buf, (size_t)n, &m), 0);
	CHECK_EQ(m.u.id, 42u);
	CHECK_EQ(d_priv_decode(buf, (size_t)n - 1, &m), -EBADMSG);

	n = d_priv_enc_policy_remove_flow(buf, sizeof(buf), 2, &f);
	CHECK_EQ(d_priv_decode(buf, (size_t)n, &m), 0);
	CHECK_EQ(m.u.flow.rport, 9);

	/* MARK: a header only, the socket travels as SCM_RIGHTS */
	n = d_priv_enc_mark(buf, sizeof(buf), 3);
	CHECK_EQ(n, (int)sizeof(struct d_priv_hdr));
	CHECK_EQ(d_priv_decode(buf, (size_t)n, &m), 0);
	CHECK_EQ(m.hdr.type, D_PRIV_MARK);
	CHECK_EQ(m.hdr.seq, 3u);
	/* ... and nothing else: the old SOCKET request's port is refused */
	((struct d_priv_hdr *)buf)->len = 2;
	memset(buf + n, 0, 2);
	CHECK_EQ(d_priv_decode(buf, (size_t)n + 2, &m), -EBADMSG);
	CHECK_EQ(d_priv_enc_mark(buf, 8, 3), -EMSGSIZE);

	n = d_priv_enc_inject(buf, sizeof(buf), 4, pkt, sizeof(pkt));
	CHECK_EQ(d_priv_decode(buf, (size_t)n, &m), 0);
	CHECK_EQ(m.data_len, sizeof(pkt));
	CHECK(m.data == buf + sizeof(struct d_priv_hdr));
	CHECK_EQ(d_priv_enc_inject(buf, sizeof(buf), 4, pkt, 0), -EINVAL);
	CHECK_EQ(d_priv_enc_inject(buf, sizeof(buf), 4, NULL, 1), -EINVAL);
	CHECK_EQ(d_priv_enc_inject(buf, 20, 4, pkt, sizeof(pkt)), -EMSGSIZE);

	n = d_priv_enc_probe_fds(buf, sizeof(buf), 5);
	CHECK_EQ(n, (int)sizeof(struct d_priv_hdr));
	CHECK_EQ(d_priv_decode(buf, (size_t)n, &m), 0);

	n = d_priv_enc_reply(buf, sizeof(buf), 6, -ENOSPC, 77);
	CHECK_EQ(d_priv_decode(buf, (size_t)n, &m), 0);
	CHECK_EQ(m.hdr.type, D_PRIV_REPLY);
	CHECK_EQ(m.hdr.seq, 6u);
	CHECK_EQ(m.u.reply.result, -ENOSPC);
	CHECK_EQ(m.u.reply.value, 77u);
}

#define LOCAL_A	0x0a00a8c0u		/* 192.168.0.10, network order (little endian host) */
#define PEER_A	0x0100330au		/* 10.51.0.1 */

static size_t syn(uint8_t *b, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
		  uint8_t flags)
{
	struct pkt_tcp_spec sp = { .saddr = src, .daddr = dst, .sport = sport, .dport = dport,
				   .seq = 1000, .flags = flags, .window = 64240, .ttl = 64,
				   .dont_fragment = 1 };
	size_t len = 0;

	CHECK_EQ(pkt_build_tcp(&sp, b, 128, &len), 0);
	return len;
}

static void inject_check(void)
{
	struct nfq_flow f = { .proto = PKT_PROTO_TCP, .lport = 40001, .raddr = PEER_A,
			      .rport = 5000 };
	struct nfq_flow wild = { .proto = PKT_PROTO_TCP, .raddr = PEER_A };
	const uint32_t local[] = { 0x0100007fu, LOCAL_A };
	struct nfq_policy_table t;
	struct nfq_policy_spec s;
	enum d_priv_inject_why why;
	uint8_t p[128], u[64] = { 0x45 };
	uint32_t id;
	size_t n;

	nfq_policy_table_init(&t);
	n = syn(p, LOCAL_A, 40001, PEER_A, 5000, PKT_TCP_SYN);
	/* no policy yet */
	CHECK_EQ(d_priv_inject_check(p, n, &t, 100, local, 2, NULL, 0, &why), -EPERM);
	CHECK_EQ(why, D_INJ_NO_POLICY);
	CHECK_EQ(d_priv_inject_check(p, n, NULL, 100, local, 2, NULL, 0, &why), -EPERM);
	/* a wildcard policy (a shotgun's RST guard: any local port) is no flow */
	nfq_spec_drop_outbound_rst(&s, &wild, 1000);
	CHECK_EQ(nfq_policy_add(&t, &s, 0, NULL), 0);
	CHECK_EQ(d_priv_inject_check(p, n, &t, 100, local, 2, NULL, 0, &why), -EPERM);
	CHECK_EQ(why, D_INJ_NO_POLICY);
	/* the flow's own policy: allowed while it lives */
	nfq_spec_drop_inbound_errors(&s, &f, 1000);
	CHECK_EQ(nfq_policy_add(&t, &s, 0, &id), 0);
	CHECK_EQ(d_priv_inject_check(p, n, &t, 100, local, 2, NULL, 0, &why), 0);
	CHECK_EQ(why, D_INJ_OK);
	CHECK_EQ(d_priv_inject_check(p, n, &t, 1000, local, 2, NULL, 0, &why), -EPERM);	/* expired */
	CHECK_EQ(why, D_INJ_NO_POLICY);
	/* another remote port, another local port: not the flow */
	n = syn(p, LOCAL_A, 40001, PEER_A, 5001, PKT_TCP_SYN);
	CHECK_EQ(d_priv_inject_check(p, n, &t, 100, local, 2, NULL, 0, &why), -EPERM);
	CHECK_EQ(why, D_INJ_NO_POLICY);
	n = syn(p, LOCAL_A, 40002, PEER_A, 5000, PKT_TCP_SYN);
	CHECK_EQ(d_priv_inject_check(p, n, &t, 100, local, 2, NULL, 0, &why), -EPERM);
	/* another remote address on the same ports */
	n = syn(p, LOCAL_A, 40001, PEER_A + 0x01000000u, 5000, PKT_TCP_SYN);
	CHECK_EQ(d_priv_inject_check(p, n, &t, 100, local, 2, NULL, 0, &why), -EPERM);
	/* a source that is not ours */
	n = syn(p, LOCAL_A + 0x01000000u, 40001, PEER_A, 5000, PKT_TCP_SYN);
	CHECK_EQ(d_priv_inject_check(p, n, &t, 100, local, 2, NULL, 0, &why), -EPERM);
	CHECK_EQ(why, D_INJ_NOT_LOCAL);
	CHECK_EQ(d_priv_inject_check(p, n, &t, 100, local, 0, NULL, 0, &why), -EPERM);
	/* not a bare SYN */
	n = syn(p, LOCAL_A, 40001, PEER_A, 5000, PKT_TCP_SYN | PKT_TCP_ACK);
	CHECK_EQ(d_priv_inject_check(p, n, &t, 100, local, 2, NULL, 0, &why), -EPERM);
	CHECK_EQ(why, D_INJ_NOT_SYN);
	n = syn(p, LOCAL_A, 40001, PEER_A, 5000, PKT_TCP_RST);
	CHECK_EQ(d_priv_inject_check(p, n, &t, 100, local, 2, NULL, 0, &why), -EPERM);
	CHECK_EQ(why, D_INJ_NOT_SYN);
	n = syn(p, LOCAL_A, 40001, PEER_A, 5000, PKT_TCP_SYN | PKT_TCP_FIN);
	CHECK_EQ(d_priv_inject_check(p, n, &t, 100, local, 2, NULL, 0, &why), -EPERM);
	/* a fragment of the right SYN */
	n = syn(p, LOCAL_A, 40001, PEER_A, 5000, PKT_TCP_SYN);
	p[6] |= 0x20;	/* MF */
	CHECK(pkt_fix_checksums(p, n) == 0);
	CHECK_EQ(d_priv_inject_check(p, n, &t, 100, local, 2, NULL, 0, &why), -EPERM);
	CHECK_EQ(why, D_INJ_NOT_SYN);
	/* the right SYN with an IPv4 option (loose source route: it would go
	 * on to another host) */
	{
		uint8_t o[128];

		n = syn(p, LOCAL_A, 40001, PEER_A, 5000, PKT_TCP_SYN);
		memcpy(o, p, 20);
		o[0] = 0x47;				/* IHL 7 */
		o[20] = 131;				/* LSRR */
		o[21] = 7;
		o[22] = 4;
		memcpy(o + 23, &local[1], 4);
		o[27] = 1;				/* NOP */
		memcpy(o + 28, p + 20, n - 20);
		o[2] = (uint8_t)((n + 8) >> 8);
		o[3] = (uint8_t)(n + 8);
		CHECK(pkt_fix_checksums(o, n + 8) == 0);
		CHECK_EQ(d_priv_inject_check(o, n + 8, &t, 100, local, 2, NULL, 0, &why), -EPERM);
		CHECK_EQ(why, D_INJ_IP_OPTIONS);
	}
	/* to loopback, multicast or broadcast, with a policy naming the flow */
	{
		const uint32_t bad[] = { 0x0100007fu, 0x010000e0u, 0xffffffffu, 0x00000000u };
		size_t i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			struct nfq_flow fb = f;

			fb.raddr = bad[i];
			nfq_spec_drop_inbound_errors(&s, &fb, 1000);
			CHECK_EQ(nfq_policy_add(&t, &s, 0, NULL), 0);
			n = syn(p, LOCAL_A, 40001, bad[i], 5000, PKT_TCP_SYN);
			CHECK_EQ(d_priv_inject_check(p, n, &t, 100, local, 2, NULL, 0, &why), -EPERM);
			CHECK_EQ(why, D_INJ_BAD_ADDR);
		}
		/* from 127.0.0.1, which local[] holds */
		n = syn(p, 0x0100007fu, 40001, PEER_A, 5000, PKT_TCP_SYN);
		CHECK_EQ(d_priv_inject_check(p, n, &t, 100, local, 2, NULL, 0, &why), -EPERM);
		CHECK_EQ(why, D_INJ_BAD_ADDR);
	}
	/* UDP from our address to the peer's */
	u[0] = 0x45;
	u[3] = 28;
	u[8] = 64;
	u[9] = PKT_PROTO_UDP;
	memcpy(u + 12, &local[1], 4);
	memcpy(u + 16, &f.raddr, 4);
	u[20] = 0x9c; u[21] = 0x41;	/* 40001 */
	u[22] = 0x13; u[23] = 0x88;	/* 5000 */
	u[25] = 8;
	CHECK(pkt_fix_checksums(u, 28) == 0);
	CHECK_EQ(d_priv_inject_check(u, 28, &t, 100, local, 2, NULL, 0, &why), -EPERM);
	CHECK_EQ(why, D_INJ_NOT_SYN);
	/* garbage */
	CHECK_EQ(d_priv_inject_check(u, 10, &t, 100, local, 2, NULL, 0, &why), -EINVAL);
	CHECK_EQ(why, D_INJ_PARSE);
	CHECK_EQ(d_priv_inject_check(NULL, 0, &t, 100, local, 2, NULL, 0, NULL), -EINVAL);
	/* removing the flow's policy closes it again */
	n = syn(p, LOCAL_A, 40001, PEER_A, 5000, PKT_TCP_SYN);
	CHECK_EQ(d_priv_inject_check(p, n, &t, 100, local, 2, NULL, 0, NULL), 0);
	CHECK_EQ(nfq_policy_remove(&t, id), 0);
	CHECK_EQ(d_priv_inject_check(p, n, &t, 100, local, 2, NULL, 0, NULL), -EPERM);
	CHECK(strcmp(d_priv_inject_why_str(D_INJ_NOT_LOCAL), "?") != 0);
	nfq_policy_table_free(&t);
}

static size_t syn6(uint8_t *b, const uint8_t src[16], uint16_t sport, const uint8_t dst[16],
		   uint16_t dport, uint8_t flags)
{
	struct pkt_tcp_spec sp = { .family = AF_INET6, .sport = sport, .dport = dport,
				   .seq = 1000, .flags = flags, .window = 64240, .ttl = 64 };
	size_t len = 0;

	memcpy(sp.saddr6, src, 16);
	memcpy(sp.daddr6, dst, 16);
	CHECK_EQ(pkt_build_tcp(&sp, b, 128, &len), 0);
	return len;
}

/* The daemon's SYN clock sends IPv6 SYNs again too (simopen6): the same
 * rule, the host's IPv6 addresses, no extension header. */
static void inject_check6(void)
{
	static const uint8_t own[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 0x10 };
	static const uint8_t peer[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 0x20 };
	static const uint8_t other[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 0x11 };
	static const uint8_t any[16];
	const uint8_t local6[2][16] = { { [15] = 1 }, { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 0x10 } };
	const uint32_t local[] = { LOCAL_A };
	struct nfq_flow f = { .proto = PKT_PROTO_TCP, .family = AF_INET6, .lport = 40001,
			      .rport = 5000 };
	struct nfq_policy_table t;
	struct nfq_policy_spec s;
	enum d_priv_inject_why why;
	uint8_t p[160], q[160];
	size_t n;

	memcpy(f.raddr6, peer, 16);
	nfq_policy_table_init(&t);
	n = syn6(p, own, 40001, peer, 5000, PKT_TCP_SYN);
	CHECK_EQ(n, (size_t)(40 + 20));
	/* no policy names the flow yet */
	CHECK_EQ(d_priv_inject_check(p, n, &t, 100, local, 1, local6, 2, &why), -EPERM);
	CHECK_EQ(why, D_INJ_NO_POLICY);
	/* an IPv4 flow's policy on the same ports is not it */
	{
		struct nfq_flow f4 = { .proto = PKT_PROTO_TCP, .lport = 40001, .raddr = PEER_A,
				       .rport = 5000 };

		nfq_spec_drop_inbound_errors(&s, &f4, 1000);
		CHECK_EQ(nfq_policy_add(&t, &s, 0, NULL), 0);
		CHECK_EQ(d_priv_inject_check(p, n, &t, 100, local, 1, local6, 2, &why), -EPERM);
		CHECK_EQ(why, D_INJ_NO_POLICY);
	}
	nfq_spec_drop_inbound_errors(&s, &f, 1000);
	CHECK_EQ(nfq_policy_add(&t, &s, 0, NULL), 0);
	CHECK_EQ(d_priv_inject_check(p, n, &t, 100, local, 1, local6, 2, &why), 0);
	CHECK_EQ(why, D_INJ_OK);
	/* without the host's IPv6 addresses, from another, from :: */
	CHECK_EQ(d_priv_inject_check(p, n, &t, 100, local, 1, NULL, 0, &why), -EPERM);
	CHECK_EQ(why, D_INJ_NOT_LOCAL);
	n = syn6(p, other, 40001, peer, 5000, PKT_TCP_SYN);
	CHECK_EQ(d_priv_inject_check(p, n, &t, 100, local, 1, local6, 2, &why), -EPERM);
	CHECK_EQ(why, D_INJ_NOT_LOCAL);
	n = syn6(p, any, 40001, peer, 5000, PKT_TCP_SYN);
	CHECK_EQ(d_priv_inject_check(p, n, &t, 100, local, 1, local6, 2, &why), -EPERM);
	CHECK_EQ(why, D_INJ_BAD_ADDR);
	/* to another address or port */
	n = syn6(p, own, 40001, other, 5000, PKT_TCP_SYN);
	CHECK_EQ(d_priv_inject_check(p, n, &t, 100, local, 1, local6, 2, &why), -EPERM);
	CHECK_EQ(why, D_INJ_NO_POLICY);
	n = syn6(p, own, 40001, peer, 5001, PKT_TCP_SYN);
	CHECK_EQ(d_priv_inject_check(p, n, &t, 100, local, 1, local6, 2, &why), -EPERM);
	/* not a bare SYN */
	n = syn6(p, own, 40001, peer, 5000, PKT_TCP_SYN | PKT_TCP_ACK);
	CHECK_EQ(d_priv_inject_check(p, n, &t, 100, local, 1, local6, 2, &why), -EPERM);
	CHECK_EQ(why, D_INJ_NOT_SYN);
	/* the right SYN behind a routing header (type 0 would route it on):
	 * no extension header is taken */
	n = syn6(p, own, 40001, peer, 5000, PKT_TCP_SYN);
	memcpy(q, p, 40);
	q[6] = 43;				/* routing header */
	memset(q + 40, 0, 8);
	q[40] = PKT_PROTO_TCP;			/* next header */
	q[41] = 0;				/* 8 bytes */
	q[42] = 4;				/* type 4 (SRH), no segment left */
	memcpy(q + 48, p + 40, n - 40);
	q[5] = (uint8_t)(n - 40 + 8);
	CHECK(pkt_fix_checksums(q, n + 8) == 0);
	CHECK_EQ(d_priv_inject_check(q, n + 8, &t, 100, local, 1, local6, 2, &why), -EPERM);
	CHECK_EQ(why, D_INJ_IP_OPTIONS);
	/* to multicast, link-local, loopback or an IPv4-mapped address, or
	 * from loopback or link-local, even with a policy naming the flow and
	 * the source counted as ours */
	{
		static const uint8_t bad[][16] = {
			{ 0xff, 0x02, [15] = 1 },			/* ff02::1 */
			{ 0xfe, 0x80, [15] = 1 },			/* fe80::1 */
			{ 0xfe, 0xbf, [15] = 1 },			/* fe80::/10 still */
			{ [15] = 1 },					/* ::1 */
			{ [10] = 0xff, [11] = 0xff, 10, 0, 0, 9 },	/* ::ffff:10.0.0.9 */
		};
		const uint8_t loc6[3][16] = { { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 0x10 },
					      { [15] = 1 }, { 0xfe, 0x80, [15] = 1 } };
		size_t i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			struct nfq_flow fb = f;

			memcpy(fb.raddr6, bad[i], 16);
			nfq_spec_drop_inbound_errors(&s, &fb, 1000);
			CHECK_EQ(nfq_policy_add(&t, &s, 0, NULL), 0);
			n = syn6(p, own, 40001, bad[i], 5000, PKT_TCP_SYN);
			CHECK_EQ(d_priv_inject_check(p, n, &t, 100, local, 1, loc6, 3, &why), -EPERM);
			CHECK_EQ(why, D_INJ_BAD_ADDR);
		}
		n = syn6(p, loc6[1], 40001, peer, 5000, PKT_TCP_SYN);
		CHECK_EQ(d_priv_inject_check(p, n, &t, 100, local, 1, loc6, 3, &why), -EPERM);
		CHECK_EQ(why, D_INJ_BAD_ADDR);
		n = syn6(p, loc6[2], 40001, peer, 5000, PKT_TCP_SYN);
		CHECK_EQ(d_priv_inject_check(p, n, &t, 100, local, 1, loc6, 3, &why), -EPERM);
		CHECK_EQ(why, D_INJ_BAD_ADDR);
		/* 2001:db8::/32 (the lab's) is unicast a peer may have */
		n = syn6(p, own, 40001, peer, 5000, PKT_TCP_SYN);
		CHECK_EQ(d_priv_inject_check(p, n, &t, 100, local, 1, loc6, 3, &why), 0);
	}
	/* expired */
	CHECK_EQ(d_priv_inject_check(p, n, &t, 1000, local, 1, local6, 2, &why), -EPERM);
	CHECK_EQ(why, D_INJ_NO_POLICY);
	nfq_policy_table_free(&t);
}

static void events(void)
{
	struct nfq_event ev = { .policy_id = 3, .cookie = 99, .match = NFQ_MATCH_IN_ICMP_TE,
				.router = 0x01020304, .icmp_type = 11, .has_seq = 1, .seq = 1234 };
	struct pkt k = { .len = 56, .l4 = PKT_L4_ICMP };
	struct d_priv_msg m;
	int n;

	ev.pkt = &k;
	n = d_priv_enc_event(buf, sizeof(buf), &ev);
	CHECK_EQ(d_priv_decode(buf, (size_t)n, &m), 0);
	CHECK_EQ(m.hdr.type, D_PRIV_EVENT);
	CHECK(m.u.event.ev.pkt == &m.u.event.pkt);
	CHECK_EQ(m.u.event.ev.pkt->len, 56u);
	CHECK_EQ(m.u.event.ev.cookie, 99u);
	CHECK_EQ(m.u.event.ev.seq, 1234u);
	CHECK_EQ(m.u.event.ev.router, 0x01020304u);
	ev.pkt = NULL;
	n = d_priv_enc_event(buf, sizeof(buf), &ev);
	CHECK_EQ(d_priv_decode(buf, (size_t)n, &m), 0);
	CHECK(m.u.event.ev.pkt == NULL);
	/* has_pkt must be 0 or 1 */
	buf[sizeof(struct d_priv_hdr) + offsetof(struct d_priv_event, has_pkt)] = 2;
	CHECK_EQ(d_priv_decode(buf, (size_t)n, &m), -EBADMSG);
}

/* STATS (the metrics): an empty request, a reply with every counter */
static void stats(void)
{
	struct d_priv_stats st, bad;
	struct d_priv_msg m;
	int n;

	n = d_priv_enc_stats(buf, sizeof(buf), 21);
	CHECK_EQ(n, (int)sizeof(struct d_priv_hdr));
	CHECK_EQ(d_priv_decode(buf, (size_t)n, &m), 0);
	CHECK(m.hdr.type == D_PRIV_STATS && m.hdr.seq == 21);
	CHECK(D_PRIV_STATS <= D_PRIV_REQ_MAX && D_PRIV_STATS_REPLY > D_PRIV_REQ_MAX);
	memset(&st, 0, sizeof(st));
	st.engine.packets = 1ull << 40;
	st.engine.dropped = 7;
	st.engine.ttl_rewritten = 9;
	st.inject_refused = 3;
	n = d_priv_enc_stats_reply(buf, sizeof(buf), 21, &st);
	CHECK_EQ(n, (int)(sizeof(struct d_priv_hdr) + sizeof(st)));
	CHECK_EQ(d_priv_decode(buf, (size_t)n, &m), 0);
	CHECK(m.hdr.type == D_PRIV_STATS_REPLY && m.hdr.seq == 21);
	CHECK(!memcmp(&m.u.stats, &st, sizeof(st)));
	CHECK_EQ(d_priv_enc_stats_reply(buf, sizeof(buf), 1, NULL), -EINVAL);
	CHECK_EQ(d_priv_enc_stats_reply(buf, sizeof(st), 1, &st), -EMSGSIZE);
	/* a truncated reply, a request with a payload */
	CHECK_EQ(d_priv_decode(buf, (size_t)n - 1, &m), -EBADMSG);
	memset(&bad, 0, sizeof(bad));
	n = d_priv_enc_stats_reply(buf, sizeof(buf), 1, &bad);
	{
		uint32_t t = D_PRIV_STATS;

		memcpy(buf + offsetof(struct d_priv_hdr, type), &t, sizeof(t));
	}
	CHECK_EQ(d_priv_decode(buf, (size_t)n, &m), -EBADMSG);
}

static void headers(void)
{
	struct d_priv_hdr h = { .type = 999 };
	struct d_priv_msg m;

	CHECK_EQ(d_priv_decode(buf, 0, &m), -EBADMSG);
	CHECK_EQ(d_priv_decode(buf, sizeof(h) - 1, &m), -EBADMSG);
	CHECK_EQ(d_priv_decode(NULL, 100, &m), -EBADMSG);
	memcpy(buf, &h, sizeof(h));
	CHECK_EQ(d_priv_decode(buf, sizeof(h), &m), -ENOTSUP);
	h.type = D_PRIV_PROBE_FDS;
	h.pad = 1;
	memcpy(buf, &h, sizeof(h));
	CHECK_EQ(d_priv_decode(buf, sizeof(h), &m), -EBADMSG);
	h.pad = 0;
	h.len = 4;	/* says more than there is */
	memcpy(buf, &h, sizeof(h));
	CHECK_EQ(d_priv_decode(buf, sizeof(h), &m), -EBADMSG);
	/* a request type from the wrong direction still decodes: the receiver checks it */
	CHECK(D_PRIV_REPLY > D_PRIV_REQ_MAX && D_PRIV_EVENT > D_PRIV_REQ_MAX);
}

int main(void)
{
	RUN(policy_add_roundtrip);
	RUN(spec_check);
	RUN(small_messages);
	RUN(inject_check);
	RUN(inject_check6);
	RUN(events);
	RUN(stats);
	RUN(headers);
	return TAP_DONE();
}
