// SPDX-License-Identifier: MIT
/*
 * stunt-server's STUNT pending operations: see server/pend.h.
 */
#include "server/pend.h"
#include "server/client.h"
#include "server/capture.h"
#include "server/rdv.h"
#include "server/stunt.h"
#include "common/clock.h"
#include "common/log.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

void srv_pend_open(struct srv_state *st, const struct srv_config *cfg)
{
	struct srv_stunt_cfg sc = cfg->stunt;
	struct epoll_event ev = { .events = EPOLLIN };
	uint32_t a4;
	char err[512];

	memcpy(sc.sock, cfg->addr, sizeof(sc.sock));
	memcpy(sc.pub, cfg->pub, sizeof(sc.pub));
	if (cfg->have6)
		memcpy(sc.sock6, cfg->addr6, sizeof(sc.sock6));
	sc.one_addr = cfg->one_addr;
	sc.one_addr6 = cfg->one_addr6;
	sc.no_spoof = cfg->no_spoof;
	sc.available = false;
	if (cfg->no_stunt || cfg->addr[0][0].family != STUN_FAMILY_IPV4)
		goto done;
	st->raw_fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_RAW);
	if (st->raw_fd < 0) {
		log_warn("STUNT unavailable: raw socket");
		goto done;
	}
	memcpy(&a4, cfg->addr[0][0].ip, 4);
	if (srv_pcap_open(&st->pcap, cfg->capture_if, a4, err, sizeof(err)) < 0) {
		log_warnx("STUNT unavailable: %s", err);
		close(st->raw_fd);
		st->raw_fd = -1;
		goto done;
	}
	st->cap_fd.kind = SRV_FD_PCAP;
	st->cap_fd.fd = st->pcap.fd;
	ev.data.ptr = &st->cap_fd;
	if (epoll_ctl(st->epfd, EPOLL_CTL_ADD, st->pcap.fd, &ev) < 0)
		fatal("epoll_ctl");
	sc.available = true;
	log_debug("STUNT: capturing on %s", st->pcap.ifname);
	/* IPv6 test SYNs: the capture above sees the answers only when the
	 * IPv6 addresses share its interface (or it is "any", --capture-if);
	 * else every probe would time out and read as "dropped" */
	if (cfg->have6 && (!srv_pcap_sees6(&st->pcap, cfg->addr6[0][0].ip) ||
			   !srv_pcap_sees6(&st->pcap, cfg->addr6[1][0].ip))) {
		log_warnx("STUNT over IPv6 unavailable: the IPv6 addresses are not on %s "
			  "(--capture-if any)", st->pcap.ifname);
	} else if (cfg->have6) {
		st->raw6_fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_RAW);
		if (st->raw6_fd < 0)
			log_warn("STUNT over IPv6 unavailable: raw socket");
		sc.available6 = st->raw6_fd >= 0;
	}
done:
	srv_stunt_init(&st->stunt, &sc, clock_ms());
	st->rdv.raw_ok = sc.available;	/* SYNACK (STUNT #1) needs the raw socket */
	st->rdv.no_spoof = cfg->no_spoof;	/* ... and a network that lets it spoof */
}

void srv_pend_close(struct srv_state *st)
{
	srv_pcap_close(&st->pcap);
	if (st->raw_fd >= 0)
		close(st->raw_fd);
	if (st->raw6_fd >= 0)
		close(st->raw6_fd);
}

static void pend_free(struct srv_state *st, struct srv_pend *p)
{
	if (p->kind == SRV_PEND_CAPTURE || p->kind == SRV_PEND_PROBE)
		st->filter_dirty = true;
	srv_stunt_done(&st->stunt, p->c ? &p->c->stunt : NULL);
	memset(p, 0, sizeof(*p));
}

void srv_pend_drop(struct srv_state *st, const struct srv_client *c)
{
	unsigned i;

	for (i = 0; i < STUNT_PENDING_MAX; i++)
		if (st->pends[i].kind != SRV_PEND_FREE && st->pends[i].c == c)
			pend_free(st, &st->pends[i]);
}

