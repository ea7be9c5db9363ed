// SPDX-License-Identifier: MIT
/*
 * A relayed session's connection held by stuntd (daemon/relayhc.c), driven
 * through socketpairs in stuntd's own loop: "the relay" is one pair (the
 * test writes and reads frames at its far end), "the application" another.
 * Half-closes both ways with the other direction flowing, the close
 * exchange, and a hostile peer: malformed, oversized, truncated and
 * out-of-order frames end that session only; a peer that sends faster than
 * the application reads is held back (bounded buffers); the application's
 * end of d_relayhc_pair is a TCP socket that a broken session resets; a
 * revoked service's session closes, the others stay.
 */
#include "daemon/stuntd.h"
#include "proto/hcframe.h"
#include "tests/unit/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

struct pair {
	int	relay;	/* the test's end of "the relay connection" (frames) */
	int	app;	/* the test's end of "the application's socket" */
};

static int start(struct pair *p)
{
	int f[2], a[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, f) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, a) < 0)
		return -1;
	p->relay = f[1];
	p->app = a[1];
	return d_relayhc_start(f[0], a[0], "peer", NULL);
}

static void spin(int rounds)
{
	while (rounds-- > 0)
		(void)d_loop_run_once(1);
}

/* Everything readable on fd now (up to len); -1 with errno on an error,
 * and *eof when it said EOF (or was reset). */
