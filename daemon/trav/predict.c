// SPDX-License-Identifier: MIT
/*
 * Port prediction for sequential NATs (thesis 3.3). A sequential NAT gives
 * each new mapping the previous port + delta (discovery measured delta).
 * Just before its EXCHANGE, a sequential side learns the last port its NAT
 * handed out: a fresh TCP connection to the server from a throwaway socket
 * and one STUN Binding on it (the XOR-MAPPED-ADDRESS is that connection's
 * mapping). It then advertises SIG-PREDICTION {last, delta, count}: its
 * next mappings will be last + delta * i, i = 1..count.
 *
 * At the start both sides run a window of simultaneous opens (the halves of
 * daemon/trav/simopen.c: first SYN TTL-limited, inbound RST / ICMP errors and
 * outbound RSTs of every flow dropped, trav_sock_connect_flow):
 *
 *   sequential side   count sockets on fresh local ports, connected back to
 *                     back in order, so that socket i's mapping lands on
 *                     prediction i -- or on a later one when other flows
 *                     of the LAN took ports in between;
 *   predictable side  count sockets on its one port (its public port),
 *                     socket i connected to the peer's prediction i.
 *
 * Socket i of the sequential side targets the predictable side's endpoint,
 * so whatever prediction k it landed on, the peer's socket k is aimed at it:
 * up to count - 1 ports taken by others are tolerated. When both sides are
 * sequential, the requester's sockets all target the responder's last
 * prediction and the responder's socket j the requester's prediction j
 * (target_of): up to count - 1 ports taken by others on both NATs
 * together. The count is as wide as the NAT's pace asks (gather,
 * daemon/trav/predwin.h).
 * The sockets that did not meet anything are closed when one is established
 * (still in SYN_SENT: nothing is sent) or at the deadline.
 *
 * The window does not wait for the kernel's first SYN retransmission (1 s,
 * RFC 6298 initial RTO), as synth (daemon/trav/synth.c) does not: the queue reports
 * each socket's first SYN as it leaves (the policy's cookie names the
 * window entry, daemon/trav/cookie.h); once every open socket's has, we RELAY
 * "syn predict" to the peer. Once the peer's window has left too, each SYN
 * of ours whose socket still waits goes again at full TTL, rebuilt from
 * what the queue saw (trav_sock_syn_again); one reported later goes on
 * arrival. It crosses the peer's NAT as the reply to the peer's SYN of that
 * pair. Never before the peer's notice: a full-TTL SYN reaching the peer's
 * NAT before the peer's own SYN of that mapping left would create inbound
 * state there that can move its port allocation -- hence also the notice
 * only after the whole window left, not after its first SYN. When the
 * injection fails or the notice never comes, the kernel's retransmission
 * completes the window as before.
 */
#include "daemon/trav/trav.h"

#include "common/clock.h"
#include "common/log.h"
#include "daemon/trav/strategy.h"
#include "proto/stun_attr.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* a->priv: our window's prediction (when we are sequential) and the peer's */
struct trav_predict {
	bool			has_pred;	/* we are sequential: pred is ours */
	struct sig_prediction	pred;
	uint64_t		t_map;		/* when the last Binding's mapping was made */
	bool			has_rpred;	/* the peer is: rpred is its */
	struct sig_prediction	rpred;
	bool			syn_told;	/* RELAY "syn predict" sent */
};

/* Port i (0-based) of the window p predicts; the first. */
static uint16_t trav_predict_port(const struct sig_prediction *p, size_t i)
{
	return (uint16_t)(p->last_port + p->delta * (int)(i + 1));
}

static uint16_t trav_predict_first(const struct sig_prediction *p)
{
	return trav_predict_port(p, 0);
}

/* Our public TCP port of a new connection to the server, now (blocks for at
 * most TRAV_BINDING_TIMEOUT_MS in each step, one round trip to the server). */
static int fresh_binding(uint16_t *port, char *why, size_t whylen)
{
	const struct d_server *srv = d_sig_server();

	if (srv->addr.sa.sa_family != AF_INET) {
		snprintf(why, whylen, "no IPv4 server");
		return -EAFNOSUPPORT;
	}
	return probe_tcp_binding(&srv->addr.in, TRAV_BINDING_TIMEOUT_MS, port, why, whylen);
}

/* One marked socket (its port is ours when we are the predictable side)
 * and the state. */
static int prepare(struct trav_attempt *a)
{
	return trav_sock_prepare_priv(a, sizeof(struct trav_predict));
}

/*
 * Just before our EXCHANGE (the session runs this gather last), when this
 * side is sequential: learn the last public port and how fast the NAT's
 * counter moves (two fresh STUN Bindings over TCP to the server, back to
 * back: the ports between their mappings were taken by others), and fill
 * our prediction, its window as wide as the others' pace and the lead
 * before our SYNs leave ask (daemon/trav/predwin.h). A pace no window
 * covers fails the method at once, so the race goes on without it (to a
 * relay when nothing else can work) instead of spending the deadline. Not
 * predictable but not sequential either (random): only when the method is
 * forced. 1 (done, or nothing to learn) or -errno (a->why).
 */
