// SPDX-License-Identifier: MIT
/*
 * Traversal sessions: one per connect request (requester side) or per
 * EXCHANGE received (responder side), negotiated through stunt-server:
 *
 *   requester R                    server                     responder P
 *   LOOKUP P ----------------------->| 404: "not registered"
 *   EXCHANGE [sid, SERVICE, METHODS = forced or none, --------> P checks the
 *     CANDIDATE per method, NAT-INFO]                         service, R's right
 *                                                             to it, runs the
 *                                                             strategy
 *   <-------- RELAY "sid err TEXT"  (refused / no method), or
 *   <-------- EXCHANGE [sid, METHODS = the race, CANDIDATE per method, NAT-INFO]
 *   SCHEDULE [sid, DELAY] ---------->| -------- indication --> both convert the
 *   <- success [START, SERVER-TIME]                           start to their clock
 *   ... at the start both run their half of simopen / stunt2 / predict;
 *   direct / reversal / portmap need no common start and go early: P
 *   listens before its EXCHANGE, R connects on it; R listens before its
 *   SCHEDULE, P connects on the indication (start_early()) ...
 *   first established socket on R: R writes the 12-byte session header on it
 *     "STNT" 0x01 METHOD 0x00 0x00 SID(4)
 *   P takes the connection whose header arrives as the winner, hands it off
 *   and answers one byte: 'K' (handed off) or closes ('E' = target failed);
 *   R passes the socket to the control client after the 'K'.
 *   Losers are closed on both sides; their outbound RSTs are dropped.
 *   R -> RELAY "sid cancel" when it gives up, so P stops at once.
 *
 * A CANDIDATE's priority field carries the method it is for (the port of
 * that method's socket); its address is our public IP as the server sees
 * the control connection (port-preserving NATs only, see daemon/trav/strategy.h).
 * A sequential side's predict candidate is SIG_CAND_PREDICTED (its port the
 * first prediction) and the EXCHANGE carries SIG-PREDICTION (daemon/trav/predict.c).
 *
 * UDP sessions (method udp, daemon/trav/udp.c) are negotiated the same way, with
 * no TCP method beside: each side first learns its UDP socket's public
 * endpoint (S_MAPPING, a STUN Binding over UDP), advertises it as a UDP
 * candidate with its half of the session key (SIG-SESSION-KEY), and at the
 * start punches. The authenticated punch handshake replaces the session
 * header and the 'K': the side that completes it hands the connected UDP
 * socket on (control client / service) at once. A udp: service takes only
 * UDP sessions, a tcp: service only TCP ones, an exec: service both.
 * The responder's relay candidate is SIG_CAND_RELAY, its address the TURN
 * server's relayed address, allocated before that EXCHANGE (daemon/trav/relay.c);
 * our SIG-NAT-INFO carries SIG_NAT_TURN when a TURN server is configured.
 */
#include "daemon/stuntd.h"

#include "common/clock.h"
#include "common/log.h"
#include "daemon/trav/trav.h"
#include "daemon/trav/strategy.h"
#include "proto/stun_attr.h"

#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define S_HDR_LEN		12
#define S_HDR_MAGIC		"STNT"
#define S_KEEP_DONE_MS		30000	/* finished sessions stay in status this long */
#define S_PEERQ_MAX		32
#define S_PEERQ_BIT		0x80000000u
/* When a relay can follow (a side has a TURN server, no method forced), the
 * race of direct methods gets this share of the connect timeout, counted
 * from the connect request; the relay round gets the rest (4 s of the
 * default 10 s: an Allocate with its 401 round, a CreatePermission, one
 * EXCHANGE each way and a SCHEDULE through stunt-server, a connect and a
 * ConnectionBind -- about 8 round trips). */
#define S_RACE_SHARE_PCT	60

enum s_state { S_LOOKUP, S_MAPPING, S_EXCHANGE, S_WAIT_SCHEDULE, S_SCHEDULED, S_RUNNING, S_CONFIRM,
	       S_CONNECTED, S_FAILED };
static const char *const s_state_name[] = { "lookup", "mapping", "exchange", "schedule", "scheduled",
					    "running", "confirm", "connected", "failed" };

struct d_session {
	uint32_t		id;
	bool			requester;
	char			peer[SIG_ID_MAX + 1];
	char			service[SIG_ID_MAX + 1];
	struct d_ctl_client	*ctl;
	enum s_state		state;
	uint8_t			forced;
	uint64_t		t0, deadline, start_at, t_end;
	struct sig_nat_info	peer_nat;
	uint32_t		peer_ip;
	uint16_t		peer_port[SIG_M_MAX + 1];
	uint8_t			peer_kind[SIG_M_MAX + 1];	/* SIG_CAND_* */
	uint32_t		peer_addr[SIG_M_MAX + 1];	/* portmap: the mapping's IP */
	bool			peer_has_pred;			/* predict: its window */
	struct sig_prediction	peer_pred;
	bool			peer_has_key;			/* udp: its key half */
	uint8_t			peer_key[SIG_SESSION_KEY_LEN];
	uint8_t			methods[TRAV_MAX_METHODS];
	size_t			nmethods;
	struct trav_attempt	att[SIG_M_MAX + 1];
	bool			prepared[SIG_M_MAX + 1];
	struct trav_attempt	*winner;
	bool			racing;		/* some attempt was started */
	struct d_ev		wev;
	uint8_t			hdr[S_HDR_LEN];
	size_t			hdr_got;
	/* the relay round (SIG-ROUND): 0 in the first */
	uint8_t			round;
	struct sig_round	rinfo;		/* ours (requester) or the requester's */
	uint64_t		race_end;	/* requester: the direct race's share ends */
	char			direct_why[200];	/* how the direct race ended */
	struct d_session	*next;
};

static const uint8_t s_race[] = { SIG_M_DIRECT, SIG_M_PORTMAP, SIG_M_REVERSAL, SIG_M_SIMOPEN,
				  SIG_M_STUNT1, SIG_M_SYNTH, SIG_M_STUNT2, SIG_M_PREDICT,
				  SIG_M_SHOTGUN, SIG_M_RELAY };

/* Our SIG-NAT-INFO: the discovery result, and whether we can relay. */
static struct sig_nat_info own_nat(void)
{
	struct sig_nat_info n = g_d->nat;

	if (g_d->cfg.have_turn)
		n.flags |= SIG_NAT_TURN;
	return n;
}

uint64_t d_session_deadline(const struct d_session *s);
uint64_t d_session_deadline(const struct d_session *s)
{
	return s->deadline;
}

uint32_t d_session_id(const struct d_session *s)
{
	return s->id;
}

const char *d_session_peer(const struct d_session *s)
{
	return s->peer;
}

bool d_session_requester(const struct d_session *s)
{
	return s->requester;
}

static struct d_session *find(const char *peer, uint32_t id, bool requester)
{
	struct d_session *s;

	for (s = g_d->sessions; s; s = s->next)
		if (s->id == id && s->requester == requester && (!peer || !strcmp(s->peer, peer)))
			return s;
	return NULL;
}

static void answer_connect(struct d_session *s, bool ok, const char *method, const char *err,
			   int fd)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (s->ctl == NULL)
		return;
	f = open_memstream(&buf, &len);
	if (f == NULL)
		return;
	fprintf(f, "{\"ok\":%s,\"method\":", ok ? "true" : "false");
	d_json_str(f, method);
	fprintf(f, ",\"elapsed_ms\":%llu,\"relayed\":%s,\"error\":",
		(unsigned long long)(clock_ms() - s->t0),
		ok && method && !strcmp(method, "relay") ? "true" : "false");
	d_json_str(f, err);
	fputs("}", f);
	fclose(f);
	d_control_answer(s->ctl, buf, fd);
	s->ctl = NULL;
	free(buf);
}

static void close_attempts(struct d_session *s)
{
	unsigned m;

	for (m = 1; m <= SIG_M_MAX; m++) {
		if (!s->prepared[m])
			continue;
		if (&s->att[m] != s->winner) {
			if (s->att[m].state == TA_RUNNING) {
				s->att[m].state = TA_CANCELLED;
				s->att[m].t_end = clock_ms();
			} else if (s->att[m].state == TA_IDLE) {
				/* not started (its start still ahead): it never will be */
				s->att[m].state = TA_CANCELLED;
				s->att[m].t_start = s->att[m].t_end = clock_ms();
			}
			trav_close(&s->att[m], false);
		}
	}
}

/* RELAY "sid verb text" to the peer. */
struct relay_arg {
	const char	*peer;
	char		 text[SIG_DATA_MAX];
};

static int put_relay(struct stun_builder *b, const void *arg)
{
	const struct relay_arg *ra = arg;
	struct sig_relay r;

	memset(&r, 0, sizeof(r));
	snprintf(r.peer_id, sizeof(r.peer_id), "%s", ra->peer);
	r.data = (const uint8_t *)ra->text;
	r.len = strlen(ra->text);
	return sig_put_relay(b, &r);
}

static void relay(const char *peer, uint32_t sid, const char *verb, const char *text)
{
	struct relay_arg ra = { .peer = peer };

	snprintf(ra.text, sizeof(ra.text), "%u %s %s", sid, verb, text ? text : "");
	if (d_sig_request(SIG_METHOD_RELAY, sid, put_relay, &ra) < 0)
		log_debug("session %u: relay to %s not sent", sid, peer);
}

