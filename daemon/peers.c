// SPDX-License-Identifier: MIT
/*
 * "Which of my allowed peers are online" (stuntctl peers): one LOOKUP per
 * peer named in the allow lists, answered when every LOOKUP was or after
 * S_PEERQ_TIMEOUT_MS. A query's LOOKUPs carry session ids with S_PEERQ_BIT
 * set (the query's number, then the peer's index in the low byte), so
 * their answers come here and never to a session.
 */
#include "daemon/session.h"

#include "common/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_PEERQ_MAX		32
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
	if (++q->answered == q->n)
		peerq_finish(q);
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
		if (!d_sig_up() ||
		    d_sig_request(SIG_METHOD_LOOKUP, q->qid | (uint32_t)k, sess_put_lookup, q->ids[k]) < 0) {
			q->online[k] = 0;
			q->answered++;
		}
	}
	if (q->answered == q->n)
		peerq_finish(q);
}

