// SPDX-License-Identifier: MIT
/*
 * STUNT #1 (Guha & Francis): both sides connect at the common start, the
 * first SYN TTL-limited as for simopen, so that each NAT holds its side's
 * outbound SYN (conntrack SYN_SENT) and nothing reaches the other NAT. The
 * queue reports that SYN as it leaves (sequence number, window, options);
 * we send them to stunt-server in a SYNACK request naming the session and
 * the peer. When both sides' SYNs are in, the server sends each side the
 * SYN-ACK the other would have sent: from the peer's public endpoint
 * (spoofed, raw socket), seq = the peer's ISN, ack = ours + 1, the peer's
 * options with TSecr = our TSval (nfq/pkt_synack.h). For our NAT that is
 * the reply to our SYN (SYN_SENT -> SYN_RECV); our kernel answers with an
 * ACK (-> ESTABLISHED), which the peer's NAT lets in as part of the peer's
 * flow, where the peer's kernel, completed the same way, expects exactly
 * it. No SYN needs to cross a NAT that has not seen one first, so it works
 * wherever simopen does, but in about one round trip to the server
 * instead of the kernel's 1 s SYN retransmission.
 *
 * The server only does it for two authenticated peers whose EXCHANGEs of
 * this session it relayed both ways, once, to each one's own address
 * (server/rdv.h). A NAT that rewrites sequence numbers would turn the ack the
 * server computed from our pre-NAT ISN into garbage: the strategy leaves
 * stunt1 out when discovery saw one (daemon/trav/strategy.h). If the server
 * refuses (no raw socket, 403), the attempt fails at once. A SYN-ACK can be
 * lost on the way, and then only its side stays in SYN_SENT: the other is
 * established, so no SYN of ours would ever be answered with a SYN-ACK again
 * (it gets an ACK, which a socket in SYN_SENT drops). So while our socket
 * is in SYN_SENT we ask again with the same SYN (STUNT1_AGAIN_MS, then
 * twice the gap, at most SIG_SYNACK_REPEATS times, proto/sig.h): the server
 * sends our own SYN-ACK once more, to our address only. A repeat it refuses
 * (used up, or asked before the peer's SYN was in and answered then) changes
 * nothing. With --syn-pacing off only the one request is sent.
 */
#include "daemon/trav/trav.h"

#include "common/clock.h"
#include "common/esc.h"
#include "common/log.h"
#include "proto/stun_attr.h"

#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>

#define STUNT1_AGAIN_MS		250	/* the first repeat: a server round trip or two */

struct stunt1 {
	struct sig_synack	req;		/* what we asked (a repeat asks the same) */
	uint64_t		again_ms;	/* the next repeat; 0: none */
	unsigned		repeats;	/* sent again so far */
	unsigned		answers;	/* answers to our requests so far */
};

static int prepare(struct trav_attempt *a)
{
	return trav_sock_prepare_priv(a, sizeof(struct stunt1));
}

static int put_synack(struct stun_builder *b, const void *arg)
{
	return sig_put_synack(b, arg);
}

/* Our SYN left: ask the server for the SYN-ACKs. */
static void syn_left(struct trav_attempt *a, int win)
{
	struct stunt1 *p = a->priv;
	struct sig_synack *r = &p->req;
	int err;

	(void)win;
	memset(r, 0, sizeof(*r));
	snprintf(r->peer_id, sizeof(r->peer_id), "%s", a->peer);
	r->session_id = a->sid;
	/* the port after our NAT: ours when it preserves ports, else the
	 * one trav_learn_start learnt (an EIM NAT gives it to every destination) */
	r->syn.port = trav_public_port(a);
	r->syn.window = a->syn.d.window;
	r->syn.seq = a->syn.d.seq;
	r->syn.mss = a->syn.d.opt.mss;
	r->syn.wscale = a->syn.d.opt.wscale;
	r->syn.ts_val = a->syn.d.opt.ts_val;
	r->syn.present = (uint8_t)(a->syn.d.opt.present & SIG_SYN_ALL);
	err = a->events->request(a, SIG_METHOD_SYNACK, put_synack, r);
	if (err < 0) {
		trav_fail(a, "cannot send the SYNACK request to the server");
		return;
	}
	if (g_d->cfg.syn_pacing)
		p->again_ms = clock_ms() + STUNT1_AGAIN_MS;
	log_debug("session %u: stunt1: SYN seq %u left, SYNACK request sent", r->session_id,
		  a->syn.d.seq);
}

/* Still in SYN_SENT when a repeat is due: our SYN-ACK was lost; ask again. */
static void tick(struct trav_attempt *a, uint64_t now)
{
	struct stunt1 *p = a->priv;

	if (p == NULL || !p->again_ms || now < p->again_ms)
		return;
	if (a->state != TA_RUNNING || a->ev.fd < 0 || trav_sock_state(a->ev.fd) != TCP_SYN_SENT ||
	    p->repeats >= SIG_SYNACK_REPEATS) {
		p->again_ms = 0;
		return;
	}
	if (a->events->request(a, SIG_METHOD_SYNACK, put_synack, &p->req) < 0) {
		p->again_ms = 0;
		return;
	}
	p->repeats++;
	p->again_ms = now + ((uint64_t)STUNT1_AGAIN_MS << p->repeats);
	log_debug("session %u: stunt1: still no SYN-ACK; asked the server again (%u of %u)",
		  a->sid, p->repeats, SIG_SYNACK_REPEATS);
}

/* The server's answer to the SYNACK request: only a refusal of the first
 * matters (the SYN-ACKs themselves come on the wire). */
static void answer(struct trav_attempt *a, const struct stun_msg *m)
{
	const struct stun_attr *ea = stun_msg_find(m, STUN_ATTR_ERROR_CODE);
	struct stun_error e = { 0 };
	struct stunt1 *p = a->priv;
	char why[ESC_BUF(64) + 64], reason[ESC_BUF(64)];

	if (p && p->answers++ > 0) {
		if (m->cls == STUN_ERROR)
			log_debug("session %u: stunt1: the server refused a repeat", a->sid);
		return;
	}
	if (m->cls != STUN_ERROR)
		return;
	if (ea)
		(void)stun_attr_get_error(ea, &e);
	/* the server's own words when it gave any (a --no-spoof server says
	 * so with 403, as for a session it does not know) */
	if (e.reason_len)
		snprintf(why, sizeof(why), "the server refused the SYN-ACKs (%u: %s)", e.code,
			 esc_str(reason, sizeof(reason), e.reason, e.reason_len));
	else
		snprintf(why, sizeof(why), "the server refused the SYN-ACKs (%u%s)", e.code,
			 e.code == 403 ? ": it does not know this session" :
			 e.code == 500 ? ": it cannot send raw packets" : "");
	trav_fail(a, why);
}

const struct trav_ops trav_stunt1_ops = {
	.method = SIG_M_STUNT1, .flags = TRAV_F_REPORT_SYN, .role = trav_role_connect,
	.prepare = prepare, .arm = trav_arm_syn_ttl, .start = NULL, .tick = tick,
	.syn_left = syn_left, .answer = answer, .close = trav_free_priv,
};
