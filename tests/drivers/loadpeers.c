// SPDX-License-Identifier: MIT
/*
 * loadpeers: many simulated peers against one stunt-server, for the load
 * test (tests/lab/t_load.sh) and benchmark (tests/bench/load.sh).
 *
 *   loadpeers --server IP[:PORT] --secrets FILE [--prefix P] [--peers N]
 *             [--server-pid PID] [--window W] [--soak-ms T]
 *             [--keepalive-ms K] [--churn N] [--flood] [--flood-udp-pps R]
 *             [--flood-tcp-cps C] [--flood-hold-max H] [--timeout-ms T]
 *
 * Every id of FILE (the server's secrets file) that starts with P becomes
 * a peer (at most N): its own TCP connection, REGISTER + AUTHENTICATE as
 * stuntd does, then a Binding request every K ms (as stuntd's keepalive).
 * As stuntd does (proto/sig_sec.h), each peer derives its session keys
 * from the registration nonce; from AUTHENTICATE's success on, every
 * message it sends is sealed (SIG-SEQ + MESSAGE-INTEGRITY-SHA256) and
 * every answer verified: the server pays the HMACs of a real load. An
 * answer that does not verify is counted (sec_fail) and not used; only a
 * success answer counts as an answered keepalive (ka_err: error answers).
 * At most W connections are being made at once. Phases:
 *   1. base: the server's RSS and open descriptors (/proc/PID);
 *   2. register every peer (retrying one whose connection failed);
 *   3. soak for T ms: keepalives; every second N registered peers are
 *      closed and registered again (fresh registrations under load); with
 *      --flood, during the soak: R malformed / unauthenticated UDP
 *      datagrams per second at the server's four addresses (two IPs from
 *      the Binding answer's OTHER-ADDRESS are not known here: the primary
 *      IP's two ports and --alternate's), and C TCP connections per second
 *      that send garbage, a bad frame, an unknown id, a wrong credential
 *      for a real id, or half a message and then nothing (at most H held);
 *   4. a LOOKUP from the first peer for the last (the server still answers);
 *   5. everything closed: the server's descriptors again.
 * Output: one "key value" per line on stdout; progress on stderr.
 * Exit: 0 done (the numbers say how well), 1 error, 2 usage.
 */
#include "common/addr.h"
#include "common/clock.h"
#include "tests/drivers/procstat.h"
#include "server/secrets.h"
#include "proto/sig.h"
#include "proto/sig_sec.h"
#include "proto/stun_msg.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

enum pstate { P_IDLE, P_CONNECTING, P_REG, P_AUTH, P_UP };

struct peer {
	int			 fd;
	enum pstate		 st;
	const struct srv_secret	*sec;
	uint64_t		 start_ms, retry_ms, next_ka_ms;
	bool			 ka_out;	/* a keepalive is unanswered */
	bool			 lookup_out;
	struct sig_keys		 keys;		/* derived at REGISTER's answer */
	struct sig_sec		 ss;		/* on from AUTHENTICATE's success */
	size_t			 rlen;
	uint8_t			 rbuf[2048];
};

/* a flood connection: what it sends once connected */
enum fkind { F_GARBAGE, F_BADFRAME, F_UNKNOWN_ID, F_WRONG_CRED, F_HALF, F_NKINDS };

struct fconn {
	int		 fd;
	enum fkind	 kind;
	bool		 sent;
	uint64_t	 close_ms;	/* 0: hold until the server closes it */
	uint8_t		 rbuf[512];
	size_t		 rlen;
};

#define TAG_PEER	0x10000000u
#define TAG_FLOOD	0x20000000u
#define TAG_MASK	0x0fffffffu
#define FLOOD_MAX	4096

static struct sockaddr_in srv, srv_alt;
static bool have_alt;
static int epfd;
static struct peer *peers;
static size_t npeers;
static struct fconn fl[FLOOD_MAX];
static pid_t spid;

