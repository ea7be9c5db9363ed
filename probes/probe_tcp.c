// SPDX-License-Identifier: MIT
/*
 * TCP behaviour discovery (RFC 5382) against stunt-server, every test at once:
 *
 *   alloc[0..5]  fresh sockets, connected back to back to A1:P1, one
 *                Binding each: allocation, as for UDP
 *   c[0..3]      one local port L (SO_REUSEADDR + SO_REUSEPORT) connected
 *                to A1:P1, A1:P2, A2:P1, A2:P2 (A2:P2 from c[0]'s
 *                OTHER-ADDRESS), one Binding each: mapping
 *   listener     on L as well, so that a SYN the NAT lets through to L is
 *                answered with a SYN-ACK the server can see
 *
 * and, when the server speaks STUNT (docs/protocol.md section 4), on c[0]:
 *
 *   PROBE-UNSOLICITED to our public port of L from A2:P2, then from A1:P2:
 *       SYN-ACK back means the filter let it in (EIF, ADF), else APDF;
 *   PROBE-UNSOLICITED to a public port nobody mapped: the NAT's own answer
 *       to an unsolicited SYN (drop / RST / ICMP);
 *   CAPTURE, then a SYN to the target it names: the server reports the
 *       sequence number it saw; the capture (probe_pcap.c, root) saw the
 *       one that left us. Different: the NAT rewrites sequence numbers.
 *
 * A plain STUN server (coturn) answers STUNT requests with an error or
 * not at all; those results stay unknown and a note says so.
 */
#include "probes/probe_int.h"
#include "common/clock.h"
#include "proto/stun_auth.h"
#include "proto/stunt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

enum { TAG_ALLOC = 0, TAG_MAP = 16, TAG_P_IPPORT = 32, TAG_P_PORT, TAG_P_UNSOL, TAG_CAPTURE, TAG_FILT };

#define STUNT_WAIT_MIN_MS	300	/* shortest STUNT-TIMEOUT asked for */
#define PROBE_UNSOL_TRIES	3	/* PROBE-UNSOLICITED sends per test when answers go missing */

/* The three PROBE-UNSOLICITED tests, indexed by tag - TAG_P_IPPORT. */
enum { UNSOL_IPPORT, UNSOL_PORT, UNSOL_NAT, UNSOL_MAX };

struct probe_tcp_state {
	struct probe_sock	*alloc[PROBE_ALLOC_SAMPLES];
	bool			 alloc_ok[PROBE_ALLOC_SAMPLES];
	uint16_t		 alloc_mapped[PROBE_ALLOC_SAMPLES];
	struct probe_sock	*c[PROBE_EP_MAX];
	struct probe_sock	*lsn, *cf;		/* filtering test: own port and listener */
	uint16_t		 cf_public;		/* cf's public port, 0 until known */
	bool			 ctl_ready, filt_sent;
	unsigned		 capture_tries;
	unsigned		 stunt_wait;
	struct probe_sock	*syn;		/* the SYN the server captures */
	uint16_t		 syn_ports[2];	/* every try's, for the comparison */
	unsigned		 nsyn_ports;
	uint16_t		 lport;
	int			 res_ipport, res_port, res_unsol;	/* STUNT_PROBE_*, -1 */
	struct stunt_probe_req	 preq[UNSOL_MAX];	/* as sent, for a retry */
	unsigned		 ptries[UNSOL_MAX];
	bool			 ptimeout[UNSOL_MAX];	/* the request itself went unanswered */
	bool			 map_timeout;	/* a mapping Binding went unanswered */
	bool			 capture_timeout;
	unsigned		 stunt_answers, stunt_refusals;
	uint16_t		 stunt_err;
	bool			 capture_armed, report;
	uint32_t		 capture_id;
	struct stunt_syn_report	 rep;
	bool			 no_other;
};

