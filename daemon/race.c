// SPDX-License-Identifier: MIT
/*
 * The race: one attempt per method of the session (daemon/trav/), armed
 * with the peer's candidate and started -- the methods that need no common
 * start (TRAV_F_EARLY) as soon as the listener is known to be up, the others
 * at the scheduled start -- and the events the attempts report
 * (struct trav_events): the first established connection is the winner
 * (confirmed by confirm.c), the others are cancelled and closed silently
 * (their outbound RSTs are dropped); when every attempt failed the session
 * fails, or the requester falls back to the relay round (negotiate.c).
 */
#include "daemon/session.h"

#include "common/clock.h"
#include "common/log.h"

#include <stdio.h>
#include <string.h>

/* ---- the attempts' events ---- */

static void ev_connected(struct trav_attempt *a);
static void ev_failed(struct trav_attempt *a);

static void ev_signal(struct trav_attempt *a, const char *verb, const char *text)
{
	sess_relay(a->s->peer, a->s->id, verb, text);
}

static int ev_request(struct trav_attempt *a, uint16_t method,
		      int (*put)(struct stun_builder *b, const void *arg), const void *arg)
{
	a->s->asked = a;
	a->s->asked_method = method;
	return d_sig_request(method, a->s->id, put, arg);
}

static const struct d_host6 *ev_host6(struct trav_attempt *a)
{
	return sess_host6(a->s);
}

const struct trav_events sess_events = {
	.ready = sess_gather_ready, .connected = ev_connected, .failed = ev_failed,
	.early_hdr = sess_confirm_early, .signal = ev_signal, .request = ev_request,
	.host6 = ev_host6,
};

int sess_prepare(struct d_session *s, const uint8_t *methods, size_t n)
{
	size_t i;
	int err;

	for (i = 0; i < n; i++) {
		uint8_t m = methods[i];

		if (m == 0 || m > SIG_M_MAX || s->prepared[m])
			continue;
		err = trav_prepare(&s->att[m], s, &sess_events, m, s->id, s->requester, s->peer,
				   s->deadline, s->forced == m);
		if (err < 0)
			return err;
		s->att[m].budget = &s->budget;
		s->prepared[m] = true;
		s->gathered[m] = false;
	}
	return 0;
}

void sess_drop_method(struct d_session *s, uint8_t m)
{
	size_t i, k = 0;

	for (i = 0; i < s->nmethods; i++)
		if (s->methods[i] != m)
			s->methods[k++] = s->methods[i];
	s->nmethods = k;
	if (s->prepared[m]) {
		if (s->asked == &s->att[m])
			s->asked = NULL;
		if (s->att[m].learn && s->learning)
			s->learning--;	/* its ready event will not come */
		trav_close(&s->att[m], false);
		s->prepared[m] = false;
	}
}

/* Target, TTL and start time of an attempt, from the peer's candidates. */
static void arm(struct d_session *s, struct trav_attempt *a, uint64_t now)
{
	struct trav_peer p = {
		.nat = &s->peer_nat,
		.ip = s->peer_ip,
		.kind = s->peer_kind[a->method],
		.addr = s->peer_addr[a->method],
		.port = s->peer_port[a->method],
		.pred = s->peer_has_pred ? &s->peer_pred : NULL,
		.key = s->peer_has_key ? s->peer_key : NULL,
		.own_key = s->own_key,
		.hosts = s->peer_host,
		.nhosts = s->npeer_host,
		.ip6 = s->peer_has_ip6 ? s->peer_ip6 : NULL,
		.relay6 = s->peer_relay6_kind == SIG_CAND_RELAY ? s->peer_relay6 : NULL,
		.v6_first = s->v6_first,
		.udp_final_only = s->prepared[SIG_M_UDP] && s->prepared[SIG_M_UDP6],
	};
	char ep[TRAV_EP_STRLEN];

	trav_arm(a, &p, g_d->syn_ttl, now);
	g_d->counters[a->method].tried++;
	log_info("session %u: %s: %s port %u %s %s%s", s->id, sig_method_name(a->method),
		 a->role == TRAV_ACCEPT ? "accept on" : "connect from", a->lport,
		 a->role == TRAV_ACCEPT ? "from" : "to", trav_remote_str(a, ep),
		 !a->ttl ? "" : a->method == SIG_M_UDP ? " (first packet TTL-limited)" :
		 a->method == SIG_M_UDP6 ? " (first packet hop-limited)" :
		 " (first SYN TTL-limited)");
}

