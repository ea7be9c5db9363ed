// SPDX-License-Identifier: MIT
/*
 * stuntd's privileged process (privilege separation, stuntd(8)).
 *
 * Forked at start, after the configuration is read and before any network
 * input. It keeps CAP_NET_ADMIN and CAP_NET_RAW and nothing else (uid 0
 * stays, for the rules tool and the state file; the bounding set is cut to
 * the same two, seccomp refuses the syscalls it never needs) and does only:
 *   - the NFQUEUE engine and its verdict loop (queued packets are the only
 *     network input it parses, with the engine's bounds-checked parser);
 *   - the iptables rules: acquired before it reports ready, released when
 *     it stops (the state file covers kill -9);
 *   - the requests of the unprivileged process (daemon/priv_msg.h), one message
 *     per SOCK_SEQPACKET datagram, each length-checked and answered:
 *     policy add/remove (no REPLACE), SO_MARK on an AF_INET or AF_INET6 TCP socket the
 *     other side created, bound and passed with SCM_RIGHTS (it never creates
 *     a TCP socket itself: a uid-0 socket could join a root listener's
 *     SO_REUSEPORT group), re-sending a TCP SYN from a local address on a
 *     flow with a live policy (nothing else), and discovery's capture: two
 *     raw sockets with locked BPF filters (outbound TCP SYN headers, ICMP
 *     errors) whose datagrams it copies unread to socketpairs the other side
 *     reads -- one capture at a time, at most D_PRIV_CAPTURE_MS long, ended
 *     when the reader closes, D_PRIV_CAPTURE_GAP_MS apart and at most
 *     D_PRIV_CAPTURE_PER_HOUR an hour;
 *   - queue events, forwarded whole on a second socketpair.
 * It stops when the other side goes (EOF on the request socket) or on
 * SIGTERM; the other side stops when this one goes.
 */
#include "daemon/nfq.h"

#include "common/clock.h"
#include "common/fdpass.h"
#include "common/log.h"
#include "daemon/stuntd.h"
#include "daemon/priv_msg.h"
#include "daemon/privdrop.h"
#include "probes/probe_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define D_PRIV_CAPTURE_MS	30000	/* a discovery capture lives at most this long */
#define D_PRIV_CAPTURE_GAP_MS	5000	/* captures start at least this far apart ... */
#define D_PRIV_CAPTURE_PER_HOUR	12	/* ... and at most this many an hour: discovery
					 * asks at start, on SIGHUP and when the public
					 * address changes (daemon/discovery.c) */
#define D_PRIV_SNAP		128	/* capture: IPv4 + TCP headers are all discovery reads */

#define STR_(x)			#x
#define STR(x)			STR_(x)

#ifndef SO_LOCK_FILTER
#define SO_LOCK_FILTER 44
#endif

static volatile sig_atomic_t priv_term;
static int ev_fd_priv = -1;
static unsigned long events_lost;
static uint8_t rxbuf[D_PRIV_MSG_MAX];

/* discovery's capture: raw sockets here, the other side reads out[] */
static struct {
	int raw[2], out[2];
	uint64_t until;
	uint64_t started[D_PRIV_CAPTURE_PER_HOUR];	/* ring of start times */
	unsigned int nstarted;
	unsigned long refused;
} cap = { { -1, -1 }, { -1, -1 }, 0, { 0 }, 0, 0 };

static unsigned long policy_refused, bad_requests;

static void on_priv_signal(int sig)
{
	priv_term = sig;
}

static void on_event(struct nfq_engine *e, const struct nfq_event *ev, void *arg)
{
	uint8_t buf[sizeof(struct d_priv_hdr) + sizeof(struct d_priv_event)];
	int n;

	(void)e;
	(void)arg;
	n = d_priv_enc_event(buf, sizeof(buf), ev);
	if (n < 0 || send(ev_fd_priv, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) != n)
		events_lost++;
}

static void cap_close(void)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (cap.raw[i] >= 0)
			close(cap.raw[i]);
		if (cap.out[i] >= 0)
			close(cap.out[i]);
		cap.raw[i] = cap.out[i] = -1;
	}
}

static int attach_locked(int fd, struct sock_filter *f, size_t n)
{
	struct sock_fprog prog = { .len = (unsigned short)n, .filter = f };
	int one = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_LOCK_FILTER, &one, sizeof(one)) < 0)
		return -errno;
	return 0;
}