void d_session_relay(const struct d_session *s, const char *verb, const char *text)
{
	relay(s->peer, s->id, verb, text);
}

static void log_attempts(struct d_session *s)
{
	unsigned m;
	struct trav_attempt *a;

	for (m = 1; m <= SIG_M_MAX; m++) {
		if (!s->prepared[m])
			continue;
		a = &s->att[m];
		if (a->state == TA_IDLE)
			continue;
		log_info("session %u: %s (%s, port %u -> %u): %s after %llu ms%s%s", s->id,
			 sig_method_name(m), a->role == TRAV_ACCEPT ? "accept" : "connect",
			 a->lport, a->rport, trav_state_name(a->state),
			 (unsigned long long)((a->t_end ? a->t_end : clock_ms()) - a->t_start),
			 a->why[0] ? ": " : "", a->why);
	}
}

static void session_fail(struct d_session *s, const char *why0, bool tell_peer)
{
	char why[SIG_DATA_MAX - 80];
	unsigned m;

	if (s->state == S_FAILED || s->state == S_CONNECTED)
		return;
	/* the requester's answer names both failures */
	if (s->requester && s->round && s->direct_why[0])
		snprintf(why, sizeof(why), "relay fallback failed: %s (before it, the direct race: %s)",
			 why0, s->direct_why);
	else
		snprintf(why, sizeof(why), "%s", why0);
	log_warnx("session %u (%s %s/%s): failed: %s", s->id, s->requester ? "to" : "from",
		  s->peer, s->service[0] ? s->service : "?", why);
	for (m = 1; m <= SIG_M_MAX; m++)
		if (s->prepared[m] && s->att[m].state == TA_RUNNING) {
			s->att[m].state = TA_FAILED;
			s->att[m].t_end = clock_ms();
			if (!s->att[m].why[0])
				snprintf(s->att[m].why, sizeof(s->att[m].why),
					 "not established before the session ended");
		}
	for (m = 1; m <= SIG_M_MAX; m++)
		if (s->prepared[m] && s->att[m].state == TA_FAILED)
			g_d->counters[m].failed++;
	log_attempts(s);
	if (s->wev.fd >= 0) {
		d_loop_del(&s->wev);
		close(s->wev.fd);
		s->wev.fd = -1;
		if (s->winner)
			s->winner->conn = -1;
	}
	s->winner = NULL;
	close_attempts(s);
	if (tell_peer && d_sig_up())
		relay(s->peer, s->id, s->requester ? "cancel" : "err", why);
	s->state = S_FAILED;
	s->t_end = clock_ms();
	answer_connect(s, false, NULL, why, -1);
}

static struct d_session *session_new(bool requester, const char *peer, const char *service)
{
	struct d_session *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->requester = requester;
	snprintf(s->peer, sizeof(s->peer), "%s", peer);
	snprintf(s->service, sizeof(s->service), "%s", service);
	s->t0 = clock_ms();
	s->deadline = s->t0 + g_d->cfg.connect_timeout_ms;
	s->wev.fd = -1;
	s->next = g_d->sessions;
	g_d->sessions = s;
	return s;
}

