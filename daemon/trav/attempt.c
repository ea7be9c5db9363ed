// SPDX-License-Identifier: MIT
/*
 * An attempt's life, the same for every method: the session's calls
 * (trav_prepare ... trav_close) dispatched to the method's struct trav_ops,
 * and the reports a method makes through the session's struct trav_events.
 * What a method's socket does on the wire is in sock.c; see trav.h.
 */
#include "daemon/trav/trav.h"

#include "common/clock.h"
#include "common/log.h"
#include "daemon/nfq.h"
#include "nfq/nfq_policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct trav_ops *const methods[] = {
	&trav_direct_ops, &trav_portmap_ops, &trav_reversal_ops, &trav_simopen_ops,
	&trav_stunt1_ops, &trav_synth_ops, &trav_stunt2_ops, &trav_predict_ops,
	&trav_shotgun_ops, &trav_udp_ops, &trav_relay_ops, &trav_host_ops, &trav_simopen6_ops,
	&trav_udp6_ops,
};

const struct trav_ops *trav_ops_of(uint8_t method)
{
	size_t i;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (methods[i]->method == method)
			return methods[i];
	return NULL;
}

enum trav_role trav_role_of(uint8_t method, bool requester)
{
	const struct trav_ops *o = trav_ops_of(method);

	return o ? o->role(requester) : TRAV_NONE;
}

enum trav_role trav_role_connect(bool requester)
{
	(void)requester;
	return TRAV_CONNECT;
}

enum trav_role trav_role_responder_accepts(bool requester)
{
	return requester ? TRAV_CONNECT : TRAV_ACCEPT;
}

enum trav_role trav_role_requester_accepts(bool requester)
{
	return requester ? TRAV_ACCEPT : TRAV_CONNECT;
}

void trav_arm_syn_ttl(struct trav_attempt *a, const struct trav_peer *p, int syn_ttl)
{
	(void)p;
	a->ttl = syn_ttl;
}

const char *trav_state_name(enum trav_state st)
{
	static const char *const n[] = { "idle", "running", "connected", "failed", "cancelled" };

	return st <= TA_CANCELLED ? n[st] : "?";
}

socklen_t trav_sockaddr(const struct trav_attempt *a, uint16_t rport, struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET6) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(rport);
		memcpy(&s6->sin6_addr, a->raddr6, 16);
		return sizeof(*s6);
	}
	s4->sin_family = AF_INET;
	s4->sin_port = htons(rport);
	s4->sin_addr.s_addr = a->raddr;
	return sizeof(*s4);
}

const char *trav_remote_str(const struct trav_attempt *a, char buf[TRAV_EP_STRLEN])
{
	struct sockaddr_storage ss;

	(void)trav_sockaddr(a, a->rport, &ss);
	return d_ep_str((const struct sockaddr *)&ss, buf, TRAV_EP_STRLEN);
}

void trav_flow(const struct trav_attempt *a, uint16_t lport, uint16_t rport, struct nfq_flow *f)
{
	memset(f, 0, sizeof(*f));
	f->proto = PKT_PROTO_TCP;
	f->lport = lport;
	f->rport = rport;
	if (a->family == AF_INET6) {
		f->family = AF_INET6;
		memcpy(f->raddr6, a->raddr6, 16);
	} else {
		f->raddr = a->raddr;
	}
}

uint32_t trav_left_ms(const struct trav_attempt *a, uint64_t now)
{
	return a->deadline > now + 1 ? (uint32_t)(a->deadline - now) : 1;
}

int trav_budget_take(struct trav_attempt *a, unsigned n)
{
	struct trav_budget *b = a->budget;

	if (b == NULL)
		return 0;
	if (b->left >= n) {
		b->left -= n;
		return 0;
	}
	b->left = 0;
	snprintf(a->why, sizeof(a->why), "%s: the session's packet budget is used up "
		 "(max-session-packets %u)", sig_method_name(a->method), b->cap);
	if (!b->hit) {
		b->hit = true;
		g_d->packets_capped++;
		log_warnx("session %u: %s: the packet budget of %u per session is used up "
			  "(max-session-packets): %s stops sending", a->sid, a->peer, b->cap,
			  sig_method_name(a->method));
	}
	return -EDQUOT;
}

