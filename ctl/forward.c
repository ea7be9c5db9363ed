// SPDX-License-Identifier: MIT
/*
 * `stuntctl forward [ADDR:]PORT PEER/NAME`: a local TCP listener; each client
 * gets its own traversal (a connect request on its own control connection),
 * then client and traversed socket are spliced both ways, all in one poll
 * loop, until a signal. With --udp, the same command sets up the UDP
 * forwarder of ctl/udpfwd.c and runs it until a signal.
 */
#include "common/usage.h"
#include "ctl/cli.h"
#include "ctl/ctl.h"
#include "ctl/udpfwd.h"

#include "common/clock.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FWD_MAX_CONNS		128
#define FWD_BACKLOG		16
#define UDP_FAILED_HOLD_MS	5000	/* a failed UDP client's datagrams dropped this long */

enum fwd_state { FWD_WAIT, FWD_SPLICE };

struct fwd_conn {
	enum fwd_state	 state;
	unsigned	 id;
	int		 client;
	int		 ctl;		/* control connection while waiting */
	uint64_t	 deadline_ms;
	uint64_t	 started_ms;
	char		 from[64];
	struct ctl_rx	 rx;
	struct ctl_splice sp;
};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void fwd_free(struct fwd_conn *c)
{
	if (c->state == FWD_SPLICE) {
		ctl_splice_close(&c->sp);
	} else {
		if (c->client >= 0)
			close(c->client);
		if (c->ctl >= 0)
			close(c->ctl);
		ctl_rx_release(&c->rx);
	}
	free(c);
}

/* Start a traversal for a newly accepted client. */
static struct fwd_conn *fwd_start(int client, const struct sockaddr_storage *from,
				  const struct ctl_target *t, unsigned id)
{
	struct fwd_conn *c = calloc(1, sizeof(*c));
	char req[CTL_LINE_MAX], msg[512];
	int r;

	if (!c) {
		close(client);
		return NULL;
	}
	c->id = id;
	c->client = client;
	c->ctl = -1;
	c->state = FWD_WAIT;
	c->started_ms = clock_ms();
	c->deadline_ms = c->started_ms + CTL_CONNECT_TIMEOUT_MS;
	ctl_addr_str(from, c->from, sizeof(c->from));
	ctl_rx_init(&c->rx);
	r = ctl_build_connect(t, NULL, req, sizeof(req));
	if (r >= 0) {
		c->ctl = ctl_open(ctl_control_path, true);
		r = c->ctl < 0 ? c->ctl : ctl_send_line(c->ctl, req, (size_t)r, CTL_QUERY_TIMEOUT_MS);
	}
	if (r < 0) {
		fprintf(stderr, PROG ": connection %u from %s: %s\n", id, c->from,
			ctl_strerror(r, ctl_control_path, msg, sizeof(msg)));
		fwd_free(c);
		return NULL;
	}
	return c;
}

/* The daemon's answer is complete: splice, or report and drop the client. */
static int fwd_answered(struct fwd_conn *c, const struct ctl_target *t)
{
	struct ctl_connect_answer a;
	int r;

	close(c->ctl);
	c->ctl = -1;
	if (ctl_parse_connect_answer(c->rx.line, c->rx.len, &a) < 0) {
		fprintf(stderr, PROG ": connection %u from %s: stuntd's answer is not understood\n",
			c->id, c->from);
		return -1;
	}
	if (!a.ok || c->rx.fd < 0) {
		fprintf(stderr, PROG ": connection %u from %s: %s/%s: %s\n", c->id, c->from,
			t->peer, t->service,
			!a.ok ? (a.error[0] ? a.error : "the connection failed")
			      : "stuntd reported success but sent no socket");
		return -1;
	}
	fprintf(stderr, PROG ": connection %u from %s: %s/%s connected by %s in %lld ms%s\n",
		c->id, c->from, t->peer, t->service, a.method[0] ? a.method : "?",
		a.elapsed_ms, a.relayed ? " (relayed)" : "");
	r = ctl_splice_init(&c->sp, c->client, c->rx.fd);
	c->client = -1;
	c->rx.fd = -1;
	c->state = FWD_SPLICE;
	if (r < 0) {
		fprintf(stderr, PROG ": connection %u: %s\n", c->id, strerror(-r));
		return -1;
	}
	return 0;
}

static int listen_on(const struct sockaddr_storage *ss, socklen_t len, const char *arg)
{
	int fd, one = 1;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, len) < 0 || listen(fd, FWD_BACKLOG) < 0)
		goto fail;
	return fd;