static void on_alloc(struct probe_loop *L, struct probe_tx *t)
{
	struct probe_ctx *c = t->arg;
	unsigned i = (unsigned)(t->tag - TAG_ALLOC);

	(void)L;
	if (t->status == PROBE_TX_OK && t->has_mapped && i < PROBE_ALLOC_SAMPLES) {
		c->tcp->alloc_ok[i] = true;
		c->tcp->alloc_mapped[i] = t->mapped.port;
		c->r->server_reached = true;
	}
}

static void on_map(struct probe_loop *L, struct probe_tx *t)
{
	struct probe_ctx *c = t->arg;
	unsigned ep = (unsigned)(t->tag - TAG_MAP);

	(void)L;
	if (t->status == PROBE_TX_OK && t->has_mapped && ep < PROBE_EP_MAX)
		probe_ep_from(&c->r->tcp.mapped[ep], &t->mapped);
	if (t->status == PROBE_TX_NOANSWER)
		c->tcp->map_timeout = true;
}

static void stunt_answer(struct probe_tcp_state *s, const struct probe_tx *t)
{
	if (t->status == PROBE_TX_OK)
		s->stunt_answers++;
	else if (t->status == PROBE_TX_ERROR) {
		s->stunt_refusals++;
		if (t->err_code)
			s->stunt_err = t->err_code;
	}
}

static void unsol_send(struct probe_ctx *c, unsigned k);

static void on_probe(struct probe_loop *L, struct probe_tx *t)
{
	struct probe_ctx *c = t->arg;
	struct probe_tcp_state *s = c->tcp;
	int got = probe_unsol_result(t, NULL);
	int *res = t->tag == TAG_P_IPPORT ? &s->res_ipport : t->tag == TAG_P_PORT ? &s->res_port : &s->res_unsol;
	unsigned k = (unsigned)(t->tag - TAG_P_IPPORT);

	stunt_answer(s, t);
	if (c->cfg->verbose)
		fprintf(stderr, "stunt-probe: PROBE-UNSOLICITED %d: status %d error %u after %u ms\n", t->tag,
			t->status, t->err_code, t->rtt_ms);
	if (t->status == PROBE_TX_NOANSWER && k < UNSOL_MAX)
		s->ptimeout[k] = true;
	if (got < 0)
		return;
	*res = got;
	/* Silence (drop) on a path that loses packets may be a lost SYN, or a
	 * lost SYN-ACK / RST / ICMP: ask again while there is time. */
	if (got == STUNT_PROBE_DROP && k < UNSOL_MAX && s->ptries[k] < PROBE_UNSOL_TRIES &&
	    probe_loop_doubtful(L, s->ptries[k]) &&
	    clock_ms() + 2 * s->stunt_wait + probe_loop_absence_ms(L) < L->deadline_ms)
		unsol_send(c, k);
}

static void on_capture(struct probe_loop *L, struct probe_tx *t)
{
	struct probe_ctx *c = t->arg;
	struct probe_tcp_state *s = c->tcp;
	struct stunt_capture_resp cr;
	struct sockaddr_in dst;
	struct stun_msg m;
	uint32_t ip;

	stunt_answer(s, t);
	if (c->cfg->verbose)
		fprintf(stderr, "stunt-probe: CAPTURE: status %d error %u after %u ms\n", t->status, t->err_code,
			t->rtt_ms);
	if (t->status != PROBE_TX_OK || stun_parse(t->resp, t->resplen, &m) < 0 ||
	    stunt_get_capture_resp(&m, &cr) < 0 || cr.target.family != STUN_FAMILY_IPV4) {
		s->capture_timeout |= t->status == PROBE_TX_NOANSWER;
		s->report = true;	/* no report will come */
		s->rep.error = 500;
		L->holds--;
		return;
	}
	s->capture_armed = true;
	s->capture_id = cr.capture_id;
	memcpy(&ip, cr.target.ip, 4);
	probe_sin(&dst, ip, cr.target.port);
	s->syn = probe_sock_tcp(L, 0, false, 0, &dst);
	if (s->syn && s->nsyn_ports < 2)
		s->syn_ports[s->nsyn_ports++] = s->syn->lport;
	if (!s->syn) {
		s->report = true;
		s->rep.error = 500;
		L->holds--;
	}
}

