// SPDX-License-Identifier: MIT
#include "common/fdpass.h"
#include "tests/unit/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

static int pair(int sp[2])
{
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp);
}

static int is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static void bytes_and_descriptors_arrive(void)
{
	int sp[2], p[2], got[FDPASS_MAX], n = -1;
	char buf[16];
	bool trunc = true;

	CHECK(pair(sp) == 0 && pipe(p) == 0);
	CHECK_EQ(fdpass_send(sp[0], "hello", 5, p, 2), 5);
	CHECK_EQ(fdpass_recv(sp[1], buf, sizeof(buf), 0, got, FDPASS_MAX, &n, &trunc), 5);
	CHECK(!memcmp(buf, "hello", 5));
	CHECK_EQ(n, 2);
	CHECK(!trunc);
	/* the received read end reads what the original write end writes */
	if (n == 2) {
		CHECK(fcntl(got[0], F_GETFD) & FD_CLOEXEC);
		CHECK_EQ(write(p[1], "x", 1), 1);
		CHECK_EQ(read(got[0], buf, 1), 1);
		close(got[0]);
		close(got[1]);
	}
	/* no descriptors at all */
	CHECK_EQ(fdpass_send(sp[0], "a", 1, NULL, 0), 1);
	CHECK_EQ(fdpass_recv(sp[1], buf, sizeof(buf), 0, got, FDPASS_MAX, &n, &trunc), 1);
	CHECK_EQ(n, 0);
	close(p[0]);
	close(p[1]);
	close(sp[0]);
	close(sp[1]);
}

static void descriptors_past_max_are_closed(void)
{
	int sp[2], p[2], got[1] = { -1 }, n = -1, before, probe;
	char buf[16];
	bool trunc;

	CHECK(pair(sp) == 0 && pipe(p) == 0);
	CHECK_EQ(fdpass_send(sp[0], "x", 1, p, 2), 1);
	/* the lowest free number after the receive tells whether one leaked */
	before = dup(0);
	close(before);
	CHECK_EQ(fdpass_recv(sp[1], buf, sizeof(buf), 0, got, 1, &n, &trunc), 1);
	CHECK_EQ(n, 1);
	CHECK(is_open(got[0]));
	probe = dup(0);
	/* before took the number the first received descriptor now has; the
	 * second was closed, so the next free number is the one after it */
	CHECK_EQ(got[0], before);
	CHECK_EQ(probe, before + 1);
	close(probe);
	close(got[0]);
	close(p[0]);
	close(p[1]);
	close(sp[0]);
	close(sp[1]);
}

static void bad_counts_refused_and_cut_datagrams_flagged(void)
{
	int sp[2], fds[FDPASS_MAX + 1] = { 0 }, got[FDPASS_MAX], n;
	char buf[4];
	bool trunc = false;

	CHECK(pair(sp) == 0);
	errno = 0;
	CHECK_EQ(fdpass_send(sp[0], "x", 1, fds, FDPASS_MAX + 1), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(fdpass_send(sp[0], "x", 1, NULL, 1), -1);
	CHECK_EQ(fdpass_send(sp[0], "x", 1, fds, -1), -1);
	/* a datagram longer than the buffer: cut, and said so */
	CHECK_EQ(fdpass_send(sp[0], "0123456789", 10, NULL, 0), 10);
	CHECK_EQ(fdpass_recv(sp[1], buf, sizeof(buf), 0, got, FDPASS_MAX, &n, &trunc), 4);
	CHECK(trunc);
	/* the other side gone: 0 */
	close(sp[0]);
	CHECK_EQ(fdpass_recv(sp[1], buf, sizeof(buf), 0, got, FDPASS_MAX, &n, &trunc), 0);
	close(sp[1]);
}

int main(void)
{
	RUN(bytes_and_descriptors_arrive);
	RUN(descriptors_past_max_are_closed);
	RUN(bad_counts_refused_and_cut_datagrams_flagged);
	return TAP_DONE();
}
