// SPDX-License-Identifier: MIT
/*
 * Hand-off of the winning socket on the accepting side (the exposed
 * service):
 *   tcp:HOST:PORT  connect to the local target and copy both ways with
 *                  splice(2) through a pipe per direction, in the loop;
 *   exec:COMMAND   fork, the socket as stdin and stdout, execve of
 *                  /bin/sh -c COMMAND (STUNT_PEER and STUNT_SERVICE in its
 *                  environment); no copy at all. A UDP session's socket
 *                  (connected to the peer) goes the same way, with
 *                  STUNT_PROTO=udp (tcp otherwise) and no 'K';
 *   udp:HOST:PORT  UDP sessions only: datagrams forwarded (daemon/udpfwd.c).
 * A relayed session whose requester asked for the framing (S_HDR_F_FRAMED)
 * is answered 'H' instead of 'K' and keeps its relay connection in
 * daemon/relayhc.c: copied, framed, to the tcp: target, or to a loopback
 * connection whose other end is the exec: child's stdin and stdout.
 */
#include "daemon/stuntd.h"

#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define D_SPLICE_CHUNK		(256 * 1024)
#define D_TARGET_CONNECT_MS	3000

/* One direction: src -> pipe -> dst. */
struct d_dir {
	int	pipe[2];
	size_t	pending;	/* bytes in the pipe */
	uint64_t moved;		/* bytes read from src so far */
	bool	eof;		/* src said EOF */
	bool	shut;		/* dst shut down for writing */
};

struct d_handoff {
	struct d_ev		a, b;	/* a: traversed socket, b: local target */
	struct d_dir		ab, ba;
	char			peer[SIG_ID_MAX + 1];
	char			service[SIG_ID_MAX + 1];
	struct d_handoff	*next;
};

/* An exec: child, until it is reaped: revocation ends its process group. */
struct d_child {
	pid_t		pid;
	bool		revoked;	/* signalled once; reaped as usual */
	char		peer[SIG_ID_MAX + 1];
	char		service[SIG_ID_MAX + 1];
	struct d_child	*next;
};

static size_t n_handoffs;
static struct d_child *children;

size_t d_handoff_count(void)
{
	return n_handoffs + d_udpfwd_count() + d_relayhc_count();
}

void d_handoff_bytes(const char *peer, uint64_t *from, uint64_t *to)
{
	const struct d_handoff *h;

	for (h = g_d->handoffs; h; h = h->next)
		if (!peer || !strcmp(h->peer, peer)) {
			*from += h->ab.moved;
			*to += h->ba.moved;
		}
	d_relayhc_bytes(peer, from, to);
}

static void handoff_free(struct d_handoff *h)
{
	struct d_handoff **pp;

	for (pp = &g_d->handoffs; *pp; pp = &(*pp)->next)
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	d_peer_bytes(h->peer, h->ab.moved, h->ba.moved);
	d_loop_del(&h->a);
	d_loop_del(&h->b);
	close(h->a.fd);
	close(h->b.fd);
	close(h->ab.pipe[0]);
	close(h->ab.pipe[1]);
	close(h->ba.pipe[0]);
	close(h->ba.pipe[1]);
	n_handoffs--;
	free(h);
}

/* Move what can move in one direction; -1 on a hard error. */
static int pump(struct d_dir *d, int src, int dst)
{
	ssize_t n;

	for (;;) {
		if (d->pending > 0) {
			n = splice(d->pipe[0], NULL, dst, NULL, d->pending,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n < 0)
				return errno == EAGAIN ? 0 : -1;
			d->pending -= (size_t)n;
			if (d->pending > 0)
				return 0;
		}
		if (d->eof) {
			if (!d->shut) {
				shutdown(dst, SHUT_WR);
				d->shut = true;
			}
			return 0;
		}
		n = splice(src, NULL, d->pipe[1], NULL, D_SPLICE_CHUNK,
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n == 0) {
			d->eof = true;
			continue;
		}
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		d->pending += (size_t)n;
		d->moved += (uint64_t)n;
	}
}