static void session_free(struct d_session *s)
{
	struct d_session **pp;
	unsigned m;

	for (pp = &g_d->sessions; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	for (m = 1; m <= SIG_M_MAX; m++)
		if (s->prepared[m])
			trav_close(&s->att[m], s->winner == &s->att[m]);
	if (s->wev.fd >= 0) {
		d_loop_del(&s->wev);
		close(s->wev.fd);
	}
	free(s);
}

/* ---- EXCHANGE ---- */

struct exch_arg {
	struct d_session	*s;
	bool			 with_service;
};

static int put_exchange(struct stun_builder *b, const void *arg)
{
	const struct exch_arg *ea = arg;
	const struct d_session *s = ea->s;
	struct sig_exchange x;
	unsigned m;

	memset(&x, 0, sizeof(x));
	snprintf(x.peer_id, sizeof(x.peer_id), "%s", s->peer);
	x.session_id = s->id;
	if (ea->with_service)
		snprintf(x.service, sizeof(x.service), "%s", s->service);
	if (s->requester && !s->round) {
		if (s->forced)
			x.methods[x.nmethods++] = s->forced;
	} else {
		memcpy(x.methods, s->methods, s->nmethods);
		x.nmethods = s->nmethods;
	}
	for (m = 1; m <= SIG_M_MAX && x.ncand < SIG_MAX_CANDIDATES; m++) {
		struct sig_candidate *c;

		if (!s->prepared[m])
			continue;
		c = &x.cand[x.ncand++];
		c->kind = SIG_CAND_SRFLX;
		c->proto = IPPROTO_TCP;
		c->priority = (uint16_t)m;
		c->addr.family = STUN_FAMILY_IPV4;
		c->addr.port = s->att[m].lport;
		memcpy(c->addr.ip, &g_d->public_ip, 4);
		if (m == SIG_M_PORTMAP)
			(void)trav_portmap_candidate(&s->att[m], c);
		if (m == SIG_M_UDP) {
			(void)trav_udp_candidate(&s->att[m], c);
			x.has_key = true;
			trav_udp_own_key(&s->att[m], x.key);
		}
		if (m == SIG_M_RELAY)
			(void)trav_relay_candidate(&s->att[m], c);
		if (m == SIG_M_PREDICT && s->att[m].has_pred) {
			/* the peer tries the whole window: SIG-PREDICTION */
			c->kind = SIG_CAND_PREDICTED;
			c->addr.port = trav_predict_first(&s->att[m].pred);
			x.has_prediction = true;
			x.pred = s->att[m].pred;
		}
	}
	x.has_nat = true;
	x.nat = own_nat();
	if (s->round) {
		x.has_round = true;
		x.round = s->rinfo;
	}
	return sig_put_exchange(b, &x);
}

static int prepare(struct d_session *s, const uint8_t *methods, size_t n)
{
	size_t i;
	int err;

	for (i = 0; i < n; i++) {
		uint8_t m = methods[i];

		if (m == 0 || m > SIG_M_MAX || s->prepared[m])
			continue;
		err = trav_prepare(&s->att[m], s, m, s->requester);
		if (err < 0)
			return err;
		s->prepared[m] = true;
	}
	return 0;
}

static void take_peer_exchange(struct d_session *s, const struct sig_exchange *x)
{
	size_t i;

	if (x->has_nat)
		s->peer_nat = x->nat;
	if (x->has_prediction && x->pred.proto == IPPROTO_TCP && x->pred.count > 0 &&
	    x->pred.delta != 0) {
		s->peer_has_pred = true;
		s->peer_pred = x->pred;
	}
	if (x->has_key) {
		s->peer_has_key = true;
		memcpy(s->peer_key, x->key, sizeof(s->peer_key));
	}
	for (i = 0; i < x->ncand; i++) {
		const struct sig_candidate *c = &x->cand[i];

		/* TCP candidates for the TCP methods, a UDP one for udp */
		if (c->proto != (c->priority == SIG_M_UDP ? IPPROTO_UDP : IPPROTO_TCP) ||
		    c->addr.family != STUN_FAMILY_IPV4 || c->priority == 0 ||
		    c->priority > SIG_M_MAX)
			continue;
		if (c->priority == SIG_M_UDP) {
			/* its own socket's STUN-learned endpoint */
			s->peer_port[SIG_M_UDP] = c->addr.port;
			memcpy(&s->peer_addr[SIG_M_UDP], c->addr.ip, 4);
			continue;
		}
		s->peer_kind[c->priority] = c->kind;
		s->peer_port[c->priority] = c->addr.port;
		if (c->kind == SIG_CAND_PORTMAP || c->kind == SIG_CAND_RELAY)
			memcpy(&s->peer_addr[c->priority], c->addr.ip, 4);	/* gateway's / relay's */
		else
			memcpy(&s->peer_ip, c->addr.ip, 4);
	}
}

/* ---- requester ---- */

struct lookup_arg {
	const char *peer;
};

static int put_lookup(struct stun_builder *b, const void *arg)
{
	const struct lookup_arg *la = arg;
	struct sig_lookup l;

	memset(&l, 0, sizeof(l));
	snprintf(l.peer_id, sizeof(l.peer_id), "%s", la->peer);
	return sig_put_lookup(b, &l);
}

void d_session_request(struct d_ctl_client *c, const char *peer, const char *service,
		       const char *method)
{
	struct d_session tmp, *s;
	struct lookup_arg la = { .peer = peer };
	char why[160];
	int mid = 0;

	memset(&tmp, 0, sizeof(tmp));
	tmp.ctl = c;
	tmp.t0 = clock_ms();
	if (!sig_id_valid(peer, strlen(peer)) || !sig_id_valid(service, strlen(service))) {
		answer_connect(&tmp, false, NULL, "connect needs \"peer\" and \"service\" ids", -1);
		return;
	}
	if (method) {
		mid = sig_method_id(method);
		if (mid < 0) {
			snprintf(why, sizeof(why), "unknown method '%s'", method);
			answer_connect(&tmp, false, NULL, why, -1);
			return;
		}
		if (trav_role_of((uint8_t)mid, true) == TRAV_NONE) {
			snprintf(why, sizeof(why),
				 "method '%s' is not implemented by this stuntd (direct, portmap, reversal, simopen, stunt1, synth, stunt2, predict, shotgun, udp, relay are)",
				 method);
			answer_connect(&tmp, false, NULL, why, -1);
			return;
		}
	}
	if (!strcmp(peer, g_d->cfg.id)) {
		answer_connect(&tmp, false, NULL, "that is this host's own id", -1);
		return;
	}
	if (!d_sig_up()) {
		answer_connect(&tmp, false, NULL, "stuntd is not registered with its server", -1);
		return;
	}
	s = session_new(true, peer, service);
	if (s == NULL) {
		answer_connect(&tmp, false, NULL, "out of memory", -1);
		return;
	}
	s->ctl = c;
	s->forced = (uint8_t)mid;
	do {
		if (RAND_bytes((uint8_t *)&s->id, sizeof(s->id)) != 1)
			s->id = ++g_d->next_session;
		s->id &= ~S_PEERQ_BIT;
	} while (s->id == 0 || find(NULL, s->id, true) != s);
	s->state = S_LOOKUP;
	log_info("session %u: connect to %s/%s%s%s requested", s->id, peer, service,
		 method ? ", method " : "", method ? method : "");
	if (d_sig_request(SIG_METHOD_LOOKUP, s->id, put_lookup, &la) < 0)
		session_fail(s, "cannot reach the server", false);
}

static void drop_method(struct d_session *s, uint8_t m);
static bool start_early(struct d_session *s, enum trav_role role);
static bool session_over(const struct d_session *s);

/*
 * predict: a sequential side learns its last public port right before its
 * EXCHANGE (and so before it opens the window). Not predictable but not
 * sequential either (random): only when the method is forced.
 */
static void predict_learn(struct d_session *s)
{
	struct trav_attempt *a = &s->att[SIG_M_PREDICT];
	char why[200];

	if (!s->prepared[SIG_M_PREDICT] || trav_predictable(&g_d->nat) ||
	    (!trav_sequential(&g_d->nat) && s->forced != SIG_M_PREDICT))
		return;
	if (trav_predict_learn(a, &g_d->nat) < 0) {
		snprintf(why, sizeof(why), "%s", a->why);
		log_info("session %u: predict: %s; not trying it", s->id, why);
		drop_method(s, SIG_M_PREDICT);
		return;
	}
	log_info("session %u: predict: last public port %u, delta %d: advertising %u..%u",
		 s->id, a->pred.last_port, a->pred.delta, trav_predict_first(&a->pred),
		 trav_predict_port(&a->pred, a->pred.count - 1u));
}

static void requester_send_exchange(struct d_session *s)
{
	struct exch_arg ea = { .s = s, .with_service = true };
	unsigned m;

	predict_learn(s);
	for (m = 1; m <= SIG_M_MAX && !s->prepared[m]; m++)
		;
	if (m > SIG_M_MAX) {
		session_fail(s, s->forced == SIG_M_PREDICT ?
			     "predict: cannot learn our public port from the server" :
			     "cannot open local sockets", false);
		return;
	}
	s->state = S_EXCHANGE;
	if (d_sig_request(SIG_METHOD_EXCHANGE, s->id, put_exchange, &ea) < 0)
		session_fail(s, "cannot reach the server", false);
}

static void responder_send_exchange(struct d_session *s);

static void drop_method(struct d_session *s, uint8_t m)
{
	size_t i, k = 0;

	for (i = 0; i < s->nmethods; i++)
		if (s->methods[i] != m)
			s->methods[k++] = s->methods[i];
	s->nmethods = k;
	if (s->prepared[m]) {
		trav_close(&s->att[m], false);
		s->prepared[m] = false;
	}
}

/* portmap: the gateway mapped our port (err 0) or not; now the EXCHANGE. */
static void portmap_done(struct trav_attempt *a, int err)
{
	struct d_session *s = a->s;
	char why[200];

	if (s->state != S_MAPPING)
		return;
	if (err == 0) {
		log_info("session %u: portmap: port %u mapped on the gateway", s->id, a->lport);
	} else if (s->requester) {
		/* offer to connect instead: the peer may be able to map */
		log_info("session %u: portmap: %s; offering to connect instead", s->id, a->why);
		a->role = TRAV_CONNECT;
	} else {
		snprintf(why, sizeof(why), "portmap: %s", a->why);
		log_info("session %u: %s", s->id, why);
		drop_method(s, SIG_M_PORTMAP);
		if (s->nmethods == 0) {
			session_fail(s, why, true);
			return;
		}
	}
	if (s->requester)
		requester_send_exchange(s);
	else
		responder_send_exchange(s);
}

/* Ask the gateway to map the portmap attempt's port: the EXCHANGE waits. */
static bool portmap_start(struct d_session *s)
{
	struct trav_attempt *a = &s->att[SIG_M_PORTMAP];
	int err;

	a->role = TRAV_ACCEPT;
	err = trav_portmap_map(a, s->forced == SIG_M_PORTMAP, portmap_done);
	if (err < 0) {
		log_info("session %u: portmap: %s", s->id, a->why);
		return false;
	}
	s->state = S_MAPPING;
	return true;
}

/* udp: the socket's public endpoint is known (err 0) or not; now the EXCHANGE. */
static void udp_learned(struct trav_attempt *a, int err)
{
	struct d_session *s = a->s;
	char why[200];

	if (s->state != S_MAPPING)
		return;
	if (err < 0) {
		snprintf(why, sizeof(why), "%s", a->why);
		session_fail(s, why, !s->requester);
		return;
	}
	if (s->requester)
		requester_send_exchange(s);
	else
		responder_send_exchange(s);
}

/* udp: learn the public endpoint first: the EXCHANGE waits (S_MAPPING). */
static bool udp_learn(struct d_session *s)
{
	struct trav_attempt *a = &s->att[SIG_M_UDP];

	if (trav_udp_learn(a, udp_learned) < 0) {
		session_fail(s, a->why[0] ? a->why : "udp: cannot open the socket", !s->requester);
		return false;
	}
	s->state = S_MAPPING;
	return true;
}

/* relay: the relayed address is allocated and the peer permitted (err 0)
 * or not; now the EXCHANGE (the responder's, or the requester's of the
 * relay round when it allocates). */
static void relay_done(struct trav_attempt *a, int err)
{
	struct d_session *s = a->s;
	char why[200];

	if (s->state != S_MAPPING)
		return;
	if (s->requester) {
		if (err < 0) {
			snprintf(why, sizeof(why), "relay: %s", a->why);
			session_fail(s, why, true);
			return;
		}
		requester_send_exchange(s);
		return;
	}
	if (err < 0) {
		snprintf(why, sizeof(why), "relay: %s", a->why);
		drop_method(s, SIG_M_RELAY);
		if (s->nmethods == 0) {
			session_fail(s, why, true);
			return;
		}
		log_info("session %u: %s", s->id, why);
	}
	responder_send_exchange(s);
}

/* Allocate the relay for the peer's public IP: the EXCHANGE waits. false
 * (a->why) if it cannot even start. */
static bool relay_start(struct d_session *s)
{
	struct trav_attempt *a = &s->att[SIG_M_RELAY];

	if (trav_relay_allocate(a, s->peer_ip, relay_done) < 0) {
		log_info("session %u: relay: %s", s->id, a->why);
		return false;
	}
	s->state = S_MAPPING;
	return true;
}

/* ---- the relay round ---- */

/* Can a relay follow a failed race: a side has a TURN server. */
static bool relay_possible(const struct d_session *s)
{
	return g_d->cfg.have_turn || trav_can_relay(&s->peer_nat);
}

/* Do we allocate the relay (trav_relay_requester_allocates)? */
static bool we_allocate(const struct d_session *s)
{
	struct sig_nat_info own = own_nat();

	return s->requester ? trav_relay_requester_allocates(&own, &s->peer_nat) :
			      !trav_relay_requester_allocates(&s->peer_nat, &own);
}

/* The direct race failed and no relay can follow: say why not (appended
 * to the error). Empty when a relay could or a method was forced. */
static const char *no_relay_note(const struct d_session *s)
{
	if (s->forced || s->round || relay_possible(s))
		return "";
	return "; no relay to fall back to: no TURN server configured on either side "
	       "(stuntd --turn)";
}

/* "direct: failed (why); simopen: running" -- the race's attempts */
static void describe_race(const struct d_session *s, char *buf, size_t len)
{
	size_t i, k = 0;
	const struct trav_attempt *a;
	int n;

	buf[0] = '\0';
	for (i = 0; i < s->nmethods && k < len; i++) {
		a = &s->att[s->methods[i]];
		n = snprintf(buf + k, len - k, "%s%s: %s%s%.60s%s", i ? "; " : "",
			     sig_method_name(s->methods[i]), trav_state_name(a->state),
			     a->why[0] ? " (" : "", a->why, a->why[0] ? ")" : "");
		if (n < 0)
			break;
		k += (size_t)n;
	}
}

/*
 * End the first round: every attempt stops (a running one fails with why),
 * is logged and closed, and the peer's candidates are forgotten; the
 * session goes on with relay alone.
 */
static void end_first_round(struct d_session *s, const char *why)
{
	unsigned m;

	if (s->wev.fd >= 0) {
		/* responder: a connection still waiting for its header */
		for (m = 1; m <= SIG_M_MAX; m++)
			if (s->prepared[m] && s->att[m].conn == s->wev.fd)
				s->att[m].conn = -1;
		d_loop_del(&s->wev);
		close(s->wev.fd);
		s->wev.fd = -1;
	}
	for (m = 1; m <= SIG_M_MAX; m++) {
		struct trav_attempt *a = &s->att[m];

		if (!s->prepared[m])
			continue;
		if (a->state == TA_RUNNING) {
			a->state = TA_FAILED;
			a->t_end = clock_ms();
			if (!a->why[0])
				snprintf(a->why, sizeof(a->why), "%s", why);
		}
		if (a->state == TA_FAILED)
			g_d->counters[m].failed++;
	}
	log_attempts(s);
	for (m = 1; m <= SIG_M_MAX; m++)
		if (s->prepared[m]) {
			trav_close(&s->att[m], false);
			s->prepared[m] = false;
		}
	s->winner = NULL;
	s->racing = false;
	s->start_at = 0;
	s->hdr_got = 0;
	s->nmethods = 0;
	memset(s->peer_port, 0, sizeof(s->peer_port));
	memset(s->peer_kind, 0, sizeof(s->peer_kind));
	memset(s->peer_addr, 0, sizeof(s->peer_addr));
	s->round = SIG_ROUND_RELAY;
	s->race_end = 0;
}

/* Prepare the relay attempt of the relay round in role. */
static int prepare_relay(struct d_session *s, enum trav_role role)
{
	struct trav_attempt *a = &s->att[SIG_M_RELAY];
	int err = trav_prepare(a, s, SIG_M_RELAY, s->requester);

	if (err < 0)
		return err;
	s->prepared[SIG_M_RELAY] = true;
	a->role = role;
	s->methods[0] = SIG_M_RELAY;
	s->nmethods = 1;
	return 0;
}

/*
 * Requester: the relay round. The race of direct methods failed (reason
 * SIG_REASON_FAILED / _TIMEOUT), or the strategy chose relay and we are
 * the side that allocates (SIG_REASON_STRATEGY). We allocate first when
 * it is ours to (permission for the peer's public IP), then send an
 * EXCHANGE with SIG-ROUND, METHODS = relay and our relay candidate (the
 * relayed address, kind relay, or our connecting socket's); the peer stops
 * its attempts, allocates if it is its turn, and answers with its EXCHANGE;
 * from there the session runs as in the first round (SCHEDULE, header, 'K').
 */
static void relay_round(struct d_session *s, uint8_t reason)
{
	uint64_t now = clock_ms();
	bool alloc = we_allocate(s);
	struct trav_attempt *a;
	char why[SIG_DATA_MAX - 80];

	s->rinfo.round = SIG_ROUND_RELAY;
	s->rinfo.reason = reason;
	s->rinfo.race_ms = reason == SIG_REASON_STRATEGY ? 0 :
			   now - s->t0 > 0xffff ? 0xffff : (uint16_t)(now - s->t0);
	if (reason != SIG_REASON_STRATEGY) {
		describe_race(s, s->direct_why, sizeof(s->direct_why));
		log_warnx("session %u: the direct race failed after %llu ms (%s: %s); "
			  "falling back to relay, allocated by %s", s->id,
			  (unsigned long long)(now - s->t0), sig_reason_text(reason),
			  s->direct_why, alloc ? "us (the peer has no TURN server)" : s->peer);
		snprintf(why, sizeof(why), "given up after %llu ms: falling back to relay",
			 (unsigned long long)(now - s->t0));
	} else {
		log_info("session %u: relay with our TURN server (the peer has none): "
			 "allocating before the relay round", s->id);
		snprintf(why, sizeof(why), "replaced by the relay round");
	}
	end_first_round(s, why);
	if (prepare_relay(s, alloc ? TRAV_ACCEPT : TRAV_CONNECT) < 0) {
		session_fail(s, "cannot open local sockets", true);
		return;
	}
	a = &s->att[SIG_M_RELAY];
	if (alloc) {
		if (trav_relay_allocate(a, s->peer_ip, relay_done) < 0) {
			snprintf(why, sizeof(why), "%s", a->why);
			session_fail(s, why, true);
			return;
		}
		s->state = S_MAPPING;	/* relay_done() sends the EXCHANGE */
		return;
	}
	requester_send_exchange(s);
}

/* Requester: may the race of direct methods end in the relay round? */
static bool can_fall_back(const struct d_session *s)
{
	return s->requester && !s->forced && !s->round && !s->winner && relay_possible(s) &&
	       !s->prepared[SIG_M_RELAY];
}

/*
 * Responder: the requester's EXCHANGE of the relay round. Our attempts stop;
 * if its candidate is a relayed address, it allocated and we connect to it
 * (on its SCHEDULE), else we allocate and it connects.
 */
static void responder_relay_round(struct d_session *s, const struct sig_exchange *x)
{
	char why[SIG_DATA_MAX - 80];
	bool alloc;

	s->rinfo = x->round;
	if (x->round.reason == SIG_REASON_STRATEGY)
		snprintf(s->direct_why, sizeof(s->direct_why), "none: relay from the start");
	else
		snprintf(s->direct_why, sizeof(s->direct_why), "%s after %u ms",
			 sig_reason_text(x->round.reason), x->round.race_ms);
	end_first_round(s, "given up: the requester falls back to relay");
	take_peer_exchange(s, x);
	alloc = s->peer_kind[SIG_M_RELAY] != SIG_CAND_RELAY;
	log_warnx("session %u: %s starts the relay round (%s): %s", s->id, s->peer,
		  s->direct_why, alloc ? "we allocate, it connects" : "it allocated, we connect");
	if (!s->peer_port[SIG_M_RELAY]) {
		session_fail(s, "relay round without a relay candidate", true);
		return;
	}
	if (prepare_relay(s, alloc ? TRAV_ACCEPT : TRAV_CONNECT) < 0) {
		session_fail(s, "cannot open local sockets", true);
		return;
	}
	if (alloc && !relay_start(s)) {
		snprintf(why, sizeof(why), "%s", s->att[SIG_M_RELAY].why);
		session_fail(s, why, true);
		return;
	}
	if (!alloc)
		responder_send_exchange(s);
	/* else relay_done() sends it */
}

static void requester_lookup_ok(struct d_session *s)
{
	int err;

	err = s->forced ? prepare(s, &s->forced, 1) : prepare(s, s_race, sizeof(s_race));
	if (err < 0) {
		session_fail(s, "cannot open local sockets", false);
		return;
	}
	if (s->prepared[SIG_M_UDP]) {
		(void)udp_learn(s);
		return;
	}
	/* portmap: we accept if our gateway maps (trav_portmap_requester_accepts) */
	if (s->prepared[SIG_M_PORTMAP] && trav_can_map(&g_d->nat) && portmap_start(s))
		return;
	if (s->prepared[SIG_M_PORTMAP])
		s->att[SIG_M_PORTMAP].role = TRAV_CONNECT;
	requester_send_exchange(s);
}

struct sched_arg {
	struct d_session *s;
};

/*
 * The server stamps its answer to us and its indication to the peer with
 * the same START = now + DELAY and its SERVER-TIME; each side starts DELAY
 * after its copy arrives (scheduled()). So the two starts differ by the
 * difference of the server's one-way delays to the two sides whatever
 * DELAY is: a longer lead does not bring them closer, it only waits. DELAY
 * is the margin for the loop to see the start (D_TICK_BUSY_MS); the
 * methods that need one side to go first carry their own offsets
 * (TRAV_STUNT2_DELAY_MS, TRAV_SHOTGUN_LEAD_MS) and stunt1 / synth wait for
 * both SYNs to be reported. (It was 300 ms + 2 x the negotiation time:
 * 426 ms of pure waiting at 10 ms one way, 1.3 s at 50 ms.)
 */
static int put_schedule(struct stun_builder *b, const void *arg)
{
	const struct sched_arg *sa = arg;
	struct sig_schedule sc;

	memset(&sc, 0, sizeof(sc));
	snprintf(sc.peer_id, sizeof(sc.peer_id), "%s", sa->s->peer);
	sc.session_id = sa->s->id;
	sc.delay_ms = D_SCHEDULE_DELAY_MS;
	return sig_put_schedule(b, &sc);
}

static void requester_got_exchange(struct d_session *s, const struct sig_exchange *x)
{
	struct sched_arg sa = { .s = s };
	unsigned m;
	size_t i;
	bool keep[SIG_M_MAX + 1] = { false };

	take_peer_exchange(s, x);
	s->nmethods = 0;
	for (i = 0; i < x->nmethods && s->nmethods < TRAV_MAX_METHODS; i++) {
		m = x->methods[i];
		/* portmap: exactly one side advertises a mapping */
		if (m == SIG_M_PORTMAP && (s->att[m].role == TRAV_ACCEPT) ==
					  (s->peer_kind[m] == SIG_CAND_PORTMAP))
			continue;
		if (m && m <= SIG_M_MAX && s->prepared[m] && s->peer_port[m]) {
			s->methods[s->nmethods++] = (uint8_t)m;
			keep[m] = true;
		}
	}
	if (s->nmethods == 0) {
		session_fail(s, "the peer proposed no method we can run", true);
		return;
	}
	for (m = 1; m <= SIG_M_MAX; m++)
		if (s->prepared[m] && !keep[m]) {
			trav_close(&s->att[m], false);
			s->prepared[m] = false;
		}
	if (!s->round && s->nmethods == 1 && s->methods[0] == SIG_M_RELAY && we_allocate(s)) {
		/* relay, and only we have a TURN server: allocate, then tell the
		 * peer the relayed address in the relay round */
		relay_round(s, SIG_REASON_STRATEGY);
		return;
	}
	if (can_fall_back(s)) {
		s->race_end = s->t0 + (uint64_t)g_d->cfg.connect_timeout_ms * S_RACE_SHARE_PCT / 100;
		log_debug("session %u: the direct race has %llu ms, then relay", s->id,
			  (unsigned long long)(s->race_end - s->t0));
	}
	s->state = S_WAIT_SCHEDULE;
	/* direct / reversal / portmap need no common start: our listeners first
	 * (the peer connects only once our SCHEDULE reaches it), then our
	 * connects (the peer listened before it sent its EXCHANGE) */
	if (!start_early(s, TRAV_ACCEPT) || !start_early(s, TRAV_CONNECT))
		return;
	if (d_sig_request(SIG_METHOD_SCHEDULE, s->id, put_schedule, &sa) < 0)
		session_fail(s, "cannot reach the server", true);
}

static void scheduled(struct d_session *s, const struct sig_schedule *sc)
{
	/* the peer's clock and ours both follow the server's: start together */
	s->start_at = clock_ms() + (sc->start_time_ms > sc->server_time_ms ?
				    sc->start_time_ms - sc->server_time_ms : 0);
	s->state = S_SCHEDULED;
	log_debug("session %u: start in %llu ms", s->id,
		  (unsigned long long)(s->start_at - clock_ms()));
	/* responder: the requester opened its listeners before it sent the
	 * SCHEDULE this indication is: our early connects can go now */
	if (!s->requester)
		(void)start_early(s, TRAV_CONNECT);
}

void d_session_on_answer(uint16_t method, uint32_t session_id, const struct stun_msg *m)
{
	struct d_session *s;
	struct sig_schedule sc;
	char why[200];

	if (session_id & S_PEERQ_BIT) {
		void d_session_peerq_answer(uint32_t qid, const struct stun_msg *msg);

		d_session_peerq_answer(session_id, m);
		return;
	}
	s = find(NULL, session_id, true);
	if (s == NULL)
		s = find(NULL, session_id, false);
	if (s == NULL || s->state == S_FAILED || s->state == S_CONNECTED)
		return;
	if (method == SIG_METHOD_SYNACK) {
		/* stunt1's alone: the other methods go on */
		const struct stun_attr *ea = stun_msg_find(m, STUN_ATTR_ERROR_CODE);
		struct stun_error e = { 0 };

		if (m->cls == STUN_ERROR && s->prepared[SIG_M_STUNT1]) {
			if (ea)
				(void)stun_attr_get_error(ea, &e);
			trav_stunt1_refused(&s->att[SIG_M_STUNT1], e.code);
		}
		return;
	}
	if (m->cls == STUN_ERROR) {
		const struct stun_attr *ea = stun_msg_find(m, STUN_ATTR_ERROR_CODE);
		struct stun_error e = { 0 };

		if (ea)
			(void)stun_attr_get_error(ea, &e);
		if (e.code == 404)
			snprintf(why, sizeof(why), "peer %s is not registered", s->peer);
		else
			snprintf(why, sizeof(why), "server refused %s (%u)",
				 method == SIG_METHOD_LOOKUP ? "LOOKUP" :
				 method == SIG_METHOD_EXCHANGE ? "EXCHANGE" : "a request", e.code);
		session_fail(s, why, false);
		return;
	}
	if (method == SIG_METHOD_LOOKUP && s->state == S_LOOKUP)
		requester_lookup_ok(s);
	else if (method == SIG_METHOD_SCHEDULE && s->state == S_WAIT_SCHEDULE &&
		 sig_get_schedule(m, &sc) == 0)
		scheduled(s, &sc);
}

/* ---- responder ---- */

static void responder_send_exchange(struct d_session *s)
{
	struct exch_arg ea = { .s = s, .with_service = false };

	predict_learn(s);
	if (s->nmethods == 0) {
		session_fail(s, "predict: cannot learn our public port from the server", true);
		return;
	}
	s->state = S_WAIT_SCHEDULE;
	/* direct / portmap: listening (and primed) before the requester can
	 * learn our candidates and connect */
	if (!start_early(s, TRAV_ACCEPT))
		return;
	if (d_sig_request(SIG_METHOD_EXCHANGE, s->id, put_exchange, &ea) < 0)
		session_fail(s, "cannot reach the server", false);
}

static void responder_exchange(const struct sig_exchange *x)
{
	struct d_session *s;
	const struct d_expose *e;
	char why[SIG_DATA_MAX - 32], a[64], b[64], race[80];
	bool forced_ok, pm_accept, udp;
	struct sig_nat_info own;
	size_t n, i, k;

	if ((s = find(x->peer_id, x->session_id, false)) != NULL) {
		/* the requester's relay round, or a duplicate */
		if (x->has_round && x->round.round == SIG_ROUND_RELAY && !s->round &&
		    !session_over(s))
			responder_relay_round(s, x);
		return;
	}
	e = d_config_find_expose(&g_d->cfg, x->service);
	if (e == NULL) {
		snprintf(why, sizeof(why), "service '%s' is not exposed by %s", x->service, g_d->cfg.id);
		goto refuse;
	}
	if (!d_config_allowed(&g_d->cfg, x->service, x->peer_id)) {
		snprintf(why, sizeof(why), "peer %s is not allowed to use %s/%s", x->peer_id,
			 g_d->cfg.id, x->service);
		goto refuse;
	}
	/* a UDP session asks for udp alone (stuntctl connect --udp) */
	udp = x->nmethods > 0 && x->methods[0] == SIG_M_UDP;
	if (udp && e->kind == D_TARGET_TCP) {
		snprintf(why, sizeof(why), "service '%s' is a TCP service: it takes no UDP session",
			 x->service);
		goto refuse;
	}
	if (!udp && e->kind == D_TARGET_UDP) {
		snprintf(why, sizeof(why), "service '%s' is a UDP service: connect with --udp",
			 x->service);
		goto refuse;
	}
	s = session_new(false, x->peer_id, x->service);
	if (s == NULL) {
		snprintf(why, sizeof(why), "out of memory on %s", g_d->cfg.id);
		goto refuse;
	}
	s->id = x->session_id;
	s->forced = x->nmethods ? x->methods[0] : 0;
	take_peer_exchange(s, x);
	own = own_nat();
	n = trav_strategy(&s->peer_nat, &own, s->forced, s->methods, TRAV_MAX_METHODS,
			  &forced_ok, why, sizeof(why));
	if (n == 0) {
		session_fail(s, why, true);
		return;
	}
	/* only methods we implement, with a port the requester opened */
	s->nmethods = 0;
	for (i = 0; i < n; i++)
		if (trav_role_of(s->methods[i], false) != TRAV_NONE && s->peer_port[s->methods[i]])
			s->methods[s->nmethods++] = s->methods[i];
	if (s->nmethods == 0) {
		session_fail(s, "no common method", true);
		return;
	}
	/* portmap: the requester accepts if it advertised a mapping, else we
	 * do if our gateway can map (or the method is forced) */
	pm_accept = s->peer_kind[SIG_M_PORTMAP] != SIG_CAND_PORTMAP;
	for (i = 0; i < s->nmethods; i++)
		if (s->methods[i] == SIG_M_PORTMAP && pm_accept && !trav_can_map(&g_d->nat) &&
		    s->forced != SIG_M_PORTMAP)
			drop_method(s, SIG_M_PORTMAP);
	if (s->nmethods == 0) {
		session_fail(s, "no common method", true);
		return;
	}
	trav_nat_describe(&s->peer_nat, a, sizeof(a));
	trav_nat_describe(&g_d->nat, b, sizeof(b));
	if (s->forced && !forced_ok)
		log_warnx("session %u: %s forced by %s although the strategy says it cannot work (%s / %s)",
			  s->id, sig_method_name(s->forced), s->peer, a, b);
	for (i = 0, k = 0; i < s->nmethods && k < sizeof(race); i++)
		k += (size_t)snprintf(race + k, sizeof(race) - k, "%s%s", i ? ", " : "",
				      sig_method_name(s->methods[i]));
	log_info("session %u: %s asks for %s (requester %s, us %s): racing %s", s->id,
		 s->peer, s->service, a, b, race);
	if (prepare(s, s->methods, s->nmethods) < 0) {
		session_fail(s, "cannot open local sockets", true);
		return;
	}
	if (s->prepared[SIG_M_UDP]) {
		(void)udp_learn(s);	/* udp_learned() sends the EXCHANGE */
		return;
	}
	if (s->prepared[SIG_M_PORTMAP]) {
		s->att[SIG_M_PORTMAP].role = pm_accept ? TRAV_ACCEPT : TRAV_CONNECT;
		if (pm_accept && portmap_start(s))
			return;		/* portmap_done() sends the EXCHANGE */
		if (pm_accept) {
			drop_method(s, SIG_M_PORTMAP);
			if (s->nmethods == 0) {
				snprintf(why, sizeof(why), "portmap: %s", s->att[SIG_M_PORTMAP].why);
				session_fail(s, why, true);
				return;
			}
		}
	}
	if (s->prepared[SIG_M_RELAY] && !we_allocate(s)) {
		/* only the requester has a TURN server: it allocates in the
		 * relay round, we connect */
		s->att[SIG_M_RELAY].role = TRAV_CONNECT;
	} else if (s->prepared[SIG_M_RELAY] && !relay_start(s)) {
		snprintf(why, sizeof(why), "%s", s->att[SIG_M_RELAY].why);
		drop_method(s, SIG_M_RELAY);
		if (s->nmethods == 0) {
			session_fail(s, why, true);
			return;
		}
	} else if (s->prepared[SIG_M_RELAY]) {
		return;		/* relay_done() sends the EXCHANGE */
	}
	responder_send_exchange(s);
	return;
refuse:
	g_d->peers_refused++;
	log_info("session %u: refused %s: %s", x->session_id, x->peer_id, why);
	relay(x->peer_id, x->session_id, "err", why);
}

/* RELAY "syn METHOD": the peer's first SYN(s) of that attempt left its NAT
 * (daemon/trav/synth.c, daemon/trav/predict.c). The method names the attempt, so that a
 * synth and a predict attempt of one session do not take each other's. */
static void peer_syn(struct d_session *s, const char *text)
{
	char name[16];
	int m;

	if (sscanf(text, "%15s", name) != 1 || (m = sig_method_id(name)) < 0 ||
	    !s->prepared[m]) {
		log_debug("session %u: RELAY syn '%s' names no attempt of ours", s->id, text);
		return;
	}
	if (m == SIG_M_SYNTH)
		trav_synth_peer_syn(&s->att[m]);
	else if (m == SIG_M_PREDICT)
		trav_predict_peer_syn(&s->att[m]);
}

static void on_relay(const struct sig_relay *r)
{
	char text[SIG_DATA_MAX + 1], verb[16];
	struct d_session *s;
	unsigned long sid;
	int off = 0;
	char why[SIG_DATA_MAX + 80];

	memcpy(text, r->data, r->len);
	text[r->len] = '\0';
	if (sscanf(text, "%lu %15s %n", &sid, verb, &off) < 2)
		return;
	s = find(r->peer_id, (uint32_t)sid, true);
	if (s == NULL)
		s = find(r->peer_id, (uint32_t)sid, false);
	if (s == NULL)
		return;
	if (!strcmp(verb, "err")) {
		snprintf(why, sizeof(why), "%s", text + off);
		session_fail(s, why, false);
	} else if (!strcmp(verb, "cancel")) {
		snprintf(why, sizeof(why), "cancelled by %s: %s", s->peer, text + off);
		session_fail(s, why, false);
	} else if (!strcmp(verb, "syn")) {
		peer_syn(s, text + off);
	}
}

void d_session_on_indication(const struct stun_msg *m)
{
	struct sig_exchange x;
	struct sig_schedule sc;
	struct sig_relay r;
	struct d_session *s;

	switch (m->method) {
	case SIG_METHOD_EXCHANGE:
		if (sig_get_exchange(m, &x) < 0)
			return;
		s = find(x.peer_id, x.session_id, true);
		if (s) {
			if (s->state == S_EXCHANGE)
				requester_got_exchange(s, &x);
		} else if (x.service[0]) {
			responder_exchange(&x);
		}
		break;
	case SIG_METHOD_SCHEDULE:
		if (sig_get_schedule(m, &sc) < 0)
			return;
		s = find(sc.peer_id, sc.session_id, false);
		if (s && s->state == S_WAIT_SCHEDULE)
			scheduled(s, &sc);
		break;
	case SIG_METHOD_RELAY:
		if (sig_get_relay(m, &r) == 0)
			on_relay(&r);
		break;
	default:
		break;
	}
}

/* ---- the race ---- */

/* Methods where one side connects to the other's listener or mapping: they
 * need no common start, only the listener up before the SYN arrives. */
static bool early_method(uint8_t m)
{
	return m == SIG_M_DIRECT || m == SIG_M_REVERSAL || m == SIG_M_PORTMAP ||
	       m == SIG_M_RELAY;
}

/* Target, TTL and start time of an attempt, from the peer's candidates. */
static void arm(struct d_session *s, struct trav_attempt *a, uint64_t now)
{
	char ip[INET_ADDRSTRLEN];

	/* portmap's connect side: to the peer gateway's mapping */
	a->raddr = s->peer_addr[a->method] ? s->peer_addr[a->method] : s->peer_ip;
	a->rport = s->peer_port[a->method];
	a->ttl = a->method == SIG_M_SIMOPEN || a->method == SIG_M_STUNT1 ||
			 a->method == SIG_M_SYNTH || a->role == TRAV_ACCEPT ? g_d->syn_ttl : 0;
	if (a->method == SIG_M_PORTMAP || a->method == SIG_M_RELAY)
		a->ttl = 0;	/* the gateway's mapping / the relay is explicit: no primer */
	if (a->method == SIG_M_PREDICT) {
		a->ttl = g_d->syn_ttl;	/* a window of simultaneous opens */
		a->has_rpred = s->peer_has_pred &&
			       s->peer_kind[SIG_M_PREDICT] == SIG_CAND_PREDICTED;
		a->rpred = s->peer_pred;
	}
	if (a->method == SIG_M_STUNT2)
		a->ttl = s->requester ? 0 : g_d->syn_ttl;	/* daemon/trav/stunt2.c */
	if (a->method == SIG_M_UDP) {
		/* the first punch packet's TTL (a test knob may change it) */
		a->ttl = g_d->cfg.udp_first_ttl >= 0 ? g_d->cfg.udp_first_ttl : g_d->syn_ttl;
		trav_udp_arm(a, s->peer_has_key ? s->peer_key : NULL, a->ttl,
			     g_d->cfg.udp_test_delay_ms);
	}
	if (a->method == SIG_M_SHOTGUN) {
		/* the random side's SYNs die before the peer's NAT, the
		 * probes of the other must reach ours (daemon/trav/shotgun.c) */
		a->sg_hard = trav_shotgun_hard(&g_d->nat, &s->peer_nat, s->requester);
		a->ttl = a->sg_hard ? g_d->syn_ttl : 0;
		if (!a->sg_hard)
			a->rport = 0;	/* every port of the peer's address */
	}
	a->start_at = now;
	if (a->method == SIG_M_STUNT2 && s->requester)
		a->start_at = now + TRAV_STUNT2_DELAY_MS;
	g_d->counters[a->method].tried++;
	log_info("session %u: %s: %s port %u %s %s:%u%s", s->id, sig_method_name(a->method),
		 a->role == TRAV_ACCEPT ? "accept on" : "connect from", a->lport,
		 a->role == TRAV_ACCEPT ? "from" : "to", d_ip_str(a->raddr, ip), a->rport,
		 !a->ttl ? "" : a->method == SIG_M_UDP ? " (first packet TTL-limited)" :
		 " (first SYN TTL-limited)");
}

static bool session_over(const struct d_session *s)
{
	return s->state == S_FAILED || s->state == S_CONNECTED;
}

/*
 * Start now, before (and without) the common start, the attempts of the
 * methods that need none (early_method) in role. Ordering makes the
 * listener be there first: the responder listens before it sends its
 * EXCHANGE, the requester connects on receiving it; the requester listens
 * before it sends SCHEDULE, the responder connects on its indication.
 * false: the session ended meanwhile.
 */
static bool start_early(struct d_session *s, enum trav_role role)
{
	struct trav_attempt *a;
	uint64_t now = clock_ms();
	uint8_t round = s->round;
	size_t i;

	for (i = 0; i < s->nmethods && !session_over(s) && s->round == round; i++) {
		a = &s->att[s->methods[i]];
		if (!s->prepared[a->method] || !early_method(a->method) || a->role != role ||
		    a->state != TA_IDLE || a->start_at)
			continue;
		arm(s, a, now);
		s->racing = true;
		if (trav_start(a, now) < 0) {
			log_info("session %u: %s failed at once: %s", s->id,
				 sig_method_name(a->method), a->why);
			d_session_attempt_failed(a);
		}
	}
	return !session_over(s) && s->round == round;	/* not: the relay round began */
}

/* The common start: the methods that need it (simopen, stunt2, predict). */
static void start_race(struct d_session *s, uint64_t now)
{
	size_t i;
	struct trav_attempt *a;

	s->state = S_RUNNING;
	s->racing = true;
	for (i = 0; i < s->nmethods; i++) {
		a = &s->att[s->methods[i]];
		if (a->state != TA_IDLE || a->start_at)
			continue;	/* started early */
		arm(s, a, now);
	}
}

static void run_due(struct d_session *s, uint64_t now)
{
	size_t i;
	struct trav_attempt *a;
	uint8_t round = s->round;

	for (i = 0; i < s->nmethods && s->round == round; i++) {
		a = &s->att[s->methods[i]];
		if (a->state == TA_IDLE && a->start_at && now >= a->start_at &&
		    trav_start(a, now) < 0) {
			log_info("session %u: %s failed at once: %s", s->id,
				 sig_method_name(a->method), a->why);
			d_session_attempt_failed(a);
		}
		if (session_over(s) || s->round != round)
			return;
		trav_tick(a, now);
	}
}

static void won(struct d_session *s)
{
	struct trav_attempt *a = s->winner;

	s->state = S_CONNECTED;
	s->t_end = clock_ms();
	g_d->counters[a->method].won++;
	close_attempts(s);
	log_info("session %u: %s %s/%s connected by %s in %llu ms", s->id,
		 s->requester ? "to" : "from", s->peer, s->service, sig_method_name(a->method),
		 (unsigned long long)(s->t_end - s->t0));
	log_attempts(s);
}

/* Requester: the session header on a's connection. */
static int send_hdr(struct d_session *s, struct trav_attempt *a)
{
	uint8_t hdr[S_HDR_LEN];

	memcpy(hdr, S_HDR_MAGIC, 4);
	hdr[4] = 1;
	hdr[5] = a->method;
	hdr[6] = hdr[7] = 0;
	hdr[8] = (uint8_t)(s->id >> 24);
	hdr[9] = (uint8_t)(s->id >> 16);
	hdr[10] = (uint8_t)(s->id >> 8);
	hdr[11] = (uint8_t)s->id;
	return send(a->conn, hdr, sizeof(hdr), MSG_NOSIGNAL) == (ssize_t)sizeof(hdr) ? 0 : -EIO;
}

/* Requester: the ack byte after our header. */
static void on_ack(struct d_ev *ev, uint32_t events)
{
	struct d_session *s = ev->arg;
	char b;
	ssize_t n;
	int fd;

	(void)events;
	n = recv(ev->fd, &b, 1, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	d_loop_del(ev);
	if (n == 1 && b == 'K') {
		fd = ev->fd;
		ev->fd = -1;
		s->winner->conn = -1;
		won(s);
		answer_connect(s, true, sig_method_name(s->winner->method), NULL, fd);
		close(fd);
		trav_close(s->winner, true);
		return;
	}
	/* shotgun, two hits: the peer kept the other pair and closed this one */
	if (n != 1 && s->winner->method == SIG_M_SHOTGUN && trav_shotgun_next(s->winner) == 0 &&
	    send_hdr(s, s->winner) == 0) {
		ev->fd = s->winner->conn;
		d_loop_add(ev, EPOLLIN | EPOLLRDHUP);
		return;
	}
	session_fail(s, n == 1 ? "the peer could not reach its local service" :
		     "the peer closed the connection before accepting it", true);
}

/* Responder: the session header on one of the established connections. */
static void on_hdr(struct d_ev *ev, uint32_t events)
{
	struct d_session *s = ev->arg;
	struct trav_attempt *a;
	const struct d_expose *e;
	uint32_t sid;
	ssize_t n;
	unsigned m;
	int fd;

	(void)events;
	/* which attempt: the one whose conn is this fd */
	a = NULL;
	for (m = 1; m <= SIG_M_MAX; m++)
		if (s->prepared[m] && s->att[m].conn == ev->fd)
			a = &s->att[m];
	if (a == NULL)
		return;
	n = recv(ev->fd, s->hdr + s->hdr_got, S_HDR_LEN - s->hdr_got, MSG_DONTWAIT);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		/* a loser the requester closed: forget it; a shotgun's hard side
		 * (two hits) or a window (several right predictions) may hold
		 * the pair the requester kept */
		d_loop_del(ev);
		if ((a->method == SIG_M_SHOTGUN && trav_shotgun_next(a) == 0) ||
		    (a->nwin && trav_sock_window_next(a, false) == 0)) {
			s->hdr_got = 0;
			ev->fd = a->conn;
			d_loop_add(ev, EPOLLIN | EPOLLRDHUP);
			return;
		}
		close(ev->fd);
		ev->fd = -1;
		a->conn = -1;
		a->state = TA_CANCELLED;
		return;
	}
	s->hdr_got += (size_t)n;
	if (s->hdr_got < S_HDR_LEN)
		return;
	sid = (uint32_t)s->hdr[8] << 24 | (uint32_t)s->hdr[9] << 16 | (uint32_t)s->hdr[10] << 8 |
	      s->hdr[11];
	d_loop_del(ev);
	if (memcmp(s->hdr, S_HDR_MAGIC, 4) || s->hdr[4] != 1 || sid != s->id) {
		session_fail(s, "bad session header on the connection", true);
		return;
	}
	s->winner = a;
	fd = a->conn;
	a->conn = -1;
	ev->fd = -1;
	won(s);
	trav_close(a, true);
	e = d_config_find_expose(&g_d->cfg, s->service);
	if (e == NULL || d_handoff_start(fd, e, s->peer) < 0)
		log_warnx("session %u: hand-off of %s failed", s->id, s->service);
}

/* udp: the authenticated handshake is the confirmation: hand on at once. */
static void udp_won(struct d_session *s, struct trav_attempt *a)
{
	const struct d_expose *e;
	int fd = a->conn;

	s->winner = a;
	a->conn = -1;
	won(s);
	trav_close(a, true);
	if (s->requester) {
		answer_connect(s, true, sig_method_name(a->method), NULL, fd);
		close(fd);
		return;
	}
	e = d_config_find_expose(&g_d->cfg, s->service);
	if (e == NULL || d_handoff_start(fd, e, s->peer) < 0)
		log_warnx("session %u: hand-off of %s failed", s->id, s->service);
}

void d_session_attempt_connected(struct trav_attempt *a)
{
	struct d_session *s = a->s;
	char ip[INET_ADDRSTRLEN];

	log_info("session %u: %s established after %llu ms (%s:%u)", s->id,
		 sig_method_name(a->method), (unsigned long long)(a->t_end - a->t_start),
		 d_ip_str(a->raddr, ip), a->rport);
	if (a->method == SIG_M_UDP) {
		udp_won(s, a);
		return;
	}
	if (s->requester) {
		if (s->winner) {
			a->state = TA_CANCELLED;
			snprintf(a->why, sizeof(a->why), "established too late: lost to %s",
				 sig_method_name(s->winner->method));
			trav_close(a, false);
			return;
		}
		s->winner = a;
		if (send_hdr(s, a) < 0) {
			session_fail(s, "cannot write the session header", true);
			return;
		}
		s->state = S_CONFIRM;
		close_attempts(s);
		s->wev = (struct d_ev){ .fd = a->conn, .cb = on_ack, .arg = s };
		d_loop_add(&s->wev, EPOLLIN | EPOLLRDHUP);
		return;
	}
	/* responder: wait for the header on this connection (maybe on several) */
	/* a second one while the first waits: responder_poll_extra() watches it */
	if (s->wev.fd < 0) {
		s->wev = (struct d_ev){ .fd = a->conn, .cb = on_hdr, .arg = s };
		d_loop_add(&s->wev, EPOLLIN | EPOLLRDHUP);
	}
}

void d_session_attempt_failed(struct trav_attempt *a)
{
	struct d_session *s = a->s;
	size_t i;

	log_info("session %u: %s failed after %llu ms: %s", s->id, sig_method_name(a->method),
		 (unsigned long long)(a->t_end - a->t_start), a->why);
	char why[sizeof(a->why) + 160];

	for (i = 0; i < s->nmethods; i++) {
		enum trav_state st = s->att[s->methods[i]].state;

		if (st == TA_IDLE || st == TA_RUNNING || st == TA_CONNECTED)
			return;
	}
	if (can_fall_back(s)) {
		relay_round(s, SIG_REASON_FAILED);
		return;
	}
	if (!s->requester && !s->forced && !s->round && relay_possible(s)) {
		/* the requester's race ends too, and it starts the relay round */
		log_info("session %u: every direct attempt failed; waiting for %s's relay round",
			 s->id, s->peer);
		return;
	}
	if (s->round)
		snprintf(why, sizeof(why), "%s: %s", sig_method_name(a->method), a->why);
	else
		snprintf(why, sizeof(why), "every method failed%s", no_relay_note(s));
	session_fail(s, why, true);
}

/* Responder: connections beyond the first that wait for a header. */
static void responder_poll_extra(struct d_session *s)
{
	unsigned m;
	struct trav_attempt *a;
	uint8_t peek[S_HDR_LEN];
	ssize_t n;

	if (s->requester || !s->racing || session_over(s))
		return;
	for (m = 1; m <= SIG_M_MAX; m++) {
		a = &s->att[m];
		if (s->prepared[m] && a->conn >= 0 && a->conn == s->wev.fd && a->nwin &&
		    s->hdr_got == 0 && trav_sock_window_next(a, true) == 0) {
			/* the header came on another pair of the window (the FIN
			 * of this one is late; closing it left epoll): watch that one */
			s->wev.fd = -1;
			d_loop_del(&s->wev);
			s->wev = (struct d_ev){ .fd = a->conn, .cb = on_hdr, .arg = s };
			d_loop_add(&s->wev, EPOLLIN | EPOLLRDHUP);
			return;
		}
		if (!s->prepared[m] || a->conn < 0 || a->conn == s->wev.fd)
			continue;
		n = recv(a->conn, peek, sizeof(peek), MSG_PEEK | MSG_DONTWAIT);
		if (n > 0 || n == 0) {
			/* data (the header) or EOF here: switch the watcher to it */
			if (s->wev.fd >= 0)
				d_loop_del(&s->wev);
			s->hdr_got = 0;
			s->wev = (struct d_ev){ .fd = a->conn, .cb = on_hdr, .arg = s };
			d_loop_add(&s->wev, EPOLLIN | EPOLLRDHUP);
			return;
		}
	}
}

static void peerq_tick(uint64_t now);
static void peerq_ctl_gone(struct d_ctl_client *c);

void d_session_tick(uint64_t now)
{
	struct d_session *s, *next;
	char why[256];
	size_t i;
	int k;

	for (s = g_d->sessions; s; s = next) {
		next = s->next;
		if (s->state == S_FAILED || s->state == S_CONNECTED) {
			if (now - s->t_end > S_KEEP_DONE_MS)
				session_free(s);
			continue;
		}
		if (s->race_end && now >= s->race_end && can_fall_back(s) &&
		    (s->state == S_WAIT_SCHEDULE || s->state == S_SCHEDULED ||
		     s->state == S_RUNNING)) {
			relay_round(s, SIG_REASON_TIMEOUT);
			continue;
		}
		if (now >= s->deadline) {
			k = snprintf(why, sizeof(why), "no connection within %u ms",
				     g_d->cfg.connect_timeout_ms);
			if (s->state < S_SCHEDULED)
				snprintf(why + k, sizeof(why) - (size_t)k, " (the peer did not answer)");
			else
				for (i = 0; i < s->nmethods && k > 0 && (size_t)k < sizeof(why); i++)
					k += snprintf(why + k, sizeof(why) - (size_t)k, "%s%s: %s",
						      i ? "; " : " (", sig_method_name(s->methods[i]),
						      trav_state_name(s->att[s->methods[i]].state));
			if (s->state >= S_SCHEDULED && k > 0 && (size_t)k < sizeof(why) - 1)
				k += snprintf(why + k, sizeof(why) - (size_t)k, ")");
			if (s->state >= S_SCHEDULED && k > 0 && (size_t)k < sizeof(why) - 1)
				snprintf(why + k, sizeof(why) - (size_t)k, "%s", no_relay_note(s));
			session_fail(s, why, true);
			continue;
		}
		if (s->state == S_MAPPING && s->prepared[SIG_M_UDP])
			trav_tick(&s->att[SIG_M_UDP], now);	/* the STUN retransmissions */
		if (session_over(s))
			continue;
		if (s->state == S_SCHEDULED && now >= s->start_at)
			start_race(s, now);
		if (s->racing && !session_over(s))
			run_due(s, now);
		responder_poll_extra(s);
	}
	peerq_tick(now);
	trav_relay_tick(now);
}

int d_session_wait_ms(void)
{
	const struct d_session *s;

	for (s = g_d->sessions; s; s = s->next)
		if (s->state != S_FAILED && s->state != S_CONNECTED)
			return D_TICK_BUSY_MS;
	return D_TICK_MS;
}

void d_session_ctl_gone(struct d_ctl_client *c)
{
	struct d_session *s;

	peerq_ctl_gone(c);
	for (s = g_d->sessions; s; s = s->next)
		if (s->ctl == c) {
			s->ctl = NULL;
			session_fail(s, "the control client went away", true);
		}
}

void d_session_status_json(FILE *f, uint64_t now)
{
	struct d_session *s;
	bool first = true;

	fputs("[", f);
	for (s = g_d->sessions; s; s = s->next) {
		fputs(first ? "{\"peer\":" : ",{\"peer\":", f);
		first = false;
		d_json_str(f, s->peer);
		fputs(",\"service\":", f);
		d_json_str(f, s->service);
		fputs(",\"method\":", f);
		d_json_str(f, s->winner ? sig_method_name(s->winner->method) : NULL);
		fprintf(f, ",\"role\":\"%s\",\"state\":\"%s\",\"since_ms\":%llu}",
			s->requester ? "requester" : "responder", s_state_name[s->state],
			(unsigned long long)(now - (s->t_end ? s->t_end : s->t0)));
	}
	fputs("]", f);
}

void d_session_shutdown(void)
{
	while (g_d->sessions) {
		session_fail(g_d->sessions, "stuntd is stopping", true);
		session_free(g_d->sessions);
	}
	trav_portmap_shutdown();
	trav_relay_shutdown();
}

/* ---- peers: LOOKUP every peer named in the allow lists ---- */

#define S_PEERQ_TIMEOUT_MS	3000

struct peerq {
	struct d_ctl_client	*ctl;
	uint64_t		t0;
	uint32_t		qid;
	size_t			n, answered;
	char			ids[S_PEERQ_MAX][SIG_ID_MAX + 1];
	int			online[S_PEERQ_MAX];
	struct peerq		*next;
};

static struct peerq *peerqs;
static uint32_t next_qid;

static void peerq_finish(struct peerq *q)
{
	struct peerq **pp;
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);

	for (pp = &peerqs; *pp; pp = &(*pp)->next)
		if (*pp == q) {
			*pp = q->next;
			break;
		}
	if (f) {
		fputs("{\"peers\":[", f);
		for (i = 0; i < q->n; i++) {
			fputs(i ? ",{\"id\":" : "{\"id\":", f);
			d_json_str(f, q->ids[i]);
			fprintf(f, ",\"online\":%s,\"nat\":null}", q->online[i] > 0 ? "true" : "false");
		}
		fputs("]}", f);
		fclose(f);
		if (q->ctl)
			d_control_answer(q->ctl, buf, -1);
		free(buf);
	}
	free(q);
}

