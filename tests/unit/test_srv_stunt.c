// SPDX-License-Identifier: MIT
/*
 * stunt-server's STUNT decisions (server/stunt.c) without sockets:
 * packets go only to the asking client's own endpoints, requests naming
 * anyone else get 403, the token buckets and the outstanding bounds give
 * 429, delays and timeouts are bounded, and the replies parse.
 */
#include "server/stunt.h"
#include "proto/stun_auth.h"
#include "tests/unit/tap.h"

#include <errno.h>
#include <sys/socket.h>

static const uint8_t txid[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
static const uint8_t rnd[8] = { 0xaa, 0xbb, 0xcc, 0xdd, 0x12, 0x34, 0, 0 };
static uint8_t reqbuf[STUNT_BUF], reply[STUNT_BUF];
static struct stun_msg req, rep;
static struct srv_stunt s;
static struct stunt_conn c;

static struct stun_addr ip4(uint8_t a, uint8_t b, uint8_t cc, uint8_t d, uint16_t port)
{
	struct stun_addr x;

	memset(&x, 0, sizeof(x));
	x.family = STUN_FAMILY_IPV4;
	x.ip[0] = a;
	x.ip[1] = b;
	x.ip[2] = cc;
	x.ip[3] = d;
	x.port = port;
	return x;
}

static void setup(unsigned conn_burst, bool auth)
{
	struct srv_stunt_cfg cfg;
	struct stun_addr peer = ip4(198, 18, 1, 2, 40000);
	unsigned i, j;

	memset(&cfg, 0, sizeof(cfg));
	for (i = 0; i < 2; i++)
		for (j = 0; j < 2; j++)
			cfg.sock[i][j] = ip4(192, 0, 2, (uint8_t)(1 + i), (uint16_t)(3478 + j));
	cfg.available = true;
	cfg.require_auth = auth;
	cfg.conn_rate = 5;
	cfg.conn_burst = conn_burst;
	cfg.all_rate = 1000;
	cfg.all_burst = 1000;
	srv_stunt_init(&s, &cfg, 0);
	srv_stunt_conn_init(&c, &s, &peer, 0, 0, 0);
}

/* Builder started for method; the test adds attributes, then send(). */
static struct stun_builder b;

static void start(uint16_t method)
{
	stun_build_init(&b, reqbuf, sizeof(reqbuf), stun_type(method, STUN_REQUEST), txid);
}

static struct stunt_action act;

/* Finish the request, handle it; returns the reply's error code (0 for a
 * success, -1 for no reply). */
static int handle(bool authed)
{
	int n = stun_build_finish(&b);
	struct stun_error e;
	const struct stun_attr *a;

	CHECK(n > 0);
	CHECK_EQ(stun_parse(reqbuf, (size_t)n, &req), 0);
	CHECK_EQ(srv_stunt_handle(&s, &c, authed, &req, rnd, 0, NULL, NULL, reply, &act), 0);
	if (!act.reply_len)
		return -1;
	CHECK_EQ(stun_parse(reply, act.reply_len, &rep), 0);
	CHECK_EQ(stun_check_fingerprint(&rep), 0);
	CHECK_MEM(rep.txid, txid, 12);
	if (rep.cls == STUN_SUCCESS)
		return 0;
	a = stun_msg_find(&rep, STUN_ATTR_ERROR_CODE);
	CHECK(a != NULL);
	if (!a || stun_attr_get_error(a, &e) < 0)
		return -2;
	return e.code;
}

static void put_packet(uint8_t kind, uint8_t flags, uint16_t port, uint16_t delay)
{
	struct stunt_send_req r;

	memset(&r, 0, sizeof(r));
	r.pkt.kind = kind;
	r.pkt.flags = flags;
	r.pkt.dst_port = port;
	r.pkt.delay_ms = delay;
	stunt_put_send_req(&b, &r);
}

static void capture_armed_on_the_server(void)
{
	struct stunt_capture_resp r;
	struct stunt_capture_req q = { .timeout_ms = 2000 };
	struct stun_addr t;

	setup(10, false);
	start(STUNT_METHOD_CAPTURE);
	stunt_put_capture_req(&b, &q);
	CHECK_EQ(handle(false), 0);
	CHECK_EQ(act.verdict, STUNT_V_CAPTURE);
	CHECK_EQ(stunt_get_capture_resp(&rep, &r), 0);
	CHECK_EQ(r.timeout_ms, 2000);
	CHECK(stun_addr_equal(&r.target, &s.cfg.sock[0][0]));
	CHECK(stun_addr_equal(&act.target, &s.cfg.sock[0][0]));
	CHECK_EQ(act.capture_id, r.capture_id);
	CHECK_EQ(s.pending, 1);
	CHECK_EQ(c.pending, 1);
	srv_stunt_done(&s, &c);
	CHECK_EQ(s.pending, 0);
	/* a target port of the server's choosing: fine; another host: 403 */
	start(STUNT_METHOD_CAPTURE);
	t = ip4(192, 0, 2, 2, 8080);
	stun_build_addr(&b, STUNT_ATTR_TARGET, &t);
	CHECK_EQ(handle(false), 0);
	CHECK(stun_addr_equal(&act.target, &t));
	start(STUNT_METHOD_CAPTURE);
	t = ip4(198, 51, 100, 10, 80);
	stun_build_addr(&b, STUNT_ATTR_TARGET, &t);
	CHECK_EQ(handle(false), 403);
	CHECK_EQ(act.verdict, STUNT_V_THIRD_PARTY);
	/* timeouts are bounded */
	q.timeout_ms = STUNT_CAPTURE_MS_MAX + 1;
	start(STUNT_METHOD_CAPTURE);
	stunt_put_capture_req(&b, &q);
	CHECK_EQ(handle(false), 400);
}

static void send_only_to_the_client(void)
{
	struct stunt_send_resp r;
	struct stun_addr t;

	setup(10, false);
	/* to the control connection's own mapped endpoint, from the
	 * alternate address */
	start(STUNT_METHOD_SEND_PACKET);
	put_packet(STUNT_PKT_SYN, STUNT_PKT_F_CHANGE_IP, 0, 100);
	CHECK_EQ(handle(false), 0);
	CHECK_EQ(act.verdict, STUNT_V_SEND);
	CHECK_EQ(act.delay_ms, 100);
	CHECK_MEM(&act.pkt.daddr, c.peer.ip, 4);
	CHECK_EQ(act.pkt.dport, 40000);
	CHECK_MEM(&act.pkt.saddr, s.cfg.sock[1][0].ip, 4);
	CHECK_EQ(act.pkt.sport, 3478);
	CHECK_EQ(act.pkt.flags, PKT_TCP_SYN);
	CHECK_EQ(act.pkt.seq, 0xaabbccdd);
	CHECK_EQ(stunt_get_send_resp(&rep, &r), 0);
	CHECK(stun_addr_equal(&r.source, &s.cfg.sock[1][0]));
	CHECK_EQ(r.pkt.dst_port, 40000);
	CHECK_EQ(r.pkt.seq, 0xaabbccdd);

	/* STUNT-TARGET naming someone else: 403 */
	start(STUNT_METHOD_SEND_PACKET);
	put_packet(STUNT_PKT_SYN, 0, 0, 0);
	t = ip4(198, 51, 100, 10, 80);
	stun_build_addr(&b, STUNT_ATTR_TARGET, &t);
	CHECK_EQ(handle(false), 403);
	CHECK_EQ(act.verdict, STUNT_V_THIRD_PARTY);
	/* ... naming the client itself is fine */
	start(STUNT_METHOD_SEND_PACKET);
	put_packet(STUNT_PKT_SYN, 0, 0, 0);
	t = ip4(198, 18, 1, 2, 0);
	stun_build_addr(&b, STUNT_ATTR_TARGET, &t);
	CHECK_EQ(handle(false), 0);
	/* a port of the client the server never saw: 403 */
	CHECK(!srv_stunt_dest_ok(&c, 22));
	start(STUNT_METHOD_SEND_PACKET);
	put_packet(STUNT_PKT_SYN, 0, 22, 0);
	CHECK_EQ(handle(false), 403);
	/* ... until a SYN from it was captured */
	srv_stunt_conn_saw(&c, 22, 1000);
	CHECK(srv_stunt_dest_ok(&c, 22));
	CHECK(srv_stunt_dest_ok(&c, 0));
	CHECK(srv_stunt_dest_ok(&c, 40000));
	start(STUNT_METHOD_SEND_PACKET);
	put_packet(STUNT_PKT_SYNACK, 0, 22, 0);
	CHECK_EQ(handle(false), 0);
	CHECK_EQ(act.pkt.dport, 22);
	CHECK_EQ(act.pkt.flags, PKT_TCP_SYN | PKT_TCP_ACK);
	CHECK_EQ(act.pkt.ack, 1001);	/* captured seq + 1 */
}

static void known_ports_are_bounded(void)
{
	unsigned i;

	setup(10, false);
	for (i = 0; i < 3 * STUNT_KNOWN_PORTS; i++)
		srv_stunt_conn_saw(&c, (uint16_t)(1000 + i), i);
	CHECK_EQ(c.nknown, STUNT_KNOWN_PORTS);
	CHECK(srv_stunt_dest_ok(&c, (uint16_t)(1000 + 3 * STUNT_KNOWN_PORTS - 1)));
	CHECK(!srv_stunt_dest_ok(&c, 1000));
	/* the control connection's port is never forgotten */
	CHECK(srv_stunt_dest_ok(&c, 40000));
}

static bool vouch_none(const struct stun_addr *a, void *arg)
{
	(void)a;
	(void)arg;
	return false;
}

static bool vouch_all(const struct stun_addr *a, void *arg)
{
	(void)a;
	(void)arg;
	return true;
}

/* A SEND-PACKET for a SYN-ACK from a peer's address (198.18.2.2:5555, STUNT
 * #1's spoofed source), built and parsed into req; r keeps the request. */
static void spoofed_synack(struct stunt_send_req *r)
{
	int n;

	memset(r, 0, sizeof(*r));
	r->pkt.kind = STUNT_PKT_SYNACK;
	r->pkt.flags = STUNT_PKT_F_SOURCE | STUNT_PKT_F_ACK;
	r->source = ip4(198, 18, 2, 2, 5555);
	start(STUNT_METHOD_SEND_PACKET);
	stunt_put_send_req(&b, r);
	n = stun_build_finish(&b);
	CHECK_EQ(stun_parse(reqbuf, (size_t)n, &req), 0);
}

static void spoofed_source_needs_a_voucher(void)
{
	struct stunt_send_req r;

	setup(10, false);
	spoofed_synack(&r);
	CHECK_EQ(srv_stunt_handle(&s, &c, true, &req, rnd, 0, vouch_none, NULL, reply, &act), 0);
	CHECK_EQ(act.verdict, STUNT_V_THIRD_PARTY);
	/* vouched for, but the client is not authenticated */
	CHECK_EQ(srv_stunt_handle(&s, &c, false, &req, rnd, 0, vouch_all, NULL, reply, &act), 0);
	CHECK_EQ(act.verdict, STUNT_V_THIRD_PARTY);
	CHECK_EQ(srv_stunt_handle(&s, &c, true, &req, rnd, 0, vouch_all, NULL, reply, &act), 0);
	CHECK_EQ(act.verdict, STUNT_V_SEND);
	CHECK_EQ(act.pkt.sport, 5555);
	/* the destination stays the client, whatever the source */
	CHECK_MEM(&act.pkt.daddr, c.peer.ip, 4);
	/* the server's own address needs no voucher */
	r.source = ip4(192, 0, 2, 2, 4000);
	start(STUNT_METHOD_SEND_PACKET);
	stunt_put_send_req(&b, &r);
	CHECK_EQ(handle(false), 0);
}

/* One address: change IP refused (400, counted as no_alternate), change
 * port fine; --no-spoof: a vouched-for foreign source refused (403);
 * --external-ip: replies name the public address, packets and captures
 * use the local one. */
static void one_address_no_spoof_external(void)
{
	struct stunt_send_req r;
	struct stunt_capture_resp cr;
	struct stunt_capture_req q = { .timeout_ms = 2000 };
	struct stunt_probe_req pq;
	struct srv_stunt_cfg cfg;
	struct stun_addr peer = ip4(198, 18, 1, 2, 40000), pub = ip4(203, 0, 113, 7, 3478), t;
	unsigned j;

	setup(10, false);
	cfg = s.cfg;
	for (j = 0; j < 2; j++) {
		cfg.sock[1][j] = cfg.sock[0][j];
		cfg.pub[0][j] = cfg.pub[1][j] = pub;
		cfg.pub[0][j].port = cfg.pub[1][j].port = (uint16_t)(3478 + j);
	}
	cfg.one_addr = true;
	cfg.no_spoof = true;
	srv_stunt_init(&s, &cfg, 0);
	srv_stunt_conn_init(&c, &s, &peer, 0, 0, 0);
	start(STUNT_METHOD_SEND_PACKET);
	put_packet(STUNT_PKT_SYN, STUNT_PKT_F_CHANGE_IP, 0, 0);
	CHECK_EQ(handle(false), 400);
	CHECK_EQ(act.verdict, STUNT_V_NO_ALT);
	memset(&pq, 0, sizeof(pq));
	pq.port = 5000;
	pq.flags = STUN_CHANGE_IP | STUN_CHANGE_PORT;
	start(STUNT_METHOD_PROBE_UNSOLICITED);
	stunt_put_probe_req(&b, &pq);
	CHECK_EQ(handle(false), 400);
	CHECK_EQ(act.verdict, STUNT_V_NO_ALT);
	/* change port: from the local address's second port, the reply (later)
	 * names the public one */
	pq.flags = STUN_CHANGE_PORT;
	start(STUNT_METHOD_PROBE_UNSOLICITED);
	stunt_put_probe_req(&b, &pq);
	CHECK_EQ(handle(false), -1);
	CHECK_EQ(act.verdict, STUNT_V_PROBE);
	CHECK_MEM(&act.pkt.saddr, s.cfg.sock[0][1].ip, 4);
	CHECK_EQ(act.pkt.sport, 3479);
	CHECK(stun_addr_equal(&act.source, &cfg.pub[0][1]));
	srv_stunt_done(&s, &c);
	/* the capture: the client is told the public target, the capture
	 * waits for the local one; a STUNT-TARGET may name the public one */
	start(STUNT_METHOD_CAPTURE);
	stunt_put_capture_req(&b, &q);
	CHECK_EQ(handle(false), 0);
	CHECK_EQ(stunt_get_capture_resp(&rep, &cr), 0);
	CHECK(stun_addr_equal(&cr.target, &pub));
	CHECK(stun_addr_equal(&act.target, &s.cfg.sock[0][0]));
	srv_stunt_done(&s, &c);
	start(STUNT_METHOD_CAPTURE);
	t = pub;
	t.port = 8080;
	stun_build_addr(&b, STUNT_ATTR_TARGET, &t);
	CHECK_EQ(handle(false), 0);
	CHECK_MEM(act.target.ip, s.cfg.sock[0][0].ip, 4);
	CHECK_EQ(act.target.port, 8080);
	srv_stunt_done(&s, &c);
	/* STUNT #1's spoofed source: refused even when vouched for */
	spoofed_synack(&r);
	CHECK_EQ(srv_stunt_handle(&s, &c, true, &req, rnd, 0, vouch_all, NULL, reply, &act), 0);
	CHECK_EQ(act.verdict, STUNT_V_NO_SPOOF);
	/* its own public address as the source is no spoofing: sent from
	 * the local one */
	r.source = pub;
	start(STUNT_METHOD_SEND_PACKET);
	stunt_put_send_req(&b, &r);
	CHECK_EQ(handle(false), 0);
	CHECK_MEM(&act.pkt.saddr, s.cfg.sock[0][0].ip, 4);
}

static void bounds_and_rates(void)
{
	unsigned i, ok = 0, limited = 0;

	setup(3, false);
	start(STUNT_METHOD_SEND_PACKET);
	put_packet(STUNT_PKT_SYN, 0, 0, STUNT_DELAY_MS_MAX + 1);
	CHECK_EQ(handle(false), 400);
	start(STUNT_METHOD_SEND_PACKET);
	stun_build_attr(&b, STUNT_ATTR_PACKET, (uint8_t[16]){ 7 }, 16);	/* kind 7 */
	CHECK_EQ(handle(false), 400);
	/* SYN-ACK with no captured SYN and no ACK number given */
	start(STUNT_METHOD_SEND_PACKET);
	put_packet(STUNT_PKT_SYNACK, 0, 0, 0);
	CHECK_EQ(handle(false), 400);
	/* burst 3 per connection */
	for (i = 0; i < 6; i++) {
		int e;

		start(STUNT_METHOD_SEND_PACKET);
		put_packet(STUNT_PKT_SYN, 0, 0, 0);
		e = handle(false);
		if (e == 0) {
			ok++;
			srv_stunt_done(&s, &c);
		}
		limited += e == 429 && act.verdict == STUNT_V_RATE;
	}
	CHECK_EQ(ok, 3);
	CHECK_EQ(limited, 3);
	/* outstanding per connection */
	setup(100, false);
	for (i = 0, ok = 0; i < STUNT_CONN_PENDING + 2; i++) {
		start(STUNT_METHOD_CAPTURE);
		ok += handle(false) == 0;
	}
	CHECK_EQ(ok, STUNT_CONN_PENDING);
	CHECK_EQ(act.verdict, STUNT_V_BUSY);
}

static void probe_goes_to_the_client_at_port_p(void)
{
	struct stunt_probe_req q = { .port = 41000, .flags = STUN_CHANGE_IP | STUN_CHANGE_PORT };
	struct stunt_probe_resp pr = { .result = STUNT_PROBE_ICMP, .icmp_type = 3, .icmp_code = 3,
				       .elapsed_ms = 5 }, back;
	struct stun_msg m;
	size_t n;

	setup(10, false);
	start(STUNT_METHOD_PROBE_UNSOLICITED);
	stunt_put_probe_req(&b, &q);
	CHECK_EQ(handle(false), -1);	/* answered later */
	CHECK_EQ(act.verdict, STUNT_V_PROBE);
	CHECK_EQ(act.timeout_ms, STUNT_PROBE_MS_DEFAULT);
	CHECK_MEM(&act.pkt.daddr, c.peer.ip, 4);
	CHECK_EQ(act.pkt.dport, 41000);
	CHECK_MEM(&act.pkt.saddr, s.cfg.sock[1][1].ip, 4);
	CHECK_EQ(act.pkt.sport, 3479);
	CHECK_MEM(act.txid, txid, 12);
	pr.source = act.source;
	n = srv_stunt_probe_reply(act.txid, &pr, reply, sizeof(reply));
	CHECK(n > 0);
	CHECK_EQ(stun_parse(reply, n, &m), 0);
	CHECK_MEM(m.txid, txid, 12);
	CHECK_EQ(stunt_get_probe_resp(&m, &back), 0);
	CHECK_EQ(back.result, STUNT_PROBE_ICMP);
	CHECK(stun_addr_equal(&back.source, &s.cfg.sock[1][1]));
	q.timeout_ms = STUNT_PROBE_MS_MAX + 1;
	start(STUNT_METHOD_PROBE_UNSOLICITED);
	stunt_put_probe_req(&b, &q);
	CHECK_EQ(handle(false), 400);
}

static struct stun_addr ip6(uint8_t last, uint16_t port)
{
	struct stun_addr x;

	memset(&x, 0, sizeof(x));
	x.family = STUN_FAMILY_IPV6;
	x.ip[0] = 0x20;
	x.ip[1] = 0x01;
	x.ip[2] = 0x0d;
	x.ip[3] = 0xb8;
	x.ip[15] = last;
	x.port = port;
	return x;
}

/* A connection over IPv6: PROBE-UNSOLICITED from the IPv6 address and port
 * the change flags name to the client's own IPv6 address; CAPTURE and
 * SEND-PACKET 500; no IPv6 raw socket: 500 for all; one IPv6 address: 400
 * for change IP; and the packet built is an IPv6 SYN with a good checksum. */
static void probe_over_ipv6(void)
{
	struct stunt_probe_req q = { .port = 41000, .flags = STUN_CHANGE_IP | STUN_CHANGE_PORT };
	struct stun_addr peer = ip6(0x10, 40000);
	uint8_t pkt[PKT_IP6_HDR + PKT_TCP_MAX_HDR];
	struct pkt p;
	size_t len;
	unsigned i, j;

	setup(10, false);
	for (i = 0; i < 2; i++)
		for (j = 0; j < 2; j++)
			s.cfg.sock6[i][j] = ip6((uint8_t)(5 + i), (uint16_t)(3478 + j));
	s.cfg.available6 = true;
	srv_stunt_conn_init(&c, &s, &peer, 0, 0, 0);
	start(STUNT_METHOD_PROBE_UNSOLICITED);
	stunt_put_probe_req(&b, &q);
	CHECK_EQ(handle(false), -1);
	CHECK_EQ(act.verdict, STUNT_V_PROBE);
	CHECK(stun_addr_equal(&act.src, &s.cfg.sock6[1][1]));
	CHECK_EQ(act.dst.family, STUN_FAMILY_IPV6);
	CHECK_MEM(act.dst.ip, peer.ip, 16);
	CHECK_EQ(act.dst.port, 41000);
	CHECK(stun_addr_equal(&act.source, &s.cfg.sock6[1][1]));
	CHECK_EQ(srv_stunt_share_used(&s, &peer), 1);
	/* the packet */
	CHECK_EQ(srv_stunt_build6(&act.pkt, act.src.ip, act.dst.ip, pkt, sizeof(pkt), &len), 0);
	CHECK_EQ(pkt_parse(pkt, len, &p), 0);
	CHECK_EQ(p.family, AF_INET6);
	CHECK_EQ(p.l4, PKT_L4_TCP);
	CHECK_MEM(p.ip6.saddr, s.cfg.sock6[1][1].ip, 16);
	CHECK_MEM(p.ip6.daddr, peer.ip, 16);
	CHECK_EQ(p.ip6.hop_limit, STUNT_TTL_DEFAULT);
	CHECK_EQ(p.tcp.sport, 3479);
	CHECK_EQ(p.tcp.dport, 41000);
	CHECK_EQ(p.tcp.flags, PKT_TCP_SYN);
	CHECK_EQ(p.tcp.opt.mss, 1460);
	/* the checksum holds: recomputing it changes nothing */
	{
		uint8_t again[sizeof(pkt)];

		memcpy(again, pkt, len);
		CHECK_EQ(pkt_fix_checksums(again, len), 0);
		CHECK_MEM(again, pkt, len);
	}
	CHECK_EQ(srv_stunt_build6(&act.pkt, act.src.ip, act.dst.ip, pkt, PKT_IP6_HDR + 10, &len),
		 -ENOSPC);
	/* change port only: the address it came in on */
	q.flags = STUN_CHANGE_PORT;
	start(STUNT_METHOD_PROBE_UNSOLICITED);
	stunt_put_probe_req(&b, &q);
	CHECK_EQ(handle(false), -1);
	CHECK(stun_addr_equal(&act.src, &s.cfg.sock6[0][1]));
	/* not over IPv6 */
	start(STUNT_METHOD_CAPTURE);
	CHECK_EQ(handle(false), 500);
	start(STUNT_METHOD_SEND_PACKET);
	put_packet(STUNT_PKT_SYN, 0, 0, 0);
	CHECK_EQ(handle(false), 500);
	/* one IPv6 address: no other to send from */
	s.cfg.one_addr6 = true;
	q.flags = STUN_CHANGE_IP;
	start(STUNT_METHOD_PROBE_UNSOLICITED);
	stunt_put_probe_req(&b, &q);
	CHECK_EQ(handle(false), 400);
	CHECK_EQ(act.verdict, STUNT_V_NO_ALT);
	/* no IPv6 raw socket */
	s.cfg.available6 = false;
	q.flags = 0;
	start(STUNT_METHOD_PROBE_UNSOLICITED);
	stunt_put_probe_req(&b, &q);
	CHECK_EQ(handle(false), 500);
	/* an IPv4 connection is not served from the IPv6 rows, nor the other way */
	s.cfg.available6 = true;
	s.cfg.available = false;
	start(STUNT_METHOD_PROBE_UNSOLICITED);
	stunt_put_probe_req(&b, &q);
	CHECK_EQ(handle(false), -1);
	CHECK(stun_addr_equal(&act.src, &s.cfg.sock6[0][0]));
	peer = ip4(198, 18, 1, 2, 40000);
	srv_stunt_conn_init(&c, &s, &peer, 0, 0, 0);
	start(STUNT_METHOD_PROBE_UNSOLICITED);
	stunt_put_probe_req(&b, &q);
	CHECK_EQ(handle(false), 500);
}

static void report_round_trip(void)
{
	struct stunt_syn_report r, back;
	struct stun_msg m;
	size_t n;

	memset(&r, 0, sizeof(r));
	r.capture_id = 9;
	r.source = ip4(198, 18, 1, 2, 40000);
	r.syn.seq = 0x11223344;
	r.syn.ttl = 62;
	r.opts_raw[0] = 2;
	r.opts_raw[1] = 4;
	r.opts_raw[2] = 5;
	r.opts_raw[3] = 0xb4;
	r.opts_len = 4;
	n = srv_stunt_report(&r, txid, reply, sizeof(reply));
	CHECK_EQ(stun_parse(reply, n, &m), 0);
	CHECK_EQ(stunt_get_syn_report(&m, &back), 0);
	CHECK_EQ(back.syn.seq, 0x11223344);
	CHECK_EQ(back.opts.mss, 1460);
	CHECK(stun_addr_equal(&back.source, &r.source));
	memset(&r, 0, sizeof(r));
	r.capture_id = 10;
	r.error = STUN_ERR_TIMEOUT;
	n = srv_stunt_report(&r, txid, reply, sizeof(reply));
	CHECK_EQ(stun_parse(reply, n, &m), 0);
	CHECK_EQ(stunt_get_syn_report(&m, &back), 0);
	CHECK_EQ(back.error, 408);
}

static void refused_before_looking(void)
{
	setup(10, true);
	start(STUNT_METHOD_CAPTURE);
	CHECK_EQ(handle(false), 401);
	CHECK_EQ(act.verdict, STUNT_V_AUTH);
	start(STUNT_METHOD_CAPTURE);
	CHECK_EQ(handle(true), 0);
	s.cfg.available = false;
	start(STUNT_METHOD_CAPTURE);
	CHECK_EQ(handle(true), 500);
	CHECK_EQ(act.verdict, STUNT_V_UNAVAILABLE);
	/* an indication is not answered */
	setup(10, false);
	stun_build_init(&b, reqbuf, sizeof(reqbuf),
			stun_type(STUNT_METHOD_SYN_REPORT, STUN_INDICATION), txid);
	CHECK_EQ(handle(false), -1);
	CHECK_EQ(act.verdict, STUNT_V_DROP);
	/* a malformed request: 400 */
	start(STUNT_METHOD_SEND_PACKET);
	CHECK_EQ(handle(false), 400);
	start(STUNT_METHOD_PROBE_UNSOLICITED);
	CHECK_EQ(handle(false), 400);
	CHECK_EQ(s.pending, 0);
}

/* captures c (the global) may still arm: how many of n tries succeed */
static unsigned captures(unsigned n)
{
	unsigned i, ok = 0;

	for (i = 0; i < n; i++) {
		start(STUNT_METHOD_CAPTURE);
		ok += handle(false) == 0;
	}
	return ok;
}

static void one_address_gets_a_fair_share(void)
{
	struct stunt_conn same[3], other;
	struct stun_addr peer;
	unsigned k, a;

	setup(100, false);
	CHECK_EQ(STUNT_ADDR_SHARE, 8);
	for (k = 0; k < 3; k++) {
		peer = ip4(198, 18, 1, 2, (uint16_t)(40000 + k));
		srv_stunt_conn_init(&same[k], &s, &peer, 0, 0, 0);
	}
	peer = ip4(198, 18, 1, 3, 40000);
	srv_stunt_conn_init(&other, &s, &peer, 0, 0, 0);
	/* two connections of one address use its share, a third gets none */
	c = same[0];
	CHECK_EQ(captures(STUNT_CONN_PENDING), STUNT_CONN_PENDING);
	same[0] = c;
	c = same[1];
	CHECK_EQ(captures(STUNT_CONN_PENDING), STUNT_CONN_PENDING);
	same[1] = c;
	c = same[2];
	CHECK_EQ(captures(1), 0);
	CHECK_EQ(act.verdict, STUNT_V_SHARE);
	start(STUNT_METHOD_CAPTURE);
	CHECK_EQ(handle(false), 429);
	same[2] = c;
	CHECK_EQ(srv_stunt_share_used(&s, &same[2].peer), STUNT_ADDR_SHARE);
	/* another address is not concerned */
	c = other;
	CHECK_EQ(captures(STUNT_CONN_PENDING), STUNT_CONN_PENDING);
	other = c;
	/* one action of the first address ends: one more for it */
	srv_stunt_done(&s, &same[0]);
	c = same[2];
	CHECK_EQ(captures(2), 1);
	same[2] = c;
	/* every action ends: the address's entry is free again */
	for (k = 0; k < 3; k++)
		while (same[k].pending)
			srv_stunt_done(&s, &same[k]);
	while (other.pending)
		srv_stunt_done(&s, &other);
	CHECK_EQ(s.pending, 0);
	CHECK_EQ(srv_stunt_share_used(&s, &same[0].peer), 0);
	/* the table itself still bounds: 8 addresses fill it, a ninth waits */
	for (a = 0; a < STUNT_PENDING_MAX / STUNT_ADDR_SHARE; a++)
		for (k = 0; k < STUNT_ADDR_SHARE / STUNT_CONN_PENDING; k++) {
			peer = ip4(198, 18, 2, (uint8_t)a, (uint16_t)(1000 + k));
			srv_stunt_conn_init(&c, &s, &peer, 0, 0, 0);
			CHECK_EQ(captures(STUNT_CONN_PENDING), STUNT_CONN_PENDING);
		}
	CHECK_EQ(s.pending, STUNT_PENDING_MAX);
	peer = ip4(198, 18, 3, 1, 1000);
	srv_stunt_conn_init(&c, &s, &peer, 0, 0, 0);
	CHECK_EQ(captures(1), 0);
	CHECK_EQ(act.verdict, STUNT_V_BUSY);
	CHECK(strcmp(stunt_verdict_name(STUNT_V_SHARE), "share_limited") == 0);
}

int main(void)
{
	RUN(capture_armed_on_the_server);
	RUN(send_only_to_the_client);
	RUN(known_ports_are_bounded);
	RUN(spoofed_source_needs_a_voucher);
	RUN(one_address_no_spoof_external);
	RUN(bounds_and_rates);
	RUN(probe_goes_to_the_client_at_port_p);
	RUN(probe_over_ipv6);
	RUN(report_round_trip);
	RUN(refused_before_looking);
	RUN(one_address_gets_a_fair_share);
	return TAP_DONE();
}
