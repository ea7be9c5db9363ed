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
 */
#include "daemon/srv_loop.h"
#include "daemon/srv_rdv.h"
#include "daemon/srv_stats.h"
#include "daemon/srv_stun.h"
#include "common/clock.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
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
};

/* First member of everything registered with epoll. */
struct srv_fd {
	enum fd_kind	 kind;
	int		 fd;
	unsigned	 ip, port;	/* which of the four local addresses */
};

struct client {
	struct srv_fd		 h;
	struct stun_addr	 peer;
	uint64_t		 last_ms;
	size_t			 in_len, out_len, out_off;
	bool			 want_out;	/* EPOLLOUT registered, reading paused */
	struct rdv_conn		 rdv;		/* rendezvous state of this connection */
	TAILQ_ENTRY(client)	 entry;
	uint8_t			 in[CLIENT_IN_MAX];
	uint8_t			 out[CLIENT_OUT_MAX];
};

static TAILQ_HEAD(client_list, client) clients = TAILQ_HEAD_INITIALIZER(clients);
static struct srv_fd udp[2][2], lsn[2][2];
static struct srv_stats stats;
static struct srv_rdv rdv;
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
		     unsigned port)
{
	struct sockaddr_storage ss;
	struct epoll_event ev = { .events = EPOLLIN };
	socklen_t sl;
	char s[80];
	int one = 1;

	f->kind = type == SOCK_DGRAM ? FD_UDP : FD_LISTEN;
	f->ip = ip;
	f->port = port;
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
	log_debug("listening on %s %s", type == SOCK_DGRAM ? "udp" : "tcp",
		  addr_str(a, s, sizeof(s)));
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
			open_one(&udp[i][j], SOCK_DGRAM, &cfg->addr[i][j], i, j);
			open_one(&lsn[i][j], SOCK_STREAM, &cfg->addr[i][j], i, j);
		}
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

static void client_close(struct client *c)
{
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

/* Write what is pending. Returns -1 if the client was closed. */
static int client_flush(struct client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->h.fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

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

/* Answer every whole message in c->in. Returns -1 if the client was closed. */
static int client_process(const struct srv_config *cfg, struct client *c)
{
	struct srv_stun_ctx ctx;
	struct srv_stun_reply r;
	struct stun_msg m;
	size_t off = 0;

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
		if (stun_parse(c->in + off, (size_t)flen, &m) == 0 && srv_rdv_is_ours(m.method)) {
			client_signal(c, &m);
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
		n = recv(c->h.fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);
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

		n = epoll_pwait(epfd, evs, EPOLL_EVENTS, TICK_MS, &orig);
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
			case FD_CLIENT: {
				struct client *c = (struct client *)f;

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
	return 0;
}
