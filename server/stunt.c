// SPDX-License-Identifier: MIT
/* STUNT requests as pure logic: see server/stunt.h. */
#include "server/stunt.h"
#include "proto/stun_auth.h"

#include <errno.h>
#include <string.h>

#define SYN_WINDOW	64240
#define SYN_MSS		1460
#define SYN_WSCALE	7

static const char *const names[STUNT_V_MAX] = {
	[STUNT_V_CAPTURE]	= "capture",
	[STUNT_V_SEND]		= "send",
	[STUNT_V_PROBE]		= "probe",
	[STUNT_V_BAD]		= "bad_request",
	[STUNT_V_AUTH]		= "auth_required",
	[STUNT_V_THIRD_PARTY]	= "third_party",
	[STUNT_V_RATE]		= "rate_limited",
	[STUNT_V_BUSY]		= "busy",
	[STUNT_V_SHARE]		= "share_limited",
	[STUNT_V_UNAVAILABLE]	= "unavailable",
	[STUNT_V_DROP]		= "dropped",
	[STUNT_V_NO_ALT]	= "no_alternate",
	[STUNT_V_NO_SPOOF]	= "no_spoof",
};

const char *stunt_verdict_name(enum stunt_verdict v)
{
	return (unsigned)v < STUNT_V_MAX ? names[v] : "?";
}

bool srv_stunt_is_ours(uint16_t method)
{
	return method >= STUNT_METHOD_CAPTURE && method <= STUNT_METHOD_PROBE_UNSOLICITED;
}

void srv_stunt_init(struct srv_stunt *s, const struct srv_stunt_cfg *cfg, uint64_t now_ms)
{
	memset(s, 0, sizeof(*s));
	s->cfg = *cfg;
	s->all.milli = (cfg->all_burst ? cfg->all_burst : 1) * 1000u;
	s->all.last_ms = now_ms;
	s->next_id = 1;
}

void srv_stunt_conn_init(struct stunt_conn *c, const struct srv_stunt *s,
			 const struct stun_addr *peer, unsigned rx_ip, unsigned rx_port,
			 uint64_t now_ms)
{
	memset(c, 0, sizeof(*c));
	c->peer = *peer;
	c->rx_ip = rx_ip & 1;
	c->rx_port = rx_port & 1;
	c->bucket.milli = (s->cfg.conn_burst ? s->cfg.conn_burst : 1) * 1000u;
	c->bucket.last_ms = now_ms;
}

bool srv_stunt_dest_ok(const struct stunt_conn *c, uint16_t port)
{
	unsigned i;

	if (port == 0 || port == c->peer.port)
		return c->peer.port != 0;
	for (i = 0; i < c->nknown && i < STUNT_KNOWN_PORTS; i++)
		if (c->known[i] == port)
			return true;
	return false;
}

void srv_stunt_conn_saw(struct stunt_conn *c, uint16_t port, uint32_t seq)
{
	c->has_seq = true;
	c->last_seq = seq;
	if (srv_stunt_dest_ok(c, port))
		return;
	c->known[c->known_next] = port;
	c->known_next = (c->known_next + 1) % STUNT_KNOWN_PORTS;
	if (c->nknown < STUNT_KNOWN_PORTS)
		c->nknown++;
}

static size_t ip_len(const struct stun_addr *a)
{
	return a->family == STUN_FAMILY_IPV6 ? 16 : 4;
}

static struct stunt_share *share_find(const struct srv_stunt *s, const struct stun_addr *a)
{
	unsigned i;

	for (i = 0; i < STUNT_PENDING_MAX; i++)
		if (s->share[i].family && s->share[i].family == a->family &&
		    memcmp(s->share[i].ip, a->ip, ip_len(a)) == 0)
			return (struct stunt_share *)&s->share[i];
	return NULL;
}

unsigned srv_stunt_share_used(const struct srv_stunt *s, const struct stun_addr *a)
{
	const struct stunt_share *e = share_find(s, a);

	return e ? e->n : 0;
}