fail:
	fprintf(stderr, PROG ": listen on %s: %s\n", arg, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static void catch_stop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* A decimal number in [lo, hi]; 0 or -EINVAL. */
static int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	unsigned long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

static int forward_udp(const struct sockaddr_storage *ss, socklen_t sslen,
		       const struct ctl_target *t, const char *arg, unsigned idle_s,
		       unsigned max_sessions, unsigned queue_max)
{
	struct ctl_udpfwd_conf conf = {
		.control_path = ctl_control_path,
		.target = *t,
		.listen = *ss,
		.listen_len = sslen,
		.idle_ms = idle_s * 1000,
		.max_sessions = max_sessions,
		.queue_max = queue_max,
		.connect_timeout_ms = CTL_CONNECT_TIMEOUT_MS,
		.failed_hold_ms = UDP_FAILED_HOLD_MS,
		.log = stderr,
	};
	struct ctl_udpfwd *f;
	char where[80];
	int err;

	f = ctl_udpfwd_new(&conf, &err);
	if (!f) {
		fprintf(stderr, PROG ": udp %s: %s\n", arg, strerror(-err));
		return EXIT_FAILED;
	}
	ctl_addr_str(ss, where, sizeof(where));
	fprintf(stderr, PROG ": forwarding udp %s to %s/%s (idle %u s, %u sessions, queue %u)\n",
		where, t->peer, t->service, idle_s, max_sessions, queue_max);
	catch_stop_signals();
	err = ctl_udpfwd_run(f, &stop_flag);
	if (err < 0)
		fprintf(stderr, PROG ": poll: %s\n", strerror(-err));
	ctl_udpfwd_free(f);
	return err < 0 ? EXIT_FAILED : EXIT_OK;
}

static int forward_tcp(const struct sockaddr_storage *ss, socklen_t sslen,
		       const struct ctl_target *t, const char *arg);

int ctl_cmd_forward(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "udp", no_argument, NULL, 'u' },
		{ "idle", required_argument, NULL, 'i' },
		{ "max-sessions", required_argument, NULL, 'n' },
		{ "queue", required_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned idle_s = CTL_UDPFWD_IDLE_S_DEFAULT, max_sessions = CTL_UDPFWD_SESSIONS_DEFAULT;
	unsigned queue_max = CTL_UDPFWD_QUEUE_DEFAULT;
	bool udp = false, udp_opts = false;
	struct sockaddr_storage ss;
	struct ctl_target t;
	socklen_t sslen;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'u': udp = true; break;
		case 'i':
			udp_opts = true;
			if (parse_uint(optarg, 1, 86400, &idle_s) < 0)
				return ctl_die_usage("forward: --idle '%s': seconds, 1-86400", optarg);
			break;
		case 'n':
			udp_opts = true;
			if (parse_uint(optarg, 1, CTL_UDPFWD_SESSIONS_MAX, &max_sessions) < 0)
				return ctl_die_usage("forward: --max-sessions '%s': 1-1024", optarg);
			break;
		case 'q':
			udp_opts = true;
			if (parse_uint(optarg, 1, CTL_UDPFWD_QUEUE_MAX, &queue_max) < 0)
				return ctl_die_usage("forward: --queue '%s': 1-1024", optarg);
			break;
		case 'h': ctl_usage(stdout); return EXIT_OK;
		default: return usage_err_getopt(PROG, c, argv);
		}
	}
	if (udp_opts && !udp)
		return ctl_die_usage("forward: %s", "--idle, --max-sessions and --queue go with --udp");
	if (argc - optind != 2)
		return ctl_die_usage("forward: %s", "needs [ADDR:]PORT and PEER/NAME");
	if (ctl_parse_listen(argv[optind], &ss, &sslen) < 0)
		return ctl_die_usage("forward: '%s' is not [ADDR:]PORT", argv[optind]);
	if (ctl_parse_target(argv[optind + 1], &t) < 0)
		return ctl_die_usage("forward: '%s' is not PEER/NAME", argv[optind + 1]);

	/* Fail early and clearly when there is no daemon to ask. */
	r = ctl_open(ctl_control_path, false);
	if (r < 0)
		return ctl_fail(r);
	close(r);

	if (udp)
		return forward_udp(&ss, sslen, &t, argv[optind], idle_s, max_sessions, queue_max);
	return forward_tcp(&ss, sslen, &t, argv[optind]);
}

