// SPDX-License-Identifier: MIT
/*
 * The client end of stuntd's control socket (docs/control.md): one request
 * line, one answer line, and after a successful connect the traversed socket
 * as one SCM_RIGHTS descriptor sent with the answer.
 */
#include "ctl/ctl.h"

#include "common/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int ctl_open(const char *path, bool nonblock)
{
	struct sockaddr_un sun;
	int fd, err;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* connect() on a UNIX socket completes at once (or fails with
	 * EAGAIN when the backlog is full): no need to make it non-blocking. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	if (nonblock && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int wait_fd(int fd, short ev, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = ev };
	uint64_t now;
	int r;

	for (;;) {
		now = clock_ms();
		if (now >= deadline)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)(deadline - now));
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

int ctl_send_line(int fd, const char *line, size_t len, int timeout_ms)
{
	char buf[CTL_LINE_MAX + 1];
	uint64_t deadline = clock_ms() + (uint64_t)timeout_ms;
	size_t off = 0;
	ssize_t w;
	int r;

	if (len > CTL_LINE_MAX)
		return -EMSGSIZE;
	memcpy(buf, line, len);
	buf[len++] = '\n';
	while (off < len) {
		w = send(fd, buf + off, len - off, MSG_NOSIGNAL);
		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			r = wait_fd(fd, POLLOUT, deadline);
			if (r < 0)
				return r;
			continue;
		}
		return w < 0 ? -errno : -EPIPE;
	}
	return 0;
}

void ctl_rx_init(struct ctl_rx *rx)
{
	memset(rx, 0, sizeof(*rx));
	rx->fd = -1;
}

void ctl_rx_release(struct ctl_rx *rx)
{
	if (rx->fd >= 0)
		close(rx->fd);
	rx->fd = -1;
}

/* Take the descriptors of one message: keep the first, close the rest. */
static void take_fds(struct msghdr *msg, struct ctl_rx *rx)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		size_t nfds, i;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0))
			continue;
		nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfds; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (fd < 0)
				continue;
			if (rx->fd < 0) {
				rx->fd = fd;
			} else {
				close(fd);
				rx->stray_fds++;
			}
		}
	}
}

int ctl_rx_step(int sock, struct ctl_rx *rx)
{
	union {
		char buf[CMSG_SPACE(CTL_MAX_FDS_ACCEPTED * sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct msghdr msg;
	struct iovec iov;
	char *nl;
	ssize_t r;

	if (rx->done)
		return 1;
	if (rx->len >= CTL_LINE_MAX + 1)
		return -EMSGSIZE;
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = rx->line + rx->len;
	iov.iov_len = CTL_LINE_MAX + 1 - rx->len;	/* room for the line and its '\n' */
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf.buf;
	msg.msg_controllen = sizeof(cbuf.buf);
	do {
		r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
	/* Descriptors that did arrive are ours to close, whatever else happened. */
	take_fds(&msg, rx);
	if (msg.msg_flags & MSG_CTRUNC)
		return -EMSGSIZE;	/* some descriptor was dropped by the kernel */
	if (r == 0)
		return -EPROTO;		/* closed before a whole line */
	nl = memchr(rx->line + rx->len, '\n', (size_t)r);
	rx->len += (size_t)r;
	if (!nl) {
		if (rx->len >= CTL_LINE_MAX + 1)
			return -EMSGSIZE;
		return 0;
	}
	/* Anything after the newline is not part of the protocol: ignore it. */
	rx->len = (size_t)(nl - rx->line);
	rx->line[rx->len] = '\0';
	rx->done = true;
	return 1;
}

int ctl_rx_wait(int sock, struct ctl_rx *rx, int timeout_ms)
{
	uint64_t deadline = clock_ms() + (uint64_t)timeout_ms;
	int r;

	for (;;) {
		r = ctl_rx_step(sock, rx);
		if (r != 0)
			return r < 0 ? r : 0;
		r = wait_fd(sock, POLLIN, deadline);
		if (r < 0)
			return r;
	}
}

int ctl_query(const char *path, const char *request, struct ctl_rx *rx, int timeout_ms)
{
	int fd, r;

	ctl_rx_init(rx);
	fd = ctl_open(path, false);
	if (fd < 0)
		return fd;
	r = ctl_send_line(fd, request, strlen(request), timeout_ms);
	if (r == 0)
		r = ctl_rx_wait(fd, rx, timeout_ms);
	ctl_rx_release(rx);	/* status and peers carry no descriptor */
	close(fd);
	return r;
}

const char *ctl_strerror(int err, const char *path, char *buf, size_t size)
{
	switch (err) {
	case -ENOENT:
	case -ECONNREFUSED:
	case -ENOTDIR:
		snprintf(buf, size, "stuntd is not running (no control socket at %s)", path);
		break;
	case -EACCES:
	case -EPERM:
		snprintf(buf, size, "permission denied on %s (root or the control group only)", path);
		break;
	case -ETIMEDOUT:
		snprintf(buf, size, "stuntd did not answer in time on %s", path);
		break;
	case -EPROTO:
		snprintf(buf, size, "stuntd closed the control connection without an answer");
		break;
	case -EMSGSIZE:
		snprintf(buf, size, "stuntd's answer was too long or its descriptor was lost");
		break;
	default:
		snprintf(buf, size, "control socket %s: %s", path, strerror(-err));
		break;
	}
	return buf;
}