/* An action of c is accepted: count it everywhere. */
static void slot_take(struct srv_stunt *s, struct stunt_conn *c)
{
	struct stunt_share *e = share_find(s, &c->peer);
	unsigned i;

	for (i = 0; !e && i < STUNT_PENDING_MAX; i++)
		if (!s->share[i].family) {
			e = &s->share[i];
			e->family = c->peer.family;
			memcpy(e->ip, c->peer.ip, ip_len(&c->peer));
			e->n = 0;
		}
	if (e)	/* always: no more addresses than outstanding actions */
		e->n++;
	s->pending++;
	c->pending++;
}

/* BUSY, SHARE, or STUNT_V_MAX: room for one more action of c. */
static enum stunt_verdict slot_check(const struct srv_stunt *s, const struct stunt_conn *c)
{
	if (c->pending >= STUNT_CONN_PENDING || s->pending >= STUNT_PENDING_MAX)
		return STUNT_V_BUSY;
	if (srv_stunt_share_used(s, &c->peer) >= STUNT_ADDR_SHARE)
		return STUNT_V_SHARE;
	return STUNT_V_MAX;
}

void srv_stunt_done(struct srv_stunt *s, struct stunt_conn *c)
{
	struct stunt_share *e;

	if (s->pending)
		s->pending--;
	if (!c)
		return;
	if (c->pending)
		c->pending--;
	if ((e = share_find(s, &c->peer)) && e->n && --e->n == 0)
		memset(e, 0, sizeof(*e));
}

/* Which row's address is a, local or public (--external-ip); -1: neither. */
static int server_row(const struct srv_stunt *s, const struct stun_addr *a)
{
	size_t len = a->family == STUN_FAMILY_IPV6 ? 16 : 4;
	int i;

	for (i = 0; i < 2; i++)
		if ((a->family == s->cfg.sock[i][0].family &&
		     memcmp(a->ip, s->cfg.sock[i][0].ip, len) == 0) ||
		    (a->family == s->cfg.pub[i][0].family &&
		     memcmp(a->ip, s->cfg.pub[i][0].ip, len) == 0))
			return i;
	return -1;
}

static bool is_server_ip(const struct srv_stunt *s, const struct stun_addr *a)
{
	return server_row(s, a) >= 0;
}

/* The local address of a server address a client named (public or local),
 * keeping its port: what the raw socket and the capture deal in. */
static struct stun_addr to_local(const struct srv_stunt *s, const struct stun_addr *a)
{
	struct stun_addr l = *a;
	int i = server_row(s, a);

	if (i >= 0) {
		memcpy(l.ip, s->cfg.sock[i][0].ip, sizeof(l.ip));
		l.family = s->cfg.sock[i][0].family;
	}
	return l;
}

/* ... and the other way: what a reply tells the client. */
static struct stun_addr to_public(const struct srv_stunt *s, const struct stun_addr *a)
{
	struct stun_addr p = *a;
	int i = server_row(s, a);

	if (i >= 0 && s->cfg.pub[i][0].family) {
		memcpy(p.ip, s->cfg.pub[i][0].ip, sizeof(p.ip));
		p.family = s->cfg.pub[i][0].family;
	}
	return p;
}

static bool same_ip(const struct stun_addr *a, const struct stun_addr *b)
{
	return a->family == b->family &&
	       memcmp(a->ip, b->ip, a->family == STUN_FAMILY_IPV6 ? 16 : 4) == 0;
}

static size_t error_reply(const struct stun_msg *m, uint16_t code, const char *reason,
			  uint8_t *buf)
{
	struct stun_builder b;
	int n;

	stun_build_reply(&b, buf, STUNT_BUF, stun_type(m->method, STUN_ERROR), m);
	stun_build_error(&b, code, reason);
	stun_build_fingerprint(&b);
	n = stun_build_finish(&b);
	return n > 0 ? (size_t)n : 0;
}