static void peerq_tick(uint64_t now)
{
	struct peerq *q, *next;

	for (q = peerqs; q; q = next) {
		next = q->next;
		if (now - q->t0 > S_PEERQ_TIMEOUT_MS)
			peerq_finish(q);
	}
}

static void peerq_ctl_gone(struct d_ctl_client *c)
{
	struct peerq *q;

	for (q = peerqs; q; q = q->next)
		if (q->ctl == c)
			q->ctl = NULL;
}

void d_session_peerq_answer(uint32_t qid, const struct stun_msg *msg);
void d_session_peerq_answer(uint32_t qid, const struct stun_msg *msg)
{
	struct peerq *q;
	size_t idx = qid & 0xff;

	for (q = peerqs; q; q = q->next)
		if (q->qid == (qid & ~0xffu))
			break;
	if (q == NULL || idx >= q->n || q->online[idx] >= 0)
		return;
	q->online[idx] = msg->cls == STUN_SUCCESS ? 1 : 0;
	if (++q->answered == q->n)
		peerq_finish(q);
}

void d_session_peers_answer(struct d_ctl_client *c)
{
	struct peerq *q = calloc(1, sizeof(*q));
	const struct d_config *cfg = &g_d->cfg;
	size_t i, j, k;
	struct lookup_arg la;

	if (q == NULL)
		return;
	q->ctl = c;
	q->t0 = clock_ms();
	q->qid = S_PEERQ_BIT | (++next_qid & 0x7fffff) << 8;
	for (i = 0; i < cfg->nallow; i++)
		for (j = 0; j < cfg->allow[i].npeers && q->n < S_PEERQ_MAX; j++) {
			for (k = 0; k < q->n; k++)
				if (!strcmp(q->ids[k], cfg->allow[i].peers[j]))
					break;
			if (k == q->n && strcmp(cfg->allow[i].peers[j], cfg->id))
				snprintf(q->ids[q->n++], SIG_ID_MAX + 1, "%s", cfg->allow[i].peers[j]);
		}
	q->next = peerqs;
	peerqs = q;
	for (k = 0; k < q->n; k++) {
		q->online[k] = -1;
		la.peer = q->ids[k];
		if (!d_sig_up() || d_sig_request(SIG_METHOD_LOOKUP, q->qid | (uint32_t)k, put_lookup, &la) < 0) {
			q->online[k] = 0;
			q->answered++;
		}
	}
	if (q->answered == q->n)
		peerq_finish(q);
}

/* A REPORT policy fired: so far only "our first SYN left" (stunt1, synth,
 * each socket of predict's window). */
void d_session_on_nfq_event(const struct nfq_event *ev)
{
	struct d_session *s;
	uint32_t sid;
	uint8_t m;
	bool req;
	int win;

	if (!(ev->match & NFQ_MATCH_OUT_SYN) || !ev->pkt)
		return;
	trav_cookie_parse(ev->cookie, &sid, &m, &req, &win);
	s = find(NULL, sid, req);
	if (s == NULL || session_over(s) || m == 0 || m > SIG_M_MAX || !s->prepared[m])
		return;
	trav_syn_left(&s->att[m], win, ev->pkt);
}
