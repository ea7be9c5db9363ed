// SPDX-License-Identifier: MIT
/*
 * stuntctl's control-socket and relay code over socketpairs, with this
 * process (or a thread of it) playing stuntd: the answer line and its
 * SCM_RIGHTS descriptor, split and over-long answers, stray and truncated
 * descriptors, and bytes carried intact through the stdio copy loop and the
 * splice engine with half-closes in both directions.
 */
#include "ctl/ctl.h"
#include "tests/unit/tap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char ANSWER[] =
	"{\"ok\":true,\"method\":\"simopen\",\"elapsed_ms\":95,\"relayed\":false,\"error\":null}\n";

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* The daemon's sendmsg: data plus nfds descriptors (all the same fd). */
static ssize_t send_with_fds(int sock, const void *buf, size_t len, int fd, int nfds)
{
	union {
		char b[CMSG_SPACE(32 * sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	int i;

	if (nfds > 0) {
		struct cmsghdr *c;

		memset(&cbuf, 0, sizeof(cbuf));
		msg.msg_control = cbuf.b;
		msg.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		for (i = 0; i < nfds; i++)
			memcpy(CMSG_DATA(c) + (size_t)i * sizeof(int), &fd, sizeof(int));
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL);
}

static void answer_with_descriptor(void)
{
	int ctl[2], conn[2], before = open_fds();
	struct ctl_rx rx;
	char buf[8];

	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, ctl), 0);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, conn), 0);
	CHECK_EQ(send_with_fds(ctl[1], ANSWER, strlen(ANSWER), conn[0], 1), (ssize_t)strlen(ANSWER));
	close(conn[0]);	/* the daemon hands the socket over and forgets it */
	ctl_rx_init(&rx);
	CHECK_EQ(ctl_rx_wait(ctl[0], &rx, 1000), 0);
	CHECK(rx.done);
	CHECK_EQ(rx.len, strlen(ANSWER) - 1);
	CHECK(strncmp(rx.line, ANSWER, rx.len) == 0 && rx.line[rx.len] == '\0');
	CHECK(rx.fd >= 0);
	CHECK_EQ(rx.stray_fds, 0);
	CHECK(fcntl(rx.fd, F_GETFD) & FD_CLOEXEC);
	/* it is the daemon's socket: bytes written to it come out at the far end */
	CHECK_EQ(write(rx.fd, "ping", 4), 4);
	CHECK_EQ(read(conn[1], buf, sizeof(buf)), 4);
	CHECK(memcmp(buf, "ping", 4) == 0);
	ctl_rx_release(&rx);
	CHECK_EQ(rx.fd, -1);
	close(conn[1]);
	close(ctl[0]);
	close(ctl[1]);
	CHECK_EQ(open_fds(), before);
}

static void answer_split_across_reads(void)
{
	int ctl[2], conn[2];
	struct ctl_rx rx;

	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, ctl), 0);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, conn), 0);
	ctl_rx_init(&rx);
	CHECK_EQ(ctl_rx_step(ctl[0], &rx), 0);			/* nothing yet: EAGAIN */
	CHECK_EQ(send_with_fds(ctl[1], ANSWER, 10, conn[0], 1), 10);
	CHECK_EQ(ctl_rx_step(ctl[0], &rx), 0);			/* no newline yet */
	CHECK(rx.fd >= 0);					/* but the descriptor came */
	CHECK_EQ(send(ctl[1], ANSWER + 10, strlen(ANSWER) - 10, 0), (ssize_t)strlen(ANSWER) - 10);
	CHECK_EQ(ctl_rx_step(ctl[0], &rx), 1);
	CHECK_EQ(rx.len, strlen(ANSWER) - 1);
	CHECK_EQ(ctl_rx_step(ctl[0], &rx), 1);			/* done stays done */
	ctl_rx_release(&rx);
	close(conn[0]);
	close(conn[1]);
	close(ctl[0]);
	close(ctl[1]);
}

static void stray_descriptors_closed(void)
{
	int ctl[2], conn[2], before = open_fds();
	struct ctl_rx rx;

	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, ctl), 0);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, conn), 0);
	/* three on the first message, one more on a second: one is kept */
	CHECK_EQ(send_with_fds(ctl[1], ANSWER, 5, conn[0], 3), 5);
	CHECK_EQ(send_with_fds(ctl[1], ANSWER + 5, strlen(ANSWER) - 5, conn[0], 1),
		 (ssize_t)strlen(ANSWER) - 5);
	ctl_rx_init(&rx);
	CHECK_EQ(ctl_rx_wait(ctl[0], &rx, 1000), 0);
	CHECK(rx.fd >= 0);
	CHECK_EQ(rx.stray_fds, 3);
	CHECK_EQ(open_fds(), before + 4 + 1);	/* the pairs and the one kept */
	ctl_rx_release(&rx);
	close(conn[0]);
	close(conn[1]);
	close(ctl[0]);
	close(ctl[1]);
	CHECK_EQ(open_fds(), before);
}