static int refuse(struct stunt_action *out, enum stunt_verdict v, const struct stun_msg *m,
		  uint8_t *reply)
{
	static const struct {
		uint16_t code;
		const char *reason;
	} e[STUNT_V_MAX] = {
		[STUNT_V_BAD]		= { 400, "Bad Request" },
		[STUNT_V_AUTH]		= { 401, "Authenticate first" },
		[STUNT_V_THIRD_PARTY]	= { 403, "Only to your own endpoint" },
		[STUNT_V_RATE]		= { 429, "Rate limited" },
		[STUNT_V_BUSY]		= { 429, "Too many outstanding" },
		[STUNT_V_SHARE]		= { 429, "Fair share used" },
		[STUNT_V_UNAVAILABLE]	= { 500, "STUNT unavailable" },
		[STUNT_V_NO_ALT]	= { 400, "No alternate address" },
		[STUNT_V_NO_SPOOF]	= { 403, "No spoofed sources on this server" },
	};

	out->verdict = v;
	out->reply_len = e[v].code ? error_reply(m, e[v].code, e[v].reason, reply) : 0;
	return 0;
}

static void addr_u32(const struct stun_addr *a, uint32_t *v)
{
	memcpy(v, a->ip, 4);
}

/* STUNT-TARGET in a request names a destination: only the client's own IP
 * (SEND-PACKET, PROBE) or the server's (CAPTURE) is acceptable. -1: malformed,
 * 0: absent or fine, 1: someone else. */
static int check_target(const struct srv_stunt *s, const struct stunt_conn *c,
			const struct stun_msg *m, bool server_side, struct stun_addr *t)
{
	const struct stun_attr *a = stun_msg_find(m, STUNT_ATTR_TARGET);

	if (!a)
		return 0;
	if (stun_attr_get_addr(a, t) < 0)
		return -1;
	if (server_side)
		return is_server_ip(s, t) ? 0 : 1;
	return same_ip(t, &c->peer) ? 0 : 1;
}

static bool take_tokens(struct srv_stunt *s, struct stunt_conn *c, uint64_t now)
{
	return srv_bucket_take(&c->bucket, s->cfg.conn_rate, s->cfg.conn_burst, now) &&
	       srv_bucket_take(&s->all, s->cfg.all_rate, s->cfg.all_burst, now);
}

static void syn_spec(struct pkt_tcp_spec *p, const struct stun_addr *src,
		     const struct stun_addr *dst, uint8_t flags, uint32_t seq, uint32_t ack,
		     uint8_t ttl, uint16_t ip_id)
{
	memset(p, 0, sizeof(*p));
	addr_u32(src, &p->saddr);
	addr_u32(dst, &p->daddr);
	p->sport = src->port;
	p->dport = dst->port;
	p->seq = seq;
	p->ack = ack;
	p->flags = flags;
	p->window = SYN_WINDOW;
	p->ttl = ttl ? ttl : STUNT_TTL_DEFAULT;
	p->ip_id = ip_id;
	p->dont_fragment = 1;
	p->opt.present = PKT_OPT_MSS | PKT_OPT_SACK_OK | PKT_OPT_WSCALE;
	p->opt.mss = SYN_MSS;
	p->opt.wscale = SYN_WSCALE;
}

static int do_capture(struct srv_stunt *s, struct stunt_conn *c, const struct stun_msg *m,
		      uint8_t *reply, struct stunt_action *out)
{
	struct stunt_capture_req rq;
	struct stunt_capture_resp rs;
	struct stun_builder b;
	struct stun_addr t;
	enum stunt_verdict v;
	int k, n;

	if (stunt_get_capture_req(m, &rq) < 0)
		return refuse(out, STUNT_V_BAD, m, reply);
	if (!rq.timeout_ms)
		rq.timeout_ms = STUNT_CAPTURE_MS_DEFAULT;
	if (rq.timeout_ms > STUNT_CAPTURE_MS_MAX)
		return refuse(out, STUNT_V_BAD, m, reply);
	if ((k = check_target(s, c, m, true, &t)) != 0)
		return refuse(out, k < 0 ? STUNT_V_BAD : STUNT_V_THIRD_PARTY, m, reply);
	if (!stun_msg_find(m, STUNT_ATTR_TARGET))
		t = s->cfg.sock[c->rx_ip][c->rx_port];
	else if (t.port == 0)
		return refuse(out, STUNT_V_BAD, m, reply);
	t = to_local(s, &t);	/* the capture sees local addresses */
	if ((v = slot_check(s, c)) != STUNT_V_MAX)
		return refuse(out, v, m, reply);
	memset(&rs, 0, sizeof(rs));
	rs.capture_id = s->next_id++;
	rs.timeout_ms = rq.timeout_ms;
	rs.target = to_public(s, &t);	/* where the client sends its SYN */
	stun_build_reply(&b, reply, STUNT_BUF, stun_type(m->method, STUN_SUCCESS), m);
	stunt_put_capture_resp(&b, &rs);
	stun_build_fingerprint(&b);
	if ((n = stun_build_finish(&b)) < 0)
		return n;
	out->verdict = STUNT_V_CAPTURE;
	out->reply_len = (size_t)n;
	out->capture_id = rs.capture_id;
	out->timeout_ms = rq.timeout_ms;
	out->target = t;
	slot_take(s, c);
	return 0;
}

