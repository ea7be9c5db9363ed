// SPDX-License-Identifier: MIT
/* Rendezvous: see server/rdv.h and docs/protocol.md section 5. */
#include "server/rdv.h"
#include "proto/stun_attr.h"
#include "proto/stun_auth.h"
#include "nfq/pkt_synack.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const rdv_verdict_names[RDV_V_MAX] = {
	[RDV_V_OK]	   = "ok",
	[RDV_V_BAD]	   = "bad_request",
	[RDV_V_UNKNOWN_ID] = "unknown_id",
	[RDV_V_AUTH_FAIL]  = "auth_fail",
	[RDV_V_NO_PEER]	   = "no_peer",
	[RDV_V_DROP]	   = "dropped",
	[RDV_V_FORBIDDEN]  = "forbidden",
	[RDV_V_UNAVAILABLE] = "unavailable",
	[RDV_V_LIMITED]	   = "signal_limited",
};

const char *rdv_verdict_name(enum rdv_verdict v)
{
	return (unsigned)v < RDV_V_MAX ? rdv_verdict_names[v] : "?";
}

bool srv_rdv_is_ours(uint16_t method)
{
	return method >= SIG_METHOD_REGISTER && method <= SIG_METHOD_LAST;
}

struct rdv_conn *srv_rdv_find(const struct srv_rdv *r, const char *id)
{
	size_t i;

	for (i = 0; r && i < r->n; i++)
		if (strcmp(r->reg[i]->id, id) == 0)
			return r->reg[i];
	return NULL;
}

/* c's id leaves with c: keep its signalling budget for its return, in
 * the entry of the same id, else a free one, else the one refilled the
 * longest (the nearest to a full bucket, which is what a new id gets). */
static void budget_keep(struct srv_rdv *r, const struct rdv_conn *c)
{
	size_t i, k = RDV_BUDGETS_KEPT;

	for (i = 0; i < RDV_BUDGETS_KEPT; i++) {
		const struct rdv_budget *e = &r->kept[i];

		if (!strcmp(e->id, c->id)) {
			k = i;
			break;
		}
		if (k == RDV_BUDGETS_KEPT)
			k = i;
		else if (!e->id[0])
			k = r->kept[k].id[0] ? i : k;
		else if (r->kept[k].id[0] && e->b.last_ms < r->kept[k].b.last_ms)
			k = i;
	}
	strcpy(r->kept[k].id, c->id);
	r->kept[k].b = c->sig;
}

/* The budget c's id had when it left, or a full one. */
static void budget_restore(struct srv_rdv *r, struct rdv_conn *c)
{
	size_t i;

	c->sig.milli = (uint32_t)(r->sig_burst ? r->sig_burst : 1) * 1000;
	c->sig.last_ms = 0;
	for (i = 0; i < RDV_BUDGETS_KEPT; i++)
		if (!strcmp(r->kept[i].id, c->id)) {
			c->sig = r->kept[i].b;
			memset(&r->kept[i], 0, sizeof(r->kept[i]));
			return;
		}
}

void srv_rdv_drop(struct srv_rdv *r, struct rdv_conn *c)
{
	size_t i;

	if (!r || !c || !c->listed)
		return;
	if (c->authed)
		budget_keep(r, c);
	for (i = 0; i < r->n; i++)
		if (r->reg[i] == c) {
			r->reg[i] = r->reg[--r->n];
			break;
		}
	c->listed = false;
	c->authed = false;
}

void srv_rdv_forget(struct srv_rdv *r, const char *id)
{
	size_t i;

	for (i = 0; r && id && i < RDV_SESSIONS_MAX; i++)
		if (!strcmp(r->sess[i].id[0], id) || !strcmp(r->sess[i].id[1], id))
			memset(&r->sess[i], 0, sizeof(r->sess[i]));
}

void srv_rdv_free(struct srv_rdv *r)
{
	free(r->reg);
	r->reg = NULL;
	r->n = r->cap = 0;
	memset(r->sess, 0, sizeof(r->sess));
	memset(r->kept, 0, sizeof(r->kept));
}

/* The session sid between ids a and b (either order), or NULL; *side gets
 * a's index in it. */
static struct rdv_session *session_find(struct srv_rdv *r, const char *a, const char *b,
					uint32_t sid, uint64_t now, int *side)
{
	size_t i;

	for (i = 0; i < RDV_SESSIONS_MAX; i++) {
		struct rdv_session *s = &r->sess[i];

		if (!s->expires_ms || now >= s->expires_ms || s->sid != sid)
			continue;
		if (!strcmp(s->id[0], a) && !strcmp(s->id[1], b))
			*side = 0;
		else if (!strcmp(s->id[1], a) && !strcmp(s->id[0], b))
			*side = 1;
		else
			continue;
		return s;
	}
	return NULL;
}

