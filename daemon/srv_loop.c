// SPDX-License-Identifier: MIT
/*
 * The event loop of stunt-server: see srv_loop.h.
 *
 * Signals only set flags (SIGTERM/SIGINT: leave, SIGHUP: reload the
 * secrets file, SIGUSR1: dump the counters); they are blocked except
 * inside epoll_pwait(), so a flag set between two checks is never lost.
 *
 * TCP clients: each has a bounded input buffer (one STUN message of at
 * most CLIENT_IN_MAX bytes) and a bounded output buffer. A client whose
 * frame does not fit, whose bytes are not STUN framing, or who does not
 * read its answers is closed and counted. Clients sit on a list ordered by
 * their last activity, so the idle ones are found at its head.
 *
 * TLS clients (accepted on --tls-port) first finish a non-blocking
 * handshake, waiting for whichever direction OpenSSL asks; after that they
 * are ordinary clients whose bytes go through SSL_read / SSL_write.
 *
 * STUNT: srv_stunt.c decides, this file acts. Armed captures, running
 * probes and delayed packets sit in one fixed table (STUNT_PENDING_MAX)
 * with a deadline each; epoll_pwait() sleeps until the nearest one. When
 * the set of captures and probes changes, the pcap filter is rebuilt so
 * that only awaited packets wake us. A client that goes away takes its
 * entries with it.
 */
#include "daemon/srv_loop.h"
#include "daemon/srv_rdv.h"
#include "daemon/srv_stats.h"
#include "daemon/srv_capture.h"
#include "daemon/srv_rate.h"
#include "daemon/srv_stun.h"
#include "daemon/srv_stunt.h"
#include "daemon/srv_tls.h"
#include "common/clock.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/ip.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/queue.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define CLIENT_IN_MAX		2048	/* a Binding request is far smaller */
#define CLIENT_OUT_MAX		(4 * SRV_STUN_BUF)
#define UDP_BURST		64	/* datagrams per wake-up per socket, for fairness */
#define EPOLL_EVENTS		128
#define LISTEN_BACKLOG		1024
#define TICK_MS			1000

enum fd_kind {
	FD_UDP,
	FD_LISTEN,
	FD_CLIENT,
	FD_PCAP,
};

/* First member of everything registered with epoll. */
struct srv_fd {
	enum fd_kind	 kind;
	int		 fd;
	unsigned	 ip, port;	/* which of the four local addresses */
	bool		 tls;		/* FD_LISTEN: a TLS listener */
};

struct client {
	struct srv_fd		 h;
	struct stun_addr	 peer;
	uint64_t		 last_ms;
	size_t			 in_len, out_len, out_off;
	bool			 want_out;	/* EPOLLOUT registered, reading paused */
	struct rdv_conn		 rdv;		/* rendezvous state of this connection */
	struct stunt_conn	 stunt;		/* STUNT state of this connection */
	void			*ssl;		/* TLS, or NULL */
	bool			 handshake;	/* TLS handshake not finished */
	TAILQ_ENTRY(client)	 entry;
	uint8_t			 in[CLIENT_IN_MAX];
	uint8_t			 out[CLIENT_OUT_MAX];
};

static TAILQ_HEAD(client_list, client) clients = TAILQ_HEAD_INITIALIZER(clients);
/* One armed capture, running probe or delayed packet. */
enum pend_kind { PEND_FREE, PEND_CAPTURE, PEND_PROBE, PEND_SEND };

struct pend {
	enum pend_kind		 kind;
	struct client		*c;
	uint64_t		 start_ms, deadline_ms;
	struct srv_cap_want	 want;		/* CAPTURE, PROBE */
	uint32_t		 capture_id;
	uint8_t			 txid[STUN_TXID_LEN];	/* PROBE: the request's */
	struct pkt_tcp_spec	 pkt;		/* PROBE, SEND */
	struct stun_addr	 source;	/* PROBE */
};