static int do_send(struct srv_stunt *s, struct stunt_conn *c, const struct stun_msg *m,
		   const uint8_t rnd[8], uint64_t now, bool authed,
		   bool (*source_ok)(const struct stun_addr *, void *), void *arg,
		   uint8_t *reply, struct stunt_action *out)
{
	struct stunt_send_req rq;
	struct stunt_send_resp rs;
	struct stun_builder b;
	struct stun_addr t, src, dst;
	uint32_t seq, ack = 0;
	enum stunt_verdict v;
	int k, n;

	if (stunt_get_send_req(m, &rq) < 0)
		return refuse(out, STUNT_V_BAD, m, reply);
	if ((k = check_target(s, c, m, false, &t)) != 0)
		return refuse(out, k < 0 ? STUNT_V_BAD : STUNT_V_THIRD_PARTY, m, reply);
	if ((rq.pkt.kind != STUNT_PKT_SYN && rq.pkt.kind != STUNT_PKT_SYNACK) ||
	    (rq.pkt.flags & ~STUNT_PKT_F_ALL) || rq.pkt.delay_ms > STUNT_DELAY_MS_MAX)
		return refuse(out, STUNT_V_BAD, m, reply);
	if (!srv_stunt_dest_ok(c, rq.pkt.dst_port))
		return refuse(out, STUNT_V_THIRD_PARTY, m, reply);
	dst = c->peer;
	if (rq.pkt.dst_port)
		dst.port = rq.pkt.dst_port;
	if (rq.pkt.flags & STUNT_PKT_F_SOURCE) {
		src = rq.source;
		if (src.family != STUN_FAMILY_IPV4 || src.port == 0)
			return refuse(out, STUNT_V_BAD, m, reply);
		/* a source other than the server's own: only one the caller
		 * vouches for (a registered peer of an authenticated client) */
		if (!is_server_ip(s, &src) && !(authed && source_ok && source_ok(&src, arg)))
			return refuse(out, STUNT_V_THIRD_PARTY, m, reply);
		/* spoofed: not from a server whose network drops such packets */
		if (!is_server_ip(s, &src) && s->cfg.no_spoof)
			return refuse(out, STUNT_V_NO_SPOOF, m, reply);
		src = to_local(s, &src);
	} else {
		if ((rq.pkt.flags & STUNT_PKT_F_CHANGE_IP) && s->cfg.one_addr)
			return refuse(out, STUNT_V_NO_ALT, m, reply);
		src = s->cfg.sock[c->rx_ip ^ !!(rq.pkt.flags & STUNT_PKT_F_CHANGE_IP)]
				 [c->rx_port ^ !!(rq.pkt.flags & STUNT_PKT_F_CHANGE_PORT)];
	}
	seq = rq.pkt.flags & STUNT_PKT_F_SEQ ? rq.pkt.seq : stun_rd32(rnd);
	if (rq.pkt.kind == STUNT_PKT_SYNACK) {
		if (rq.pkt.flags & STUNT_PKT_F_ACK)
			ack = rq.pkt.ack;
		else if (c->has_seq)
			ack = c->last_seq + 1;
		else
			return refuse(out, STUNT_V_BAD, m, reply);
	}
	if ((v = slot_check(s, c)) != STUNT_V_MAX)
		return refuse(out, v, m, reply);
	if (!take_tokens(s, c, now))
		return refuse(out, STUNT_V_RATE, m, reply);
	syn_spec(&out->pkt, &src, &dst,
		 rq.pkt.kind == STUNT_PKT_SYN ? PKT_TCP_SYN : PKT_TCP_SYN | PKT_TCP_ACK, seq, ack,
		 rq.pkt.ttl, stun_rd16(rnd + 4));
	memset(&rs, 0, sizeof(rs));
	rs.pkt = rq.pkt;
	rs.pkt.dst_port = dst.port;
	rs.pkt.seq = seq;
	rs.pkt.ack = ack;
	rs.pkt.ttl = out->pkt.ttl;
	rs.pkt.flags = (uint8_t)((rq.pkt.flags & ~STUNT_PKT_F_SOURCE) | STUNT_PKT_F_SEQ |
				 (rq.pkt.kind == STUNT_PKT_SYNACK ? STUNT_PKT_F_ACK : 0));
	rs.source = to_public(s, &src);
	stun_build_reply(&b, reply, STUNT_BUF, stun_type(m->method, STUN_SUCCESS), m);
	stunt_put_send_resp(&b, &rs);
	stun_build_fingerprint(&b);
	if ((n = stun_build_finish(&b)) < 0)
		return n;
	out->verdict = STUNT_V_SEND;
	out->reply_len = (size_t)n;
	out->delay_ms = rq.pkt.delay_ms;
	out->source = rs.source;
	slot_take(s, c);
	return 0;
}