/* An EXCHANGE from a to b was relayed: note it. A new session takes a free
 * (or expired) entry, else the oldest one -- but once a has started
 * RDV_SESSION_SHARE live sessions, one of its own (one whose SYN-ACKs went
 * out first, else its oldest): one id cannot push the others' sessions out
 * of the table. */
static void session_note(struct srv_rdv *r, const char *a, const char *b, uint32_t sid,
			 uint64_t now)
{
	struct rdv_session *s;
	size_t i, old = 0, own = RDV_SESSIONS_MAX, nown = 0;
	bool have_free = false;
	int side;

	if ((s = session_find(r, a, b, sid, now, &side))) {
		s->exchanged[side] = true;
		return;
	}
	for (i = 0; i < RDV_SESSIONS_MAX; i++) {
		struct rdv_session *e = &r->sess[i];

		if (!e->expires_ms || now >= e->expires_ms) {
			if (!have_free)
				old = i;
			have_free = true;
			continue;
		}
		if (!strcmp(e->id[0], a)) {
			/* the oldest of its sessions whose SYN-ACKs are out (of
			 * no more use), else the oldest */
			nown++;
			if (own == RDV_SESSIONS_MAX || (e->sent && !r->sess[own].sent) ||
			    (e->sent == r->sess[own].sent &&
			     e->expires_ms < r->sess[own].expires_ms))
				own = i;
		}
		if (!have_free && e->expires_ms < r->sess[old].expires_ms)
			old = i;
	}
	if (nown >= RDV_SESSION_SHARE) {
		old = own;
		r->share_reused++;
	}
	s = &r->sess[old];
	memset(s, 0, sizeof(*s));
	strcpy(s->id[0], a);
	strcpy(s->id[1], b);
	s->sid = sid;
	s->exchanged[0] = true;
	s->expires_ms = now + RDV_SESSION_MS;
}

static void syn_desc(const struct sig_syn *y, struct pkt_syn_desc *d)
{
	memset(d, 0, sizeof(*d));
	d->seq = y->seq;
	d->window = y->window;
	d->opt.present = y->present & (PKT_OPT_MSS | PKT_OPT_WSCALE | PKT_OPT_SACK_OK | PKT_OPT_TS);
	d->opt.mss = y->mss;
	d->opt.wscale = y->wscale;
	d->opt.ts_val = y->ts_val;
}

/* Both SYNs are in: the SYN-ACK to side i from side 1 - i. */
static void synack_for(const struct rdv_session *s, int i, struct pkt_tcp_spec *out)
{
	struct pkt_syn_desc own, peer;
	uint32_t own_ip, peer_ip;

	syn_desc(&s->syn[i], &own);
	syn_desc(&s->syn[1 - i], &peer);
	memcpy(&own_ip, s->addr[i].ip, 4);
	memcpy(&peer_ip, s->addr[1 - i].ip, 4);
	pkt_synack_spec(&own, &peer, peer_ip, s->syn[1 - i].port, own_ip, s->syn[i].port, 0, out);
}

/* May side i have its SYN-ACK again? The same SYN from the same address,
 * within SIG_SYNACK_REPEATS. */
static bool synack_repeat_ok(const struct rdv_session *s, int i, const struct sig_syn *y,
			     const struct stun_addr *from)
{
	return s->has_syn[i] && s->repeated[i] < SIG_SYNACK_REPEATS &&
	       y->port == s->syn[i].port && y->seq == s->syn[i].seq &&
	       memcmp(from->ip, s->addr[i].ip, 4) == 0;
}