static struct srv_fd udp[2][2], lsn[2][2], tls_lsn[2];
static struct srv_stats stats;
static struct srv_rdv rdv;
static struct srv_rate udp_rate;
static struct srv_stunt stunt;
static struct srv_pcap pcapc = { .fd = -1 };
static struct srv_fd cap_fd;
static struct pend pends[STUNT_PENDING_MAX];
static int raw_fd = -1;
static void *tls_ctx;
static bool filter_dirty;
static int epfd = -1;
static volatile sig_atomic_t sig_quit, sig_hup, sig_usr1;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		sig_hup = 1;
	else if (sig == SIGUSR1)
		sig_usr1 = 1;
	else
		sig_quit = 1;
}

static const char *addr_str(const struct stun_addr *a, char *buf, size_t cap)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char host[64];

	if (stun_addr_to_sockaddr(a, &ss, &sl) < 0 ||
	    getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), NULL, 0, NI_NUMERICHOST))
		snprintf(buf, cap, "?");
	else if (a->family == STUN_FAMILY_IPV6)
		snprintf(buf, cap, "[%s]:%u", host, a->port);
	else
		snprintf(buf, cap, "%s:%u", host, a->port);
	return buf;
}

static void open_one(struct srv_fd *f, int type, const struct stun_addr *a, unsigned ip,
		     unsigned port, bool tls)
{
	struct sockaddr_storage ss;
	struct epoll_event ev = { .events = EPOLLIN };
	socklen_t sl;
	char s[80];
	int one = 1;

	f->kind = type == SOCK_DGRAM ? FD_UDP : FD_LISTEN;
	f->ip = ip;
	f->port = port;
	f->tls = tls;
	if (stun_addr_to_sockaddr(a, &ss, &sl) < 0)
		fatalx("bad address");
	f->fd = socket(ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (f->fd < 0)
		fatal("socket");
	if (setsockopt(f->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		fatal("SO_REUSEADDR");
	if (ss.ss_family == AF_INET6)
		setsockopt(f->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(f->fd, (struct sockaddr *)&ss, sl) < 0)
		fatal("bind %s %s", type == SOCK_DGRAM ? "udp" : "tcp", addr_str(a, s, sizeof(s)));
	if (type == SOCK_STREAM && listen(f->fd, LISTEN_BACKLOG) < 0)
		fatal("listen %s", addr_str(a, s, sizeof(s)));
	ev.data.ptr = f;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, f->fd, &ev) < 0)
		fatal("epoll_ctl");
	log_debug("listening on %s %s", type == SOCK_DGRAM ? "udp" : tls ? "tls" : "tcp",
		  addr_str(a, s, sizeof(s)));
}

/* The raw socket and the capture handle: opened while still privileged.
 * Without them (not root, IPv6, --no-stunt) STUNT requests get 500 and
 * everything else works. */
static void stunt_open(const struct srv_config *cfg)
{
	struct srv_stunt_cfg sc = cfg->stunt;
	struct epoll_event ev = { .events = EPOLLIN };
	uint32_t a4;
	char err[512];

	memcpy(sc.sock, cfg->addr, sizeof(sc.sock));
	sc.available = false;
	if (cfg->no_stunt || cfg->addr[0][0].family != STUN_FAMILY_IPV4)
		goto done;
	raw_fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_RAW);
	if (raw_fd < 0) {
		log_warn("STUNT unavailable: raw socket");
		goto done;
	}
	memcpy(&a4, cfg->addr[0][0].ip, 4);
	if (srv_pcap_open(&pcapc, cfg->capture_if, a4, err, sizeof(err)) < 0) {
		log_warnx("STUNT unavailable: %s", err);
		close(raw_fd);
		raw_fd = -1;
		goto done;
	}
	cap_fd.kind = FD_PCAP;
	cap_fd.fd = pcapc.fd;
	ev.data.ptr = &cap_fd;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, pcapc.fd, &ev) < 0)
		fatal("epoll_ctl");
	sc.available = true;
	log_debug("STUNT: capturing on %s", pcapc.ifname);
done:
	srv_stunt_init(&stunt, &sc, clock_ms());
}