static struct {
	unsigned long reg_ok, up, reg_fail, conn_fail, ka_sent, ka_ok, ka_err, ka_lost, dropped;
	unsigned long sec_fail;
	unsigned long churned, lookup_ok, lookup_fail;
	unsigned long f_udp, f_tcp, f_tcp_fail, f_closed_by_srv, f_answers;
} n;

static void usage(void)
{
	fprintf(stderr, "usage: loadpeers --server IP[:PORT] --secrets FILE [--alternate IP]\n"
			"  [--prefix P] [--peers N] [--server-pid PID] [--window W] [--soak-ms T]\n"
			"  [--keepalive-ms K] [--churn N] [--flood] [--flood-udp-pps R]\n"
			"  [--flood-tcp-cps C] [--flood-hold-max H] [--timeout-ms T]\n");
	exit(2);
}

/* ---- the server process, from /proc ---- */

/* ---- messages ---- */

static int build(uint16_t method, const void *body, uint8_t *buf, size_t cap)
{
	struct stun_builder b;
	uint8_t txid[STUN_TXID_LEN];

	if (RAND_bytes(txid, sizeof(txid)) != 1)
		return -EIO;
	stun_build_init(&b, buf, cap, stun_type(method, STUN_REQUEST), txid);
	if (method == SIG_METHOD_REGISTER)
		sig_put_register(&b, body);
	else if (method == SIG_METHOD_AUTHENTICATE)
		sig_put_auth(&b, body);
	else if (method == SIG_METHOD_LOOKUP)
		sig_put_lookup(&b, body);
	return stun_build_finish(&b);
}

/* A whole small message, or the peer is closed (a blocking-free send of
 * under 1 KB to a socket with an empty buffer does not come out short). */
static int send_all(int fd, const uint8_t *buf, int len)
{
	return len > 0 && send(fd, buf, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT) == len ? 0 : -1;
}

/* A request of the peer's, sealed once its connection is authenticated. */
static int peer_send(struct peer *p, uint16_t method, const void *body)
{
	uint8_t buf[512];
	int len = build(method, body, buf, sizeof(buf));

	if (len > 0 && p->ss.on)
		len = sig_sec_seal(&p->ss, buf, (size_t)len, sizeof(buf));
	return send_all(p->fd, buf, len);
}

static void peer_close(struct peer *p)
{
	if (p->fd >= 0) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, p->fd, NULL);
		close(p->fd);
	}
	p->fd = -1;
	p->st = P_IDLE;
	p->rlen = 0;
	p->ka_out = p->lookup_out = false;
	sig_sec_stop(&p->ss);
}

static void peer_fail(struct peer *p, uint64_t now, unsigned long *counter)
{
	(*counter)++;
	if (p->st == P_UP)
		n.up--;
	peer_close(p);
	p->retry_ms = now + 1000;
}

static int peer_start(struct peer *p, size_t i, uint64_t now)
{
	struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN, .data.u32 = TAG_PEER | (uint32_t)i };
	int one = 1;

	p->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0)
		return -1;
	setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(p->fd, (struct sockaddr *)&srv, sizeof(srv)) < 0 && errno != EINPROGRESS) {
		close(p->fd);
		p->fd = -1;
		return -1;
	}
	epoll_ctl(epfd, EPOLL_CTL_ADD, p->fd, &ev);
	p->st = P_CONNECTING;
	p->start_ms = now;
	return 0;
}

static void peer_send_register(struct peer *p, uint64_t now)
{
	struct sig_register r;
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 0 };

	memset(&r, 0, sizeof(r));
	snprintf(r.peer_id, sizeof(r.peer_id), "%s", p->sec->id);
	ev.data.u32 = TAG_PEER | (uint32_t)(p - peers);
	epoll_ctl(epfd, EPOLL_CTL_MOD, p->fd, &ev);
	if (peer_send(p, SIG_METHOD_REGISTER, &r) < 0)
		peer_fail(p, now, &n.conn_fail);
	else
		p->st = P_REG;
}