static int gather(struct trav_attempt *a)
{
	struct trav_predict *p = a->priv;
	const struct sig_nat_info *own = &g_d->nat;
	uint16_t first = 0, last = 0, count;
	uint64_t t0, t1;
	uint32_t pace, lead;
	int err, delta = own->tcp_delta ? own->tcp_delta : 1;

	if (trav_predictable(own) || (!trav_sequential(own) && !a->forced))
		return 1;
	t0 = clock_ms();
	err = fresh_binding(&first, a->why, sizeof(a->why));
	if (err < 0)
		return err;
	t1 = clock_ms();
	if (fresh_binding(&last, a->why, sizeof(a->why)) == 0) {
		/* the two mappings were made about one Binding's time apart */
		pace = probe_classify_pace(first, last, delta, (uint32_t)(t1 - t0));
		trav_predwin_pace_add(&g_d->busy.pace, probe_classify_foreign(first, last, delta),
				      (uint32_t)(t1 - t0), t1);
		g_d->busy.pace_tenths = trav_predwin_pace_tenths(&g_d->busy.pace);
		g_d->busy.pace_at_ms = t1;
	} else {
		/* the first one's port will do, with the pace known so far */
		log_info("session %u: predict: second %s; the first Binding's port it is",
			 a->sid, a->why);
		last = first;
		pace = g_d->busy.pace_tenths;
		t1 = t0;
	}
	lead = g_d->busy.lead_valid ? g_d->busy.lead_ms : TRAV_PREDWIN_LEAD_MS;
	count = trav_predwin_count(g_d->busy.pace_tenths, lead);
	if (count == 0) {
		snprintf(a->why, sizeof(a->why),
			 "NAT's counter moves %u.%u ports/s besides ours: beyond %d predictions "
			 "in %u ms", g_d->busy.pace_tenths / 10, g_d->busy.pace_tenths % 10,
			 TRAV_PREDWIN_MAX, lead);
		return -ERANGE;
	}
	memset(&p->pred, 0, sizeof(p->pred));
	p->pred.proto = IPPROTO_TCP;
	p->pred.allocation = SIG_ALLOC_SEQUENTIAL;
	p->pred.delta = (int16_t)delta;
	p->pred.last_port = last;
	p->pred.count = count;
	p->has_pred = true;
	p->t_map = t1;
	g_d->busy.last_count = count;
	log_info("session %u: predict: last public port %u, delta %d, others' pace %u.%u ports/s "
		 "(now %u.%u), lead %u ms: advertising %u..%u", a->sid, p->pred.last_port,
		 p->pred.delta, g_d->busy.pace_tenths / 10, g_d->busy.pace_tenths % 10, pace / 10,
		 pace % 10, lead, trav_predict_first(&p->pred),
		 trav_predict_port(&p->pred, p->pred.count - 1u));
	return 1;
}

/* A sequential side's candidate is SIG_CAND_PREDICTED, its port the first
 * prediction, and the EXCHANGE carries the window: the peer tries it all. */
static void offer(const struct trav_attempt *a, struct sig_candidate *c, struct sig_exchange *x)
{
	const struct trav_predict *p = a->priv;

	if (!p->has_pred)
		return;
	c->kind = SIG_CAND_PREDICTED;
	c->addr.port = trav_predict_first(&p->pred);
	x->has_prediction = true;
	x->pred = p->pred;
}

/* A window of simultaneous opens: every first SYN TTL-limited; the peer's
 * window when it advertised one. */
static void arm(struct trav_attempt *a, const struct trav_peer *peer, int syn_ttl)
{
	struct trav_predict *p = a->priv;

	a->ttl = syn_ttl;
	p->has_rpred = peer->pred != NULL && peer->kind == SIG_CAND_PREDICTED;
	if (peer->pred)
		p->rpred = *peer->pred;
}

/*
 * Where window socket i aims. Against a predictable peer: its one endpoint.
 * A predictable side: the peer's prediction i. Both sides sequential: the
 * requester's sockets all aim at the responder's last prediction (n - 1),
 * the responder's socket j at the requester's prediction j. Requester
 * socket i lands on its prediction i + Fr (Fr: ports others took at its
 * NAT since its Binding), responder socket j on j + Fs; they meet when
 * j + Fs = n - 1 and j = i + Fr, i.e. i = n - 1 - Fr - Fs: any
 * Fr + Fs < n. (Both aiming index to index met only when Fr = Fs, which a
 * busy NAT on either side breaks; an older peer aims index to index, and
 * as the responder that is this scheme's other half.)
 */