/* Outbound TCP SYN headers leaving on the default-route interface. */
static int open_syn_capture(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 0, 9),
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, 0, 7),
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 5, 0),
		BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),
		BPF_STMT(BPF_LD | BPF_B | BPF_IND, 13),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x12),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x02, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, D_PRIV_SNAP),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP) };
	char ifname[IF_NAMESIZE + 1];
	int fd, err;

	if (probe_default_route(ifname, NULL) < 0)
		return -ENOENT;
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (sll.sll_ifindex == 0)
		return -ENOENT;
	/* protocol 0: nothing is received until the filter is on and it is bound */
	fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	err = attach_locked(fd, f, sizeof(f) / sizeof(f[0]));
	if (err == 0 && bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		err = -errno;
	if (err < 0) {
		close(fd);
		return err;
	}
	return fd;
}

/* ICMP destination unreachable and time exceeded, IPv4 header first. */
static int open_icmp_errors(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),
		BPF_STMT(BPF_LD | BPF_B | BPF_IND, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 11, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 3, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 576),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	int fd, err;

	fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_ICMP);
	if (fd < 0)
		return -errno;
	err = attach_locked(fd, f, sizeof(f) / sizeof(f[0]));
	if (err < 0) {
		close(fd);
		return err;
	}
	/* whatever arrived before the filter */
	while (recv(fd, rxbuf, sizeof(rxbuf), MSG_DONTWAIT) >= 0)
		;
	return fd;
}

/* May a capture start now? 0, or -EBUSY (one is open, the last started
 * less than D_PRIV_CAPTURE_GAP_MS ago, or D_PRIV_CAPTURE_PER_HOUR started
 * in the last hour); the first refusal is logged, all are counted. */
static int cap_allowed(uint64_t now)
{
	const char *why = NULL;
	unsigned int n = cap.nstarted, last = (n + D_PRIV_CAPTURE_PER_HOUR - 1) %
					       D_PRIV_CAPTURE_PER_HOUR;
	uint64_t oldest = cap.started[n % D_PRIV_CAPTURE_PER_HOUR];

	if (cap.raw[0] >= 0)
		why = "one is open";
	else if (n > 0 && now - cap.started[last] < D_PRIV_CAPTURE_GAP_MS)
		why = "the last one started less than " STR(D_PRIV_CAPTURE_GAP_MS) " ms ago";
	else if (n >= D_PRIV_CAPTURE_PER_HOUR && now - oldest < 3600000)
		why = STR(D_PRIV_CAPTURE_PER_HOUR) " started in the last hour";
	if (why == NULL)
		return 0;
	if (cap.refused++ == 0)
		log_warnx("priv: refused a discovery capture: %s; further refusals are counted", why);
	return -EBUSY;
}

/* Open the capture; the other side gets the reading ends, in[0..1]. */
static int cap_open(int in[2])
{
	uint64_t now = clock_ms();
	int sp[2], i, r;

	if ((r = cap_allowed(now)) < 0)
		return r;
	cap_close();
	if ((r = open_syn_capture()) < 0)
		return r;
	cap.raw[0] = r;
	if ((r = open_icmp_errors()) < 0) {
		cap_close();
		return r;
	}
	cap.raw[1] = r;
	for (i = 0; i < 2; i++) {
		/* SEQPACKET: the reader's close shows here as POLLHUP */
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
			r = -errno;
			if (i == 1)
				close(in[0]);
			cap_close();
			return r;
		}
		shutdown(sp[0], SHUT_WR);
		cap.out[i] = sp[1];
		in[i] = sp[0];
	}
	cap.until = now + D_PRIV_CAPTURE_MS;
	cap.started[cap.nstarted++ % D_PRIV_CAPTURE_PER_HOUR] = now;
	if (cap.nstarted >= 2 * D_PRIV_CAPTURE_PER_HOUR)
		cap.nstarted -= D_PRIV_CAPTURE_PER_HOUR;	/* same slot, no overflow */
	return 0;
}

