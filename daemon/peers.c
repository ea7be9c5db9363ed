// SPDX-License-Identifier: MIT
/*
 * "Which peers do I know, are they online" (stuntctl peers): the peers named
 * in the allow lists and those of the recent sessions (the last
 * S_RECENT_MAX peers this host had a session with, kept since stuntd
 * started: when, how it ended, how many). One LOOKUP per peer, answered
 * when every LOOKUP was or after S_PEERQ_TIMEOUT_MS; the server's answer
 * gives the peer's endpoint (its control connection, as the server sees
 * it). A query's LOOKUPs carry session ids with S_PEERQ_BIT set (the
 * query's number, then the peer's index in the low byte), so their answers
 * come here and never to a session. Bytes are those stuntd copied itself:
 * the tcp: services it splices for a peer (finished hand-offs here, running
 * ones asked of handoff.c); a connection handed off as a descriptor (to
 * stuntctl connect / forward, an exec: service) or a UDP forwarder's
 * datagrams are not counted.
 */
#include "daemon/session.h"

#include "common/clock.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_RECENT_MAX		64
/* the low byte of a LOOKUP's session id is the peer's index */
#define S_PEERQ_MAX		255
#define S_PEERQ_TIMEOUT_MS	3000

/* A peer this host had a session with. */
struct recent {
	char		id[SIG_ID_MAX + 1];
	uint64_t	last;		/* clock_ms of the last session's end */
	unsigned long	sessions, connected;
	bool		last_ok;
	uint8_t		last_method;	/* SIG_M_*, of the last connected one */
	uint64_t	from, to;	/* bytes of its ended tcp: hand-offs */
};

static struct recent recents[S_RECENT_MAX];
static size_t nrecent;
/* every ended hand-off's bytes: the recents forget peers, these do not */
static uint64_t ended_from, ended_to;

struct peerq {
	struct d_ctl_client	*ctl;
	uint64_t		t0;
	uint32_t		qid;
	size_t			n, answered;
	char			ids[S_PEERQ_MAX][SIG_ID_MAX + 1];
	int			online[S_PEERQ_MAX];
	bool			allowed[S_PEERQ_MAX];
	struct stun_addr	ep[S_PEERQ_MAX];
	struct peerq		*next;
};

static struct peerq *peerqs;
static uint32_t next_qid;

static struct recent *recent_find(const char *id)
{
	size_t i;

	for (i = 0; i < nrecent; i++)
		if (!strcmp(recents[i].id, id))
			return &recents[i];
	return NULL;
}

/* The record of peer id, made (the oldest one replaced when full) if new. */
static struct recent *recent_get(const char *id)
{
	struct recent *r = recent_find(id);
	size_t i, old = 0;

	if (r == NULL) {
		if (nrecent < S_RECENT_MAX) {
			r = &recents[nrecent++];
		} else {
			/* full: the one seen longest ago goes */
			for (i = 1; i < nrecent; i++)
				if (recents[i].last < recents[old].last)
					old = i;
			r = &recents[old];
		}
		memset(r, 0, sizeof(*r));
		snprintf(r->id, sizeof(r->id), "%s", id);
		r->last = clock_ms();
	}
	return r;
}

void sess_peer_seen(const struct d_session *s, bool connected)
{
	struct recent *r = recent_get(s->peer);

	r->last = s->t_end ? s->t_end : clock_ms();
	r->sessions++;
	r->last_ok = connected;
	if (connected && s->winner) {
		r->connected++;
		r->last_method = s->winner->method;
	}
}

void d_peer_bytes(const char *peer, uint64_t from, uint64_t to)
{
	struct recent *r = recent_get(peer);

	r->from += from;
	r->to += to;
	ended_from += from;
	ended_to += to;
}

void d_peer_bytes_total(uint64_t *from, uint64_t *to)
{
	*from = ended_from;
	*to = ended_to;
	d_handoff_bytes(NULL, from, to);
}