static uint16_t target_of(const struct trav_attempt *a, const struct trav_predict *p, size_t i,
			  size_t n)
{
	if (!p->has_rpred)
		return a->rport;
	if (p->has_pred && a->requester)
		return trav_predict_port(&p->rpred, n - 1);
	return trav_predict_port(&p->rpred, i);
}

/* At the start: open and connect the window. */
static int start(struct trav_attempt *a, uint64_t now)
{
	const struct trav_predict *p = a->priv;
	int fds[TRAV_WINDOW_MAX];
	uint16_t lports[TRAV_WINDOW_MAX];
	size_t n, i;
	int err;

	n = p->has_rpred ? p->rpred.count : p->has_pred ? p->pred.count : 1;
	/* both sequential: the wider of the two windows, on both sides */
	if (p->has_pred && p->has_rpred && p->pred.count > n)
		n = p->pred.count;
	if (n < 1)
		n = 1;
	if (n > TRAV_WINDOW_MAX)
		n = TRAV_WINDOW_MAX;
	if (p->has_pred) {
		/* how long our last Binding's mapping was ahead of the window:
		 * the next session sizes its window with it */
		uint32_t lead = (uint32_t)(now - p->t_map);

		g_d->busy.lead_ms = trav_predwin_blend(g_d->busy.lead_ms, g_d->busy.lead_valid, lead);
		g_d->busy.lead_valid = true;
	}
	/* every socket first, so that the connects leave back to back */
	for (i = 0; i < n; i++) {
		fds[i] = trav_sock_marked(p->has_pred ? 0 : a->lport, &lports[i]);
		if (fds[i] < 0) {
			err = fds[i];
			snprintf(a->why, sizeof(a->why), "window socket: %s", strerror(-err));
			while (i-- > 0)
				close(fds[i]);
			return err;
		}
	}
	for (i = 0; i < n; i++)
		(void)trav_sock_window_add(a, fds[i], lports[i], target_of(a, p, i, n), now);
	if (p->has_rpred && p->has_pred && a->requester)
		log_info("predict: window of %zu from fresh ports to the peer's last prediction %u", n,
			 trav_predict_port(&p->rpred, n - 1));
	else if (p->has_rpred)
		log_info("predict: window of %zu from %s to the peer's ports %u + %d * i", n,
			 p->has_pred ? "fresh ports" : "our port", p->rpred.last_port, p->rpred.delta);
	else
		log_info("predict: window of %zu from fresh ports to the peer's port %u", n, a->rport);
	for (i = 0; i < n; i++)
		if (!a->win[i].failed)
			return 0;
	snprintf(a->why, sizeof(a->why), "no socket of the window could connect");
	return -ENOTCONN;
}

/* Window entry w's SYN goes again at full TTL, once, when the peer's
 * window has left too and w's socket still waits for its handshake. */
static void repeat_syn(struct trav_attempt *a, struct trav_win *w)
{
	if (!w->failed && w->ev.fd >= 0)
		trav_sock_syn_again(a, &w->syn, w->lport, w->rport);
}

/* The SYN of window entry win left: once every open socket's has, RELAY
 * "syn predict"; send ours again once the peer's window left too. */
static void syn_left(struct trav_attempt *a, int win)
{
	struct trav_predict *p = a->priv;
	struct trav_win *w;
	size_t i, n = 0;

	if (win < 0 || (size_t)win >= a->nwin)
		return;
	w = &a->win[win];
	if (!p->syn_told) {
		/* the peer may send its SYNs to our NAT at full TTL when it
		 * learns this: only once every socket's SYN has left, so that
		 * none of them meets inbound state for its mapping there */
		for (i = 0; i < a->nwin; i++) {
			if (!a->win[i].failed && a->win[i].ev.fd >= 0 && !a->win[i].syn.has)
				break;
			n += a->win[i].syn.has;
		}
		if (i == a->nwin) {
			p->syn_told = true;
			a->events->signal(a, "syn", sig_method_name(a->method));
			log_debug("session %u: predict: the %zu SYNs of the window left; told the peer",
				  a->sid, n);
		}
	}
	repeat_syn(a, w);
}

/* The peer's window left (its RELAY "syn predict"). */
static void peer_signal(struct trav_attempt *a, const char *verb, const char *text)
{
	size_t i;

	(void)text;
	if (strcmp(verb, "syn") || a->peer_syn)
		return;
	a->peer_syn = true;
	for (i = 0; i < a->nwin; i++)
		repeat_syn(a, &a->win[i]);
}

const struct trav_ops trav_predict_ops = {
	.method = SIG_M_PREDICT, .flags = TRAV_F_OWN_GUARD | TRAV_F_GATHER_LAST,
	.role = trav_role_connect, .prepare = prepare, .gather = gather, .offer = offer,
	.arm = arm, .start = start, .syn_left = syn_left, .peer_signal = peer_signal,
	.next_conn = trav_sock_window_next, .close = trav_free_priv,
};