/* Copy what the raw socket i received, unread, to the other side. */
static void cap_relay(int i)
{
	ssize_t n;
	int k;

	for (k = 0; k < 64; k++) {
		n = recv(cap.raw[i], rxbuf, sizeof(rxbuf), MSG_DONTWAIT);
		if (n < 0)
			return;
		if (send(cap.out[i], rxbuf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
		    errno != EAGAIN && errno != ENOBUFS) {
			cap_close();	/* the reader is done */
			return;
		}
	}
}

static int reply(int fd, uint32_t seq, int32_t result, uint32_t value, const int *fds, int nfds)
{
	uint8_t buf[sizeof(struct d_priv_hdr) + sizeof(struct d_priv_reply)];
	int n = d_priv_enc_reply(buf, sizeof(buf), seq, result, value);

	if (n < 0)
		return n;
	return fdpass_send(fd, buf, (size_t)n, fds, nfds) == n ? 0 : -errno;
}

/* One request: -1 when the other side is gone. */
static int serve(struct stuntd *d, int fd)
{
	struct nfq_policy_table *t = d->nfq ? nfq_engine_policies(d->nfq) : NULL;
	struct d_priv_msg m;
	bool trunc;
	int32_t r = 0;
	uint32_t v = 0;
	int fds[2], nfds = 0, in[FDPASS_MAX], nin = 0, e;
	ssize_t n;

	n = fdpass_recv(fd, rxbuf, sizeof(rxbuf), MSG_DONTWAIT, in, FDPASS_MAX, &nin, &trunc);
	if (n == 0)
		return -1;
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	e = trunc ? -EBADMSG : d_priv_decode(rxbuf, (size_t)n, &m);
	if (e == 0 && m.hdr.type > D_PRIV_REQ_MAX)
		e = -ENOTSUP;
	/* a descriptor comes with MARK, exactly one, and with nothing else */
	if (e == 0 && nin != (m.hdr.type == D_PRIV_MARK ? 1 : 0))
		e = -EBADMSG;
	if (e < 0) {
		if (bad_requests++ == 0)
			log_warnx("priv: a bad request (%zd bytes, %d descriptors): %s; further ones "
				  "are counted", n, nin, strerror(-e));
		(void)reply(fd, (size_t)n >= sizeof(m.hdr) ? m.hdr.seq : 0, e, 0, NULL, 0);
		goto out;
	}
	switch (m.hdr.type) {
	case D_PRIV_POLICY_ADD:
		r = t == NULL ? -ENOTCONN : d_priv_spec_check(&m.u.spec);
		if (r == -EPERM && policy_refused++ == 0)
			log_warnx("priv: refused a REPLACE policy (stuntd never replaces a packet); "
				  "further refusals are counted");
		if (r == 0)
			r = nfq_policy_add(t, &m.u.spec, clock_ms(), &v);
		break;
	case D_PRIV_POLICY_REMOVE:
		r = t ? nfq_policy_remove(t, m.u.id) : -ENOTCONN;
		break;
	case D_PRIV_POLICY_REMOVE_FLOW:
		r = t ? nfq_policy_remove_flow(t, &m.u.flow) : -ENOTCONN;
		break;
	case D_PRIV_MARK:
		r = d_nfq_mark_fd(in[0], d->mark);
		break;
	case D_PRIV_INJECT:
		r = d_nfq_inject_checked(d->nfq, m.data, m.data_len);
		v = (uint32_t)d_nfq_inject_refused();
		break;
	case D_PRIV_PROBE_FDS:
		r = cap_open(fds);
		if (r == 0)
			nfds = 2;
		break;
	case D_PRIV_STATS: {
		uint8_t buf[sizeof(struct d_priv_hdr) + sizeof(struct d_priv_stats)];
		struct d_priv_stats s;

		d_nfq_local_stats(&s);
		e = d_priv_enc_stats_reply(buf, sizeof(buf), m.hdr.seq, &s);
		if (e < 0 || send(fd, buf, (size_t)e, MSG_NOSIGNAL) != e)
			log_warnx("priv: stats reply: %s", strerror(e < 0 ? -e : errno));
		goto out;
	}
	}
	if (reply(fd, m.hdr.seq, r, v, fds, nfds) < 0)
		log_warnx("priv: reply: %s", strerror(errno));
	while (nfds > 0)
		close(fds[--nfds]);
out:
	while (nin > 0)
		close(in[--nin]);
	return 0;
}

static void __attribute__((noreturn)) priv_main(struct stuntd *d, int req)
{
	const uint64_t keep = 1ull << CAP_NET_ADMIN | 1ull << CAP_NET_RAW;
	struct sigaction sa;
	struct stat st;
	int err, nfd, tmo, i;
	uint64_t now, next;

	explicit_bzero(d->secret, sizeof(d->secret));	/* not this process's business */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGINT, &sa, NULL);	/* a terminal's ^C: the other side stops us */
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = on_priv_signal;
	sigaction(SIGTERM, &sa, NULL);

	d_nfq_local_up(d, on_event);	/* fatal: the other side sees EOF */
	err = d_privdrop_caps(keep, keep);
	if (err < 0)
		fatalx("priv: dropping capabilities: %s", strerror(-err));
	err = d_privdrop_seccomp();
	if (err < 0)
		log_warnx("priv: no seccomp filter: %s", strerror(-err));
	if (reply(req, 0, 0, 0, NULL, 0) < 0)
		fatalx("priv: the other process is gone");
	log_debug("priv: running (pid %d)", (int)getpid());

	while (!priv_term) {
		struct pollfd pf[6] = { { .fd = req, .events = POLLIN } };

		nfd = 1;
		if (d->nfq)
			pf[nfd++] = (struct pollfd){ .fd = nfq_engine_fd(d->nfq), .events = POLLIN };
		for (i = 0; i < 2; i++)
			pf[nfd++] = (struct pollfd){ .fd = cap.raw[i], .events = POLLIN };
		/* the reader's close ends the capture (POLLHUP needs no event bit) */
		for (i = 0; i < 2; i++)
			pf[nfd++] = (struct pollfd){ .fd = cap.out[i] };
		now = clock_ms();
		next = d->nfq ? nfq_policy_next_expiry(nfq_engine_policies(d->nfq)) : UINT64_MAX;
		tmo = next <= now ? 0 : next - now > 1000 ? 1000 : (int)(next - now);
		if (poll(pf, (nfds_t)nfd, tmo) < 0 && errno != EINTR)
			break;
		/* requests first: a policy is in the table before the packet it is for */
		if ((pf[0].revents & (POLLIN | POLLHUP | POLLERR)) && serve(d, req) < 0)
			break;
		if (d->nfq && (pf[1].revents & POLLIN) && nfq_engine_dispatch(d->nfq) < 0)
			log_debug("priv: queue socket error");
		for (i = 0; i < 2; i++)
			if (cap.raw[i] >= 0 && (pf[nfd - 4 + i].revents & POLLIN))
				cap_relay(i);
		now = clock_ms();
		if (cap.raw[0] >= 0 && (now >= cap.until ||
					(pf[nfd - 2].revents & (POLLHUP | POLLERR)) ||
					(pf[nfd - 1].revents & (POLLHUP | POLLERR))))
			cap_close();
		if (d->nfq)
			(void)nfq_policy_expire(nfq_engine_policies(d->nfq), now);
	}
	log_info("priv: stopping (%s)", priv_term ? "signal" : "the other process is gone");
	if (events_lost)
		log_warnx("priv: %lu queue events could not be forwarded", events_lost);
	if (d_nfq_mark_refused() || d_nfq_inject_refused() || policy_refused || cap.refused ||
	    bad_requests)
		log_warnx("priv: refused %lu mark, %lu inject, %lu REPLACE, %lu capture and %lu "
			  "malformed requests", d_nfq_mark_refused(), d_nfq_inject_refused(),
			  policy_refused, cap.refused, bad_requests);
	cap_close();
	d_nfq_local_down(d);
	/* the control socket's directory may be root's alone */
	if (d->cfg.control[0] && lstat(d->cfg.control, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(d->cfg.control);
	exit(0);
}

pid_t d_priv_fork(struct stuntd *d, int *req_fd, int *ev_fd)
{
	int req[2], ev[2];
	uint8_t buf[64];
	struct d_priv_msg m;
	ssize_t n;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, req) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ev) < 0)
		fatal("socketpair");
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		fatal("fork");
	if (pid == 0) {
		close(req[0]);
		close(ev[0]);
		ev_fd_priv = ev[1];
		priv_main(d, req[1]);
	}
	close(req[1]);
	close(ev[1]);
	/* wait until the queue and the rules are up (or the child died trying) */
	do
		n = recv(req[0], buf, sizeof(buf), 0);
	while (n < 0 && errno == EINTR);
	if (n <= 0 || d_priv_decode(buf, (size_t)n, &m) < 0 || m.hdr.type != D_PRIV_REPLY ||
	    m.u.reply.result != 0)
		fatalx("the privileged process did not start");
	*req_fd = req[0];
	*ev_fd = ev[0];
	return pid;
}

void d_priv_start(struct stuntd *d)
{
	int req, ev;
	pid_t pid = d_priv_fork(d, &req, &ev);

	d->mark = d->no_rules ? 0 : D_MARK_DEFAULT;
	d_nfq_remote(req, ev, pid);
}