static void start_failed(struct d_session *s, struct trav_attempt *a)
{
	log_info("session %u: %s failed at once: %s", s->id, sig_method_name(a->method), a->why);
	ev_failed(a);
}

/* the early methods in role, or method only (0: each) */
static bool start_early(struct d_session *s, enum trav_role role, uint8_t only)
{
	struct trav_attempt *a;
	uint64_t now = clock_ms();
	uint8_t round = s->round;
	size_t i;

	for (i = 0; i < s->nmethods && !sess_over(s) && s->round == round; i++) {
		a = &s->att[s->methods[i]];
		if (!s->prepared[a->method] || !(a->ops->flags & TRAV_F_EARLY) || a->role != role ||
		    a->state != TA_IDLE || a->start_at || (only && a->method != only))
			continue;
		arm(s, a, now);
		s->racing = true;
		if (trav_start(a, now) < 0)
			start_failed(s, a);
	}
	return !sess_over(s) && s->round == round;	/* not: the relay round began */
}

bool sess_start_early(struct d_session *s, enum trav_role role)
{
	return start_early(s, role, 0);
}

bool sess_start_early_one(struct d_session *s, uint8_t m)
{
	return start_early(s, TRAV_CONNECT, m);
}

/*
 * Happy Eyeballs (RFC 8305; both sides agreed, SIG_NAT_V4_LATER): simopen6
 * (early) has gone first, the scheduled IPv4 methods go D_HE_DELAY_MS
 * after the common start -- on both sides, so the simultaneous ones stay
 * simultaneous -- and not while simopen6 holds an established connection
 * that is being proven: when it wins they never start (no NAT mapping, no
 * predict or shotgun burst); when it fails they start at once. The hold is
 * bounded as confirm.c bounds a held connection: twice the time simopen6
 * took to connect, plus D_HE_DELAY_MS -- a connection that a box on the
 * path completed and keeps silent (or a silent hostile peer) does not
 * keep the IPv4 methods from racing.
 */
static bool v4_later(const struct d_session *s, uint8_t m)
{
	return s->v4_later && m != SIG_M_SIMOPEN6 && m != SIG_M_HOST;
}

static bool v4_held(const struct d_session *s, const struct trav_attempt *a, uint64_t now)
{
	const struct trav_attempt *v6 = &s->att[SIG_M_SIMOPEN6];

	return v4_later(s, a->method) && s->prepared[SIG_M_SIMOPEN6] && v6->state == TA_CONNECTED &&
	       now < v6->t_end + 2 * (v6->t_end - v6->t_start) + D_HE_DELAY_MS;
}

void sess_start_race(struct d_session *s, uint64_t now)
{
	size_t i;
	struct trav_attempt *a;
	bool later = false;

	s->state = S_RUNNING;
	s->racing = true;
	for (i = 0; i < s->nmethods; i++) {
		a = &s->att[s->methods[i]];
		if (a->state != TA_IDLE || a->start_at)
			continue;	/* started early */
		arm(s, a, now);
		if (v4_later(s, a->method)) {
			a->start_at += D_HE_DELAY_MS;
			later = true;
		}
	}
	if (later)
		log_info("session %u: the IPv4 methods start %u ms after simopen6's (Happy Eyeballs)",
			 s->id, D_HE_DELAY_MS);
}

void sess_run_due(struct d_session *s, uint64_t now)
{
	size_t i;
	struct trav_attempt *a;
	uint8_t round = s->round;

	for (i = 0; i < s->nmethods && s->round == round; i++) {
		a = &s->att[s->methods[i]];
		if (a->state == TA_IDLE && a->start_at && now >= a->start_at && !v4_held(s, a, now) &&
		    trav_start(a, now) < 0)
			start_failed(s, a);
		if (sess_over(s) || s->round != round)
			return;
		trav_tick(a, now);
	}
}

void sess_close_attempts(struct d_session *s)
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
				if (!s->att[m].why[0])
					snprintf(s->att[m].why, sizeof(s->att[m].why),
						 "never started%s", v4_later(s, (uint8_t)m) &&
						 s->att[m].start_at ?
						 " (Happy Eyeballs: simopen6 first)" : "");
			}
			trav_close(&s->att[m], false);
		}
	}
	s->asked = NULL;
}