void srv_loop_open(const struct srv_config *cfg)
{
	struct rlimit rl;
	unsigned i, j;

	/* thousands of clients need thousands of descriptors */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		fatal("epoll_create1");
	for (i = 0; i < 2; i++)
		for (j = 0; j < 2; j++) {
			open_one(&udp[i][j], SOCK_DGRAM, &cfg->addr[i][j], i, j, false);
			open_one(&lsn[i][j], SOCK_STREAM, &cfg->addr[i][j], i, j, false);
		}
	if (cfg->tls_cert) {
		char err[256];

		if (!(tls_ctx = srv_tls_ctx_new(cfg->tls_cert, cfg->tls_key, err, sizeof(err))))
			fatalx("TLS: %s", err);
		for (i = 0; i < 2; i++) {
			struct stun_addr a = cfg->addr[i][0];

			a.port = cfg->tls_port;
			open_one(&tls_lsn[i], SOCK_STREAM, &a, i, 0, true);
		}
	}
	if (srv_rate_init(&udp_rate, cfg->udp_rate, cfg->udp_burst, SRV_UDP_RATE_SLOTS,
			  (uint32_t)clock_us()) < 0)
		fatalx("out of memory");
	stunt_open(cfg);
}

static void ctx_init(struct srv_stun_ctx *ctx, const struct srv_config *cfg, unsigned ip,
		     unsigned port, enum srv_transport t)
{
	memset(ctx, 0, sizeof(*ctx));
	memcpy(ctx->sock, cfg->addr, sizeof(ctx->sock));
	ctx->rx_ip = ip;
	ctx->rx_port = port;
	ctx->transport = t;
	ctx->software = cfg->software;
}

static void udp_read(const struct srv_config *cfg, struct srv_fd *f)
{
	/* any datagram whole: a request may carry PADDING up to the MTU and
	 * beyond */
	static uint8_t in[65536], out[SRV_STUN_BUF];
	struct srv_stun_ctx ctx;
	struct srv_stun_reply r;
	int k;

	ctx_init(&ctx, cfg, f->ip, f->port, SRV_UDP);
	for (k = 0; k < UDP_BURST; k++) {
		struct sockaddr_storage from, to;
		socklen_t fl = sizeof(from), tl;
		ssize_t n;

		n = recvfrom(f->fd, in, sizeof(in), MSG_TRUNC, (struct sockaddr *)&from, &fl);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_debug("recvfrom: %s", strerror(errno));
			return;
		}
		stats.udp_rx++;
		if (stun_addr_from_sockaddr(&ctx.peer, (struct sockaddr *)&from, fl) < 0)
			continue;
		srv_stun_handle(&ctx, in, (size_t)n > sizeof(in) ? sizeof(in) : (size_t)n, out,
				sizeof(out), &r);
		stats.udp_verdict[r.verdict]++;
		if (r.len == 0)
			continue;
		/* only answers cost anything: a source over its rate gets none,
		 * so spoofed requests cannot aim a flood at anyone */
		if (!srv_rate_allow(&udp_rate, &ctx.peer, clock_ms())) {
			stats.udp_rate_limited++;
			continue;
		}
		if (stun_addr_to_sockaddr(&r.dst, &to, &tl) < 0)
			continue;
		if (r.tx_ip != f->ip || r.tx_port != f->port)
			stats.udp_changed++;
		if (sendto(udp[r.tx_ip][r.tx_port].fd, out, r.len, 0, (struct sockaddr *)&to, tl) < 0)
			stats.udp_tx_err++;	/* ICMP-triggered errors: logging is futile */
		else
			stats.udp_tx++;
	}
}

static void pend_free(struct pend *p)
{
	if (p->kind == PEND_CAPTURE || p->kind == PEND_PROBE)
		filter_dirty = true;
	srv_stunt_done(&stunt, p->c ? &p->c->stunt : NULL);
	memset(p, 0, sizeof(*p));
}

static void client_close(struct client *c)
{
	unsigned i;

	for (i = 0; i < STUNT_PENDING_MAX; i++)
		if (pends[i].kind != PEND_FREE && pends[i].c == c)
			pend_free(&pends[i]);
	if (c->ssl)
		srv_tls_free(c->ssl);
	srv_rdv_drop(&rdv, &c->rdv);
	stats.rdv_registered = rdv.n;
	TAILQ_REMOVE(&clients, c, entry);
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->h.fd, NULL);
	close(c->h.fd);
	stats.tcp_clients--;
	free(c);
}

