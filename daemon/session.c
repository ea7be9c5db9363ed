// SPDX-License-Identifier: MIT
/*
 * A traversal session's life: one per connect request (requester side) or
 * per EXCHANGE received (responder side). Created by negotiate.c, raced by
 * race.c, confirmed by confirm.c; here it fails, answers its control
 * client, is ticked, shown in status and freed. The protocol it speaks is
 * summed up in negotiate.c and docs/protocol.md; the files and their
 * concerns in session.h.
 */
#include "daemon/session.h"

#include "common/clock.h"
#include "common/log.h"
#include "proto/stun_attr.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const s_state_name[] = { "lookup", "mapping", "exchange", "schedule", "scheduled",
					    "running", "confirm", "connected", "failed" };

struct sig_nat_info sess_own_nat(void)
{
	struct sig_nat_info n = g_d->nat;

	if (sess_can_allocate())
		n.flags |= SIG_NAT_TURN;
	return n;
}

bool sess_can_allocate(void)
{
	return g_d->cfg.have_turn && (sess_have_ipv4() || g_d->cfg.turn.sa.sa_family == AF_INET6);
}

bool sess_have_ipv4(void)
{
	return d_sig_server()->sig.sa.sa_family == AF_INET;
}

bool sess_is_udp(const struct d_session *s)
{
	return s->forced == SIG_M_UDP || s->forced == SIG_M_UDP6;
}

struct d_session *sess_find(const char *peer, uint32_t id, bool requester)
{
	struct d_session *s;

	for (s = g_d->sessions; s; s = s->next)
		if (s->id == id && s->requester == requester && (!peer || !strcmp(s->peer, peer)))
			return s;
	return NULL;
}

bool sess_over(const struct d_session *s)
{
	return s->state == S_FAILED || s->state == S_CONNECTED;
}