static void peer_json(FILE *f, const struct peerq *q, size_t i, uint64_t now)
{
	const struct recent *r = recent_find(q->ids[i]);
	char a[STUN_ADDR_STRLEN];
	uint64_t from = 0, to = 0;

	fputs(i ? ",{\"id\":" : "{\"id\":", f);
	d_json_str(f, q->ids[i]);
	fprintf(f, ",\"online\":%s,\"nat\":null,\"allowed\":%s,\"endpoint\":",
		q->online[i] > 0 ? "true" : "false", q->allowed[i] ? "true" : "false");
	if (q->online[i] > 0 && (q->ep[i].family == STUN_FAMILY_IPV4 ||
				 q->ep[i].family == STUN_FAMILY_IPV6))
		fprintf(f, "\"%s\"", stun_addr_str(&q->ep[i], a, sizeof(a)));
	else
		fputs("null", f);
	d_handoff_bytes(q->ids[i], &from, &to);
	if (r) {
		from += r->from;
		to += r->to;
	}
	fprintf(f, ",\"bytes_from_peer\":%llu,\"bytes_to_peer\":%llu", (unsigned long long)from,
		(unsigned long long)to);
	if (r == NULL || r->sessions == 0) {
		fputs(",\"last_seen_ms\":null,\"sessions\":0,\"connected\":0,"
		      "\"last_result\":null,\"last_method\":null}", f);
		return;
	}
	fprintf(f, ",\"last_seen_ms\":%llu,\"sessions\":%lu,\"connected\":%lu,"
		"\"last_result\":\"%s\",\"last_method\":",
		(unsigned long long)(now - r->last), r->sessions, r->connected,
		r->last_ok ? "connected" : "failed");
	d_json_str(f, r->last_method ? sig_method_name(r->last_method) : NULL);
	fputs("}", f);
}

static void peerq_finish(struct peerq *q)
{
	struct peerq **pp;
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);
	uint64_t now = clock_ms();

	for (pp = &peerqs; *pp; pp = &(*pp)->next)
		if (*pp == q) {
			*pp = q->next;
			break;
		}
	if (f) {
		fputs("{\"peers\":[", f);
		for (i = 0; i < q->n; i++)
			peer_json(f, q, i, now);
		fputs("]}", f);
		fclose(f);
		if (q->ctl)
			d_control_answer(q->ctl, buf, -1);
		free(buf);
	}
	free(q);
}

void sess_peerq_tick(uint64_t now)
{
	struct peerq *q, *next;

	for (q = peerqs; q; q = next) {
		next = q->next;
		if (now - q->t0 > S_PEERQ_TIMEOUT_MS)
			peerq_finish(q);
	}
}

void sess_peerq_ctl_gone(struct d_ctl_client *c)
{
	struct peerq *q;

	for (q = peerqs; q; q = q->next)
		if (q->ctl == c)
			q->ctl = NULL;
}

void sess_peerq_answer(uint32_t qid, const struct stun_msg *msg)
{
	struct peerq *q;
	size_t idx = qid & 0xff;

	for (q = peerqs; q; q = q->next)
		if (q->qid == (qid & ~0xffu))
			break;
	if (q == NULL || idx >= q->n || q->online[idx] >= 0)
		return;
	q->online[idx] = msg->cls == STUN_SUCCESS ? 1 : 0;
	if (q->online[idx]) {
		struct sig_lookup_resp r;

		if (sig_get_lookup_resp(msg, &r) == 0)
			q->ep[idx] = r.endpoint;
	}
	if (++q->answered == q->n)
		peerq_finish(q);
}

/* id into q's peers, once; not this host itself */
static void peerq_add(struct peerq *q, const char *id, bool allowed)
{
	size_t k;

	if (!strcmp(id, g_d->cfg.id))
		return;
	for (k = 0; k < q->n; k++)
		if (!strcmp(q->ids[k], id)) {
			q->allowed[k] |= allowed;
			return;
		}
	if (q->n == S_PEERQ_MAX)
		return;
	snprintf(q->ids[q->n], SIG_ID_MAX + 1, "%s", id);
	q->allowed[q->n++] = allowed;
}

void d_session_peers_answer(struct d_ctl_client *c)
{
	struct peerq *q = calloc(1, sizeof(*q));
	const struct d_config *cfg = &g_d->cfg;
	size_t i, j, k;

	if (q == NULL)
		return;
	q->ctl = c;
	q->t0 = clock_ms();
	q->qid = S_PEERQ_BIT | (++next_qid & 0x7fffff) << 8;
	for (i = 0; i < cfg->nallow; i++)
		for (j = 0; j < cfg->allow[i].npeers; j++)
			peerq_add(q, cfg->allow[i].peers[j], true);
	for (i = 0; i < nrecent; i++)
		peerq_add(q, recents[i].id, false);
	q->next = peerqs;
	peerqs = q;
	for (k = 0; k < q->n; k++) {
		q->online[k] = -1;
		if (!d_sig_up() ||
		    d_sig_request(SIG_METHOD_LOOKUP, q->qid | (uint32_t)k, sess_put_lookup, q->ids[k]) < 0) {
			q->online[k] = 0;
			q->answered++;
		}
	}
	if (q->answered == q->n)
		peerq_finish(q);
}