static ssize_t drain(int fd, uint8_t *buf, size_t len, bool *eof)
{
	size_t got = 0;
	ssize_t n;

	*eof = false;
	while (got < len) {
		n = recv(fd, buf + got, len - got, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && (errno == ECONNRESET || errno == EPIPE))) {
			*eof = true;
			break;
		}
		if (n < 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static void finish(struct pair *p)
{
	close(p->relay);
	close(p->app);
	spin(5);
}

static void half_close_both_ways(void)
{
	struct pair p;
	uint8_t b[64];
	bool eof;

	CHECK_EQ(start(&p), 0);
	/* the peer sends PING and its EOF */
	CHECK_EQ(send(p.relay, "D\0\4PINGE\0\0", 10, 0), 10);
	spin(5);
	CHECK_EQ(drain(p.app, b, sizeof(b), &eof), 4);
	CHECK_MEM(b, "PING", 4);
	CHECK(eof);		/* the application sees the peer's half-close */
	/* ... and may still answer: PONG, then its own EOF */
	CHECK_EQ(send(p.app, "PONG", 4, 0), 4);
	spin(5);
	CHECK_EQ(drain(p.relay, b, sizeof(b), &eof), 7);
	CHECK_MEM(b, "D\0\4PONG", 7);
	CHECK(!eof);
	CHECK_EQ(shutdown(p.app, SHUT_WR), 0);
	spin(5);
	/* our EOF, then (both EOFs passed) our close */
	CHECK_EQ(drain(p.relay, b, sizeof(b), &eof), 6);
	CHECK_MEM(b, "E\0\0C\0\0", 6);
	CHECK(!eof);		/* held until the peer's close */
	CHECK_EQ(send(p.relay, "C\0\0", 3, 0), 3);
	spin(5);
	CHECK_EQ(drain(p.relay, b, sizeof(b), &eof), 0);
	CHECK(eof);		/* now the relay connection is closed */
	finish(&p);
}

/* the peer's close came first: its relay connection may end right after
 * ours went out (the TURN server's RST), and that is the normal end */
static void end_after_our_close(void)
{
	struct pair p;
	uint8_t b[64];
	bool eof;

	CHECK_EQ(start(&p), 0);
	CHECK_EQ(shutdown(p.app, SHUT_WR), 0);
	spin(5);
	CHECK_EQ(drain(p.relay, b, sizeof(b), &eof), 3);
	CHECK_MEM(b, "E\0\0", 3);
	CHECK_EQ(send(p.relay, "E\0\0", 3, 0), 3);
	spin(5);
	CHECK_EQ(drain(p.relay, b, sizeof(b), &eof), 3);
	CHECK_MEM(b, "C\0\0", 3);
	CHECK_EQ(shutdown(p.relay, SHUT_WR), 0);	/* the relay ends it */
	spin(5);
	CHECK_EQ(drain(p.relay, b, sizeof(b), &eof), 0);
	CHECK(eof);
	CHECK_EQ(drain(p.app, b, sizeof(b), &eof), 0);
	CHECK(eof);
	finish(&p);
}

/* bad frames: that session is closed, another one goes on */
static void hostile(const char *what, const void *frames, size_t len, bool end)
{
	struct pair bad, good;
	uint8_t b[64];
	bool eof;

	fprintf(stderr, "# %s\n", what);
	CHECK_EQ(start(&bad), 0);
	CHECK_EQ(start(&good), 0);
	CHECK_EQ(send(bad.relay, frames, len, 0), (ssize_t)len);
	if (end)
		CHECK_EQ(shutdown(bad.relay, SHUT_WR), 0);
	spin(5);
	/* no byte of a bad or incomplete frame reaches the application */
	CHECK_EQ(drain(bad.app, b, sizeof(b), &eof), 0);
	CHECK(eof);
	CHECK_EQ(drain(bad.relay, b, sizeof(b), &eof), 0);
	CHECK(eof);
	/* the other session still carries its bytes */
	CHECK_EQ(send(good.relay, "D\0\2ok", 5, 0), 5);
	CHECK_EQ(send(good.app, "yes", 3, 0), 3);
	spin(5);
	CHECK_EQ(drain(good.app, b, sizeof(b), &eof), 2);
	CHECK_MEM(b, "ok", 2);
	CHECK(!eof);
	CHECK_EQ(drain(good.relay, b, sizeof(b), &eof), 6);
	CHECK_MEM(b, "D\0\3yes", 6);
	CHECK(!eof);
	finish(&bad);
	finish(&good);
}

static void hostile_peer(void)
{
	uint8_t big[3] = { 'D', (HCF_MAX_DATA + 1) >> 8, (uint8_t)(HCF_MAX_DATA + 1) };

	hostile("an unknown type (a plain stream)", "PING", 4, false);
	hostile("oversized data, refused from its header", big, sizeof(big), false);
	hostile("empty data", "D\0\0", 3, false);
	hostile("an EOF with a payload", "E\0\1x", 4, false);
	hostile("a close before the EOF", "C\0\0", 3, false);
	hostile("data after the EOF", "E\0\0D\0\1x", 7, false);
	hostile("a truncated frame, then the end", "D\0\x10" "ab", 5, true);
	hostile("the end before any EOF", "", 0, true);
}

/* a peer faster than the application: its frames wait in the relay
 * connection's buffers, not in stuntd's memory; none is lost */
static void bounded(void)
{
	static uint8_t frame[HCF_MAX_FRAME], got[1 << 16];
	struct pair p;
	size_t sent = 0, recvd = 0, i, off = 0;
	uint64_t sum_sent = 0, sum_got = 0;
	int idle = 0, fl;
	ssize_t n;
	bool eof;

	CHECK_EQ(start(&p), 0);
	fl = fcntl(p.relay, F_GETFL);
	fcntl(p.relay, F_SETFL, fl | O_NONBLOCK);
	(void)hcf_put_hdr(frame, HCF_DATA, HCF_MAX_DATA);
	/* send until nothing more is taken, 64 MiB at most */
	while (idle < 20 && sent < (64u << 20)) {
		for (i = 0; i < HCF_MAX_DATA; i++)
			frame[HCF_HDR_LEN + i] = (uint8_t)(sent + i);
		n = 0;
		while (off < sizeof(frame) && (n = send(p.relay, frame + off, sizeof(frame) - off,
							 0)) > 0)
			off += (size_t)n;
		if (off < sizeof(frame)) {
			spin(1);
			idle++;
			continue;
		}
		off = 0;
		idle = 0;
		for (i = 0; i < HCF_MAX_DATA; i++)
			sum_sent += (uint8_t)(sent + i) * (i + 1);
		sent += HCF_MAX_DATA;
		spin(1);
	}
	CHECK(sent < (64u << 20));	/* held back */
	/* the application reads: every byte, in order */
	for (idle = 0; idle < 200 && recvd < sent; idle++) {
		spin(2);
		while ((n = drain(p.app, got, sizeof(got), &eof)) > 0) {
			for (i = 0; i < (size_t)n; i++)
				sum_got += got[i] * (((recvd + i) % HCF_MAX_DATA) + 1);
			recvd += (size_t)n;
			idle = 0;
			spin(1);
		}
	}
	CHECK_EQ(recvd, sent);
	CHECK_EQ(sum_got, sum_sent);
	finish(&p);
}

/* the application's end of d_relayhc_pair: a TCP socket, as a direct
 * connection's; a broken session reaches it as a reset, not as the end
 * of file a finished one gives */
static void app_end_is_tcp(void)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int f[2], app;
	uint8_t b[8];
	ssize_t n;

	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, f), 0);
	app = d_relayhc_pair(f[0], "peer");
	CHECK(app >= 0);
	CHECK_EQ(getpeername(app, (struct sockaddr *)&sa, &sl), 0);
	CHECK_EQ(sa.sin_family, AF_INET);
	CHECK_EQ(send(f[1], "D\0\2hi", 5, 0), 5);
	spin(5);
	CHECK_EQ(recv(app, b, sizeof(b), MSG_DONTWAIT), 2);
	CHECK_MEM(b, "hi", 2);
	CHECK_EQ(send(f[1], "?", 1, 0), 1);	/* not a frame: the session ends */
	spin(5);
	n = recv(app, b, sizeof(b), MSG_DONTWAIT);
	CHECK_EQ(n, -1);
	CHECK_EQ(errno, ECONNRESET);
	close(app);
	close(f[1]);
	spin(5);
}