void sess_answer_connect(struct d_session *s, bool ok, const char *method, const char *err,
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
	if (ok && s->relay_remote[0]) {
		fputs(",\"relay\":", f);
		d_json_str(f, s->relay_remote);
	}
	fputs("}", f);
	fclose(f);
	d_control_answer(s->ctl, buf, fd);
	s->ctl = NULL;
	free(buf);
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

void sess_relay(const char *peer, uint32_t sid, const char *verb, const char *text)
{
	struct relay_arg ra = { .peer = peer };

	snprintf(ra.text, sizeof(ra.text), "%u %s %s", sid, verb, text ? text : "");
	if (d_sig_request(SIG_METHOD_RELAY, sid, put_relay, &ra) < 0)
		log_debug("session %u: relay to %s not sent", sid, peer);
}

int sess_put_lookup(struct stun_builder *b, const void *arg)
{
	struct sig_lookup l;

	memset(&l, 0, sizeof(l));
	snprintf(l.peer_id, sizeof(l.peer_id), "%s", (const char *)arg);
	return sig_put_lookup(b, &l);
}

void sess_log_attempts(struct d_session *s)
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

void sess_fail(struct d_session *s, const char *why0, bool tell_peer)
{
	char why[SIG_DATA_MAX - 80];

	if (sess_over(s))
		return;
	/* the requester's answer names both failures */
	if (s->requester && s->round && s->direct_why[0])
		snprintf(why, sizeof(why), "relay fallback failed: %s (before it, the direct race: %s)",
			 why0, s->direct_why);
	else
		snprintf(why, sizeof(why), "%s", why0);
	log_warnx("session %u (%s %s/%s): failed: %s", s->id, s->requester ? "to" : "from",
		  s->peer, s->service[0] ? s->service : "?", why);
	sess_stop_running(s, "not established before the session ended");
	sess_confirm_stop(s);
	s->winner = NULL;
	sess_close_attempts(s);
	if (tell_peer && d_sig_up())
		sess_relay(s->peer, s->id, s->requester ? "cancel" : "err", why);
	s->state = S_FAILED;
	s->t_end = clock_ms();
	sess_peer_seen(s, false);
	sess_answer_connect(s, false, NULL, why, -1);
}

struct d_session *sess_new(bool requester, const char *peer, const char *service)
{
	struct d_session *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->requester = requester;
	snprintf(s->peer, sizeof(s->peer), "%s", peer);
	snprintf(s->service, sizeof(s->service), "%s", service);
	s->t0 = clock_ms();
	s->deadline = s->t0 + g_d->cfg.connect_timeout_ms;
	s->budget.left = s->budget.cap = g_d->cfg.max_session_packets;
	s->wev.fd = -1;
	/* our key half (SIG-SESSION-KEY): the connection proofs (proto/sig_proof.h) */
	if (RAND_bytes(s->own_key, sizeof(s->own_key)) != 1) {
		free(s);
		return NULL;
	}
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
	sess_confirm_stop(s);
	for (m = 1; m <= SIG_M_MAX; m++)
		if (s->prepared[m])
			trav_close(&s->att[m], s->winner == &s->att[m]);
	free(s);
}

/* "no connection within 10000 ms (simopen: running; ...)" */
static void deadline_why(const struct d_session *s, char *why, size_t len)
{
	size_t i;
	int k;

	k = snprintf(why, len, "no connection within %u ms", g_d->cfg.connect_timeout_ms);
	if (s->wait_server) {
		snprintf(why + k, len - (size_t)k, " (stuntd is not registered with its server)");
		return;
	}
	/* which answer never came: the server's or the peer's */
	if (s->state == S_LOOKUP) {
		/* lookup_at: the last answer was 404, to be asked again (a
		 * deadline shorter than S_PEER_WAIT_MS ends that wait) */
		snprintf(why + k, len - (size_t)k,
			 s->lookup_at ? " (peer %s is not registered)" :
					" (the server did not answer LOOKUP %s)", s->peer);
		return;
	}
	if (s->state == S_MAPPING) {
		snprintf(why + k, len - (size_t)k, " (still gathering our candidates)");
		return;
	}
	if (s->state < S_SCHEDULED) {
		snprintf(why + k, len - (size_t)k, " (the peer did not answer)");
		return;
	}
	for (i = 0; i < s->nmethods && k > 0 && (size_t)k < len; i++)
		k += snprintf(why + k, len - (size_t)k, "%s%s: %s", i ? "; " : " (",
			      sig_method_name(s->methods[i]),
			      trav_state_name(s->att[s->methods[i]].state));
	if (k > 0 && (size_t)k < len - 1)
		k += snprintf(why + k, len - (size_t)k, ")");
	if (k > 0 && (size_t)k < len - 1)
		snprintf(why + k, len - (size_t)k, "%s", sess_no_relay_note(s));
}

void d_session_tick(uint64_t now)
{
	struct d_session *s, *next;
	char why[256];
	unsigned m;

	for (s = g_d->sessions; s; s = next) {
		next = s->next;
		if (sess_over(s)) {
			if (now - s->t_end > S_KEEP_DONE_MS)
				session_free(s);
			continue;
		}
		if (s->race_end && now >= s->race_end && sess_can_fall_back(s) &&
		    (s->state == S_WAIT_SCHEDULE || s->state == S_SCHEDULED ||
		     s->state == S_RUNNING)) {
			sess_relay_round(s, SIG_REASON_TIMEOUT);
			continue;
		}
		if (now >= s->deadline) {
			deadline_why(s, why, sizeof(why));
			sess_fail(s, why, true);
			continue;
		}
		if (s->state == S_LOOKUP && s->lookup_at && now >= s->lookup_at)
			sess_lookup(s);
		if (sess_over(s))
			continue;
		/* a gather's timers (udp: the STUN retransmissions) */
		for (m = 1; m <= SIG_M_MAX && s->state == S_MAPPING; m++)
			if (s->prepared[m])
				trav_tick(&s->att[m], now);
		if (sess_over(s))
			continue;
		sess_held_due(s, now);
		if (sess_over(s))
			continue;
		if (s->state == S_SCHEDULED && now >= s->start_at)
			sess_start_race(s, now);
		if (s->racing && !sess_over(s))
			sess_run_due(s, now);
		sess_confirm_poll(s);
	}
	sess_peerq_tick(now);
	trav_global_tick(now);
}

int d_session_wait_ms(void)
{
	const struct d_session *s;

	for (s = g_d->sessions; s; s = s->next)
		if (!sess_over(s))
			return D_TICK_BUSY_MS;
	return D_TICK_MS;
}

void d_session_ctl_gone(struct d_ctl_client *c)
{
	struct d_session *s;

	sess_peerq_ctl_gone(c);
	for (s = g_d->sessions; s; s = s->next)
		if (s->ctl == c) {
			s->ctl = NULL;
			sess_fail(s, "the control client went away", true);
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
		sess_fail(g_d->sessions, "stuntd is stopping", true);
		session_free(g_d->sessions);
	}
	trav_shutdown();
}

/*
 * Until the common start a session's messages go through the server in use
 * (LOOKUP, EXCHANGE, SCHEDULE, the peer's indications): a session there
 * cannot go on through another server, whose requests and the peer's
 * answers it never saw, so it fails at once with the reason rather than at
 * its deadline. From the start on the attempts run host to host and go on.
 */
size_t d_session_server_gone(const char *why)
{
	struct d_session *s;
	size_t n = 0;

	for (s = g_d->sessions; s; s = s->next) {
		if (sess_over(s) || (s->state != S_LOOKUP && s->state != S_MAPPING &&
				     s->state != S_EXCHANGE && s->state != S_WAIT_SCHEDULE))
			continue;
		if (s->state == S_LOOKUP && s->requester) {
			/* its LOOKUP went with the connection: asked again
			 * once registered, within the same deadline */
			if (!s->wait_server)
				log_info("session %u: waiting for the server: %s", s->id, why);
			s->wait_server = true;
			continue;
		}
		sess_fail(s, why, false);
		n++;
	}
	return n;
}

void d_session_on_answer(uint16_t method, uint32_t session_id, const struct stun_msg *m)
{
	struct d_session *s;

	if (session_id & S_PEERQ_BIT) {
		sess_peerq_answer(session_id, m);
		return;
	}
	s = sess_find(NULL, session_id, true);
	if (s == NULL)
		s = sess_find(NULL, session_id, false);
	if (s == NULL || sess_over(s))
		return;
	sess_on_answer(s, method, m);
}

/* A REPORT policy fired: so far only "our first SYN left" (stunt1, synth,
 * each socket of predict's window); the cookie names the attempt. */
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
	s = sess_find(NULL, sid, req);
	if (s == NULL || sess_over(s) || m == 0 || m > SIG_M_MAX || !s->prepared[m])
		return;
	trav_syn_left(&s->att[m], win, ev->pkt);
	sess_held_due(s, clock_ms());
}