void sess_won(struct d_session *s)
{
	struct trav_attempt *a = s->winner;

	s->state = S_CONNECTED;
	s->t_end = clock_ms();
	sess_peer_seen(s, true);
	g_d->counters[a->method].won++;
	sess_close_attempts(s);
	log_info("session %u: %s %s/%s connected by %s in %llu ms", s->id,
		 s->requester ? "to" : "from", s->peer, s->service, sig_method_name(a->method),
		 (unsigned long long)(s->t_end - s->t0));
	sess_log_attempts(s);
}

void sess_stop_running(struct d_session *s, const char *why)
{
	unsigned m;

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
	sess_log_attempts(s);
}

void sess_end_first_round(struct d_session *s, const char *why)
{
	unsigned m;

	sess_confirm_stop(s);	/* responder: a connection still waiting for its header */
	sess_stop_running(s, why);
	for (m = 1; m <= SIG_M_MAX; m++)
		if (s->prepared[m]) {
			trav_close(&s->att[m], false);
			s->prepared[m] = false;
		}
	s->asked = NULL;
	s->winner = NULL;
	s->racing = false;
	s->start_at = 0;
	s->hdr_got = 0;
	s->nmethods = 0;
	memset(s->peer_port, 0, sizeof(s->peer_port));
	memset(s->peer_kind, 0, sizeof(s->peer_kind));
	memset(s->peer_addr, 0, sizeof(s->peer_addr));
	if (s->peer_relay6_kind == SIG_CAND_RELAY)
		s->peer_relay6_kind = 0;	/* its own address (host) stays, as peer_ip */
	s->npeer_host = 0;
	s->round = SIG_ROUND_RELAY;
	s->race_end = 0;
}

/* An attempt has an established socket in a->conn. */
static void ev_connected(struct trav_attempt *a)
{
	struct d_session *s = a->s;
	char ep[TRAV_EP_STRLEN];

	log_info("session %u: %s established after %llu ms (%s)", s->id,
		 sig_method_name(a->method), (unsigned long long)(a->t_end - a->t_start),
		 trav_remote_str(a, ep));
	if (a->ops->flags & TRAV_F_CONFIRMED) {
		sess_confirmed(s, a);
		return;
	}
	if (!s->requester) {
		/* responder: wait for the header on this connection (maybe on several) */
		sess_confirm_wait(s, a);
		return;
	}
	if (s->winner) {
		a->state = TA_CANCELLED;
		snprintf(a->why, sizeof(a->why), "established too late: lost to %s",
			 sig_method_name(s->winner->method));
		trav_close(a, false);
		return;
	}
	sess_confirm_start(s, a);
}

/* An attempt failed (a->why): when it was the last one running, the
 * session fails or goes on to the relay round. */
static void ev_failed(struct trav_attempt *a)
{
	struct d_session *s = a->s;
	char why[sizeof(a->why) + 160];
	size_t i;

	log_info("session %u: %s failed after %llu ms: %s", s->id, sig_method_name(a->method),
		 (unsigned long long)(a->t_end - a->t_start), a->why);
	/* its early header reached no proven peer: a connection held meanwhile */
	if (a->t_hdr && sess_confirm_held(s))
		return;
	for (i = 0; i < s->nmethods; i++) {
		enum trav_state st = s->att[s->methods[i]].state;

		if (st == TA_IDLE || st == TA_RUNNING || st == TA_CONNECTED)
			return;
	}
	if (sess_can_fall_back(s)) {
		sess_relay_round(s, SIG_REASON_FAILED);
		return;
	}
	if (!s->requester && !s->forced && !s->round && sess_relay_possible(s)) {
		/* the requester's race ends too, and it starts the relay round */
		log_info("session %u: every direct attempt failed; waiting for %s's relay round",
			 s->id, s->peer);
		return;
	}
	if (s->round)
		snprintf(why, sizeof(why), "%s: %s", sig_method_name(a->method), a->why);
	else
		snprintf(why, sizeof(why), "every method failed (the last, %s: %s)%s",
			 sig_method_name(a->method), a->why, sess_no_relay_note(s));
	sess_fail(s, why, true);
}