static void peer_msg(struct peer *p, const struct stun_msg *m, uint64_t now)
{
	/* from AUTHENTICATE's success (included) on, everything must verify */
	if (!p->ss.on && p->st == P_AUTH && m->method == SIG_METHOD_AUTHENTICATE &&
	    m->cls == STUN_SUCCESS)
		sig_sec_start(&p->ss, &p->keys, false);
	if (p->ss.on && sig_sec_open(&p->ss, m) != SIG_SEC_OK) {
		n.sec_fail++;
		if (p->st == P_AUTH)	/* the server did not prove it knows the secret */
			peer_fail(p, now, &n.reg_fail);
		return;
	}
	if (m->method == SIG_METHOD_REGISTER && p->st == P_REG) {
		struct sig_register_resp rr;
		struct sig_auth a;

		if (m->cls != STUN_SUCCESS || sig_get_register_resp(m, &rr) < 0) {
			peer_fail(p, now, &n.reg_fail);
			return;
		}
		memset(&a, 0, sizeof(a));
		snprintf(a.peer_id, sizeof(a.peer_id), "%s", p->sec->id);
		memcpy(a.nonce, rr.nonce, rr.nonce_len);
		a.nonce_len = rr.nonce_len;
		if (sig_credential(p->sec->secret, p->sec->secret_len, p->sec->id, rr.nonce,
				   rr.nonce_len, a.credential) < 0 ||
		    sig_session_keys(p->sec->secret, p->sec->secret_len, p->sec->id, rr.nonce,
				     rr.nonce_len, &p->keys) < 0) {
			peer_fail(p, now, &n.reg_fail);
			return;
		}
		if (peer_send(p, SIG_METHOD_AUTHENTICATE, &a) < 0)
			peer_fail(p, now, &n.conn_fail);
		else
			p->st = P_AUTH;
	} else if (m->method == SIG_METHOD_AUTHENTICATE && p->st == P_AUTH) {
		if (m->cls != STUN_SUCCESS) {
			peer_fail(p, now, &n.reg_fail);
			return;
		}
		p->st = P_UP;
		n.reg_ok++;
		n.up++;
		p->next_ka_ms = now + 1000 + (uint64_t)(rand() % 9000);
	} else if (m->method == STUN_METHOD_BINDING && p->ka_out) {
		p->ka_out = false;
		if (m->cls == STUN_SUCCESS)
			n.ka_ok++;
		else
			n.ka_err++;
	} else if (m->method == SIG_METHOD_LOOKUP && p->lookup_out) {
		p->lookup_out = false;
		if (m->cls == STUN_SUCCESS)
			n.lookup_ok++;
		else
			n.lookup_fail++;
	}
}

static void peer_event(struct peer *p, uint32_t events, uint64_t now)
{
	struct stun_msg m;
	ssize_t r;
	int err = 0, flen;
	socklen_t el = sizeof(err);

	if (p->st == P_CONNECTING) {
		getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err || (events & (EPOLLERR | EPOLLHUP))) {
			peer_fail(p, now, &n.conn_fail);
			return;
		}
		if (events & EPOLLOUT)
			peer_send_register(p, now);
		return;
	}
	r = recv(p->fd, p->rbuf + p->rlen, sizeof(p->rbuf) - p->rlen, MSG_DONTWAIT);
	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
		peer_fail(p, now, p->st == P_UP ? &n.dropped : &n.reg_fail);
		return;
	}
	if (r < 0)
		return;
	p->rlen += (size_t)r;
	while (p->fd >= 0 && p->rlen >= 4) {
		flen = stun_frame_len(p->rbuf, p->rlen);
		if (flen < 0 || (size_t)flen > sizeof(p->rbuf)) {
			peer_fail(p, now, &n.reg_fail);
			return;
		}
		if (flen == 0 || (size_t)flen > p->rlen)
			break;
		if (stun_parse(p->rbuf, (size_t)flen, &m) == 0)
			peer_msg(p, &m, now);
		if (p->fd < 0)
			return;
		memmove(p->rbuf, p->rbuf + flen, p->rlen - (size_t)flen);
		p->rlen -= (size_t)flen;
	}
}