static void rearm(struct d_handoff *h)
{
	uint32_t ea = 0, eb = 0;

	if (!h->ab.eof && h->ab.pending == 0)
		ea |= EPOLLIN;
	if (h->ba.pending > 0)
		ea |= EPOLLOUT;
	if (!h->ba.eof && h->ba.pending == 0)
		eb |= EPOLLIN;
	if (h->ab.pending > 0)
		eb |= EPOLLOUT;
	d_loop_mod(&h->a, ea);
	d_loop_mod(&h->b, eb);
}

static void on_io(struct d_ev *ev, uint32_t events)
{
	struct d_handoff *h = ev->arg;

	(void)events;
	if (pump(&h->ab, h->a.fd, h->b.fd) < 0 || pump(&h->ba, h->b.fd, h->a.fd) < 0) {
		log_debug("hand-off for %s: %s", h->peer, strerror(errno));
		handoff_free(h);
		return;
	}
	if (h->ab.shut && h->ba.shut) {
		log_info("hand-off for %s ended", h->peer);
		handoff_free(h);
		return;
	}
	rearm(h);
}

static int connect_target(const union addr_sa *to)
{
	struct pollfd p;
	int fd, err = 0;
	socklen_t el = sizeof(err);

	fd = socket(to->sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, &to->sa, addr_sa_len(to)) < 0 && errno != EINPROGRESS)
		goto fail;
	/* a local service answers at once: this short wait is the exception to the loop */
	p = (struct pollfd){ .fd = fd, .events = POLLOUT };
	if (poll(&p, 1, D_TARGET_CONNECT_MS) != 1) {
		errno = ETIMEDOUT;
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
		errno = err ? err : errno;
		goto fail;
	}
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

static int start_exec(int fd, const struct d_expose *e, const char *peer, bool dgram)
{
	struct d_child *ch;
	pid_t pid = fork();

	if (pid < 0) {
		close(fd);
		return -errno;
	}
	if (pid == 0) {
		sigset_t none;
		int fl;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		(void)setpgid(0, 0);	/* revocation ends the whole command */
		fl = fcntl(fd, F_GETFL);
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
		if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0)
			_exit(127);
		if (fd > 1)
			close(fd);
		closefrom(3);
		setenv("STUNT_PEER", peer, 1);
		setenv("STUNT_SERVICE", e->name, 1);
		setenv("STUNT_PROTO", dgram ? "udp" : "tcp", 1);
		execl("/bin/sh", "sh", "-c", e->cmd, (char *)NULL);
		_exit(127);
	}
	close(fd);
	(void)setpgid(pid, pid);	/* the child's own does it too: whichever runs first */
	ch = calloc(1, sizeof(*ch));
	if (ch) {
		ch->pid = pid;
		snprintf(ch->peer, sizeof(ch->peer), "%s", peer);
		snprintf(ch->service, sizeof(ch->service), "%s", e->name);
		ch->next = children;
		children = ch;
	}
	log_info("hand-off: %s/%s runs '%s' as pid %d", peer, e->name, e->cmd, (int)pid);
	return 0;
}

/* A relayed session's exec: child gets one end of a loopback connection,
 * the relay connection stays with daemon/relayhc.c. */
static int start_exec_framed(int fd, const struct d_expose *e, const char *peer)
{
	int app;

	(void)send(fd, (char[]){ D_ACK_FRAMED }, 1, MSG_NOSIGNAL);
	app = d_relayhc_pair(fd, peer);
	return app < 0 ? app : start_exec(app, e, peer, false);
}