static void send_capture(struct probe_ctx *c);

/* SYN-REPORT indications arrive on c[0] outside any transaction. */
static void on_indication(struct probe_loop *L, struct probe_sock *sk, const struct stun_msg *m)
{
	struct probe_ctx *c = sk->arg;
	struct probe_tcp_state *s = c->tcp;
	struct stunt_syn_report rep;

	int e = stunt_get_syn_report(m, &rep);

	if (c->cfg->verbose)
		fprintf(stderr, "stunt-probe: indication 0x%03x: parse %d, capture %u (ours %u), error %u\n",
			m->method, e, e ? 0 : rep.capture_id, s ? s->capture_id : 0, e ? 0 : rep.error);
	if (!s || s->report || e < 0 || !s->capture_armed ||
	    rep.capture_id != s->capture_id)
		return;
	/* not captured: once more (a SYN can be lost like any packet) */
	if (rep.error && s->capture_tries < 2) {
		/* closed, so that its retransmitted SYN does not meet the next
		 * capture (the report would then compare two sockets' ISNs) */
		if (s->syn && s->syn->fd >= 0) {
			close(s->syn->fd);
			s->syn->fd = -1;
			s->syn->dead = true;
		}
		send_capture(c);
		return;
	}
	s->report = true;
	s->rep = rep;
	L->holds--;
}

static void capture_timeout(struct probe_loop *L, void *arg)
{
	struct probe_ctx *c = arg;

	if (c->tcp && !c->tcp->report) {
		c->tcp->report = true;	/* give up */
		c->tcp->capture_timeout = true;
		c->tcp->rep.error = 408;
		L->holds--;
	}
}

struct probe_tx *probe_stunt_req(struct probe_loop *L, struct probe_sock *sk, uint16_t method,
				 const void *body, probe_tx_cb cb, void *arg, int tag)
{
	struct stun_builder b;
	struct probe_tx *t;
	uint8_t buf[256], txid[STUN_TXID_LEN];
	int n;

	probe_txid(txid);
	stun_build_init(&b, buf, sizeof(buf), stun_type(method, STUN_REQUEST), txid);
	if (method == STUNT_METHOD_PROBE_UNSOLICITED)
		stunt_put_probe_req(&b, body);
	else
		stunt_put_capture_req(&b, body);
	stun_build_fingerprint(&b);
	if ((n = stun_build_finish(&b)) < 0)
		return NULL;
	t = probe_tx_raw(L, sk, NULL, buf, (size_t)n, false, cb, arg, tag);
	if (t && method == STUNT_METHOD_PROBE_UNSOLICITED)
		t->server_waits = true;	/* answered after its STUNT-TIMEOUT at most */
	return t;
}

/* Build and send one STUNT request on c[0]. */
static void stunt_req(struct probe_ctx *c, uint16_t method, const void *body, int tag, probe_tx_cb cb)
{
	probe_stunt_req(&c->L, c->tcp->c[0], method, body, cb, c, tag);
}

int probe_unsol_result(const struct probe_tx *t, struct stunt_probe_resp *out)
{
	struct stunt_probe_resp pr;
	struct stun_msg m;

	if (t->status != PROBE_TX_OK || stun_parse(t->resp, t->resplen, &m) < 0 ||
	    stunt_get_probe_resp(&m, &pr) < 0)
		return -1;
	if (out)
		*out = pr;
	return pr.result;
}

/* Send (or send again) PROBE-UNSOLICITED test k as it was asked first. */
static void unsol_send(struct probe_ctx *c, unsigned k)
{
	c->tcp->ptries[k]++;
	stunt_req(c, STUNT_METHOD_PROBE_UNSOLICITED, &c->tcp->preq[k], TAG_P_IPPORT + (int)k, on_probe);
}