static void client_events(struct client *c, uint32_t events)
{
	struct epoll_event ev = { .events = events };

	ev.data.ptr = c;
	epoll_ctl(epfd, EPOLL_CTL_MOD, c->h.fd, &ev);
}

static ssize_t conn_send(struct client *c, const void *buf, size_t len)
{
	int other;

	if (!c->ssl)
		return send(c->h.fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	return srv_tls_send(c->ssl, buf, len, &other);
}

static ssize_t conn_recv(struct client *c, void *buf, size_t len)
{
	ssize_t n;
	int want_write;

	if (!c->ssl)
		return recv(c->h.fd, buf, len, MSG_DONTWAIT);
	n = srv_tls_recv(c->ssl, buf, len, &want_write);
	if (n < 0 && want_write && !c->want_out) {
		/* read again once writable: the EPOLLOUT path ends in
		 * client_read() */
		c->want_out = true;
		client_events(c, EPOLLOUT);
	}
	return n;
}

/* Write what is pending. Returns -1 if the client was closed. */
static int client_flush(struct client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = conn_send(c, c->out + c->out_off, c->out_len - c->out_off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			stats.tcp_closed++;
			client_close(c);
			return -1;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out_len) {
		c->out_off = c->out_len = 0;
		if (c->want_out) {
			c->want_out = false;
			client_events(c, EPOLLIN);
		}
	} else {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
		if (!c->want_out) {
			/* stop reading until the client reads: it cannot
			 * make us queue more than CLIENT_OUT_MAX */
			c->want_out = true;
			stats.tcp_backpressure++;
			client_events(c, EPOLLOUT);
		}
	}
	return 0;
}

static void client_touch(struct client *c)
{
	c->last_ms = clock_ms();
	TAILQ_REMOVE(&clients, c, entry);
	TAILQ_INSERT_TAIL(&clients, c, entry);
}

/* A signalling request: the reply goes into c->out (which has room for
 * SRV_STUN_BUF >= RDV_BUF bytes), an indication into the target's output,
 * which is then written when the target is writable -- never closed from
 * here, since the target may have an event pending in this batch. */
static void client_signal(struct client *c, const struct stun_msg *m)
{
	static uint8_t fwd[RDV_BUF];
	struct rdv_out o;
	uint8_t rnd[16];

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		c->out_len += srv_rdv_error(m, STUN_ERR_SERVER_ERROR, NULL, c->out + c->out_len,
					    RDV_BUF);
		return;
	}
	if (srv_rdv_handle(&rdv, &c->rdv, m, rnd, clock_ms(), c->out + c->out_len, fwd, &o) < 0)
		log_warnx("rendezvous: out of memory");
	stats.rdv[o.verdict]++;
	stats.rdv_registered = rdv.n;
	if (o.verdict == RDV_V_OK && c->rdv.authed && m->method == SIG_METHOD_AUTHENTICATE)
		log_info("peer %s registered from %s", c->rdv.id,
			 addr_str(&c->peer, (char[80]){ 0 }, 80));
	if (o.fwd_to) {
		struct client *t = (struct client *)((char *)o.fwd_to - offsetof(struct client, rdv));

		if (t->out_len + o.fwd_len > CLIENT_OUT_MAX) {
			stats.rdv_fwd_full++;
			o.reply_len = srv_rdv_error(m, STUN_ERR_SERVER_ERROR, "Peer not reading",
						    c->out + c->out_len, RDV_BUF);
		} else {
			memcpy(t->out + t->out_len, fwd, o.fwd_len);
			t->out_len += o.fwd_len;
			stats.rdv_fwd++;
			if (t != c && !t->want_out) {
				t->want_out = true;
				client_events(t, EPOLLOUT);
			}
		}
	}
	c->out_len += o.reply_len;
}

/* ---- STUNT ---- */

/* Queue bytes for c outside its own read path (a report, a probe's answer):
 * never closes c, counts what does not fit. */
