// SPDX-License-Identifier: MIT
/*
 * The event loop of stunt-server: see server/loop.h. This file opens the
 * sockets, answers UDP, runs the loop and handles the signals; the TCP/TLS
 * clients are in server/client.c, the STUNT pending operations (raw socket,
 * capture, timers) in server/pend.c, and what they share in server/server.h.
 *
 * Signals only set flags (SIGTERM/SIGINT: leave, SIGHUP: reload the
 * config file and the secrets file, SIGUSR1: dump the counters); they are blocked except
 * inside epoll_pwait(), so a flag set between two checks is never lost.
 * epoll_pwait() sleeps until the nearest STUNT deadline, at most TICK_MS.
 */
#include "server/loop.h"
#include "server/server.h"
#include "server/client.h"
#include "server/metrics.h"
#include "server/cluster.h"
#include "server/pend.h"
#include "server/rate.h"
#include "server/reload.h"
#include "server/stats.h"
#include "server/stun.h"
#include "server/tls.h"
#include "common/clock.h"
#include "common/log.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#define UDP_BURST		64	/* datagrams per wake-up per socket, for fairness */
#define EPOLL_EVENTS		128
#define LISTEN_BACKLOG		1024
#define TICK_MS			1000

static struct srv_state state = {
	.epfd = -1,
	.clients = TAILQ_HEAD_INITIALIZER(state.clients),
	.raw_fd = -1,
	.raw6_fd = -1,
	.pcap = { .fd = -1 },
};
/* [IPv4 rows (--primary), IPv6 rows (--primary6)][ip][port] */
static struct srv_fd udp[2][2][2], lsn[2][2][2], tls_lsn[2][2];	/* [v6][ip] */
static struct srv_rate udp_rate;
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

static void open_one(struct srv_state *st, struct srv_fd *f, int type, const struct stun_addr *a,
		     unsigned ip, unsigned port, bool v6, bool tls)
{
	struct sockaddr_storage ss;
	struct epoll_event ev = { .events = EPOLLIN };
	socklen_t sl;
	char s[80];
	int one = 1;

	f->kind = type == SOCK_DGRAM ? SRV_FD_UDP : SRV_FD_LISTEN;
	f->ip = ip;
	f->port = port;
	f->v6 = v6;
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
		fatal("bind %s %s", type == SOCK_DGRAM ? "udp" : "tcp",
		      stun_addr_str(a, s, sizeof(s)));
	if (type == SOCK_STREAM && listen(f->fd, LISTEN_BACKLOG) < 0)
		fatal("listen %s", stun_addr_str(a, s, sizeof(s)));
	ev.data.ptr = f;
	if (epoll_ctl(st->epfd, EPOLL_CTL_ADD, f->fd, &ev) < 0)
		fatal("epoll_ctl");
	log_debug("listening on %s %s", type == SOCK_DGRAM ? "udp" : tls ? "tls" : "tcp",
		  stun_addr_str(a, s, sizeof(s)));
}