static int registry_add(struct srv_rdv *r, struct rdv_conn *c)
{
	struct rdv_conn *old = srv_rdv_find(r, c->id);

	/* the newest connection of an id wins: the old one is probably a
	 * half-dead TCP connection of the same daemon. Its signalling budget
	 * goes with the id: reconnecting does not refill it. */
	if (old && old != c)
		srv_rdv_drop(r, old);	/* keeps its budget ... */
	if (!c->listed)
		budget_restore(r, c);	/* ... for this one */
	if (c->listed)
		return 0;
	if (r->n == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 64;
		struct rdv_conn **nv = realloc(r->reg, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		r->reg = nv;
		r->cap = ncap;
	}
	r->reg[r->n++] = c;
	c->listed = true;
	return 0;
}

size_t srv_rdv_error(const struct stun_msg *m, uint16_t code, const char *reason, uint8_t *buf,
		     size_t cap)
{
	struct stun_builder b;
	int n;

	stun_build_reply(&b, buf, cap, stun_type(m->method, STUN_ERROR), m);
	stun_build_error(&b, code, reason);
	n = stun_build_finish(&b);
	return n > 0 ? (size_t)n : 0;
}

static void fail(struct rdv_out *out, enum rdv_verdict v, const struct stun_msg *m, uint16_t code,
		 const char *reason, uint8_t *reply)
{
	out->verdict = v;
	out->reply_len = srv_rdv_error(m, code, reason, reply, RDV_BUF);
}

static void success(struct rdv_out *out, struct stun_builder *b)
{
	int n = stun_build_finish(b);

	out->verdict = RDV_V_OK;
	out->reply_len = n > 0 ? (size_t)n : 0;
}

/* The indication to the target: the request's attributes but its
 * SIG-PEER-ID (and, for SCHEDULE, DELAY), the sender's id instead, and
 * SIG-SENDER: the sender's control address as we see it. That one is ours
 * alone: a SIG-SENDER in the request is not copied, or a peer could vouch
 * for itself. */
static int build_indication(const struct stun_msg *m, const struct rdv_conn *sender,
			    const uint8_t rnd[16], uint8_t *fwd, const struct sig_schedule *sched)
{
	/* the sender's SIG-SEQ is its own: the target's is added on sealing */
	static const uint16_t skip[] = { SIG_ATTR_PEER_ID, SIG_ATTR_DELAY, SIG_ATTR_SEQ,
					 SIG_ATTR_SENDER };
	struct stun_builder b;

	stun_build_init(&b, fwd, RDV_BUF, stun_type(m->method, STUN_INDICATION), rnd + 4);
	if (sched) {
		struct sig_schedule s = *sched;

		strcpy(s.peer_id, sender->id);
		s.has_sender = true;
		s.sender = sender->peer;
		sig_put_schedule(&b, &s);
	} else {
		stun_build_text(&b, SIG_ATTR_PEER_ID, sender->id, strlen(sender->id));
		sig_build_sender(&b, &sender->peer);
		stun_build_copy(&b, m, skip, sizeof(skip) / sizeof(skip[0]));
	}
	return stun_build_finish(&b);
}

int srv_rdv_handle(struct srv_rdv *r, struct rdv_conn *c, const struct stun_msg *m,
		   const uint8_t rnd[16], uint64_t now_ms, uint8_t *reply, uint8_t *fwd,
		   struct rdv_out *out)
{
	struct stun_builder b;
	struct rdv_conn *target;
	const char *target_id;
	union {
		struct sig_register reg;
		struct sig_auth auth;
		struct sig_lookup lookup;
		struct sig_exchange ex;
		struct sig_schedule sched;
		struct sig_relay relay;
		struct sig_synack synack;
	} u;
	int err, n;

	if (!r || !c || !m || !rnd || !reply || !fwd || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (m->cls != STUN_REQUEST || !srv_rdv_is_ours(m->method)) {
		out->verdict = RDV_V_DROP;
		return 0;
	}
	/* RFC 8489 14.7: a wrong FINGERPRINT means not STUN: discard */
	if (m->fingerprint >= 0 && stun_check_fingerprint(m) < 0) {
		out->verdict = RDV_V_DROP;
		return 0;
	}
	if (stun_msg_unknown_required(m, NULL, 0) > 0) {
		uint16_t unknown[STUN_MAX_ATTRS];
		size_t nu = stun_msg_unknown_required(m, unknown, STUN_MAX_ATTRS);

		stun_build_reply(&b, reply, RDV_BUF, stun_type(m->method, STUN_ERROR), m);
		stun_build_error(&b, STUN_ERR_UNKNOWN_ATTRIBUTE, NULL);
		stun_build_unknown(&b, unknown, nu < STUN_MAX_ATTRS ? nu : STUN_MAX_ATTRS);
		n = stun_build_finish(&b);
		out->verdict = RDV_V_BAD;
		out->reply_len = n > 0 ? (size_t)n : 0;
		return 0;
	}
	stun_build_reply(&b, reply, RDV_BUF, stun_type(m->method, STUN_SUCCESS), m);

	switch (m->method) {
	case SIG_METHOD_REGISTER: {
		struct sig_register_resp rr;

		if (sig_get_register(m, &u.reg) < 0)
			goto bad;
		if (!srv_secrets_find(r->secrets, u.reg.peer_id, strlen(u.reg.peer_id))) {
			fail(out, RDV_V_UNKNOWN_ID, m, STUN_ERR_FORBIDDEN, "Unknown peer id", reply);
			return 0;
		}
		c->nonce_pending = true;
		c->nonce_seq = ++r->nonces;
		strcpy(c->nonce_id, u.reg.peer_id);
		memcpy(c->nonce, rnd, RDV_NONCE_LEN);
		memcpy(rr.nonce, c->nonce, RDV_NONCE_LEN);
		rr.nonce_len = RDV_NONCE_LEN;
		sig_put_register_resp(&b, &rr);
		success(out, &b);
		return 0;
	}
	case SIG_METHOD_AUTHENTICATE: {
		const struct srv_secret *s;
		struct rdv_conn *old;
		struct sig_auth_resp ar;
		struct sig_keys k;
		bool fresh;

		if (sig_get_auth(m, &u.auth) < 0)
			goto bad;
		/* one AUTHENTICATE per nonce, right or wrong: no replay, no
		 * guessing against the same challenge */
		fresh = c->nonce_pending && strcmp(c->nonce_id, u.auth.peer_id) == 0 &&
			u.auth.nonce_len == RDV_NONCE_LEN &&
			stun_memeq_ct(c->nonce, u.auth.nonce, RDV_NONCE_LEN) == 0;
		c->nonce_pending = false;
		s = srv_secrets_find(r->secrets, u.auth.peer_id, strlen(u.auth.peer_id));
		if (!fresh || !s ||
		    sig_credential_check(s->secret, s->secret_len, u.auth.peer_id, u.auth.nonce,
					 u.auth.nonce_len, u.auth.credential) != 0) {
			fail(out, RDV_V_AUTH_FAIL, m, STUN_ERR_UNAUTHORIZED, NULL, reply);
			return 0;
		}
		/* The newest registration of an id wins, counted from its
		 * REGISTER: an AUTHENTICATE that comes late on a connection its
		 * daemon gave up on (unanswered for long under loss) must not
		 * take the id over from the connection that daemon registered
		 * since -- that one would be refused as "Authenticate first"
		 * from then on. */
		old = srv_rdv_find(r, u.auth.peer_id);
		if (old && old != c && old->nonce_seq > c->nonce_seq) {
			fail(out, RDV_V_AUTH_FAIL, m, STUN_ERR_STALE_NONCE,
			     "A newer registration of this id is in use", reply);
			return 0;
		}
		if (sig_session_keys(s->secret, s->secret_len, u.auth.peer_id, u.auth.nonce,
				     u.auth.nonce_len, &k) < 0) {
			fail(out, RDV_V_BAD, m, STUN_ERR_SERVER_ERROR, NULL, reply);
			return 0;
		}
		if (c->listed && strcmp(c->id, u.auth.peer_id) != 0)
			srv_rdv_drop(r, c);
		strcpy(c->id, u.auth.peer_id);
		if ((err = registry_add(r, c)) < 0) {
			fail(out, RDV_V_BAD, m, STUN_ERR_SERVER_ERROR, NULL, reply);
			return err;
		}
		c->authed = true;
		sig_sec_start(&c->sec, &k, true);
		memset(&k, 0, sizeof(k));
		ar.mapped = c->peer;
		ar.server_time_ms = now_ms;
		sig_put_auth_resp(&b, &ar);
		success(out, &b);
		return 0;
	}
	default:
		break;
	}

	/* everything else: only between authenticated peers */
	if (!c->authed) {
		fail(out, RDV_V_AUTH_FAIL, m, STUN_ERR_UNAUTHORIZED, "Authenticate first", reply);
		return 0;
	}
	switch (m->method) {
	case SIG_METHOD_LOOKUP:
		err = sig_get_lookup(m, &u.lookup);
		target_id = u.lookup.peer_id;
		break;
	case SIG_METHOD_EXCHANGE:
		err = sig_get_exchange(m, &u.ex);
		target_id = u.ex.peer_id;
		break;
	case SIG_METHOD_SCHEDULE:
		err = sig_get_schedule(m, &u.sched);
		target_id = u.sched.peer_id;
		if (err == 0 && u.sched.delay_ms > RDV_MAX_DELAY_MS)
			err = -EBADMSG;
		break;
	case SIG_METHOD_RELAY:
		err = sig_get_relay(m, &u.relay);
		target_id = u.relay.peer_id;
		break;
	case SIG_METHOD_SYNACK:
		err = sig_get_synack(m, &u.synack);
		target_id = u.synack.peer_id;
		if (err == 0 && c->peer.family != STUN_FAMILY_IPV4)
			err = -EBADMSG;
		break;
	default:
		err = -EBADMSG;
		target_id = "";
		break;
	}
	if (err < 0)
		goto bad;
	/* what is relayed to another peer costs the sender a token, whether
	 * the target is there or not */
	if ((m->method == SIG_METHOD_EXCHANGE || m->method == SIG_METHOD_SCHEDULE ||
	     m->method == SIG_METHOD_RELAY) &&
	    !srv_bucket_take(&c->sig, r->sig_rate, r->sig_burst, now_ms)) {
		fail(out, RDV_V_LIMITED, m, STUN_ERR_RATE_LIMITED, "Signalling rate limit", reply);
		return 0;
	}
	if ((target = srv_rdv_find(r, target_id)) && !target->authed)
		target = NULL;
	/* not here: maybe on another server of the cluster */
	if (!target && !(r->remote_find &&
			 r->remote_find(r->remote_ctx, target_id, now_ms, &out->remote))) {
		fail(out, RDV_V_NO_PEER, m, STUN_ERR_NOT_FOUND, "Peer not registered", reply);
		return 0;
	}

	if (m->method == SIG_METHOD_LOOKUP) {
		struct sig_lookup_resp lr;

		memset(&lr, 0, sizeof(lr));
		strcpy(lr.peer_id, target_id);
		lr.endpoint = target ? target->peer : out->remote.endpoint;
		sig_put_lookup_resp(&b, &lr);
		success(out, &b);
		return 0;
	}
	/* a message to oneself has no use, and its indication would land in
	 * the buffer the reply is written to */
	if (target == c)
		goto bad;
	/* STUNT #1: the two SYN-ACKs must leave one server at once */
	if (m->method == SIG_METHOD_SYNACK && !target) {
		fail(out, RDV_V_UNAVAILABLE, m, STUN_ERR_FORBIDDEN,
		     "STUNT #1: peer registered on another server", reply);
		return 0;
	}
	if (m->method == SIG_METHOD_SYNACK) {
		struct rdv_session *s;
		int side;

		s = session_find(r, c->id, target->id, u.synack.session_id, now_ms, &side);
		if (s && s->sent && synack_repeat_ok(s, side, &u.synack.syn, &c->peer)) {
			/* its SYN-ACK was lost on the way: that one again */
			synack_for(s, side, &out->synack[0]);
			out->nsynack = 1;
			s->repeated[side]++;
			success(out, &b);
			return 0;
		}
		if (!s || !s->exchanged[0] || !s->exchanged[1] || s->sent) {
			fail(out, RDV_V_FORBIDDEN, m, STUN_ERR_FORBIDDEN, "No such session", reply);
			return 0;
		}
		if (!r->raw_ok) {
			fail(out, RDV_V_UNAVAILABLE, m, STUN_ERR_SERVER_ERROR, "STUNT unavailable",
			     reply);
			return 0;
		}
		/* the SYN-ACKs would carry the peers' addresses as their
		 * source: a provider that filters spoofed sources drops them */
		if (r->no_spoof) {
			fail(out, RDV_V_UNAVAILABLE, m, STUN_ERR_FORBIDDEN,
			     "STUNT #1 off: this server sends no spoofed packets", reply);
			return 0;
		}
		s->has_syn[side] = true;
		s->syn[side] = u.synack.syn;
		s->addr[side] = c->peer;
		if (s->has_syn[0] && s->has_syn[1]) {
			synack_for(s, 0, &out->synack[0]);
			synack_for(s, 1, &out->synack[1]);
			out->nsynack = 2;
			s->sent = true;
		}
		success(out, &b);
		return 0;
	}
	if (m->method == SIG_METHOD_EXCHANGE && target)
		session_note(r, c->id, target->id, u.ex.session_id, now_ms);
	if (m->method == SIG_METHOD_SCHEDULE) {
		u.sched.start_time_ms = now_ms + u.sched.delay_ms;
		u.sched.server_time_ms = now_ms;
		sig_put_schedule(&b, &u.sched);
		n = build_indication(m, c, rnd, fwd, &u.sched);
	} else {
		n = build_indication(m, c, rnd, fwd, NULL);
	}
	if (n <= 0) {
		fail(out, RDV_V_BAD, m, STUN_ERR_SERVER_ERROR, NULL, reply);
		return 0;
	}
	success(out, &b);
	out->fwd_to = target;
	out->fwd_len = (size_t)n;
	if (!target) {
		out->fwd_remote = true;
		strcpy(out->fwd_id, target_id);
	}
	return 0;
bad:
	fail(out, RDV_V_BAD, m, STUN_ERR_BAD_REQUEST, NULL, reply);
	return 0;
}