static void client_queue(struct client *c, const uint8_t *buf, size_t len)
{
	if (!len || c->out_len + len > CLIENT_OUT_MAX) {
		stats.stunt_lost++;
		return;
	}
	memcpy(c->out + c->out_len, buf, len);
	c->out_len += len;
	if (!c->want_out) {
		c->want_out = true;
		client_events(c, EPOLLOUT);
	}
}

static void raw_send(const struct pkt_tcp_spec *spec)
{
	uint8_t buf[PKT_IP4_MAX_HDR + PKT_TCP_MAX_HDR];
	struct sockaddr_in to = { .sin_family = AF_INET };
	size_t len;

	if (pkt_build_tcp(spec, buf, sizeof(buf), &len) < 0) {
		stats.stunt_send_err++;
		return;
	}
	to.sin_addr.s_addr = spec->daddr;
	if (sendto(raw_fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
		stats.stunt_send_err++;
		log_debug("raw send: %s", strerror(errno));
	} else {
		stats.stunt_sent++;
	}
}

static void probe_answer(struct pend *p, const struct stunt_probe_resp *r0, uint64_t now)
{
	static uint8_t buf[STUNT_BUF];
	struct stunt_probe_resp r = *r0;

	r.elapsed_ms = (uint32_t)(now - p->start_ms);
	r.source = p->source;
	stats.stunt_probe[r.result & 3]++;
	client_queue(p->c, buf, srv_stunt_probe_reply(p->txid, &r, buf, sizeof(buf)));
}

static void capture_report(struct pend *p, const struct stunt_syn_report *rep)
{
	static uint8_t buf[STUNT_BUF];
	uint8_t txid[STUN_TXID_LEN];

	if (getrandom(txid, sizeof(txid), 0) != sizeof(txid))
		memset(txid, 0, sizeof(txid));
	client_queue(p->c, buf, srv_stunt_report(rep, txid, buf, sizeof(buf)));
}

static void on_captured(const uint8_t *ip, size_t len, void *arg)
{
	uint64_t now = clock_ms();
	unsigned i;

	(void)arg;
	for (i = 0; i < STUNT_PENDING_MAX; i++) {
		struct pend *p = &pends[i];
		struct stunt_syn_report rep;
		struct stunt_probe_resp pr;

		if (p->kind == PEND_CAPTURE &&
		    srv_capture_syn_report(ip, len, &p->want, (uint32_t)(now - p->start_ms), &rep) == 0) {
			rep.capture_id = p->capture_id;
			srv_stunt_conn_saw(&p->c->stunt, rep.source.port, rep.syn.seq);
			stats.stunt_reports++;
			capture_report(p, &rep);
			pend_free(p);
			return;
		}
		if (p->kind == PEND_PROBE) {
			memset(&pr, 0, sizeof(pr));
			if (srv_capture_probe_match(ip, len, &p->want, &pr) == 0) {
				probe_answer(p, &pr, now);
				pend_free(p);
				return;
			}
		}
	}
}

static void capture_read(void)
{
	int k;

	for (k = 0; k < 16; k++)
		if (srv_pcap_read(&pcapc, on_captured, NULL) <= 0)
			break;
}

/* Rebuild the capture filter after the captures or probes changed. What
 * the old filter let in is read first: nothing armed is lost. */
static void filter_update(void)
{
	static char text[SRV_CAP_FILTER_MAX];
	struct srv_cap_want w[STUNT_PENDING_MAX];
	size_t n = 0;
	unsigned i;

	if (!filter_dirty || !pcapc.p)
		return;
	filter_dirty = false;
	capture_read();
	for (i = 0; i < STUNT_PENDING_MAX; i++)
		if (pends[i].kind == PEND_CAPTURE || pends[i].kind == PEND_PROBE)
			w[n++] = pends[i].want;
	if (srv_capture_filter(w, n, text, sizeof(text)) < 0 || srv_pcap_set_filter(&pcapc, text) < 0)
		log_warnx("capture filter not set (%zu entries)", n);
}

static struct pend *pend_new(enum pend_kind kind, struct client *c, uint64_t now,
			     uint32_t after_ms)
{
	unsigned i;

	for (i = 0; i < STUNT_PENDING_MAX; i++)
		if (pends[i].kind == PEND_FREE) {
			pends[i].kind = kind;
			pends[i].c = c;
			pends[i].start_ms = now;
			pends[i].deadline_ms = now + after_ms;
			return &pends[i];
		}
	return NULL;	/* cannot happen: srv_stunt counts against the same bound */
}

static void pends_expire(uint64_t now)
{
	static const struct stunt_probe_resp dropped = { .result = STUNT_PROBE_DROP };
	unsigned i;

	for (i = 0; i < STUNT_PENDING_MAX; i++) {
		struct pend *p = &pends[i];

		if (p->kind == PEND_FREE || now < p->deadline_ms)
			continue;
		if (p->kind == PEND_SEND) {
			raw_send(&p->pkt);
		} else if (p->kind == PEND_CAPTURE) {
			struct stunt_syn_report rep = { .capture_id = p->capture_id,
							.error = STUN_ERR_TIMEOUT };

			stats.stunt_timeouts++;
			capture_report(p, &rep);
		} else {
			probe_answer(p, &dropped, now);
		}
		pend_free(p);
	}
}

/* Milliseconds until the nearest STUNT deadline, at most TICK_MS. */
static int pends_timeout(uint64_t now)
{
	uint64_t t = TICK_MS;
	unsigned i;

	for (i = 0; i < STUNT_PENDING_MAX; i++)
		if (pends[i].kind != PEND_FREE)
			t = pends[i].deadline_ms <= now ? 0 :
			    (pends[i].deadline_ms - now < t ? pends[i].deadline_ms - now : t);
	return (int)t;
}

/* SEND-PACKET with a source not the server's: a registered peer's address. */
static bool source_is_peer(const struct stun_addr *src, void *arg)
{
	size_t i;

	(void)arg;
	for (i = 0; i < rdv.n; i++)
		if (rdv.reg[i]->peer.family == src->family &&
		    memcmp(rdv.reg[i]->peer.ip, src->ip, 4) == 0)
			return true;
	return false;
}

static void addr4(const struct stun_addr *a, uint32_t *v)
{
	memcpy(v, a->ip, 4);
}

static void client_stunt(struct client *c, const struct stun_msg *m)
{
	struct stunt_action a;
	struct pend *p;
	uint8_t rnd[8];
	uint64_t now = clock_ms();
	char s[80];

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		c->out_len += srv_rdv_error(m, STUN_ERR_SERVER_ERROR, NULL, c->out + c->out_len,
					    STUNT_BUF);
		return;
	}
	if (srv_stunt_handle(&stunt, &c->stunt, c->rdv.authed, m, rnd, now, source_is_peer, NULL,
			     c->out + c->out_len, &a) < 0)
		return;
	stats.stunt[a.verdict]++;
	c->out_len += a.reply_len;
	if (a.verdict > STUNT_V_PROBE) {
		log_debug("STUNT 0x%03x from %s refused: %s", m->method,
			  addr_str(&c->peer, s, sizeof(s)), stunt_verdict_name(a.verdict));
		return;
	}
	if (a.verdict == STUNT_V_SEND && a.delay_ms == 0) {
		/* nothing to wait for: the packet leaves before the reply */
		raw_send(&a.pkt);
		srv_stunt_done(&stunt, &c->stunt);
		return;
	}
	p = pend_new(a.verdict == STUNT_V_CAPTURE ? PEND_CAPTURE :
		     a.verdict == STUNT_V_PROBE ? PEND_PROBE : PEND_SEND, c, now,
		     a.verdict == STUNT_V_SEND ? a.delay_ms : a.timeout_ms);
	if (!p) {
		srv_stunt_done(&stunt, &c->stunt);
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
		filter_dirty = true;
	} else if (a.verdict == STUNT_V_PROBE) {
		p->want.kind = SRV_CAP_PROBE;
		p->want.srv = a.pkt.saddr;
		p->want.srv_port = a.pkt.sport;
		p->want.client_port = a.pkt.dport;
		/* listen before asking */
		filter_dirty = true;
		filter_update();
		raw_send(&p->pkt);
	}
}