static void truncated_descriptors_refused(void)
{
	int ctl[2], conn[2], before = open_fds();
	struct ctl_rx rx;

	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, ctl), 0);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, conn), 0);
	/* more than the control buffer holds: the kernel sets MSG_CTRUNC */
	CHECK_EQ(send_with_fds(ctl[1], ANSWER, strlen(ANSWER), conn[0], CTL_MAX_FDS_ACCEPTED + 8),
		 (ssize_t)strlen(ANSWER));
	ctl_rx_init(&rx);
	CHECK_EQ(ctl_rx_wait(ctl[0], &rx, 1000), -EMSGSIZE);
	ctl_rx_release(&rx);
	close(conn[0]);
	close(conn[1]);
	close(ctl[0]);
	close(ctl[1]);
	CHECK_EQ(open_fds(), before);
}

static void overlong_and_early_close(void)
{
	char big[CTL_LINE_MAX + 100];
	int ctl[2];
	struct ctl_rx rx;

	memset(big, 'x', sizeof(big));
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, ctl), 0);
	CHECK_EQ(send(ctl[1], big, sizeof(big), 0), (ssize_t)sizeof(big));
	ctl_rx_init(&rx);
	CHECK_EQ(ctl_rx_wait(ctl[0], &rx, 1000), -EMSGSIZE);
	CHECK_EQ(rx.len, CTL_LINE_MAX + 1);
	close(ctl[0]);
	close(ctl[1]);

	/* exactly CTL_LINE_MAX bytes and the newline: accepted */
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, ctl), 0);
	big[CTL_LINE_MAX] = '\n';
	CHECK_EQ(send(ctl[1], big, CTL_LINE_MAX + 1, 0), CTL_LINE_MAX + 1);
	ctl_rx_init(&rx);
	CHECK_EQ(ctl_rx_wait(ctl[0], &rx, 1000), 0);
	CHECK_EQ(rx.len, CTL_LINE_MAX);
	close(ctl[0]);
	close(ctl[1]);

	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, ctl), 0);
	CHECK_EQ(send(ctl[1], "{\"ok\":", 6, 0), 6);
	close(ctl[1]);
	ctl_rx_init(&rx);
	CHECK_EQ(ctl_rx_wait(ctl[0], &rx, 1000), -EPROTO);
	close(ctl[0]);

	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, ctl), 0);
	ctl_rx_init(&rx);
	CHECK_EQ(ctl_rx_wait(ctl[0], &rx, 50), -ETIMEDOUT);
	close(ctl[0]);
	close(ctl[1]);
}

/* ---- a fake stuntd on a UNIX path -------------------------------------- */

struct fake_daemon {
	int	 lfd;
	char	 request[CTL_LINE_MAX + 2];
	int	 conn_fd;	/* sent with the answer, -1 for none */
	const char *answer;
};

static void *fake_daemon_run(void *arg)
{
	struct fake_daemon *d = arg;
	size_t len = 0;
	ssize_t r;
	int c = accept(d->lfd, NULL, NULL);

	if (c < 0)
		return NULL;
	while (len < sizeof(d->request) - 1 && (r = read(c, d->request + len, sizeof(d->request) - 1 - len)) > 0) {
		len += (size_t)r;
		if (memchr(d->request, '\n', len))
			break;
	}
	d->request[len] = '\0';
	send_with_fds(c, d->answer, strlen(d->answer), d->conn_fd, d->conn_fd >= 0 ? 1 : 0);
	close(c);
	return NULL;
}