uint16_t probe_unused_port(const uint16_t *used, unsigned n)
{
	uint16_t p = 0;
	unsigned i, k;

	for (k = 0; k < 16; k++) {
		bool taken = false;

		if (getrandom(&p, sizeof(p), 0) != sizeof(p))
			p = (uint16_t)k * 97;
		p = (uint16_t)(61000 + p % 4000);
		for (i = 0; i < n; i++)
			taken |= used[i] == p;
		if (!taken)
			break;
	}
	return p;
}

static uint16_t unmapped_port(const struct probe_ctx *c)
{
	uint16_t used[PROBE_EP_MAX + PROBE_ALLOC_SAMPLES];
	unsigned i, n = 0;

	for (i = 0; i < PROBE_EP_MAX; i++)
		if (c->r->tcp.mapped[i].known)
			used[n++] = c->r->tcp.mapped[i].port;
	for (i = 0; i < PROBE_ALLOC_SAMPLES; i++)
		if (c->tcp->alloc_ok[i])
			used[n++] = c->tcp->alloc_mapped[i];
	return probe_unused_port(used, n);
}

/* The filtering probes need the control connection and cf's public port. */
static void start_filtering(struct probe_ctx *c)
{
	struct probe_tcp_state *s = c->tcp;
	struct stunt_probe_req pq = { 0 };

	if (!s->ctl_ready || !s->cf_public || s->filt_sent)
		return;
	s->filt_sent = true;
	pq.timeout_ms = s->stunt_wait;
	pq.port = s->cf_public;
	pq.flags = STUN_CHANGE_IP | STUN_CHANGE_PORT;
	s->preq[UNSOL_IPPORT] = pq;
	/* a one-address server has no other IP to send from (400) */
	if (!s->no_other)
		unsol_send(c, UNSOL_IPPORT);
	pq.flags = STUN_CHANGE_PORT;
	s->preq[UNSOL_PORT] = pq;
	unsol_send(c, UNSOL_PORT);
}

static void send_capture(struct probe_ctx *c)
{
	struct stunt_capture_req cq = { 0 };

	cq.timeout_ms = c->tcp->stunt_wait;
	c->tcp->capture_tries++;
	c->tcp->capture_armed = false;
	stunt_req(c, STUNT_METHOD_CAPTURE, &cq, TAG_CAPTURE, on_capture);
}

static void start_stunt(struct probe_ctx *c, unsigned rtt_ms)
{
	struct probe_tcp_state *s = c->tcp;
	struct stunt_probe_req pq = { 0 };
	unsigned wait = 2 * rtt_ms + 250;

	if (wait < STUNT_WAIT_MIN_MS)
		wait = STUNT_WAIT_MIN_MS;
	s->stunt_wait = wait;
	s->ctl_ready = true;
	pq.timeout_ms = wait;
	pq.port = unmapped_port(c);
	s->preq[UNSOL_NAT] = pq;
	unsol_send(c, UNSOL_NAT);
	c->L.holds++;	/* until the SYN-REPORT, or its timeout */
	send_capture(c);
	/* the report is due wait ms after arming at the latest */
	probe_timer_add(&c->L, clock_ms() + 2 * (wait + probe_loop_absence_ms(&c->L)), true, capture_timeout, c);
	start_filtering(c);
}

static void on_filt_map(struct probe_loop *L, struct probe_tx *t)
{
	struct probe_ctx *c = t->arg;

	(void)L;
	if (t->status != PROBE_TX_OK || !t->has_mapped)
		return;
	c->tcp->cf_public = t->mapped.port;
	start_filtering(c);
}