int d_handoff_start(int fd, const struct d_expose *e, const char *peer, bool framed)
{
	struct d_handoff *h;
	int t, type = 0;
	socklen_t tl = sizeof(type);

	/* a UDP session: its handshake was the confirmation, no 'K' */
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_DGRAM) {
		if (e->kind == D_TARGET_EXEC)
			return start_exec(fd, e, peer, true);
		if (e->kind == D_TARGET_UDP)
			return d_udpfwd_start(fd, e, peer);
		close(fd);
		return -EPROTOTYPE;
	}
	/* the requester waits for one byte before it hands the socket on:
	 * 'K' once the service has it, 'E' when the local target is not there */
	if (e->kind == D_TARGET_EXEC && framed)
		return start_exec_framed(fd, e, peer);
	if (e->kind == D_TARGET_EXEC) {
		(void)send(fd, "K", 1, MSG_NOSIGNAL);
		return start_exec(fd, e, peer, false);
	}
	t = connect_target(&e->addr);
	if (t < 0) {
		log_warnx("hand-off: %s/%s: local target: %s", peer, e->name, strerror(-t));
		(void)send(fd, "E", 1, MSG_NOSIGNAL);
		close(fd);
		return t;
	}
	if (framed) {
		(void)send(fd, (char[]){ D_ACK_FRAMED }, 1, MSG_NOSIGNAL);
		if (d_relayhc_start(fd, t, peer, e->name) < 0)
			return -ENOMEM;
		log_info("hand-off: %s/%s relayed, framed, to the local target", peer, e->name);
		return 0;
	}
	(void)send(fd, "K", 1, MSG_NOSIGNAL);
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		goto nomem;
	if (pipe2(h->ab.pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
		free(h);
		goto nomem;
	}
	if (pipe2(h->ba.pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
		close(h->ab.pipe[0]);
		close(h->ab.pipe[1]);
		free(h);
		goto nomem;
	}
	(void)fcntl(h->ab.pipe[1], F_SETPIPE_SZ, D_SPLICE_CHUNK);
	(void)fcntl(h->ba.pipe[1], F_SETPIPE_SZ, D_SPLICE_CHUNK);
	d_set_nonblock(fd);
	snprintf(h->peer, sizeof(h->peer), "%s", peer);
	snprintf(h->service, sizeof(h->service), "%s", e->name);
	h->a = (struct d_ev){ .fd = fd, .cb = on_io, .arg = h };
	h->b = (struct d_ev){ .fd = t, .cb = on_io, .arg = h };
	h->next = g_d->handoffs;
	g_d->handoffs = h;
	n_handoffs++;
	d_loop_add(&h->a, EPOLLIN);
	d_loop_add(&h->b, EPOLLIN);
	log_info("hand-off: %s/%s spliced to the local target", peer, e->name);
	return 0;
nomem:
	close(fd);
	close(t);
	return -ENOMEM;
}

void d_handoff_reap(void)
{
	int st;
	pid_t pid;

	struct d_child **pp, *ch;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		log_debug("hand-off child %d ended (status %d)", (int)pid, st);
		for (pp = &children; (ch = *pp) != NULL; pp = &ch->next)
			if (ch->pid == pid) {
				*pp = ch->next;
				free(ch);
				break;
			}
	}
}

size_t d_handoff_revoke(const struct d_config *c)
{
	struct d_handoff *h, *hn;
	struct d_child *ch;
	size_t n = 0;

	for (h = g_d->handoffs; h; h = hn) {
		hn = h->next;
		if (d_reload_still_allowed(c, h->service, h->peer))
			continue;
		log_warnx("hand-off: %s/%s: revoked: peer %s may no longer use it: connection "
			  "closed", h->peer, h->service, h->peer);
		handoff_free(h);
		n++;
	}
	for (ch = children; ch; ch = ch->next) {
		if (ch->revoked || d_reload_still_allowed(c, ch->service, ch->peer))
			continue;
		log_warnx("hand-off: %s/%s: revoked: peer %s may no longer use it: pid %d "
			  "terminated", ch->peer, ch->service, ch->peer, (int)ch->pid);
		(void)kill(-ch->pid, SIGTERM);
		ch->revoked = true;
		n++;
	}
	return n + d_udpfwd_revoke(c) + d_relayhc_revoke(c);
}

void d_handoff_shutdown(void)
{
	while (g_d->handoffs)
		handoff_free(g_d->handoffs);
	d_relayhc_shutdown();
	d_udpfwd_shutdown();
}