int trav_prepare(struct trav_attempt *a, struct d_session *s, const struct trav_events *ev,
		 uint8_t method, uint32_t sid, bool requester, const char *peer,
		 uint64_t deadline, bool forced)
{
	memset(a, 0, sizeof(*a));
	a->s = s;
	a->events = ev;
	a->sid = sid;
	a->requester = requester;
	a->forced = forced;
	snprintf(a->peer, sizeof(a->peer), "%s", peer);
	a->deadline = deadline;
	a->method = method;
	a->conn = -1;
	a->ev.fd = a->pev.fd = -1;
	a->ops = trav_ops_of(method);
	if (a->ops == NULL)
		return -ENOTSUP;
	a->role = a->ops->role(requester);
	if (a->role == TRAV_NONE)
		return -ENOTSUP;
	return a->ops->prepare ? a->ops->prepare(a) : trav_sock_prepare(a);
}

int trav_gather(struct trav_attempt *a)
{
	return a->ops->gather ? a->ops->gather(a) : 1;
}

uint16_t trav_public_port(const struct trav_attempt *a)
{
	return a->pub_port ? a->pub_port : a->lport;
}

void trav_offer(const struct trav_attempt *a, uint32_t public_ip, struct sig_candidate *c,
		struct sig_exchange *x)
{
	c->kind = SIG_CAND_SRFLX;
	c->proto = IPPROTO_TCP;
	c->priority = a->method;
	c->addr.family = STUN_FAMILY_IPV4;
	c->addr.port = trav_public_port(a);
	memcpy(c->addr.ip, &public_ip, 4);
	if (a->ops->offer)
		a->ops->offer(a, c, x);
}

void trav_arm(struct trav_attempt *a, const struct trav_peer *p, int syn_ttl, uint64_t now)
{
	a->raddr = p->addr ? p->addr : p->ip;
	a->rport = p->port;
	/* an accepting side primes its NAT with a TTL-limited SYN */
	a->ttl = a->role == TRAV_ACCEPT ? syn_ttl : 0;
	a->start_at = now;
	if (a->ops->arm)
		a->ops->arm(a, p, syn_ttl);
}

int trav_start(struct trav_attempt *a, uint64_t now)
{
	struct nfq_flow g;
	struct nfq_policy_spec sp;
	int err;

	/* before any packet can leave: no RST from this port to the peer, ever */
	trav_flow(a, a->lport, 0, &g);
	if (!(a->ops->flags & TRAV_F_OWN_GUARD)) {
		nfq_spec_drop_outbound_rst(&sp, &g, D_RST_GUARD_MS);
		trav_sock_policy(a, &sp);
	}
	if (a->ops->flags & TRAV_F_REPORT_SYN) {
		/* before the connect: the queue tells us its first SYN */
		struct nfq_flow f;

		trav_flow(a, a->lport, a->rport, &f);
		nfq_spec_report_syn(&sp, &f, trav_left_ms(a, now),
				    trav_syn_cookie(a, TRAV_COOKIE_NO_WIN));
		sp.count = 1;
		trav_sock_policy(a, &sp);
	}
	a->t_start = now;
	a->state = TA_RUNNING;
	if (a->ops->start)
		err = a->ops->start(a, now);
	else if (a->role == TRAV_ACCEPT)
		err = trav_sock_accept(a, now);
	else
		err = trav_sock_connect(a, now);
	if (err < 0) {
		a->state = TA_FAILED;
		a->t_end = now;
		if (!a->why[0])
			snprintf(a->why, sizeof(a->why), "%s", strerror(-err));
	}
	return err;
}

void trav_tick(struct trav_attempt *a, uint64_t now)
{
	trav_learn_tick(a, now);
	if (a->ops->tick)
		a->ops->tick(a, now);
	if (a->state == TA_RUNNING)
		trav_sock_pace_tick(a, now);
	if (a->pev.fd >= 0 && now >= a->primer_close_ms) {
		/* a socket in SYN_SENT closes without sending anything */
		close(a->pev.fd);
		a->pev.fd = -1;
	}
}

uint64_t trav_syn_cookie(const struct trav_attempt *a, int win)
{
	return trav_cookie_make(a->sid, a->method, a->requester, win);
}