static int do_probe(struct srv_stunt *s, struct stunt_conn *c, const struct stun_msg *m,
		    const uint8_t rnd[8], uint64_t now, uint8_t *reply, struct stunt_action *out)
{
	struct stunt_probe_req rq;
	struct stun_addr t, src, dst;
	enum stunt_verdict v;
	bool v6 = c->peer.family == STUN_FAMILY_IPV6;
	int k;

	if (stunt_get_probe_req(m, &rq) < 0)
		return refuse(out, STUNT_V_BAD, m, reply);
	if ((k = check_target(s, c, m, false, &t)) != 0)
		return refuse(out, k < 0 ? STUNT_V_BAD : STUNT_V_THIRD_PARTY, m, reply);
	if (!rq.timeout_ms)
		rq.timeout_ms = STUNT_PROBE_MS_DEFAULT;
	if (rq.timeout_ms > STUNT_PROBE_MS_MAX)
		return refuse(out, STUNT_V_BAD, m, reply);
	if ((rq.flags & STUN_CHANGE_IP) && (v6 ? s->cfg.one_addr6 : s->cfg.one_addr))
		return refuse(out, STUNT_V_NO_ALT, m, reply);
	if ((v = slot_check(s, c)) != STUNT_V_MAX)
		return refuse(out, v, m, reply);
	if (!take_tokens(s, c, now))
		return refuse(out, STUNT_V_RATE, m, reply);
	src = (v6 ? s->cfg.sock6 : s->cfg.sock)[c->rx_ip ^ !!(rq.flags & STUN_CHANGE_IP)]
					       [c->rx_port ^ !!(rq.flags & STUN_CHANGE_PORT)];
	dst = c->peer;
	dst.port = rq.port;
	out->src = src;
	out->dst = dst;
	syn_spec(&out->pkt, &src, &dst, PKT_TCP_SYN, stun_rd32(rnd), 0, 0, stun_rd16(rnd + 4));
	out->verdict = STUNT_V_PROBE;
	out->reply_len = 0;
	memcpy(out->txid, m->txid, STUN_TXID_LEN);
	out->timeout_ms = rq.timeout_ms;
	out->source = to_public(s, &src);	/* named in the reply */
	slot_take(s, c);
	return 0;
}