void srv_loop_open(const struct srv_config *cfg)
{
	struct srv_state *st = &state;
	struct rlimit rl;
	unsigned i, j;

	/* thousands of clients need thousands of descriptors */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if ((st->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		fatal("epoll_create1");
	/* one address: row 1 is row 0 again, nothing to bind */
	for (i = 0; i < (cfg->one_addr ? 1u : 2u); i++)
		for (j = 0; j < 2; j++) {
			open_one(st, &udp[0][i][j], SOCK_DGRAM, &cfg->addr[i][j], i, j, false, false);
			open_one(st, &lsn[0][i][j], SOCK_STREAM, &cfg->addr[i][j], i, j, false, false);
		}
	for (i = 0; cfg->have6 && i < (cfg->one_addr6 ? 1u : 2u); i++)
		for (j = 0; j < 2; j++) {
			open_one(st, &udp[1][i][j], SOCK_DGRAM, &cfg->addr6[i][j], i, j, true, false);
			open_one(st, &lsn[1][i][j], SOCK_STREAM, &cfg->addr6[i][j], i, j, true, false);
		}
	if (cfg->tls_cert) {
		char err[256];

		if (!(st->tls_ctx = srv_tls_ctx_new(cfg->tls_cert, cfg->tls_key, err, sizeof(err))))
			fatalx("TLS: %s", err);
		for (i = 0; i < (cfg->one_addr ? 1u : 2u); i++) {
			struct stun_addr a = cfg->addr[i][0];

			a.port = cfg->tls_port;
			open_one(st, &tls_lsn[0][i], SOCK_STREAM, &a, i, 0, false, true);
		}
		/* signalling over TLS from IPv6-only hosts */
		for (i = 0; cfg->have6 && i < (cfg->one_addr6 ? 1u : 2u); i++) {
			struct stun_addr a = cfg->addr6[i][0];

			a.port = cfg->tls_port;
			open_one(st, &tls_lsn[1][i], SOCK_STREAM, &a, i, 0, true, true);
		}
	}
	if (srv_rate_init(&udp_rate, cfg->udp_rate, cfg->udp_burst, SRV_UDP_RATE_SLOTS,
			  SRV_RATE_SEED_RANDOM) < 0)
		fatalx("out of memory");
	if (!udp_rate.seed_random)
		log_warnx("getrandom failed: the UDP rate table's hash is seeded from the clock");
	srv_pend_open(st, cfg);
	srv_metrics_open(st, cfg);
}

void srv_loop_stun_ctx(struct srv_stun_ctx *ctx, const struct srv_config *cfg,
		       const struct srv_fd *f, enum srv_transport t)
{
	memset(ctx, 0, sizeof(*ctx));
	/* what a response says of the server is what clients see of it; a
	 * request is answered in its own family, from its own rows */
	if (f->v6) {
		memcpy(ctx->sock, cfg->addr6, sizeof(ctx->sock));
		ctx->one_addr = cfg->one_addr6;
	} else {
		memcpy(ctx->sock, cfg->pub, sizeof(ctx->sock));
		ctx->one_addr = cfg->one_addr;
	}
	ctx->rx_ip = f->ip;
	ctx->rx_port = f->port;
	ctx->transport = t;
	ctx->software = cfg->software;
}

static void udp_read(struct srv_state *st, const struct srv_config *cfg, struct srv_fd *f)
{
	/* any datagram whole: a request may carry PADDING up to the MTU and
	 * beyond */
	static uint8_t in[65536], out[SRV_STUN_BUF];
	struct srv_stun_ctx ctx;
	struct srv_stun_reply r;
	int k;

	srv_loop_stun_ctx(&ctx, cfg, f, SRV_UDP);
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
		st->stats.udp_rx++;
		if (stun_addr_from_sockaddr(&ctx.peer, (struct sockaddr *)&from, fl) < 0)
			continue;
		srv_stun_handle(&ctx, in, (size_t)n > sizeof(in) ? sizeof(in) : (size_t)n, out,
				sizeof(out), &r);
		st->stats.udp_verdict[r.verdict]++;
		if (r.len == 0)
			continue;
		/* only answers cost anything: a source over its rate gets none,
		 * so spoofed requests cannot aim a flood at anyone */
		if (!srv_rate_allow(&udp_rate, &ctx.peer, clock_ms())) {
			st->stats.udp_rate_limited++;
			continue;
		}
		if (stun_addr_to_sockaddr(&r.dst, &to, &tl) < 0)
			continue;
		if (r.tx_ip != f->ip || r.tx_port != f->port)
			st->stats.udp_changed++;
		if (sendto(udp[f->v6][r.tx_ip][r.tx_port].fd, out, r.len, 0, (struct sockaddr *)&to, tl) < 0)
			st->stats.udp_tx_err++;	/* ICMP-triggered errors: logging is futile */
		else
			st->stats.udp_tx++;
	}
}

static void dump_stats(const struct srv_state *st, const struct srv_config *cfg)
{
	char buf[4096];	/* 2.4 KB with every counter at 19 digits */

	srv_stats_json(&st->stats, buf, sizeof(buf));
	log_info("stats %s", buf);
	if (cfg->stats) {
		printf("%s\n", buf);
		fflush(stdout);
	}
}

/* SIGHUP: read the secrets file again (as the user the server runs as).
 * A file that cannot be read or is refused changes nothing: the ids loaded
 * before stay, registrations included. Otherwise the registrations of ids
 * removed or whose secret changed are closed. */
static void reload_secrets(struct srv_state *st, struct srv_config *cfg)
{
	struct srv_secrets s, prev;
	char why[PATH_MAX + 2048];
	unsigned revoked;

	if (!cfg->secrets_path) {
		/* taken out of the config file: no id registers any more */
		if (!cfg->secrets.n)
			return;
		memset(&s, 0, sizeof(s));
		prev = cfg->secrets;
		cfg->secrets = s;
		revoked = srv_client_revoke(st, &prev, &cfg->secrets);
		log_info("SIGHUP: no secrets file: %zu ids dropped, %u registrations revoked",
			 prev.n, revoked);
		srv_secrets_free(&prev);
		return;
	}
	if (srv_secrets_read(cfg->secrets_path, &s, why, sizeof(why)) < 0) {
		log_warnx("SIGHUP: %s; keeping the %zu ids loaded before", why, cfg->secrets.n);
		return;
	}
	prev = cfg->secrets;
	cfg->secrets = s;
	revoked = srv_client_revoke(st, &prev, &cfg->secrets);
	srv_secrets_free(&prev);
	log_info("SIGHUP: %zu ids from %s, %u registrations revoked", s.n, cfg->secrets_path,
		 revoked);
}

/* SIGHUP: the config file's live options (server/reload.h) into what
 * holds a copy of them. The buckets keep their tokens: a new rate or burst
 * applies from their next refill, so a reload lifts no client's limit. */
static void reload_config(struct srv_state *st, struct srv_config *cfg, uint64_t *next_status)
{
	unsigned status_s = cfg->status_s;

	if (!srv_reload_config(cfg))
		return;
	udp_rate.rate_per_s = cfg->udp_rate;
	udp_rate.burst = cfg->udp_burst;
	st->stunt.cfg.conn_rate = cfg->stunt.conn_rate;
	st->stunt.cfg.conn_burst = cfg->stunt.conn_burst;
	st->stunt.cfg.all_rate = cfg->stunt.all_rate;
	st->stunt.cfg.all_burst = cfg->stunt.all_burst;
	st->rdv.sig_rate = cfg->sig_rate;
	st->rdv.sig_burst = cfg->sig_burst;
	/* a new period counts from now; an unchanged one runs on (reloads
	 * do not postpone the status line) */
	if (cfg->status_s != status_s)
		*next_status = clock_ms() + (uint64_t)cfg->status_s * 1000;
}

int srv_loop_run(struct srv_config *cfg)
{
	struct srv_state *st = &state;
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

	st->rdv.secrets = &cfg->secrets;
	st->rdv.sig_rate = cfg->sig_rate;
	st->rdv.sig_burst = cfg->sig_burst;
	next_status = clock_ms() + (uint64_t)cfg->status_s * 1000;
	srv_cluster_open(st, cfg);
	while (!sig_quit) {
		uint64_t now;
		int n, i;

		n = epoll_pwait(st->epfd, evs, EPOLL_EVENTS,
				srv_pend_timeout(st, clock_ms(), TICK_MS), &orig);
		if (n < 0 && errno != EINTR)
			fatal("epoll_pwait");
		for (i = 0; i < n; i++) {
			struct srv_fd *f = evs[i].data.ptr;

			switch (f->kind) {
			case SRV_FD_UDP:
				udp_read(st, cfg, f);
				break;
			case SRV_FD_LISTEN:
				srv_client_accept(st, cfg, f);
				break;
			case SRV_FD_PCAP:
				srv_pend_capture_read(st);
				break;
			case SRV_FD_CLIENT:
				srv_client_event(st, cfg, (struct srv_client *)f, evs[i].events);
				break;
			case SRV_FD_METRICS:
				srv_metrics_event(f, evs[i].events, clock_ms());
				break;
			case SRV_FD_REDIS:
				srv_cluster_event(st, f, evs[i].events);
				break;
			}
		}
		now = clock_ms();
		srv_pend_expire(st, now);
		srv_pend_filter_update(st);
		srv_client_expire(st, cfg, now);
		srv_metrics_expire(now);
		srv_cluster_tick(st, now);
		if (cfg->status_s && now >= next_status) {
			srv_stats_line(&st->stats, line, sizeof(line));
			log_info("%s", line);
			next_status = now + (uint64_t)cfg->status_s * 1000;
		}
		if (sig_hup) {
			sig_hup = 0;
			reload_config(st, cfg, &next_status);
			reload_secrets(st, cfg);
		}
		if (sig_usr1) {
			sig_usr1 = 0;
			dump_stats(st, cfg);
		}
	}
	log_info("exiting on signal");
	srv_stats_line(&st->stats, line, sizeof(line));
	log_info("%s", line);
	if (cfg->stats)
		dump_stats(st, cfg);
	srv_metrics_close();
	srv_client_close_all(st);
	srv_cluster_close(st);
	srv_rdv_free(&st->rdv);
	srv_rate_free(&udp_rate);
	srv_pend_close(st);
	if (st->tls_ctx)
		srv_tls_ctx_free(st->tls_ctx);
	return 0;
}