static int forward_tcp(const struct sockaddr_storage *ss, socklen_t sslen,
		       const struct ctl_target *tp, const char *arg)
{
	struct fwd_conn *conns[FWD_MAX_CONNS] = { 0 };
	struct pollfd p[1 + 2 * FWD_MAX_CONNS];
	const struct ctl_target t = *tp;
	unsigned next_id = 1;
	int lfd, i, r, nconns = 0;
	char where[80];

	lfd = listen_on(ss, sslen, arg);
	if (lfd < 0)
		return EXIT_FAILED;
	ctl_addr_str(ss, where, sizeof(where));
	fprintf(stderr, PROG ": forwarding %s to %s/%s\n", where, t.peer, t.service);
	catch_stop_signals();

	while (!stop_flag) {
		uint64_t now = clock_ms(), next = UINT64_MAX;
		int n = 0, tmo;

		p[n++] = (struct pollfd){ .fd = nconns < FWD_MAX_CONNS ? lfd : -1, .events = POLLIN };
		for (i = 0; i < FWD_MAX_CONNS; i++) {
			struct fwd_conn *c = conns[i];
			short ea, eb;

			if (!c) {
				p[n++] = (struct pollfd){ .fd = -1 };
				p[n++] = (struct pollfd){ .fd = -1 };
				continue;
			}
			if (c->state == FWD_WAIT) {
				p[n++] = (struct pollfd){ .fd = c->ctl, .events = POLLIN };
				p[n++] = (struct pollfd){ .fd = -1 };
				if (c->deadline_ms < next)
					next = c->deadline_ms;
			} else {
				ctl_splice_events(&c->sp, &ea, &eb);
				p[n++] = (struct pollfd){ .fd = c->sp.a, .events = ea };
				p[n++] = (struct pollfd){ .fd = c->sp.b, .events = eb };
			}
		}
		tmo = next == UINT64_MAX ? -1 : next <= now ? 0 : (int)(next - now);
		if (poll(p, (nfds_t)n, tmo) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, PROG ": poll: %s\n", strerror(errno));
			break;
		}
		now = clock_ms();
		for (i = 0; i < FWD_MAX_CONNS; i++) {
			struct fwd_conn *c = conns[i];
			struct pollfd *pa = &p[1 + 2 * i], *pb = &p[2 + 2 * i];
			bool drop = false, fresh = false;

			if (!c)
				continue;
			if (c->state == FWD_WAIT) {
				if (pa->revents) {
					r = ctl_rx_step(c->ctl, &c->rx);
					if (r < 0) {
						char msg[512];

						fprintf(stderr, PROG ": connection %u from %s: %s\n", c->id,
							c->from, ctl_strerror(r, ctl_control_path, msg, sizeof(msg)));
						drop = true;
					} else if (r == 1) {
						if (fwd_answered(c, &t) < 0)
							drop = true;
						else
							fresh = true;
					}
				}
				if (!drop && c->state == FWD_WAIT && now >= c->deadline_ms) {
					fprintf(stderr, PROG ": connection %u from %s: stuntd gave no answer in %d s\n",
						c->id, c->from, CTL_CONNECT_TIMEOUT_MS / 1000);
					drop = true;
				}
			}
			/* a fresh splice runs once at once: data may already be waiting */
			if (!drop && c->state == FWD_SPLICE &&
			    (fresh || pa->revents || pb->revents)) {
				r = ctl_splice_run(&c->sp);
				if (r < 0)
					fprintf(stderr, PROG ": connection %u from %s: %s after %llu/%llu bytes\n",
						c->id, c->from, strerror(-r),
						(unsigned long long)c->sp.d[0].bytes,
						(unsigned long long)c->sp.d[1].bytes);
				if (r != 0)
					drop = true;
			}
			if (drop) {
				fwd_free(c);
				conns[i] = NULL;
				nconns--;
			}
		}
		if (p[0].revents & POLLIN) {
			for (;;) {
				struct sockaddr_storage from;
				socklen_t flen = sizeof(from);
				int cfd = accept4(lfd, (struct sockaddr *)&from, &flen, SOCK_CLOEXEC);

				if (cfd < 0) {
					if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
					    errno != ECONNABORTED)
						fprintf(stderr, PROG ": accept: %s\n", strerror(errno));
					break;
				}
				for (i = 0; i < FWD_MAX_CONNS && conns[i]; i++)
					;
				conns[i] = fwd_start(cfd, &from, &t, next_id++);
				if (conns[i])
					nconns++;
				if (nconns >= FWD_MAX_CONNS)
					break;
			}
		}
	}
	for (i = 0; i < FWD_MAX_CONNS; i++)
		if (conns[i])
			fwd_free(conns[i]);
	close(lfd);
	return EXIT_OK;
}