/* Answer every whole message in c->in. Returns -1 if the client was closed. */
static int client_process(const struct srv_config *cfg, struct client *c)
{
	struct srv_stun_ctx ctx;
	struct srv_stun_reply r;
	struct stun_msg m;
	size_t off = 0;
	bool parsed;

	ctx_init(&ctx, cfg, c->h.ip, c->h.port, SRV_TCP);
	ctx.peer = c->peer;
	while (c->in_len - off > 0) {
		int flen = stun_frame_len(c->in + off, c->in_len - off);

		if (flen == 0 || (flen > 0 && (size_t)flen > c->in_len - off && (size_t)flen <= CLIENT_IN_MAX))
			break;	/* need more bytes */
		if (flen < 0 || (size_t)flen > CLIENT_IN_MAX) {
			/* RFC 8489 6.2.2 framing lost, or a message larger
			 * than a client of ours would send */
			stats.tcp_bad_frame++;
			client_close(c);
			return -1;
		}
		if (c->out_len + SRV_STUN_BUF > CLIENT_OUT_MAX) {
			if (client_flush(c) < 0)
				return -1;
			if (c->out_len + SRV_STUN_BUF > CLIENT_OUT_MAX)
				break;	/* the rest after EPOLLOUT */
		}
		stats.tcp_rx_msgs++;
		parsed = stun_parse(c->in + off, (size_t)flen, &m) == 0;
		if (parsed && srv_rdv_is_ours(m.method)) {
			client_signal(c, &m);
		} else if (parsed && srv_stunt_is_ours(m.method)) {
			client_stunt(c, &m);
		} else {
			srv_stun_handle(&ctx, c->in + off, (size_t)flen, c->out + c->out_len,
					CLIENT_OUT_MAX - c->out_len, &r);
			stats.tcp_verdict[r.verdict]++;
			c->out_len += r.len;
		}
		off += (size_t)flen;
	}
	if (off) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
	return client_flush(c);
}