static void peer_keepalive(struct peer *p, uint64_t now, uint64_t ka_ms)
{
	if (p->st != P_UP || now < p->next_ka_ms)
		return;
	if (p->ka_out)
		n.ka_lost++;
	p->next_ka_ms = now + ka_ms;
	n.ka_sent++;
	if (peer_send(p, STUN_METHOD_BINDING, NULL) < 0)
		peer_fail(p, now, &n.dropped);
	else
		p->ka_out = true;
}

/* ---- the flood ---- */

static const struct srv_secret *any_secret(void)
{
	return peers[(size_t)rand() % npeers].sec;
}

/* One malformed or unauthenticated message of this kind into buf. */
static int flood_payload(enum fkind k, uint8_t *buf, size_t cap)
{
	int len;

	switch (k) {
	case F_GARBAGE:
		len = 1 + rand() % 600;
		RAND_bytes(buf, len);
		buf[0] &= 0x3f;		/* looks like STUN's first two bits */
		return len;
	case F_BADFRAME:
		/* a STUN header that claims 60000 bytes */
		len = 20;
		RAND_bytes(buf, len);
		buf[0] = 0x00;
		buf[1] = 0x01;
		stun_wr16(buf + 2, 60000);
		stun_wr32(buf + 4, STUN_MAGIC_COOKIE);
		return len;
	case F_UNKNOWN_ID: {
		struct sig_register r;

		memset(&r, 0, sizeof(r));
		snprintf(r.peer_id, sizeof(r.peer_id), "nobody-%d", rand());
		return build(SIG_METHOD_REGISTER, &r, buf, cap);
	}
	case F_WRONG_CRED: {
		/* AUTHENTICATE for a real id with a nonce and credential made up:
		 * must not unseat the registered peer */
		struct sig_auth a;

		memset(&a, 0, sizeof(a));
		snprintf(a.peer_id, sizeof(a.peer_id), "%s", any_secret()->id);
		a.nonce_len = 16;
		RAND_bytes(a.nonce, 16);
		RAND_bytes(a.credential, SIG_CREDENTIAL_LEN);
		return build(SIG_METHOD_AUTHENTICATE, &a, buf, cap);
	}
	case F_HALF:
	default:
		/* the first 10 bytes of a Binding request, then nothing */
		len = build(STUN_METHOD_BINDING, NULL, buf, cap);
		return len > 10 ? 10 : len;
	}
}

static void flood_udp(int ufd)
{
	struct sockaddr_in to = srv;
	uint8_t buf[700];
	int len, k = rand() % 4;

	len = flood_payload((enum fkind)(rand() % 5), buf, sizeof(buf));
	if (len <= 0)
		return;
	if (k & 1)
		to.sin_port = htons((uint16_t)(ntohs(srv.sin_port) + 1));
	if ((k & 2) && have_alt)
		to.sin_addr = srv_alt.sin_addr;
	if (sendto(ufd, buf, (size_t)len, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof(to)) > 0)
		n.f_udp++;
}

static void flood_close(struct fconn *f)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, f->fd, NULL);
	close(f->fd);
	f->fd = -1;
}

static void flood_tcp(uint64_t now, unsigned hold_max)
{
	struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN };
	unsigned i, held = 0, slot = FLOOD_MAX;
	struct fconn *f;

	for (i = 0; i < FLOOD_MAX; i++) {
		if (fl[i].fd < 0 && slot == FLOOD_MAX)
			slot = i;
		else if (fl[i].fd >= 0 && fl[i].kind == F_HALF)
			held++;
	}
	if (slot == FLOOD_MAX)
		return;
	f = &fl[slot];
	f->kind = (enum fkind)(rand() % F_NKINDS);
	if (f->kind == F_HALF && held >= hold_max)
		f->kind = F_GARBAGE;
	f->sent = false;
	f->rlen = 0;
	f->close_ms = f->kind == F_HALF ? 0 : now + 2000;
	f->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (f->fd < 0)
		return;
	n.f_tcp++;
	if (connect(f->fd, (struct sockaddr *)&srv, sizeof(srv)) < 0 && errno != EINPROGRESS) {
		n.f_tcp_fail++;
		close(f->fd);
		f->fd = -1;
		return;
	}
	ev.data.u32 = TAG_FLOOD | slot;
	epoll_ctl(epfd, EPOLL_CTL_ADD, f->fd, &ev);
}

