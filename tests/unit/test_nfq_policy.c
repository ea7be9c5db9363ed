// SPDX-License-Identifier: MIT
/*
 * The policy table without a kernel: the flow is 10.1.0.2:40000 (this host,
 * behind its NAT) -> 198.51.100.7:5900 (the peer's predicted public endpoint);
 * the first NAT hop beyond ours is the router 100.64.0.1.
 */
#include "nfq/nfq_policy.h"
#include "nfq/pkt.h"
#include "nfq/pkt_build.h"
#include "tests/unit/tap.h"

#include <arpa/inet.h>
#include <errno.h>

#define LOCAL   "10.1.0.2"
#define REMOTE  "198.51.100.7"
#define ROUTER  "100.64.0.1"
#define LPORT   40000
#define RPORT   5900
#define ISN     0x11223344u

static uint32_t addr(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

static struct nfq_flow flow(void)
{
	struct nfq_flow f = {
		.laddr = addr(LOCAL), .raddr = addr(REMOTE),
		.lport = LPORT, .rport = RPORT, .proto = PKT_PROTO_TCP,
	};
	return f;
}

/* A TCP segment of the flow, outbound (local -> remote) or inbound, parsed into *k. */
static size_t tcp(uint8_t *b, int outbound, uint8_t flags, uint8_t ttl, struct pkt *k)
{
	struct pkt_tcp_spec s;
	size_t n = 0;

	memset(&s, 0, sizeof(s));
	s.saddr = addr(outbound ? LOCAL : REMOTE);
	s.daddr = addr(outbound ? REMOTE : LOCAL);
	s.sport = outbound ? LPORT : RPORT;
	s.dport = outbound ? RPORT : LPORT;
	s.seq = outbound ? ISN : 0x99990000u;
	s.ack = flags & PKT_TCP_ACK ? ISN + 1 : 0;
	s.flags = flags;
	s.ttl = ttl;
	s.window = 64240;
	if (flags & PKT_TCP_SYN) {
		s.opt.present = PKT_OPT_MSS | PKT_OPT_SACK_OK | PKT_OPT_TS | PKT_OPT_WSCALE;
		s.opt.mss = 1460;
		s.opt.wscale = 7;
		s.opt.ts_val = 777;
	}
	CHECK_EQ(pkt_build_tcp(&s, b, 128, &n), 0);
	CHECK_EQ(pkt_parse(b, n, k), 0);
	return n;
}

/* An ICMP error from src quoting the flow's SYN as it arrived (TTL 1). */
static size_t icmp_err(uint8_t *b, const char *src, uint8_t type, uint8_t code, struct pkt *k)
{
	uint8_t q[128];
	struct pkt qk;
	size_t n;
	struct in_addr s, d;

	tcp(q, 1, PKT_TCP_SYN, 1, &qk);
	memset(b, 0, 56);
	b[0] = 0x45;
	pkt_put16(b + 2, 56);           /* 20 IP + 8 ICMP + 20 quoted IP + 8 quoted TCP */
	b[8] = 64;
	b[9] = PKT_PROTO_ICMP;
	inet_pton(AF_INET, src, &s);
	inet_pton(AF_INET, LOCAL, &d);
	memcpy(b + 12, &s.s_addr, 4);
	memcpy(b + 16, &d.s_addr, 4);
	b[20] = type;
	b[21] = code;
	memcpy(b + 28, q, 28);
	n = 56;
	CHECK_EQ(pkt_fix_checksums(b, n), 0);
	CHECK_EQ(pkt_parse(b, n, k), 0);
	return n;
}

static void classifies_direction_and_kind(void)
{
	struct nfq_flow f = flow(), other = flow();
	uint8_t b[128];
	struct pkt k;

	tcp(b, 1, PKT_TCP_SYN, 64, &k);
	CHECK_EQ(nfq_flow_classify(&f, &k), NFQ_MATCH_OUT_ANY | NFQ_MATCH_OUT_SYN);
	tcp(b, 1, PKT_TCP_RST | PKT_TCP_ACK, 64, &k);
	CHECK_EQ(nfq_flow_classify(&f, &k), NFQ_MATCH_OUT_ANY | NFQ_MATCH_OUT_RST);
	tcp(b, 1, PKT_TCP_SYN | PKT_TCP_ACK, 64, &k);   /* simultaneous open's SYN-ACK is no SYN */
	CHECK_EQ(nfq_flow_classify(&f, &k), NFQ_MATCH_OUT_ANY);
	tcp(b, 0, PKT_TCP_RST, 64, &k);
	CHECK_EQ(nfq_flow_classify(&f, &k), NFQ_MATCH_IN_ANY | NFQ_MATCH_IN_RST);
	tcp(b, 0, PKT_TCP_SYN | PKT_TCP_ACK, 64, &k);
	CHECK_EQ(nfq_flow_classify(&f, &k), NFQ_MATCH_IN_ANY | NFQ_MATCH_IN_SYNACK);
	icmp_err(b, ROUTER, PKT_ICMP_TIMXCEED, 0, &k);
	CHECK_EQ(nfq_flow_classify(&f, &k),
		 NFQ_MATCH_IN_ANY | NFQ_MATCH_IN_ICMP_ERR | NFQ_MATCH_IN_ICMP_TE);
	icmp_err(b, REMOTE, PKT_ICMP_UNREACH, 3, &k);
	CHECK_EQ(nfq_flow_classify(&f, &k), NFQ_MATCH_IN_ANY | NFQ_MATCH_IN_ICMP_ERR);

	other.rport = 5901;     /* a neighbouring shotgun flow is not this one */
	CHECK_EQ(nfq_flow_classify(&other, &k), 0);
	tcp(b, 1, PKT_TCP_SYN, 64, &k);
	CHECK_EQ(nfq_flow_classify(&other, &k), 0);
	other.proto = PKT_PROTO_UDP;
	other.rport = RPORT;
	CHECK_EQ(nfq_flow_classify(&other, &k), 0);
	/* wildcards: every SYN from local port 40000 */
	memset(&other, 0, sizeof(other));
	other.lport = LPORT;
	CHECK_EQ(nfq_flow_classify(&other, &k), NFQ_MATCH_OUT_ANY | NFQ_MATCH_OUT_SYN);
}

static void first_n_syns_leave_with_ttl(void)
{
	struct nfq_policy_table t;
	struct nfq_policy_spec s;
	struct nfq_decision d;
	struct nfq_flow f = flow();
	uint8_t b[128];
	struct pkt k;
	uint32_t id = 0;

	nfq_policy_table_init(&t);
	nfq_spec_syn_ttl(&s, &f, 2, 3, 5000);
	CHECK_EQ(nfq_policy_add(&t, &s, 1000, &id), 0);
	CHECK(id != 0);
	tcp(b, 1, PKT_TCP_SYN, 64, &k);
	CHECK_EQ(nfq_policy_decide(&t, &k, NFQ_MATCH_ALL, 1001, &d), 1);
	CHECK(d.set_ttl && d.ttl == 3 && !d.drop);
	CHECK_EQ(nfq_policy_decide(&t, &k, NFQ_MATCH_ALL, 1002, &d), 1);   /* the retransmission too */
	CHECK(d.set_ttl && d.ttl == 3);
	CHECK_EQ(nfq_policy_decide(&t, &k, NFQ_MATCH_ALL, 1003, &d), 0);   /* the third SYN is normal */
	CHECK(!d.set_ttl && !d.drop);
	CHECK_EQ(nfq_policy_count(&t), 0);

	/* a data segment of the flow is never touched */
	CHECK_EQ(nfq_policy_add(&t, &s, 1000, NULL), 0);
	tcp(b, 1, PKT_TCP_ACK, 64, &k);
	CHECK_EQ(nfq_policy_decide(&t, &k, NFQ_MATCH_ALL, 1001, &d), 0);
	nfq_policy_table_free(&t);
}

static void inbound_rst_and_icmp_dropped_until_timeout(void)
{
	struct nfq_policy_table t;
	struct nfq_policy_spec s;
	struct nfq_decision d;
	struct nfq_flow f = flow();
	uint8_t b[128];
	struct pkt k;

	nfq_policy_table_init(&t);
	nfq_spec_drop_inbound_errors(&s, &f, 3000);
	CHECK_EQ(nfq_policy_add(&t, &s, 10000, NULL), 0);
	CHECK_EQ(nfq_policy_next_expiry(&t), 13000);
	tcp(b, 0, PKT_TCP_RST | PKT_TCP_ACK, 64, &k);
	nfq_policy_decide(&t, &k, NFQ_MATCH_ALL, 10500, &d);
	CHECK(d.drop);
	icmp_err(b, REMOTE, PKT_ICMP_UNREACH, 3, &k);      /* port unreachable */
	nfq_policy_decide(&t, &k, NFQ_MATCH_ALL, 11000, &d);
	CHECK(d.drop);
	icmp_err(b, ROUTER, PKT_ICMP_TIMXCEED, 0, &k);
	nfq_policy_decide(&t, &k, NFQ_MATCH_ALL, 12999, &d);
	CHECK(d.drop);
	/* the real SYN-ACK gets through */
	tcp(b, 0, PKT_TCP_SYN | PKT_TCP_ACK, 64, &k);
	nfq_policy_decide(&t, &k, NFQ_MATCH_ALL, 11000, &d);
	CHECK(!d.drop);
	/* an outbound RST is not this policy's business */
	tcp(b, 1, PKT_TCP_RST, 64, &k);
	nfq_policy_decide(&t, &k, NFQ_MATCH_ALL, 11000, &d);
	CHECK(!d.drop);
	/* the policy never outlives its timeout */
	tcp(b, 0, PKT_TCP_RST, 64, &k);
	nfq_policy_decide(&t, &k, NFQ_MATCH_ALL, 13000, &d);
	CHECK(!d.drop);
	CHECK_EQ(nfq_policy_count(&t), 0);
	CHECK_EQ(nfq_policy_next_expiry(&t), UINT64_MAX);
	nfq_policy_table_free(&t);
}

static void outbound_rst_dropped(void)
{
	struct nfq_policy_table t;
	struct nfq_policy_spec s;
	struct nfq_decision d;
	struct nfq_flow f = flow();
	uint8_t b[128];
	struct pkt k;

	nfq_policy_table_init(&t);
	nfq_spec_drop_outbound_rst(&s, &f, 60000);
	CHECK_EQ(nfq_policy_add(&t, &s, 0, NULL), 0);
	tcp(b, 1, PKT_TCP_RST | PKT_TCP_ACK, 64, &k);
	nfq_policy_decide(&t, &k, NFQ_MATCH_ALL, 1, &d);
	CHECK(d.drop);
	nfq_policy_decide(&t, &k, NFQ_MATCH_ALL, 2, &d);                   /* every one, not just the first */
	CHECK(d.drop);
	tcp(b, 1, PKT_TCP_SYN, 64, &k);
	nfq_policy_decide(&t, &k, NFQ_MATCH_ALL, 3, &d);
	CHECK(!d.drop);
	nfq_policy_table_free(&t);
}

static void time_exceeded_reported_with_router(void)
{
	struct nfq_policy_table t;
	struct nfq_policy_spec s;
	struct nfq_decision d;
	struct nfq_flow f = flow();
	uint8_t b[128];
	struct pkt k;
	uint32_t id;

	nfq_policy_table_init(&t);
	nfq_spec_report_icmp_te(&s, &f, 2000, 0xc0ffee);
	CHECK_EQ(nfq_policy_add(&t, &s, 0, &id), 0);
	icmp_err(b, ROUTER, PKT_ICMP_TIMXCEED, 0, &k);
	CHECK_EQ(nfq_policy_decide(&t, &k, NFQ_MATCH_ALL, 100, &d), 1);
	CHECK(!d.drop);
	CHECK_EQ(d.n_events, 1);
	CHECK_EQ(d.ev[0].policy_id, id);
	CHECK_EQ(d.ev[0].cookie, 0xc0ffee);
	CHECK(d.ev[0].router == addr(ROUTER));
	CHECK_EQ(d.ev[0].icmp_type, PKT_ICMP_TIMXCEED);
	CHECK(d.ev[0].has_seq);
	CHECK_EQ(d.ev[0].seq, ISN);
	/* a port unreachable is not a time exceeded */
	icmp_err(b, REMOTE, PKT_ICMP_UNREACH, 3, &k);
	CHECK_EQ(nfq_policy_decide(&t, &k, NFQ_MATCH_ALL, 100, &d), 0);
	CHECK_EQ(d.n_events, 0);
	nfq_policy_table_free(&t);
}

static void syn_reported_with_seq_and_options(void)
{
	struct nfq_policy_table t;
	struct nfq_policy_spec s;
	struct nfq_decision d;
	struct nfq_flow f = flow();
	uint8_t b[128];
	struct pkt k;

	nfq_policy_table_init(&t);
	nfq_spec_report_syn(&s, &f, 2000, 42);
	CHECK_EQ(nfq_policy_add(&t, &s, 0, NULL), 0);
	nfq_spec_syn_ttl(&s, &f, 1, 2, 2000);
	CHECK_EQ(nfq_policy_add(&t, &s, 0, NULL), 0);
	tcp(b, 1, PKT_TCP_SYN, 64, &k);
	CHECK_EQ(nfq_policy_decide(&t, &k, NFQ_MATCH_ALL, 1, &d), 2);
	CHECK(d.set_ttl && d.ttl == 2);
	CHECK_EQ(d.n_events, 1);
	CHECK_EQ(d.ev[0].cookie, 42);
	CHECK_EQ(d.ev[0].seq, ISN);
	CHECK_EQ(d.ev[0].ttl, 64);      /* what the kernel sent, before the rewrite */
	CHECK_EQ(d.ev[0].opt.mss, 1460);
	CHECK_EQ(d.ev[0].opt.wscale, 7);
	CHECK_EQ(d.ev[0].opt.ts_val, 777);
	CHECK_EQ(d.ev[0].opt.present, PKT_OPT_MSS | PKT_OPT_SACK_OK | PKT_OPT_TS | PKT_OPT_WSCALE);
	nfq_policy_table_free(&t);
}

static void replacement_wins_over_drop_and_is_used_once(void)
{
	struct nfq_policy_table t;
	struct nfq_policy_spec s;
	struct nfq_decision d;
	struct nfq_flow f = flow();
	uint8_t b[128], synack[128];
	struct pkt k, sk;
	size_t n;

	nfq_policy_table_init(&t);
	nfq_spec_drop_inbound_errors(&s, &f, 5000);
	CHECK_EQ(nfq_policy_add(&t, &s, 0, NULL), 0);
	/* the synthesized SYN-ACK "from the peer", its checksums deliberately spoiled */
	n = tcp(synack, 0, PKT_TCP_SYN | PKT_TCP_ACK, 50, &sk);
	memset(synack + 10, 0, 2);
	memset(synack + 36, 0, 2);
	nfq_spec_replace(&s, &f, NFQ_MATCH_IN_ICMP_TE, synack, n, 5000);
	CHECK_EQ(nfq_policy_add(&t, &s, 0, NULL), 0);

	icmp_err(b, ROUTER, PKT_ICMP_TIMXCEED, 0, &k);
	CHECK_EQ(nfq_policy_decide(&t, &k, NFQ_MATCH_ALL, 1, &d), 2);
	CHECK(!d.drop);
	CHECK(d.replace != NULL);
	CHECK_EQ(d.replace_len, n);
	/* the checksums were recomputed when the policy was added */
	tcp(b, 0, PKT_TCP_SYN | PKT_TCP_ACK, 50, &sk);
	if (d.replace)
		CHECK_MEM(d.replace, b, n);

	icmp_err(b, ROUTER, PKT_ICMP_TIMXCEED, 0, &k);
	nfq_policy_decide(&t, &k, NFQ_MATCH_ALL, 2, &d);                   /* spent: back to dropping */
	CHECK(d.drop);
	CHECK(d.replace == NULL);
	nfq_policy_table_free(&t);
}

static void bad_specs_rejected(void)
{
	struct nfq_policy_table t;
	struct nfq_policy_spec s;
	struct nfq_flow f = flow();
	const uint8_t junk[4] = { 1, 2, 3, 4 };

	nfq_policy_table_init(&t);
	nfq_spec_drop_outbound_rst(&s, &f, 0);              /* no timeout */
	CHECK_EQ(nfq_policy_add(&t, &s, 0, NULL), -EINVAL);
	s.timeout_ms = NFQ_POLICY_MAX_TIMEOUT_MS + 1;
	CHECK_EQ(nfq_policy_add(&t, &s, 0, NULL), -EINVAL);
	s.timeout_ms = 10;
	s.match = 0;
	CHECK_EQ(nfq_policy_add(&t, &s, 0, NULL), -EINVAL);
	nfq_spec_syn_ttl(&s, &f, 1, 0, 10);                 /* TTL 0 would never leave */
	CHECK_EQ(nfq_policy_add(&t, &s, 0, NULL), -EINVAL);
	nfq_spec_replace(&s, &f, NFQ_MATCH_IN_ANY, junk, sizeof(junk), 10);
	CHECK_EQ(nfq_policy_add(&t, &s, 0, NULL), -EINVAL);
	nfq_spec_replace(&s, &f, NFQ_MATCH_IN_ANY, NULL, 0, 10);
	CHECK_EQ(nfq_policy_add(&t, &s, 0, NULL), -EINVAL);
	s.action = (enum nfq_action)99;
	CHECK_EQ(nfq_policy_add(&t, &s, 0, NULL), -EINVAL);
	CHECK_EQ(nfq_policy_count(&t), 0);
	nfq_policy_table_free(&t);
}

static void remove_expire_and_capacity(void)
{
	struct nfq_policy_table t;
	struct nfq_policy_spec s;
	struct nfq_flow f = flow(), g = flow();
	uint32_t id = 0, i;
	int r = 0;

	nfq_policy_table_init(&t);
	g.rport = 5901;
	nfq_spec_drop_outbound_rst(&s, &f, 100);
	CHECK_EQ(nfq_policy_add(&t, &s, 0, &id), 0);
	nfq_spec_drop_inbound_errors(&s, &f, 200);
	CHECK_EQ(nfq_policy_add(&t, &s, 0, NULL), 0);
	nfq_spec_drop_inbound_errors(&s, &g, 300);
	CHECK_EQ(nfq_policy_add(&t, &s, 0, NULL), 0);
	CHECK_EQ(nfq_policy_remove(&t, id), 0);
	CHECK_EQ(nfq_policy_remove(&t, id), -ENOENT);
	CHECK_EQ(nfq_policy_count(&t), 2);
	CHECK_EQ(nfq_policy_next_expiry(&t), 200);
	CHECK_EQ(nfq_policy_remove_flow(&t, &f), 1);
	CHECK_EQ(nfq_policy_expire(&t, 299), 0);
	CHECK_EQ(nfq_policy_expire(&t, 300), 1);
	CHECK_EQ(nfq_policy_count(&t), 0);

	for (i = 0; i < NFQ_POLICY_MAX && r == 0; i++)
		r = nfq_policy_add(&t, &s, 0, NULL);
	CHECK_EQ(r, 0);
	CHECK_EQ(nfq_policy_add(&t, &s, 0, NULL), -ENOSPC);
	CHECK_EQ(nfq_policy_expire(&t, 1000), NFQ_POLICY_MAX);
	CHECK_EQ(nfq_policy_add(&t, &s, 1000, NULL), 0);
	nfq_policy_table_free(&t);
}

static void hook_direction_limits_classes(void)
{
	struct nfq_policy_table t;
	struct nfq_policy_spec s;
	struct nfq_decision d;
	struct nfq_flow f = flow();
	uint8_t b[128];
	struct pkt k;

	/* on loopback our SYN is queued at OUTPUT and again at INPUT: act once */
	nfq_policy_table_init(&t);
	nfq_spec_syn_ttl(&s, &f, 5, 3, 1000);
	CHECK_EQ(nfq_policy_add(&t, &s, 0, NULL), 0);
	tcp(b, 1, PKT_TCP_SYN, 64, &k);
	CHECK_EQ(nfq_policy_decide(&t, &k, NFQ_MATCH_IN_ALL, 1, &d), 0);
	CHECK(!d.set_ttl);
	CHECK_EQ(nfq_policy_decide(&t, &k, NFQ_MATCH_OUT_ALL, 1, &d), 1);
	CHECK(d.set_ttl);
	nfq_spec_drop_inbound_errors(&s, &f, 1000);
	CHECK_EQ(nfq_policy_add(&t, &s, 0, NULL), 0);
	tcp(b, 0, PKT_TCP_RST, 64, &k);
	CHECK_EQ(nfq_policy_decide(&t, &k, NFQ_MATCH_OUT_ALL, 1, &d), 0);
	CHECK_EQ(nfq_policy_decide(&t, &k, NFQ_MATCH_IN_ALL, 1, &d), 1);
	CHECK(d.drop);
	nfq_policy_table_free(&t);
}

static void many_reports_are_counted_not_overflowed(void)
{
	struct nfq_policy_table t;
	struct nfq_policy_spec s;
	struct nfq_decision d;
	struct nfq_flow f = flow();
	uint8_t b[128];
	struct pkt k;
	int i;

	nfq_policy_table_init(&t);
	nfq_spec_report_syn(&s, &f, 1000, 0);
	for (i = 0; i < NFQ_DECISION_MAX_EVENTS + 3; i++)
		CHECK_EQ(nfq_policy_add(&t, &s, 0, NULL), 0);
	tcp(b, 1, PKT_TCP_SYN, 64, &k);
	CHECK_EQ(nfq_policy_decide(&t, &k, NFQ_MATCH_ALL, 1, &d), NFQ_DECISION_MAX_EVENTS + 3);
	CHECK_EQ(d.n_events, NFQ_DECISION_MAX_EVENTS);
	CHECK_EQ(d.events_lost, 3);
	nfq_policy_table_free(&t);
}

/* nfq_policy_flow_live: a live policy naming the packet's local port and
 * remote address, and matching it as outbound; never a wildcard port or
 * address, an inbound packet, a spent or an expired policy. */
static void flow_live_needs_a_named_flow(void)
{
	struct nfq_policy_table t;
	struct nfq_policy_spec s;
	struct nfq_flow f = flow(), w = flow();
	struct pkt out, in;
	uint8_t b[128], c[128];

	nfq_policy_table_init(&t);
	tcp(b, 1, PKT_TCP_SYN, 64, &out);
	tcp(c, 0, PKT_TCP_SYN | PKT_TCP_ACK, 64, &in);
	CHECK_EQ(nfq_policy_flow_live(&t, &out, 0), 0);
	w.lport = 0;		/* every port to the peer: not a flow */
	nfq_spec_drop_outbound_rst(&s, &w, 1000);
	CHECK_EQ(nfq_policy_add(&t, &s, 0, NULL), 0);
	CHECK_EQ(nfq_policy_flow_live(&t, &out, 10), 0);
	w = flow();
	w.raddr = 0;		/* every peer from our port: not a flow either */
	nfq_spec_drop_outbound_rst(&s, &w, 1000);
	CHECK_EQ(nfq_policy_add(&t, &s, 0, NULL), 0);
	CHECK_EQ(nfq_policy_flow_live(&t, &out, 10), 0);
	/* a one-shot TTL policy on the flow, spent by the kernel's SYN */
	nfq_spec_syn_ttl(&s, &f, 1, 2, 1000);
	CHECK_EQ(nfq_policy_add(&t, &s, 0, NULL), 0);
	CHECK_EQ(nfq_policy_flow_live(&t, &out, 10), 1);
	CHECK_EQ(nfq_policy_flow_live(&t, &in, 10), 0);	/* inbound: never */
	{
		struct nfq_decision d;

		CHECK_EQ(nfq_policy_decide(&t, &out, NFQ_MATCH_OUT_ALL, 10, &d), 1);
	}
	CHECK_EQ(nfq_policy_flow_live(&t, &out, 10), 0);	/* spent */
	/* a wildcard remote port still names the flow; an expired one does not */
	w = flow();
	w.rport = 0;
	nfq_spec_drop_inbound_errors(&s, &w, 1000);
	CHECK_EQ(nfq_policy_add(&t, &s, 0, NULL), 0);
	CHECK_EQ(nfq_policy_flow_live(&t, &out, 999), 1);
	CHECK_EQ(nfq_policy_flow_live(&t, &out, 1000), 0);
	nfq_policy_table_free(&t);
}

int main(void)
{
	RUN(classifies_direction_and_kind);
	RUN(first_n_syns_leave_with_ttl);
	RUN(inbound_rst_and_icmp_dropped_until_timeout);
	RUN(outbound_rst_dropped);
	RUN(time_exceeded_reported_with_router);
	RUN(syn_reported_with_seq_and_options);
	RUN(replacement_wins_over_drop_and_is_used_once);
	RUN(bad_specs_rejected);
	RUN(remove_expire_and_capacity);
	RUN(hook_direction_limits_classes);
	RUN(many_reports_are_counted_not_overflowed);
	RUN(flow_live_needs_a_named_flow);
	return TAP_DONE();
}