static void on_first(struct probe_loop *L, struct probe_tx *t)
{
	struct probe_ctx *c = t->arg;
	struct probe_tcp_state *s = c->tcp;
	struct sockaddr_in dst;
	uint32_t a1 = c->srv.sin_addr.s_addr, a2;
	uint16_t p1 = ntohs(c->srv.sin_port), p2;

	on_map(L, t);
	if (t->status != PROBE_TX_OK || !t->has_mapped)
		return;
	c->r->server_reached = true;
	/* known before the STUNT tests start: no change-IP test then */
	s->no_other = !t->has_other || t->other.family != STUN_FAMILY_IPV4;
	start_stunt(c, t->rtt_ms);
	if (s->no_other) {
		/* one address: its second port only (see probe_udp.c) */
		c->r->one_addr = true;
		if (p1 < 65535) {
			probe_sin(&dst, a1, (uint16_t)(p1 + 1));
			s->c[1] = probe_sock_tcp(L, s->lport, true, 0, &dst);
			probe_tx_binding(L, s->c[1], &dst, 0, false, on_map, c, TAG_MAP + PROBE_EP_A1P2);
		}
		return;
	}
	memcpy(&a2, t->other.ip, 4);
	p2 = t->other.port;
	probe_pcap_server_alt(c, a2);
	probe_sin(&dst, a1, p2);
	s->c[1] = probe_sock_tcp(L, s->lport, true, 0, &dst);
	probe_tx_binding(L, s->c[1], &dst, 0, false, on_map, c, TAG_MAP + PROBE_EP_A1P2);
	probe_sin(&dst, a2, p1);
	s->c[2] = probe_sock_tcp(L, s->lport, true, 0, &dst);
	probe_tx_binding(L, s->c[2], &dst, 0, false, on_map, c, TAG_MAP + PROBE_EP_A2P1);
	probe_sin(&dst, a2, p2);
	s->c[3] = probe_sock_tcp(L, s->lport, true, 0, &dst);
	probe_tx_binding(L, s->c[3], &dst, 0, false, on_map, c, TAG_MAP + PROBE_EP_A2P2);
}