static void client_read(const struct srv_config *cfg, struct client *c)
{
	for (;;) {
		ssize_t n;

		if (c->want_out)
			return;
		n = conn_recv(c, c->in + c->in_len, sizeof(c->in) - c->in_len);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
			stats.tcp_closed++;
			client_close(c);
			return;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		c->in_len += (size_t)n;
		client_touch(c);
		if (client_process(cfg, c) < 0)
			return;
	}
}

static void listen_accept(const struct srv_config *cfg, struct srv_fd *f)
{
	for (;;) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		struct epoll_event ev = { .events = EPOLLIN };
		struct client *c;
		int fd, one = 1;

		fd = accept4(f->fd, (struct sockaddr *)&from, &fl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE)
				log_warn("accept");
			return;
		}
		if (stats.tcp_clients >= cfg->max_clients || !(c = calloc(1, sizeof(*c)))) {
			stats.tcp_refused++;
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->h.kind = FD_CLIENT;
		c->h.fd = fd;
		c->h.ip = f->ip;
		c->h.port = f->port;
		stun_addr_from_sockaddr(&c->peer, (struct sockaddr *)&from, fl);
		c->rdv.peer = c->peer;
		c->last_ms = clock_ms();
		srv_stunt_conn_init(&c->stunt, &stunt, &c->peer, f->ip, f->port, c->last_ms);
		if (f->tls) {
			if (!(c->ssl = srv_tls_new(tls_ctx, fd))) {
				stats.tcp_refused++;
				close(fd);
				free(c);
				continue;
			}
			c->handshake = true;
		}
		ev.data.ptr = c;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			stats.tcp_refused++;
			close(fd);
			free(c);
			continue;
		}
		TAILQ_INSERT_TAIL(&clients, c, entry);
		stats.tcp_clients++;
		stats.tcp_accepted++;
	}
}

/* A step of a TLS handshake; then the client is an ordinary one. */
static void client_handshake(const struct srv_config *cfg, struct client *c)
{
	char s[80];

	switch (srv_tls_handshake(c->ssl)) {
	case SRV_TLS_DONE:
		c->handshake = false;
		stats.tls_accepted++;
		client_events(c, EPOLLIN);
		client_touch(c);
		client_read(cfg, c);
		break;
	case SRV_TLS_WANT_READ:
		client_events(c, EPOLLIN);
		break;
	case SRV_TLS_WANT_WRITE:
		client_events(c, EPOLLOUT);
		break;
	case SRV_TLS_FAIL:
		stats.tls_fail++;
		log_debug("TLS handshake with %s failed", addr_str(&c->peer, s, sizeof(s)));
		client_close(c);
		break;
	}
}