/* SIGHUP took the service away: its tcp: session closes, the requester's
 * (no service) and the bytes counted so far stay */
static void revoked(void)
{
	static struct d_config none;	/* exposes nothing */
	struct pair svc, req;
	int f[2], a[2];
	uint64_t from = 0, to = 0;
	uint8_t b[16];
	bool eof;

	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, f), 0);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, a), 0);
	svc.relay = f[1];
	svc.app = a[1];
	CHECK_EQ(d_relayhc_start(f[0], a[0], "mallory", "echo"), 0);
	CHECK_EQ(start(&req), 0);
	CHECK_EQ(d_relayhc_count(), 1);		/* the service's only */
	CHECK_EQ(send(svc.relay, "D\0\3abc", 6, 0), 6);
	spin(5);
	d_relayhc_bytes("mallory", &from, &to);
	CHECK_EQ(from, 3);
	CHECK_EQ(to, 0);
	d_relayhc_bytes("alice", &from, &to);	/* another peer's: none */
	CHECK_EQ(from, 3);
	d_relayhc_bytes(NULL, &from, &to);	/* every peer's (the metrics) */
	CHECK_EQ(from, 6);
	CHECK_EQ(d_relayhc_revoke(&none), 1);
	CHECK_EQ(d_relayhc_count(), 0);
	CHECK_EQ(drain(svc.relay, b, sizeof(b), &eof), 0);
	CHECK(eof);
	CHECK_EQ(send(req.relay, "D\0\2ok", 5, 0), 5);
	spin(5);
	CHECK_EQ(drain(req.app, b, sizeof(b), &eof), 2);
	CHECK(!eof);
	finish(&svc);
	finish(&req);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (d_loop_init() < 0)
		return 1;
	RUN(half_close_both_ways);
	RUN(end_after_our_close);
	RUN(hostile_peer);
	RUN(bounded);
	RUN(app_end_is_tcp);
	RUN(revoked);
	return TAP_DONE();
}