int probe_listen(int family, uint16_t port)
{
	union addr_sa sa;
	int fd, one = 1;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&sa, 0, sizeof(sa));
	if (family == AF_INET6) {
		sa.in6.sin6_family = AF_INET6;
		sa.in6.sin6_port = htons(port);
	} else {
		probe_sin(&sa.in, htonl(INADDR_ANY), port);
	}
	if ((family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    bind(fd, &sa.sa, family == AF_INET6 ? sizeof(sa.in6) : sizeof(sa.in)) < 0 ||
	    listen(fd, 8) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

void probe_listen_drain(struct probe_loop *L, struct probe_sock *sk, short rev)
{
	int fd;

	(void)L;
	(void)rev;
	while ((fd = accept4(sk->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0)
		close(fd);
}

int probe_tcp_start(struct probe_ctx *c)
{
	struct probe_tcp_state *s;
	unsigned i;
	int fd;

	if (!(s = calloc(1, sizeof(*s))))
		return -ENOMEM;
	c->tcp = s;
	s->res_ipport = s->res_port = s->res_unsol = -1;
	for (i = 0; i < PROBE_ALLOC_SAMPLES; i++) {
		s->alloc[i] = probe_sock_tcp(&c->L, 0, false, 0, &c->srv);
		if (s->alloc[i])
			probe_tx_binding(&c->L, s->alloc[i], &c->srv, 0, false, on_alloc, c, TAG_ALLOC + (int)i);
	}
	s->c[0] = probe_sock_tcp(&c->L, 0, true, 0, &c->srv);
	if (!s->c[0])
		return -errno;
	s->lport = s->c[0]->lport;
	s->c[0]->on_msg = on_indication;
	s->c[0]->arg = c;
	c->r->tcp.local.known = true;
	c->r->tcp.local.port = s->lport;
	probe_tx_binding(&c->L, s->c[0], &c->srv, 0, false, on_first, c, TAG_MAP + PROBE_EP_A1P1);
	/* filtering from a port that talks to A1:P1 only: c[1..3] would open
	 * an address-dependent filter for A2, and an inbound test SYN from
	 * A2:P2 to L would take the very 4-tuple c[3] connects on */
	s->cf = probe_sock_tcp(&c->L, 0, true, 0, &c->srv);
	if (s->cf) {
		if ((fd = probe_listen(AF_INET, s->cf->lport)) >= 0)
			s->lsn = probe_sock_other(&c->L, fd, POLLIN, probe_listen_drain, c);
		probe_tx_binding(&c->L, s->cf, &c->srv, 0, false, on_filt_map, c, TAG_FILT);
	}
	return 0;
}

int probe_syn_verdict(int res)
{
	switch (res) {
	case STUNT_PROBE_SYNACK: return 1;
	case STUNT_PROBE_DROP:
	case STUNT_PROBE_RST:
	case STUNT_PROBE_ICMP: return 0;
	default: return -1;
	}
}

enum probe_syn probe_syn_of(int res)
{
	switch (res) {
	case STUNT_PROBE_DROP: return PROBE_SYN_DROP;
	case STUNT_PROBE_RST: return PROBE_SYN_RST;
	case STUNT_PROBE_ICMP: return PROBE_SYN_ICMP;
	default: return PROBE_SYN_UNKNOWN;
	}
}

/* A probe result of silence that loss could explain. */
static bool drop_doubtful(const struct probe_ctx *c, int res, unsigned k)
{
	return res == STUNT_PROBE_DROP && probe_loop_doubtful(&c->L, c->tcp->ptries[k]);
}

/* Which TCP verdicts rest on answers that loss could have taken. */
static void tcp_confidence(struct probe_ctx *c, const struct probe_tcp_state *s)
{
	const struct probe_proto *p = &c->r->tcp;
	struct probe_result *r = c->r;
	unsigned *un = &r->uncertain;
	/* the server speaks STUNT, or said nothing either way: a missing
	 * STUNT result is then a timeout, not a refusal */
	bool stunt_maybe = p->measured && !s->stunt_refusals;

	if (!r->server_reached)
		return;
	if (p->mapping != PROBE_MAP_NONE && s->map_timeout)
		*un |= PROBE_UNSURE(PROBE_V_TCP_MAPPING);
	if (p->mapping != PROBE_MAP_NONE && p->nsamples < PROBE_ALLOC_SAMPLES)
		*un |= PROBE_UNSURE(PROBE_V_TCP_ALLOCATION);
	if (p->filtering == PROBE_FILT_ADF || p->filtering == PROBE_FILT_APDF) {
		if (drop_doubtful(c, s->res_ipport, UNSOL_IPPORT))
			*un |= PROBE_UNSURE(PROBE_V_TCP_FILTERING);
		if (p->filtering == PROBE_FILT_APDF && drop_doubtful(c, s->res_port, UNSOL_PORT))
			*un |= PROBE_UNSURE(PROBE_V_TCP_FILTERING);
	} else if (!p->filtering && (s->no_other ? s->ptimeout[UNSOL_PORT] :
				     stunt_maybe || s->ptimeout[UNSOL_IPPORT] || s->ptimeout[UNSOL_PORT])) {
		*un |= PROBE_UNSURE(PROBE_V_TCP_FILTERING);
	}
	if (r->unsolicited_syn == PROBE_SYN_DROP ? drop_doubtful(c, s->res_unsol, UNSOL_NAT) :
	    !r->unsolicited_syn && (stunt_maybe || s->ptimeout[UNSOL_NAT]))
		*un |= PROBE_UNSURE(PROBE_V_TCP_UNSOLICITED_SYN);
	/* the server did not capture our SYN (twice), or its report never came */
	if (r->seq_rewrite < 0 && (stunt_maybe || r->stunt == 1) && c->root &&
	    (s->capture_timeout || (s->report && s->rep.error == STUN_ERR_TIMEOUT)))
		*un |= PROBE_UNSURE(PROBE_V_TCP_SEQ_REWRITE);
}

void probe_tcp_finish(struct probe_ctx *c)
{
	struct probe_tcp_state *s = c->tcp;
	struct probe_proto *p = &c->r->tcp;
	struct probe_result *r = c->r;
	uint32_t seq;
	unsigned i;

	if (!s)
		return;
	p->measured = p->mapped[PROBE_EP_A1P1].known;
	if (p->measured) {
		struct sockaddr_in sin;
		socklen_t sl = sizeof(sin);

		if (getsockname(s->c[0]->fd, (struct sockaddr *)&sin, &sl) == 0)
			p->local.ip = sin.sin_addr.s_addr;
	}
	p->mapping = probe_classify_mapping(p->mapped, &p->local);
	p->same_map_ports = p->mapping == PROBE_MAP_UNKNOWN &&
			    p->mapped[PROBE_EP_A1P1].known && p->mapped[PROBE_EP_A1P2].known ? 1 : -1;
	p->nsamples = 0;
	for (i = 0; i < PROBE_ALLOC_SAMPLES; i++) {
		if (!s->alloc[i] || !s->alloc_ok[i])
			continue;
		p->sample_local[p->nsamples] = s->alloc[i]->lport;
		p->sample_mapped[p->nsamples] = s->alloc_mapped[i];
		p->nsamples++;
	}
	if (p->mapping == PROBE_MAP_NONE)
		p->allocation = PROBE_ALLOC_PRESERVING;
	else
		probe_classify_alloc(p);

	/* STUNT */
	if (p->measured) {
		r->stunt = s->stunt_answers > 0;
		if (!s->stunt_answers)
			probe_note(r, "TCP: the server does not speak STUNT (%s): filtering, unsolicited-SYN answer "
				   "and sequence-number rewriting not measured",
				   s->stunt_err ? "it refused the requests" : "no answer");
		else if (s->stunt_refusals)
			probe_note(r, "TCP: the server refused %u STUNT request(s) (last error %u)",
				   s->stunt_refusals, s->stunt_err);
	}
	p->filtering = probe_classify_filtering(probe_syn_verdict(s->res_ipport), probe_syn_verdict(s->res_port));
	p->other_port_passed = !p->filtering && probe_syn_verdict(s->res_port) == 1 ? 1 : -1;
	r->unsolicited_syn = probe_syn_of(s->res_unsol);
	if (s->report && !s->rep.error && s->syn) {
		bool seen = false, same = false;

		/* The server reports the first SYN from our address to the
		 * target it saw. Under loss that may be a late retransmission of
		 * another socket of ours (an earlier try's, or one to the same
		 * server port): an ISN any of our SYNs left with is not rewritten. */
		for (i = 0; i < s->nsyn_ports; i++)
			if (probe_pcap_syn_seq(c, s->syn_ports[i], &seq) == 0) {
				if (c->cfg->verbose)
					fprintf(stderr, "stunt-probe: our SYN from port %u left with seq %u, "
						"the server saw %u from %u\n", s->syn_ports[i], seq,
						s->rep.syn.seq, s->rep.source.port);
				seen = true;
				same |= seq == s->rep.syn.seq;
			}
		same |= seen && probe_pcap_seq_seen(c, s->rep.syn.seq);
		if (seen && (same || c->nsyn < PROBE_SYN_LOG_MAX))
			r->seq_rewrite = !same;
		else if (seen)
			s->capture_timeout = true;	/* our SYN log overflowed: cannot tell */
		else if (!c->root)
			probe_note(r, "TCP: sequence-number rewriting not measured: seeing our own SYN needs root (capture)");
		else
			probe_note(r, "TCP: sequence-number rewriting not measured: our SYN was not captured");
	} else if (r->stunt == 1) {
		probe_note(r, "TCP: the server captured no SYN of ours: sequence-number rewriting not measured");
	}
	tcp_confidence(c, s);
	free(s);
	c->tcp = NULL;
}