static void flood_event(struct fconn *f, uint32_t events)
{
	struct epoll_event ev = { .events = EPOLLIN };
	uint8_t buf[700];
	int len, err = 0;
	socklen_t el = sizeof(err);
	ssize_t r;

	if (!f->sent) {
		getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err) {
			n.f_tcp_fail++;
			flood_close(f);
			return;
		}
		if (!(events & EPOLLOUT))
			return;
		len = flood_payload(f->kind, buf, sizeof(buf));
		if (len > 0)
			(void)send(f->fd, buf, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT);
		f->sent = true;
		ev.data.u32 = TAG_FLOOD | (uint32_t)(f - fl);
		epoll_ctl(epfd, EPOLL_CTL_MOD, f->fd, &ev);
		return;
	}
	r = recv(f->fd, f->rbuf, sizeof(f->rbuf), MSG_DONTWAIT);
	if (r > 0) {
		n.f_answers++;
		return;
	}
	if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
		n.f_closed_by_srv++;
		flood_close(f);
	}
}

/* ---- main ---- */

static void out(const char *k, long v)
{
	printf("%s %ld\n", k, v);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "alternate", required_argument, NULL, 'a' },
		{ "secrets", required_argument, NULL, 'f' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "peers", required_argument, NULL, 'n' },
		{ "server-pid", required_argument, NULL, 'P' },
		{ "window", required_argument, NULL, 'w' },
		{ "soak-ms", required_argument, NULL, 'S' },
		{ "keepalive-ms", required_argument, NULL, 'k' },
		{ "churn", required_argument, NULL, 'c' },
		{ "flood", no_argument, NULL, 'F' },
		{ "flood-udp-pps", required_argument, NULL, 'U' },
		{ "flood-tcp-cps", required_argument, NULL, 'T' },
		{ "flood-hold-max", required_argument, NULL, 'H' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *secrets_path = NULL, *prefix = "load";
	unsigned long want = 100000, window = 100, soak_ms = 20000, ka_ms = 10000, churn = 0;
	unsigned long udp_pps = 2000, tcp_cps = 100, hold_max = 300, timeout_ms = 60000;
	bool flood = false;
	struct srv_secrets secrets;
	struct epoll_event evs[256];
	struct rlimit rl;
	uint64_t t0, now, reg_done = 0, reg_ms = 0, soak_end, next_churn, next_tick;
	long rss0, fd0, rss1 = -1, fd1 = -1, rss2, fd2, rss3, fd3;
	double udp_credit = 0, tcp_credit = 0;
	size_t i, inflight;
	int c, ufd, k;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (addr_parse_ipv4(optarg, 3478, &srv) < 0)
				usage();
			break;
		case 'a':
			if (addr_parse_ipv4(optarg, 3478, &srv_alt) < 0)
				usage();
			have_alt = true;
			break;
		case 'f': secrets_path = optarg; break;
		case 'p': prefix = optarg; break;
		case 'n': want = strtoul(optarg, NULL, 0); break;
		case 'P': spid = (pid_t)atoi(optarg); break;
		case 'w': window = strtoul(optarg, NULL, 0); break;
		case 'S': soak_ms = strtoul(optarg, NULL, 0); break;
		case 'k': ka_ms = strtoul(optarg, NULL, 0); break;
		case 'c': churn = strtoul(optarg, NULL, 0); break;
		case 'F': flood = true; break;
		case 'U': udp_pps = strtoul(optarg, NULL, 0); break;
		case 'T': tcp_cps = strtoul(optarg, NULL, 0); break;
		case 'H': hold_max = strtoul(optarg, NULL, 0); break;
		case 't': timeout_ms = strtoul(optarg, NULL, 0); break;
		default: usage();
		}
	}
	if (!srv.sin_port || !secrets_path || !window || !ka_ms)
		usage();
	if (srv_secrets_load(secrets_path, &secrets) < 0) {
		fprintf(stderr, "loadpeers: cannot read %s\n", secrets_path);
		return 1;
	}
	peers = calloc(secrets.n ? secrets.n : 1, sizeof(*peers));
	for (i = 0; i < secrets.n && npeers < want; i++)
		if (!strncmp(secrets.v[i].id, prefix, strlen(prefix))) {
			peers[npeers].sec = &secrets.v[i];
			peers[npeers].fd = -1;
			npeers++;
		}
	if (npeers < 2) {
		fprintf(stderr, "loadpeers: fewer than 2 ids starting with '%s'\n", prefix);
		return 1;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	for (i = 0; i < FLOOD_MAX; i++)
		fl[i].fd = -1;
	srand((unsigned)getpid());
	epfd = epoll_create1(EPOLL_CLOEXEC);
	ufd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (epfd < 0 || ufd < 0)
		return 1;

	rss0 = proc_rss_kb((int)spid);
	fd0 = proc_fds((int)spid);
	fprintf(stderr, "loadpeers: %zu peers, server rss %ld kB, %ld fds\n", npeers, rss0, fd0);

	/* phases 2 and 3 in one loop: registration, then the soak */
	t0 = now = clock_ms();
	soak_end = 0;
	next_churn = next_tick = now + 1000;
	for (;;) {
		now = clock_ms();
		if (!reg_done && n.up >= npeers) {
			reg_done = now;
			reg_ms = now - t0;
			fprintf(stderr, "loadpeers: %zu registered in %llu ms\n", npeers,
				(unsigned long long)(now - t0));
			usleep(1000000);	/* let the server settle */
			rss1 = proc_rss_kb((int)spid);
			fd1 = proc_fds((int)spid);
			now = clock_ms();
			soak_end = now + soak_ms;
			next_churn = next_tick = now + 1000;
		}
		if (!reg_done && now - t0 > timeout_ms)
			break;
		if (soak_end && now >= soak_end)
			break;
		/* start connections within the window */
		for (inflight = 0, i = 0; i < npeers; i++)
			if (peers[i].st != P_IDLE && peers[i].st != P_UP)
				inflight++;
		for (i = 0; i < npeers && inflight < window; i++)
			if (peers[i].st == P_IDLE && now >= peers[i].retry_ms) {
				if (peer_start(&peers[i], i, now) < 0)
					peer_fail(&peers[i], now, &n.conn_fail);
				else
					inflight++;
			}
		for (i = 0; i < npeers; i++) {
			peer_keepalive(&peers[i], now, ka_ms);
			if (peers[i].st != P_IDLE && peers[i].st != P_UP &&
			    now - peers[i].start_ms > 10000)
				peer_fail(&peers[i], now, &n.reg_fail);	/* no answer */
		}
		if (soak_end && now >= next_churn) {
			/* fresh registrations while loaded (and flooded) */
			unsigned long ch;

			next_churn += 1000;
			for (ch = 0; ch < churn; ch++) {
				struct peer *p = &peers[(size_t)rand() % npeers];

				if (p->st != P_UP)
					continue;
				peer_close(p);
				n.up--;
				n.churned++;
			}
		}
		if (soak_end && flood) {
			udp_credit += (double)udp_pps / 1000.0;
			tcp_credit += (double)tcp_cps / 1000.0;
			if (udp_credit > 200)
				udp_credit = 200;
			while (udp_credit >= 1) {
				flood_udp(ufd);
				udp_credit -= 1;
			}
			while (tcp_credit >= 1) {
				flood_tcp(now, (unsigned)hold_max);
				tcp_credit -= 1;
			}
			for (i = 0; i < FLOOD_MAX; i++)
				if (fl[i].fd >= 0 && fl[i].close_ms && now >= fl[i].close_ms)
					flood_close(&fl[i]);
		}
		if (now >= next_tick) {
			next_tick += 1000;
			fprintf(stderr, "loadpeers: t=%llus registered %lu/%zu, server rss %ld kB, "
				"%ld fds, flood udp %lu tcp %lu\n",
				(unsigned long long)((now - t0) / 1000), n.up, npeers,
				proc_rss_kb((int)spid), proc_fds((int)spid), n.f_udp, n.f_tcp);
		}
		k = epoll_wait(epfd, evs, 256, 1);
		for (c = 0; c < k; c++) {
			uint32_t tag = evs[c].data.u32;

			if (tag & TAG_PEER)
				peer_event(&peers[tag & TAG_MASK], evs[c].events, now);
			else if (tag & TAG_FLOOD)
				flood_event(&fl[tag & TAG_MASK], evs[c].events);
		}
	}
	rss2 = proc_rss_kb((int)spid);
	fd2 = proc_fds((int)spid);

	/* phase 4: does the server still answer a real request? */
	if (reg_done && peers[0].st == P_UP) {
		struct sig_lookup l;

		memset(&l, 0, sizeof(l));
		snprintf(l.peer_id, sizeof(l.peer_id), "%s", peers[npeers - 1].sec->id);
		if (peer_send(&peers[0], SIG_METHOD_LOOKUP, &l) == 0)
			peers[0].lookup_out = true;
		for (t0 = clock_ms(); peers[0].lookup_out && clock_ms() - t0 < 5000;) {
			k = epoll_wait(epfd, evs, 256, 10);
			for (c = 0; c < k; c++)
				if (evs[c].data.u32 & TAG_PEER)
					peer_event(&peers[evs[c].data.u32 & TAG_MASK], evs[c].events,
						   clock_ms());
		}
		if (peers[0].lookup_out)
			n.lookup_fail++;
	}

	/* phase 5: all closed */
	for (i = 0; i < npeers; i++)
		peer_close(&peers[i]);
	for (i = 0; i < FLOOD_MAX; i++)
		if (fl[i].fd >= 0)
			flood_close(&fl[i]);
	usleep(1500000);
	rss3 = proc_rss_kb((int)spid);
	fd3 = proc_fds((int)spid);

	out("peers", (long)npeers);
	out("all_registered", reg_done ? 1 : 0);
	out("reg_ms", reg_done ? (long)reg_ms : -1);
	if (!reg_done) {
		rss1 = rss2;
		fd1 = fd2;
	}
	out("registrations", (long)n.reg_ok);
	out("up_end", (long)n.up);
	out("reg_fail", (long)n.reg_fail);
	out("conn_fail", (long)n.conn_fail);
	out("dropped", (long)n.dropped);
	out("ka_sent", (long)n.ka_sent);
	out("ka_ok", (long)n.ka_ok);
	out("ka_err", (long)n.ka_err);
	out("ka_lost", (long)n.ka_lost);
	out("churned", (long)n.churned);
	out("lookup_ok", (long)n.lookup_ok);
	out("lookup_fail", (long)n.lookup_fail);
	out("sec_fail", (long)n.sec_fail);
	out("flood_udp", (long)n.f_udp);
	out("flood_tcp", (long)n.f_tcp);
	out("flood_tcp_fail", (long)n.f_tcp_fail);
	out("flood_tcp_closed_by_server", (long)n.f_closed_by_srv);
	out("flood_tcp_answers", (long)n.f_answers);
	out("rss_base_kb", rss0);
	out("fd_base", fd0);
	out("rss_registered_kb", rss1);
	out("fd_registered", fd1);
	out("rss_soak_end_kb", rss2);
	out("fd_soak_end", fd2);
	out("rss_closed_kb", rss3);
	out("fd_closed", fd3);
	if (rss0 > 0 && rss1 > 0)
		out("bytes_per_peer", (rss1 - rss0) * 1024 / (long)npeers);
	srv_secrets_free(&secrets);
	free(peers);
	return reg_done ? 0 : 3;
}