int srv_stunt_handle(struct srv_stunt *s, struct stunt_conn *c, bool authed,
		     const struct stun_msg *m, const uint8_t rnd[8], uint64_t now_ms,
		     bool (*source_ok)(const struct stun_addr *src, void *arg), void *arg,
		     uint8_t *reply, struct stunt_action *out)
{
	if (!s || !c || !m || !rnd || !reply || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!srv_stunt_is_ours(m->method) || m->cls != STUN_REQUEST || m->classic)
		return refuse(out, STUNT_V_DROP, m, reply);
	/* over IPv6 only PROBE-UNSOLICITED: stunt.h */
	if (c->peer.family == STUN_FAMILY_IPV6 ? !s->cfg.available6 || !s->cfg.sock6[0][0].family ||
						 m->method != STUNT_METHOD_PROBE_UNSOLICITED :
	    !s->cfg.available || c->peer.family != STUN_FAMILY_IPV4)
		return refuse(out, STUNT_V_UNAVAILABLE, m, reply);
	if (s->cfg.require_auth && !authed)
		return refuse(out, STUNT_V_AUTH, m, reply);
	switch (m->method) {
	case STUNT_METHOD_CAPTURE:
		return do_capture(s, c, m, reply, out);
	case STUNT_METHOD_SEND_PACKET:
		return do_send(s, c, m, rnd, now_ms, authed, source_ok, arg, reply, out);
	case STUNT_METHOD_PROBE_UNSOLICITED:
		return do_probe(s, c, m, rnd, now_ms, reply, out);
	default:	/* SYN-REPORT is an indication, dropped above */
		return refuse(out, STUNT_V_DROP, m, reply);
	}
}

int srv_stunt_build6(const struct pkt_tcp_spec *spec, const uint8_t src6[16],
		     const uint8_t dst6[16], uint8_t *buf, size_t cap, size_t *out_len)
{
	uint8_t v4[PKT_IP4_MAX_HDR + PKT_TCP_MAX_HDR + 64];
	struct pkt_tcp_spec t = *spec;
	size_t len, ihl, seg;
	int e;

	if (!spec || !src6 || !dst6 || !buf || !out_len)
		return -EINVAL;
	t.payload = NULL;	/* test SYNs carry none */
	t.payload_len = 0;
	if ((e = pkt_build_tcp(&t, v4, sizeof(v4), &len)) < 0)
		return e;
	ihl = (size_t)(v4[0] & 0x0f) * 4;
	seg = len - ihl;
	if (cap < PKT_IP6_HDR + seg)
		return -ENOSPC;
	memset(buf, 0, PKT_IP6_HDR);
	buf[0] = 0x60;	/* version 6, traffic class and flow label 0 */
	pkt_put16(buf + 4, (uint16_t)seg);
	buf[6] = PKT_PROTO_TCP;
	buf[7] = t.ttl;
	memcpy(buf + 8, src6, 16);
	memcpy(buf + 24, dst6, 16);
	memcpy(buf + PKT_IP6_HDR, v4 + ihl, seg);
	*out_len = PKT_IP6_HDR + seg;
	/* the TCP checksum covers the IPv6 pseudo header now */
	return pkt_fix_checksums(buf, *out_len);
}

size_t srv_stunt_report(const struct stunt_syn_report *rep, const uint8_t txid[STUN_TXID_LEN],
			uint8_t *buf, size_t cap)
{
	struct stun_builder b;
	int n;

	stun_build_init(&b, buf, cap, stun_type(STUNT_METHOD_SYN_REPORT, STUN_INDICATION), txid);
	stunt_put_syn_report(&b, rep);
	stun_build_fingerprint(&b);
	n = stun_build_finish(&b);
	return n > 0 ? (size_t)n : 0;
}

size_t srv_stunt_probe_reply(const uint8_t txid[STUN_TXID_LEN], const struct stunt_probe_resp *r,
			     uint8_t *buf, size_t cap)
{
	struct stun_builder b;
	int n;

	stun_build_init(&b, buf, cap, stun_type(STUNT_METHOD_PROBE_UNSOLICITED, STUN_SUCCESS),
			txid);
	stunt_put_probe_resp(&b, r);
	stun_build_fingerprint(&b);
	n = stun_build_finish(&b);
	return n > 0 ? (size_t)n : 0;
}