static void expire_idle(const struct srv_config *cfg, uint64_t now)
{
	struct client *c;

	while ((c = TAILQ_FIRST(&clients)) && now - c->last_ms >= (uint64_t)cfg->idle_s * 1000) {
		stats.tcp_idle++;
		client_close(c);
	}
}

static void dump_stats(const struct srv_config *cfg)
{
	char buf[2048];

	srv_stats_json(&stats, buf, sizeof(buf));
	log_info("stats %s", buf);
	if (cfg->stats) {
		printf("%s\n", buf);
		fflush(stdout);
	}
}

static void reload_secrets(struct srv_config *cfg)
{
	struct srv_secrets s;
	int err;

	if (!cfg->secrets_path)
		return;
	if ((err = srv_secrets_load(cfg->secrets_path, &s)) < 0) {
		log_warnx("SIGHUP: %s: %s; keeping the %zu ids loaded before", cfg->secrets_path,
			  strerror(-err), cfg->secrets.n);
		return;
	}
	srv_secrets_free(&cfg->secrets);
	cfg->secrets = s;
	log_info("SIGHUP: %zu ids from %s", s.n, cfg->secrets_path);
}

int srv_loop_run(struct srv_config *cfg)
{
	struct epoll_event evs[EPOLL_EVENTS];
	struct sigaction sa;
	sigset_t block, orig;
	uint64_t next_status;
	char line[512];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &orig);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	rdv.secrets = &cfg->secrets;
	next_status = clock_ms() + (uint64_t)cfg->status_s * 1000;
	while (!sig_quit) {
		uint64_t now;
		int n, i;

		n = epoll_pwait(epfd, evs, EPOLL_EVENTS, pends_timeout(clock_ms()), &orig);
		if (n < 0 && errno != EINTR)
			fatal("epoll_pwait");
		for (i = 0; i < n; i++) {
			struct srv_fd *f = evs[i].data.ptr;

			switch (f->kind) {
			case FD_UDP:
				udp_read(cfg, f);
				break;
			case FD_LISTEN:
				listen_accept(cfg, f);
				break;
			case FD_PCAP:
				capture_read();
				break;
			case FD_CLIENT: {
				struct client *c = (struct client *)f;

				if (c->handshake) {
					client_handshake(cfg, c);
					break;
				}
				/* a client closed earlier in this batch is
				 * not in evs twice: one event per fd */
				if (evs[i].events & (EPOLLERR | EPOLLHUP) && !(evs[i].events & EPOLLIN)) {
					stats.tcp_closed++;
					client_close(c);
				} else if (c->want_out) {
					if (client_flush(c) == 0 && !c->want_out &&
					    client_process(cfg, c) == 0)
						client_read(cfg, c);
				} else {
					client_read(cfg, c);
				}
				break;
			}
			}
		}
		now = clock_ms();
		pends_expire(now);
		filter_update();
		expire_idle(cfg, now);
		if (cfg->status_s && now >= next_status) {
			srv_stats_line(&stats, line, sizeof(line));
			log_info("%s", line);
			next_status = now + (uint64_t)cfg->status_s * 1000;
		}
		if (sig_hup) {
			sig_hup = 0;
			reload_secrets(cfg);
		}
		if (sig_usr1) {
			sig_usr1 = 0;
			dump_stats(cfg);
		}
	}
	log_info("exiting on signal");
	srv_stats_line(&stats, line, sizeof(line));
	log_info("%s", line);
	if (cfg->stats)
		dump_stats(cfg);
	while (!TAILQ_EMPTY(&clients))
		client_close(TAILQ_FIRST(&clients));
	srv_rdv_free(&rdv);
	srv_rate_free(&udp_rate);
	srv_pcap_close(&pcapc);
	if (raw_fd >= 0)
		close(raw_fd);
	if (tls_ctx)
		srv_tls_ctx_free(tls_ctx);
	return 0;
}