static void raw_send(struct srv_state *st, const struct pkt_tcp_spec *spec)
{
	uint8_t buf[PKT_IP4_MAX_HDR + PKT_TCP_MAX_HDR];
	struct sockaddr_in to = { .sin_family = AF_INET };
	size_t len;

	if (pkt_build_tcp(spec, buf, sizeof(buf), &len) < 0) {
		st->stats.stunt_send_err++;
		return;
	}
	to.sin_addr.s_addr = spec->daddr;
	if (sendto(st->raw_fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
		st->stats.stunt_send_err++;
		log_debug("raw send: %s", strerror(errno));
	} else {
		st->stats.stunt_sent++;
	}
}

/* An IPv6 test SYN (PROBE-UNSOLICITED): spec's segment between src and dst. */
static void raw6_send(struct srv_state *st, const struct pkt_tcp_spec *spec,
		      const struct stun_addr *src, const struct stun_addr *dst)
{
	uint8_t buf[PKT_IP6_HDR + PKT_TCP_MAX_HDR];
	struct sockaddr_in6 to = { .sin6_family = AF_INET6 };
	size_t len;

	if (st->raw6_fd < 0 || srv_stunt_build6(spec, src->ip, dst->ip, buf, sizeof(buf), &len) < 0) {
		st->stats.stunt_send_err++;
		return;
	}
	memcpy(&to.sin6_addr, dst->ip, 16);
	if (sendto(st->raw6_fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
		st->stats.stunt_send_err++;
		log_debug("raw send (IPv6): %s", strerror(errno));
	} else {
		st->stats.stunt_sent++;
	}
}

void srv_pend_raw(struct srv_state *st, const struct pkt_tcp_spec *spec)
{
	if (st->raw_fd >= 0)
		raw_send(st, spec);
}

static void probe_answer(struct srv_state *st, struct srv_pend *p,
			 const struct stunt_probe_resp *r0, uint64_t now)
{
	static uint8_t buf[STUNT_BUF];
	struct stunt_probe_resp r = *r0;

	r.elapsed_ms = (uint32_t)(now - p->start_ms);
	r.source = p->source;
	st->stats.stunt_probe[r.result & 3]++;
	srv_client_queue(st, p->c, buf, srv_stunt_probe_reply(p->txid, &r, buf, sizeof(buf)));
}

static void capture_report(struct srv_state *st, struct srv_pend *p,
			   const struct stunt_syn_report *rep)
{
	static uint8_t buf[STUNT_BUF];
	uint8_t txid[STUN_TXID_LEN];

	if (getrandom(txid, sizeof(txid), 0) != sizeof(txid))
		memset(txid, 0, sizeof(txid));
	srv_client_queue(st, p->c, buf, srv_stunt_report(rep, txid, buf, sizeof(buf)));
}

static void on_captured(const uint8_t *ip, size_t len, void *arg)
{
	struct srv_state *st = arg;
	uint64_t now = clock_ms();
	unsigned i;

	for (i = 0; i < STUNT_PENDING_MAX; i++) {
		struct srv_pend *p = &st->pends[i];
		struct stunt_syn_report rep;
		struct stunt_probe_resp pr;

		if (p->kind == SRV_PEND_CAPTURE &&
		    srv_capture_syn_report(ip, len, &p->want, (uint32_t)(now - p->start_ms), &rep) == 0) {
			rep.capture_id = p->capture_id;
			srv_stunt_conn_saw(&p->c->stunt, rep.source.port, rep.syn.seq);
			st->stats.stunt_reports++;
			capture_report(st, p, &rep);
			pend_free(st, p);
			return;
		}
		if (p->kind == SRV_PEND_PROBE) {
			memset(&pr, 0, sizeof(pr));
			if (srv_capture_probe_match(ip, len, &p->want, &pr) == 0) {
				probe_answer(st, p, &pr, now);
				pend_free(st, p);
				return;
			}
		}
	}
}

void srv_pend_capture_read(struct srv_state *st)
{
	int k;

	for (k = 0; k < 16; k++)
		if (srv_pcap_read(&st->pcap, on_captured, st) <= 0)
			break;
}

/* The capture's program follows whether anything is armed (capture.h says
 * why it never changes while an entry waits). */
void srv_pend_filter_update(struct srv_state *st)
{
	bool armed = false;
	unsigned i;

	if (!st->filter_dirty || !st->pcap.p)
		return;
	st->filter_dirty = false;
	for (i = 0; i < STUNT_PENDING_MAX; i++)
		if (st->pends[i].kind == SRV_PEND_CAPTURE || st->pends[i].kind == SRV_PEND_PROBE)
			armed = true;
	if (armed == st->filter_armed)
		return;
	if (srv_pcap_set_filter(&st->pcap, armed ? SRV_CAP_FILTER_ARMED : SRV_CAP_FILTER_IDLE) < 0) {
		log_warnx("capture filter not set (%s)", armed ? "armed" : "idle");
		st->filter_dirty = true;	/* try again at the next change */
		return;
	}
	st->filter_armed = armed;
}

static struct srv_pend *pend_new(struct srv_state *st, enum srv_pend_kind kind,
				 struct srv_client *c, uint64_t now, uint32_t after_ms)
{
	unsigned i;

	for (i = 0; i < STUNT_PENDING_MAX; i++)
		if (st->pends[i].kind == SRV_PEND_FREE) {
			st->pends[i].kind = kind;
			st->pends[i].c = c;
			st->pends[i].start_ms = now;
			st->pends[i].deadline_ms = now + after_ms;
			return &st->pends[i];
		}
	return NULL;	/* cannot happen: srv_stunt counts against the same bound */
}

void srv_pend_expire(struct srv_state *st, uint64_t now)
{
	static const struct stunt_probe_resp dropped = { .result = STUNT_PROBE_DROP };
	unsigned i;

	for (i = 0; i < STUNT_PENDING_MAX; i++) {
		struct srv_pend *p = &st->pends[i];

		if (p->kind == SRV_PEND_FREE || now < p->deadline_ms)
			continue;
		if (p->kind == SRV_PEND_SEND) {
			raw_send(st, &p->pkt);
		} else if (p->kind == SRV_PEND_CAPTURE) {
			struct stunt_syn_report rep = { .capture_id = p->capture_id,
							.error = STUN_ERR_TIMEOUT };

			st->stats.stunt_timeouts++;
			capture_report(st, p, &rep);
		} else {
			probe_answer(st, p, &dropped, now);
		}
		pend_free(st, p);
	}
}

int srv_pend_timeout(const struct srv_state *st, uint64_t now, int max_ms)
{
	uint64_t t = (uint64_t)max_ms;
	unsigned i;

	for (i = 0; i < STUNT_PENDING_MAX; i++)
		if (st->pends[i].kind != SRV_PEND_FREE)
			t = st->pends[i].deadline_ms <= now ? 0 :
			    (st->pends[i].deadline_ms - now < t ? st->pends[i].deadline_ms - now : t);
	return (int)t;
}

/* SEND-PACKET with a source not the server's: a registered peer's address. */
static bool source_is_peer(const struct stun_addr *src, void *arg)
{
	const struct srv_rdv *rdv = arg;
	size_t i;

	for (i = 0; i < rdv->n; i++)
		if (rdv->reg[i]->peer.family == src->family &&
		    memcmp(rdv->reg[i]->peer.ip, src->ip, 4) == 0)
			return true;
	return false;
}

static void addr4(const struct stun_addr *a, uint32_t *v)
{
	memcpy(v, a->ip, 4);
}

void srv_pend_stunt(struct srv_state *st, struct srv_client *c, const struct stun_msg *m)
{
	struct stunt_action a;
	struct srv_pend *p;
	uint8_t rnd[8];
	uint64_t now = clock_ms();
	char s[80];

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		c->out_len += srv_rdv_error(m, STUN_ERR_SERVER_ERROR, NULL, c->out + c->out_len,
					    STUNT_BUF);
		return;
	}
	if (srv_stunt_handle(&st->stunt, &c->stunt, c->rdv.authed, m, rnd, now, source_is_peer,
			     &st->rdv, c->out + c->out_len, &a) < 0)
		return;
	st->stats.stunt[a.verdict]++;
	c->out_len += a.reply_len;
	if (a.verdict > STUNT_V_PROBE) {
		log_debug("STUNT 0x%03x from %s refused: %s", m->method,
			  stun_addr_str(&c->peer, s, sizeof(s)), stunt_verdict_name(a.verdict));
		return;
	}
	if (a.verdict == STUNT_V_SEND && a.delay_ms == 0) {
		/* nothing to wait for: the packet leaves before the reply */
		raw_send(st, &a.pkt);
		srv_stunt_done(&st->stunt, &c->stunt);
		return;
	}
	p = pend_new(st, a.verdict == STUNT_V_CAPTURE ? SRV_PEND_CAPTURE :
		     a.verdict == STUNT_V_PROBE ? SRV_PEND_PROBE : SRV_PEND_SEND, c, now,
		     a.verdict == STUNT_V_SEND ? a.delay_ms : a.timeout_ms);
	if (!p) {
		srv_stunt_done(&st->stunt, &c->stunt);
		return;
	}
	p->pkt = a.pkt;
	p->source = a.source;
	memcpy(p->txid, a.txid, sizeof(p->txid));
	p->capture_id = a.capture_id;
	addr4(&c->peer, &p->want.client);
	if (a.verdict == STUNT_V_CAPTURE) {
		p->want.kind = SRV_CAP_SYN;
		addr4(&a.target, &p->want.srv);
		p->want.srv_port = a.target.port;
		/* The CAPTURE success is already queued and the client sends its
		 * SYN as soon as it reads it: the filter must let the SYN in
		 * before this client's output is flushed, not at the loop's end. */
		st->filter_dirty = true;
		srv_pend_filter_update(st);
	} else if (a.verdict == STUNT_V_PROBE) {
		p->want.kind = SRV_CAP_PROBE;
		p->want.srv = a.pkt.saddr;
		p->want.srv_port = a.pkt.sport;
		p->want.client_port = a.pkt.dport;
		if ((p->want.v6 = a.dst.family == STUN_FAMILY_IPV6)) {
			memcpy(p->want.client6, a.dst.ip, 16);
			memcpy(p->want.srv6, a.src.ip, 16);
		}
		/* listen before asking */
		st->filter_dirty = true;
		srv_pend_filter_update(st);
		if (p->want.v6)
			raw6_send(st, &p->pkt, &a.src, &a.dst);
		else
			raw_send(st, &p->pkt);
	}
}