/* Keep the first SYN k of a socket: false if it is not one or one was kept. */
static bool syn_keep(struct trav_syn *t, const struct pkt *k)
{
	if (t->has || pkt_syn_desc_from(k, &t->d) < 0)
		return false;
	t->has = true;
	t->laddr = k->ip.saddr;
	if (k->family == AF_INET6)
		memcpy(t->laddr6, k->ip6.saddr, 16);
	return true;
}

void trav_syn_left(struct trav_attempt *a, int win, const struct pkt *k)
{
	struct trav_syn *t;

	if (a->state != TA_RUNNING)
		return;
	if (win == TRAV_COOKIE_NO_WIN)
		t = &a->syn;
	else if (win >= 0 && (size_t)win < a->nwin)
		t = &a->win[win].syn;
	else
		return;
	if (!syn_keep(t, k))
		return;
	if (t->paced)
		trav_pace_start(&t->pace, clock_ms());	/* left at full TTL */
	if (a->ops->syn_left)
		a->ops->syn_left(a, win);
}

void trav_peer_signal(struct trav_attempt *a, const char *verb, const char *text)
{
	if (a->ops->peer_signal)
		a->ops->peer_signal(a, verb, text);
	else
		log_debug("session %u: RELAY %s for %s, which takes none", a->sid, verb,
			  sig_method_name(a->method));
}

void trav_answer(struct trav_attempt *a, const struct stun_msg *m)
{
	if (a->ops->answer)
		a->ops->answer(a, m);
}

int trav_next_conn(struct trav_attempt *a, bool data_only)
{
	if (a->ops->next_conn == NULL || a->state != TA_CONNECTED)
		return -ENOENT;
	return a->ops->next_conn(a, data_only);
}

void trav_report_failed(struct trav_attempt *a)
{
	a->state = TA_FAILED;
	a->t_end = clock_ms();
	a->events->failed(a);
}

void trav_fail(struct trav_attempt *a, const char *why)
{
	if (a->state != TA_RUNNING)
		return;
	snprintf(a->why, sizeof(a->why), "%s", why);
	trav_report_failed(a);
}

void trav_connected(struct trav_attempt *a, int fd)
{
	a->conn = fd;
	a->state = TA_CONNECTED;
	a->t_end = clock_ms();
	a->events->connected(a);
}

void trav_free_priv(struct trav_attempt *a, bool keep_conn)
{
	(void)keep_conn;
	free(a->priv);
	a->priv = NULL;
}

void trav_close(struct trav_attempt *a, bool keep_conn)
{
	size_t i;

	trav_learn_close(a);
	if (a->ops && a->ops->close)
		a->ops->close(a, keep_conn);
	if (a->ev.fd >= 0) {
		d_loop_del(&a->ev);
		close(a->ev.fd);
		a->ev.fd = -1;
	}
	if (a->pev.fd >= 0) {
		close(a->pev.fd);
		a->pev.fd = -1;
	}
	for (i = 0; i < a->nwin; i++)
		if (a->win[i].ev.fd >= 0) {
			d_loop_del(&a->win[i].ev);
			close(a->win[i].ev.fd);
			a->win[i].ev.fd = -1;
		}
	if (keep_conn) {
		/* the winner: its RSTs and errors are its own business again;
		 * the other flows of a window stay guarded until they expire */
		size_t k = 0;

		for (i = 0; i < a->npol; i++) {
			if (a->nwin && (a->pol_lport[i] != a->lport || a->pol_rport[i] != a->rport)) {
				a->pol[k] = a->pol[i];
				a->pol_lport[k] = a->pol_lport[i];
				a->pol_rport[k++] = a->pol_rport[i];
			} else {
				(void)d_nfq_policy_remove(a->pol[i]);
			}
		}
		a->npol = k;
	} else if (a->conn >= 0) {
		close(a->conn);		/* FIN, not RST: outbound RSTs stay dropped */
		a->conn = -1;
	}
}

void trav_global_tick(uint64_t now)
{
	size_t i;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (methods[i]->global_tick)
			methods[i]->global_tick(now);
}

void trav_shutdown(void)
{
	size_t i;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (methods[i]->shutdown)
			methods[i]->shutdown();
}