static void query_through_a_path(void)
{
	char path[] = "/tmp/stuntctl-test-XXXXXX", sock[64], msg[256];
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct fake_daemon d = { .conn_fd = -1, .answer = "{\"id\":\"laptop\"}\n" };
	struct ctl_rx rx;
	pthread_t th;
	int r;

	CHECK(mkdtemp(path) != NULL);
	snprintf(sock, sizeof(sock), "%s/ctl.sock", path);
	/* nothing there yet: not running */
	CHECK_EQ(ctl_query(sock, "{\"cmd\":\"status\"}", &rx, 500), -ENOENT);
	CHECK(strstr(ctl_strerror(-ENOENT, sock, msg, sizeof(msg)), "stuntd is not running (no control socket at ") != NULL);
	d.lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	strcpy(sun.sun_path, sock);
	CHECK_EQ(bind(d.lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	/* a socket file nobody listens on (a daemon that died): refused */
	CHECK_EQ(ctl_query(sock, "{\"cmd\":\"status\"}", &rx, 500), -ECONNREFUSED);
	CHECK_EQ(listen(d.lfd, 4), 0);
	CHECK_EQ(pthread_create(&th, NULL, fake_daemon_run, &d), 0);
	r = ctl_query(sock, "{\"cmd\":\"status\"}", &rx, 2000);
	pthread_join(th, NULL);
	CHECK_EQ(r, 0);
	CHECK(strcmp(d.request, "{\"cmd\":\"status\"}\n") == 0);
	CHECK(strcmp(rx.line, "{\"id\":\"laptop\"}") == 0);
	CHECK_EQ(rx.fd, -1);
	close(d.lfd);
	unlink(sock);
	rmdir(path);
}

/* ---- relays -------------------------------------------------------------- */

static unsigned char pattern(size_t i, unsigned seed)
{
	return (unsigned char)((i * 131 + seed * 7 + (i >> 9)) & 0xff);
}

/* One end of a relay: writes n bytes of its pattern, then half-closes, and
 * reads the other end's pattern until EOF, checking every byte. */
struct peer {
	int	 fd;
	unsigned seed, other_seed;
	size_t	 n_out, n_in_want;
	size_t	 n_in;
	int	 bad;
	bool	 eof_seen;
};

static void *peer_run(void *arg)
{
	struct peer *p = arg;
	unsigned char buf[16384];
	size_t out = 0, i;
	bool shut = false;

	fcntl(p->fd, F_SETFL, fcntl(p->fd, F_GETFL) | O_NONBLOCK);
	while (!p->eof_seen || !shut) {
		struct pollfd pf = { .fd = p->fd, .events = (p->eof_seen ? 0 : POLLIN) |
							  (out < p->n_out ? POLLOUT : 0) };
		ssize_t r;

		if (out == p->n_out && !shut) {
			shutdown(p->fd, SHUT_WR);
			shut = true;
			continue;
		}
		if (poll(&pf, 1, 5000) <= 0)
			break;
		if (out < p->n_out && (pf.revents & POLLOUT)) {
			size_t k = p->n_out - out < sizeof(buf) ? p->n_out - out : sizeof(buf);

			for (i = 0; i < k; i++)
				buf[i] = pattern(out + i, p->seed);
			r = write(p->fd, buf, k);
			if (r > 0)
				out += (size_t)r;
		}
		if (pf.revents & (POLLIN | POLLHUP)) {
			r = read(p->fd, buf, sizeof(buf));
			if (r == 0)
				p->eof_seen = true;
			for (i = 0; r > 0 && i < (size_t)r; i++)
				if (buf[i] != pattern(p->n_in + i, p->other_seed))
					p->bad++;
			if (r > 0)
				p->n_in += (size_t)r;
		}
	}
	return NULL;
}

static void splice_both_ways_with_half_close(void)
{
	int x[2], y[2], before = open_fds(), r = 0, rounds = 0;
	struct peer pa = { .seed = 1, .other_seed = 2, .n_out = 3 << 20 };
	struct peer pb = { .seed = 2, .other_seed = 1, .n_out = 1 << 20 };
	struct ctl_splice s;
	pthread_t ta, tb;

	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, x), 0);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, y), 0);
	pa.fd = x[0];
	pb.fd = y[0];
	CHECK_EQ(ctl_splice_init(&s, x[1], y[1]), 0);
	pthread_create(&ta, NULL, peer_run, &pa);
	pthread_create(&tb, NULL, peer_run, &pb);
	while (r == 0 && rounds++ < 200000) {
		struct pollfd p[2];

		ctl_splice_events(&s, &p[0].events, &p[1].events);
		p[0].fd = s.a;
		p[1].fd = s.b;
		if (poll(p, 2, 5000) <= 0) {
			fprintf(stderr, "stall: ev %x %x; d0 q=%zu cap=%zu full=%d eof=%d closed=%d; d1 q=%zu full=%d eof=%d closed=%d\n",
				p[0].events, p[1].events, s.d[0].queued, s.d[0].cap, s.d[0].pipe_full, s.d[0].eof, s.d[0].closed,
				s.d[1].queued, s.d[1].pipe_full, s.d[1].eof, s.d[1].closed);
			break;
		}
		r = ctl_splice_run(&s);
	}
	CHECK_EQ(r, 1);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	CHECK_EQ(s.d[0].bytes, 3 << 20);
	CHECK_EQ(s.d[1].bytes, 1 << 20);
	CHECK(pa.eof_seen && pb.eof_seen);
	CHECK_EQ(pa.n_in, 1 << 20);
	CHECK_EQ(pb.n_in, 3 << 20);
	CHECK_EQ(pa.bad + pb.bad, 0);
	ctl_splice_close(&s);
	close(x[0]);
	close(y[0]);
	CHECK_EQ(open_fds(), before);
}

