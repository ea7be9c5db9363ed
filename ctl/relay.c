// SPDX-License-Identifier: MIT
/*
 * Moving bytes over a traversed socket: stdin/stdout <-> socket for
 * `stuntctl connect` (read/write: stdin and stdout may be anything), and
 * socket <-> socket through a pipe per direction with splice(2) for
 * `stuntctl forward` (the bytes never enter user space).
 */
#include "ctl/ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define COPY_BUF_BYTES	65536

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

/*
 * stdin and stdout stay blocking (their file descriptions may be shared with
 * the shell): poll() first, then at most PIPE_BUF bytes per write, which a
 * pipe that polled writable takes without blocking.
 */
int ctl_copy_stdio(int in_fd, int out_fd, int sock)
{
	static char up[COPY_BUF_BYTES], down[COPY_BUF_BYTES];
	size_t up_len = 0, up_off = 0, down_len = 0, down_off = 0;
	bool in_eof = false, sock_eof = false, shut = false;
	struct pollfd p[3];
	ssize_t r;
	int err;

	if ((err = set_nonblock(sock)) < 0)
		return err;
	for (;;) {
		if (in_eof && up_len == up_off && !shut) {
			shutdown(sock, SHUT_WR);	/* the peer sees our EOF */
			shut = true;
		}
		if (sock_eof && down_len == down_off)
			return 0;
		p[0] = (struct pollfd){ .fd = in_fd, .events = (!in_eof && up_len == up_off) ? POLLIN : 0 };
		p[1] = (struct pollfd){ .fd = sock, .events = (short)(((!sock_eof && down_len == down_off) ? POLLIN : 0) |
							     (up_len > up_off ? POLLOUT : 0)) };
		p[2] = (struct pollfd){ .fd = out_fd, .events = down_len > down_off ? POLLOUT : 0 };
		if (in_eof)
			p[0].fd = -1;
		if (down_len == down_off)
			p[2].fd = -1;
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (p[0].revents & POLLNVAL)
			in_eof = true;
		else if (!in_eof && up_len == up_off && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			/* (POLLHUP comes even when POLLIN was not asked for) */
			r = read(in_fd, up, sizeof(up));
			if (r > 0) {
				up_len = (size_t)r;
				up_off = 0;
			} else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
				in_eof = true;	/* an unreadable stdin ends our side */
			}
		}
		if (up_len > up_off && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
			r = send(sock, up + up_off, up_len - up_off, MSG_NOSIGNAL);
			if (r > 0)
				up_off += (size_t)r;
			else if (r < 0 && errno != EAGAIN && errno != EINTR)
				return -errno;
		}
		if (!sock_eof && down_len == down_off && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			r = recv(sock, down, sizeof(down), 0);
			if (r > 0) {
				down_len = (size_t)r;
				down_off = 0;
			} else if (r == 0) {
				sock_eof = true;
			} else if (errno != EAGAIN && errno != EINTR) {
				return -errno;
			}
		}
		if (p[2].revents & POLLNVAL)
			return -EBADF;
		if (down_len > down_off && (p[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
			size_t n = down_len - down_off;

			if (n > PIPE_BUF)
				n = PIPE_BUF;
			r = write(out_fd, down + down_off, n);
			if (r > 0)
				down_off += (size_t)r;
			else if (r < 0 && errno != EAGAIN && errno != EINTR)
				return -errno;
		}
	}
}

static void dir_close_pipe(struct ctl_dir *d)
{
	if (d->pipe_r >= 0)
		close(d->pipe_r);
	if (d->pipe_w >= 0)
		close(d->pipe_w);
	d->pipe_r = d->pipe_w = -1;
}

int ctl_splice_init(struct ctl_splice *s, int a, int b)
{
	int i, pfd[2], err;

	memset(s, 0, sizeof(*s));
	s->a = a;
	s->b = b;
	s->d[0] = (struct ctl_dir){ .from = a, .to = b, .pipe_r = -1, .pipe_w = -1 };
	s->d[1] = (struct ctl_dir){ .from = b, .to = a, .pipe_r = -1, .pipe_w = -1 };
	if ((err = set_nonblock(a)) < 0 || (err = set_nonblock(b)) < 0)
		return err;
	for (i = 0; i < 2; i++) {
		if (pipe2(pfd, O_NONBLOCK | O_CLOEXEC) < 0) {
			err = -errno;
			dir_close_pipe(&s->d[0]);
			return err;
		}
		s->d[i].pipe_r = pfd[0];
		s->d[i].pipe_w = pfd[1];
		s->d[i].cap = (size_t)fcntl(pfd[0], F_GETPIPE_SZ);
		if ((ssize_t)s->d[i].cap <= 0)
			s->d[i].cap = 65536;
	}
	return 0;
}

void ctl_splice_events(const struct ctl_splice *s, short *ev_a, short *ev_b)
{
	int i;

	*ev_a = *ev_b = 0;
	if (s->failed)
		return;
	for (i = 0; i < 2; i++) {
		const struct ctl_dir *d = &s->d[i];
		short *from = d->from == s->a ? ev_a : ev_b;
		short *to = d->to == s->a ? ev_a : ev_b;

		if (d->closed)
			continue;
		if (!d->eof && d->queued < d->cap && !d->pipe_full)
			*from |= POLLIN;
		if (d->queued > 0)
			*to |= POLLOUT;
	}
}

/* Move one direction as far as it goes without blocking. */
static int dir_run(struct ctl_dir *d)
{
	bool progress = true;
	ssize_t r;

	while (progress && !d->closed) {
		progress = false;
		if (!d->eof && d->queued < d->cap && !d->pipe_full) {
			r = splice(d->from, NULL, d->pipe_w, NULL, d->cap - d->queued,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (r > 0) {
				d->queued += (size_t)r;
				progress = true;
			} else if (r == 0) {
				d->eof = true;
				progress = true;
			} else if (errno == EAGAIN && d->queued > 0) {
				/* A pipe holds a number of buffers, not of bytes: small
				 * segments fill it early. Wait for it to drain rather
				 * than spin on a readable socket. */
				d->pipe_full = true;
			} else if (errno != EAGAIN && errno != EINTR) {
				return -errno;
			}
		}
		if (d->queued > 0) {
			r = splice(d->pipe_r, NULL, d->to, NULL, d->queued,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (r > 0) {
				d->queued -= (size_t)r;
				d->bytes += (uint64_t)r;
				d->pipe_full = false;
				progress = true;
			} else if (r < 0 && errno != EAGAIN && errno != EINTR) {
				return -errno;
			}
		}
		if (d->eof && d->queued == 0) {
			shutdown(d->to, SHUT_WR);
			d->closed = true;
		}
	}
	return 0;
}

int ctl_splice_run(struct ctl_splice *s)
{
	int i, r;

	if (s->failed)
		return -EPIPE;
	for (i = 0; i < 2; i++) {
		r = dir_run(&s->d[i]);
		if (r < 0) {
			s->failed = true;
			return r;
		}
	}
	return s->d[0].closed && s->d[1].closed;
}

void ctl_splice_close(struct ctl_splice *s)
{
	dir_close_pipe(&s->d[0]);
	dir_close_pipe(&s->d[1]);
	if (s->a >= 0)
		close(s->a);
	if (s->b >= 0)
		close(s->b);
	s->a = s->b = -1;
}
