// SPDX-License-Identifier: MIT
/*
 * stuntctl forward --udp (ctl/udpfwd.c) against a fake stuntd: a thread that
 * accepts connect requests on a UNIX socket, answers after ANSWER_DELAY_MS
 * with one end of a SOCK_DGRAM socketpair (or a refusal for service "nosuch"),
 * and echoes on the other end, a late punch handshake datagram first. The
 * forwarder runs in a second thread; the test is its UDP clients on
 * loopback: separate sessions per source port (no cross-talk), datagrams
 * queued while connecting (and the queue bound), a refused traversal, the
 * session limit, the idle timeout, and stop closing every session.
 */
#include "ctl/udpfwd.h"
#include "tests/unit/tap.h"

#include "common/clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define ANSWER_DELAY_MS	150
#define MAX_PEERS	16

static const char ANSWER_OK[] =
	"{\"ok\":true,\"method\":\"udp\",\"elapsed_ms\":150,\"relayed\":false,\"error\":null}\n";
static const char ANSWER_NO[] =
	"{\"ok\":false,\"method\":null,\"elapsed_ms\":3,\"relayed\":false,"
	"\"error\":\"office-pc has no service nosuch\"}\n";

static char sock_path[108];
static int lsock = -1;
static volatile int daemon_stop;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int peers[MAX_PEERS];	/* the fake peer ends, -1 when free */
static int n_requests, n_udp_requests;

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void send_fd(int sock, const char *line, int fd)
{
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { .iov_base = (void *)line, .iov_len = strlen(line) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	if (fd >= 0) {
		memset(&cbuf, 0, sizeof(cbuf));
		msg.msg_control = cbuf.b;
		msg.msg_controllen = sizeof(cbuf.b);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	(void)sendmsg(sock, &msg, MSG_NOSIGNAL);
}

/* One request at a time: the forwarder queues meanwhile. */
static void *daemon_main(void *arg)
{
	static const uint8_t punch[32] = { 'S', 'T', 'N', 'U', 1, 1 };
	char req[4096];

	(void)arg;
	while (!daemon_stop) {
		struct pollfd p = { .fd = lsock, .events = POLLIN };
		int c, sp[2], i;
		ssize_t n;

		if (poll(&p, 1, 20) <= 0)
			continue;
		c = accept(lsock, NULL, NULL);
		if (c < 0)
			continue;
		n = recv(c, req, sizeof(req) - 1, 0);
		req[n > 0 ? n : 0] = '\0';
		pthread_mutex_lock(&mu);
		n_requests++;
		if (strstr(req, "\"method\":\"udp\""))
			n_udp_requests++;
		pthread_mutex_unlock(&mu);
		sleep_ms(ANSWER_DELAY_MS);
		if (strstr(req, "\"service\":\"nosuch\"") ||
		    socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sp) < 0) {
			send_fd(c, ANSWER_NO, -1);
			close(c);
			continue;
		}
		(void)send(sp[1], punch, sizeof(punch), 0);	/* a late handshake copy */
		send_fd(c, ANSWER_OK, sp[0]);
		close(sp[0]);
		close(c);
		pthread_mutex_lock(&mu);
		for (i = 0; i < MAX_PEERS && peers[i] >= 0; i++)
			;
		if (i < MAX_PEERS)
			peers[i] = sp[1];
		else
			close(sp[1]);
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

/* The peer's service: every datagram back, as it came. */
static void *echo_main(void *arg)
{
	uint8_t buf[2048];
	int i;

	(void)arg;
	while (!daemon_stop) {
		struct pollfd p[MAX_PEERS];

		pthread_mutex_lock(&mu);
		for (i = 0; i < MAX_PEERS; i++)
			p[i] = (struct pollfd){ .fd = peers[i], .events = POLLIN };
		pthread_mutex_unlock(&mu);
		if (poll(p, MAX_PEERS, 10) <= 0)
			continue;
		for (i = 0; i < MAX_PEERS; i++) {
			ssize_t n;

			if (!(p[i].revents & POLLIN)) {
				if (p[i].revents & (POLLHUP | POLLERR)) {	/* the forwarder closed */
					pthread_mutex_lock(&mu);
					close(peers[i]);
					peers[i] = -1;
					pthread_mutex_unlock(&mu);
				}
				continue;
			}
			n = recv(p[i].fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n > 0)
				(void)send(p[i].fd, buf, (size_t)n, MSG_DONTWAIT);
		}
	}
	return NULL;
}

struct fwd_thread {
	struct ctl_udpfwd	*f;
	volatile sig_atomic_t	 stop;
	pthread_t		 th;
	int			 rc;
};

static void *fwd_main(void *arg)
{
	struct fwd_thread *t = arg;

	t->rc = ctl_udpfwd_run(t->f, &t->stop);
	return NULL;
}

static uint16_t fwd_port;
static FILE *log_to;

static struct ctl_udpfwd *start_fwd(struct fwd_thread *t, const char *service, unsigned max_sessions,
				    unsigned queue_max, unsigned idle_ms)
{
	struct ctl_udpfwd_conf c = {
		.control_path = sock_path,
		.max_sessions = max_sessions,
		.queue_max = queue_max,
		.idle_ms = idle_ms,
		.connect_timeout_ms = 5000,
		.failed_hold_ms = 300,
		.log = log_to,
	};
	struct sockaddr_in *s4 = (struct sockaddr_in *)&c.listen;
	socklen_t len = sizeof(*s4);
	int err = 0, fd;

	strcpy(c.target.peer, "office-pc");
	snprintf(c.target.service, sizeof(c.target.service), "%s", service);
	/* a free port: bind one, read it, free it */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	s4->sin_family = AF_INET;
	s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *)s4, sizeof(*s4));
	getsockname(fd, (struct sockaddr *)s4, &len);
	close(fd);
	fwd_port = ntohs(s4->sin_port);
	c.listen_len = sizeof(*s4);
	memset(t, 0, sizeof(*t));
	t->f = ctl_udpfwd_new(&c, &err);
	CHECK(t->f != NULL);
	CHECK_EQ(err, 0);
	if (t->f)
		pthread_create(&t->th, NULL, fwd_main, t);
	return t->f;
}

static void stop_fwd(struct fwd_thread *t)
{
	t->stop = 1;
	pthread_kill(t->th, SIGUSR1);	/* interrupt poll */
	pthread_join(t->th, NULL);
	CHECK_EQ(t->rc, 0);
}

static int client(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons(fwd_port) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	connect(fd, (struct sockaddr *)&a, sizeof(a));
	return fd;
}

/* Datagrams arriving on fd within ms (or 50 ms more once want have come, to
 * see extra ones), each checked to start with prefix. */
static int recv_all(int fd, const char *prefix, int want, unsigned ms, int *foreign)
{
	uint64_t end = clock_ms() + ms;
	char buf[256];
	int n = 0;

	for (;;) {
		uint64_t now = clock_ms();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (now >= end || poll(&p, 1, (int)(end - now)) <= 0)
			return n;
		r = recv(fd, buf, sizeof(buf) - 1, 0);
		if (r <= 0)
			continue;
		buf[r] = '\0';
		if (strncmp(buf, prefix, strlen(prefix)))
			(*foreign)++;
		else if (++n == want && clock_ms() + 50 < end)
			end = clock_ms() + 50;
	}
}

static void two_clients_queue_and_echo(void)
{
	struct fwd_thread t;
	const struct ctl_udpfwd_stats *st;
	int a, b, i, foreign = 0, na, nb;
	char msg[64];

	if (!start_fwd(&t, "uecho", 8, 32, 5000))
		return;
	st = ctl_udpfwd_stats(t.f);
	a = client();
	b = client();
	/* 10 each before any answer: all queued, then sent once connected */
	for (i = 0; i < 10; i++) {
		snprintf(msg, sizeof(msg), "A-%d", i);
		send(a, msg, strlen(msg), 0);
		snprintf(msg, sizeof(msg), "B-%d", i);
		send(b, msg, strlen(msg), 0);
	}
	na = recv_all(a, "A-", 10, 2 * ANSWER_DELAY_MS + 600, &foreign);
	nb = recv_all(b, "B-", 10, 2 * ANSWER_DELAY_MS + 600, &foreign);
	CHECK_EQ(na, 10);
	CHECK_EQ(nb, 10);
	/* then one at a time through the live sessions */
	for (i = 0; i < 50; i++) {
		snprintf(msg, sizeof(msg), "A-x%d", i);
		send(a, msg, strlen(msg), 0);
		snprintf(msg, sizeof(msg), "B-x%d", i);
		send(b, msg, strlen(msg), 0);
	}
	na = recv_all(a, "A-", 50, 500, &foreign);
	nb = recv_all(b, "B-", 50, 500, &foreign);
	CHECK_EQ(na, 50);
	CHECK_EQ(nb, 50);
	CHECK_EQ(foreign, 0);
	CHECK_EQ(st->sessions_opened, 2);
	CHECK_EQ(st->sessions_connected, 2);
	CHECK_EQ(st->dgrams_up, 120);
	CHECK_EQ(st->dgrams_down, 120);
	CHECK_EQ(st->drop_handshake, 2);	/* the late punch of each session */
	CHECK_EQ(st->open, 2);
	pthread_mutex_lock(&mu);
	CHECK_EQ(n_udp_requests, n_requests);
	pthread_mutex_unlock(&mu);
	stop_fwd(&t);
	ctl_udpfwd_free(t.f);
	close(a);
	close(b);
}

static void queue_bound(void)
{
	struct fwd_thread t;
	const struct ctl_udpfwd_stats *st;
	int a, i, foreign = 0;

	if (!start_fwd(&t, "uecho", 8, 4, 5000))
		return;
	st = ctl_udpfwd_stats(t.f);
	a = client();
	for (i = 0; i < 10; i++)
		send(a, "Q", 1, 0);
	CHECK_EQ(recv_all(a, "Q", 4, ANSWER_DELAY_MS + 500, &foreign), 4);
	CHECK_EQ(st->drop_queue_full, 6);
	stop_fwd(&t);
	ctl_udpfwd_free(t.f);
	close(a);
}

static void refused_then_hold_then_retry(void)
{
	struct fwd_thread t;
	const struct ctl_udpfwd_stats *st;
	int a, foreign = 0, before;

	if (!start_fwd(&t, "nosuch", 8, 32, 5000))
		return;
	st = ctl_udpfwd_stats(t.f);
	a = client();
	pthread_mutex_lock(&mu);
	before = n_requests;
	pthread_mutex_unlock(&mu);
	send(a, "R1", 2, 0);
	send(a, "R2", 2, 0);
	CHECK_EQ(recv_all(a, "R", 0, ANSWER_DELAY_MS + 100, &foreign), 0);
	send(a, "R3", 2, 0);	/* within the hold: dropped, no new request */
	sleep_ms(50);
	CHECK_EQ(st->sessions_failed, 1);
	CHECK_EQ(st->drop_failed, 3);
	pthread_mutex_lock(&mu);
	CHECK_EQ(n_requests - before, 1);
	pthread_mutex_unlock(&mu);
	sleep_ms(400);		/* hold over: the next datagram tries again */
	CHECK_EQ(st->open, 0);
	send(a, "R4", 2, 0);
	sleep_ms(ANSWER_DELAY_MS + 100);
	CHECK_EQ(st->sessions_failed, 2);
	stop_fwd(&t);
	ctl_udpfwd_free(t.f);
	close(a);
}

static void session_limit_and_idle(void)
{
	struct fwd_thread t;
	const struct ctl_udpfwd_stats *st;
	int a, b, c, foreign = 0;

	if (!start_fwd(&t, "uecho", 2, 32, 1000))
		return;
	st = ctl_udpfwd_stats(t.f);
	a = client();
	b = client();
	c = client();
	send(a, "A", 1, 0);
	send(b, "B", 1, 0);
	sleep_ms(20);
	send(c, "C", 1, 0);	/* a third client: over the limit */
	CHECK_EQ(recv_all(a, "A", 1, 2 * ANSWER_DELAY_MS + 300, &foreign), 1);
	CHECK_EQ(recv_all(b, "B", 1, ANSWER_DELAY_MS + 300, &foreign), 1);
	CHECK_EQ(recv_all(c, "C", 0, 50, &foreign), 0);
	CHECK_EQ(st->drop_limit, 1);
	CHECK_EQ(st->open, 2);
	sleep_ms(1500);		/* both idle out */
	CHECK_EQ(st->sessions_idle, 2);
	CHECK_EQ(st->open, 0);
	send(c, "C", 1, 0);	/* room again */
	CHECK_EQ(recv_all(c, "C", 1, ANSWER_DELAY_MS + 500, &foreign), 1);
	CHECK_EQ(st->open, 1);
	stop_fwd(&t);
	ctl_udpfwd_free(t.f);	/* closes the last one */
	close(a);
	close(b);
	close(c);
}

/* stuntd gone (no control socket): the client's datagram is counted, the
 * forwarder runs on. */
static void daemon_gone(void)
{
	struct fwd_thread t;
	const struct ctl_udpfwd_stats *st;
	char saved[sizeof(sock_path)];
	int a;

	memcpy(saved, sock_path, sizeof(saved));
	strcat(sock_path, ".gone");
	if (!start_fwd(&t, "uecho", 8, 32, 5000)) {
		memcpy(sock_path, saved, sizeof(saved));
		return;
	}
	st = ctl_udpfwd_stats(t.f);
	a = client();
	send(a, "G", 1, 0);
	sleep_ms(100);
	CHECK_EQ(st->sessions_failed, 1);
	CHECK_EQ(st->drop_failed, 1);
	CHECK_EQ(st->open, 1);	/* held off: its next datagrams are dropped too */
	send(a, "G", 1, 0);
	sleep_ms(50);
	CHECK_EQ(st->drop_failed, 2);
	CHECK_EQ(st->sessions_opened, 1);
	stop_fwd(&t);
	ctl_udpfwd_free(t.f);
	close(a);
	memcpy(sock_path, saved, sizeof(saved));
}

static void bad_conf(void)
{
	struct ctl_udpfwd_conf c = { .control_path = sock_path, .max_sessions = 0, .queue_max = 1,
				     .idle_ms = 1 };
	int err = 0;

	CHECK(ctl_udpfwd_new(&c, &err) == NULL);
	CHECK_EQ(err, -EINVAL);
	c.max_sessions = CTL_UDPFWD_SESSIONS_MAX + 1;
	CHECK(ctl_udpfwd_new(&c, &err) == NULL);
}

static void on_usr1(int sig)
{
	(void)sig;
}

int main(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct sigaction sa;
	pthread_t d, e;
	int i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < MAX_PEERS; i++)
		peers[i] = -1;
	snprintf(sock_path, sizeof(sock_path), "/tmp/test_ctl_udpfwd.%d.sock", (int)getpid());
	strcpy(sun.sun_path, sock_path);
	unlink(sock_path);
	lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lsock < 0 || bind(lsock, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(lsock, 16) < 0) {
		perror("fake stuntd socket");
		return 1;
	}
	log_to = getenv("V") ? stderr : NULL;
	pthread_create(&d, NULL, daemon_main, NULL);
	pthread_create(&e, NULL, echo_main, NULL);
	RUN(two_clients_queue_and_echo);
	RUN(queue_bound);
	RUN(refused_then_hold_then_retry);
	RUN(session_limit_and_idle);
	RUN(daemon_gone);
	RUN(bad_conf);
	daemon_stop = 1;
	pthread_join(d, NULL);
	pthread_join(e, NULL);
	close(lsock);
	unlink(sock_path);
	for (i = 0; i < MAX_PEERS; i++)
		if (peers[i] >= 0)
			close(peers[i]);
	return TAP_DONE();
}