static void splice_reset_is_an_error(void)
{
	int x[2], y[2], r = 0, i;
	struct ctl_splice s;

	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, x), 0);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, y), 0);
	CHECK_EQ(ctl_splice_init(&s, x[1], y[1]), 0);
	close(y[0]);			/* the far end vanishes */
	CHECK_EQ(write(x[0], "data", 4), 4);
	for (i = 0; i < 10 && r == 0; i++)
		r = ctl_splice_run(&s);
	CHECK(r < 0);			/* EPIPE writing into the dead end */
	CHECK(s.failed);
	ctl_splice_close(&s);
	close(x[0]);
}

/* Playing stdin/stdout with pipes; the remote end reads everything first
 * (it only sees EOF if our shutdown(SHUT_WR) happened), then answers. */
struct echo_after_eof {
	int	 fd;
	size_t	 got;
	int	 bad;
};

static void *echo_after_eof_run(void *arg)
{
	struct echo_after_eof *e = arg;
	unsigned char buf[8192];
	ssize_t r;
	size_t i, sent = 0;

	while ((r = read(e->fd, buf, sizeof(buf))) > 0) {
		for (i = 0; i < (size_t)r; i++)
			if (buf[i] != pattern(e->got + i, 5))
				e->bad++;
		e->got += (size_t)r;
	}
	while (sent < 300000) {
		size_t k = 300000 - sent < sizeof(buf) ? 300000 - sent : sizeof(buf);

		for (i = 0; i < k; i++)
			buf[i] = pattern(sent + i, 6);
		r = write(e->fd, buf, k);
		if (r <= 0)
			break;
		sent += (size_t)r;
	}
	close(e->fd);
	return NULL;
}

struct feeder {
	int	fd;
	size_t	n;
};

static void *feeder_run(void *arg)
{
	struct feeder *f = arg;
	unsigned char buf[8192];
	size_t off = 0, i;

	while (off < f->n) {
		size_t k = f->n - off < sizeof(buf) ? f->n - off : sizeof(buf);
		ssize_t r;

		for (i = 0; i < k; i++)
			buf[i] = pattern(off + i, 5);
		r = write(f->fd, buf, k);
		if (r <= 0)
			break;
		off += (size_t)r;
	}
	close(f->fd);
	return NULL;
}

struct drain {
	int	fd;
	size_t	got;
	int	bad;
};

static void *drain_run(void *arg)
{
	struct drain *d = arg;
	unsigned char buf[8192];
	ssize_t r;
	size_t i;

	while ((r = read(d->fd, buf, sizeof(buf))) > 0) {
		for (i = 0; i < (size_t)r; i++)
			if (buf[i] != pattern(d->got + i, 6))
				d->bad++;
		d->got += (size_t)r;
	}
	return NULL;
}

static void stdio_copy_half_closes(void)
{
	int in[2], out[2], sp[2];
	struct feeder f;
	struct echo_after_eof e = { 0 };
	struct drain d = { 0 };
	pthread_t tf, te, td;

	CHECK_EQ(pipe(in), 0);
	CHECK_EQ(pipe(out), 0);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	f.fd = in[1];
	f.n = 500000;
	e.fd = sp[1];
	d.fd = out[0];
	pthread_create(&tf, NULL, feeder_run, &f);
	pthread_create(&te, NULL, echo_after_eof_run, &e);
	pthread_create(&td, NULL, drain_run, &d);
	CHECK_EQ(ctl_copy_stdio(in[0], out[1], sp[0]), 0);
	close(out[1]);			/* our stdout closes when we exit */
	pthread_join(tf, NULL);
	pthread_join(te, NULL);
	pthread_join(td, NULL);
	CHECK_EQ(e.got, 500000);
	CHECK_EQ(e.bad, 0);
	CHECK_EQ(d.got, 300000);
	CHECK_EQ(d.bad, 0);
	close(in[0]);
	close(out[0]);
	close(sp[0]);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);	/* as stuntctl does: EPIPE, not death */
	RUN(answer_with_descriptor);
	RUN(answer_split_across_reads);
	RUN(stray_descriptors_closed);
	RUN(truncated_descriptors_refused);
	RUN(overlong_and_early_close);
	RUN(query_through_a_path);
	RUN(splice_both_ways_with_half_close);
	RUN(splice_reset_is_an_error);
	RUN(stdio_copy_half_closes);
	return TAP_DONE();
}
