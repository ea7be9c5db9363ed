// SPDX-License-Identifier: MIT
/*
 * `stuntctl connect PEER/NAME`: ask stuntd for a traversal and take the
 * socket it sends; then copy stdin/stdout to it (a UDP session: a datagram
 * per read()), run COMMAND with it as stdin and stdout, or with --json print
 * the answer and close.
 */
#include "common/usage.h"
#include "ctl/cli.h"
#include "ctl/ctl.h"

#include "common/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define UDP_LINGER_MS	1000	/* after stdin's EOF: wait this long for answers */

/* A late punch handshake datagram of stuntd (32 bytes, "STNU" 1): not data. */
static bool udp_handshake(const uint8_t *b, ssize_t n)
{
	return n == 32 && !memcmp(b, "STNU", 4) && b[4] == 1;
}

/* stdin -> one datagram per read(), datagrams -> stdout. */
static int copy_udp(int in_fd, int out_fd, int sock)
{
	static uint8_t buf[65536];
	struct pollfd p[2];
	bool in_eof = false;
	uint64_t last = clock_ms();
	ssize_t n;

	for (;;) {
		int tmo = -1;

		if (in_eof) {
			uint64_t now = clock_ms();

			if (now >= last + UDP_LINGER_MS)
				return 0;
			tmo = (int)(last + UDP_LINGER_MS - now);
		}
		p[0] = (struct pollfd){ .fd = in_eof ? -1 : in_fd, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = sock, .events = POLLIN };
		if (poll(p, 2, tmo) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (p[0].revents) {
			n = read(in_fd, buf, 65507);
			if (n <= 0) {
				in_eof = true;
				last = clock_ms();
			} else if (send(sock, buf, (size_t)n, 0) < 0 && errno != ECONNREFUSED) {
				return -errno;
			}
		}
		if (p[1].revents) {
			n = recv(sock, buf, sizeof(buf), MSG_DONTWAIT);
			if (n < 0 && errno != EAGAIN && errno != EINTR && errno != ECONNREFUSED)
				return -errno;
			if (n > 0 && !udp_handshake(buf, n)) {
				last = clock_ms();
				if (write(out_fd, buf, (size_t)n) != n)
					return -errno;
			}
		}
	}
}

/* Ask the daemon for a traversal; on success *sock is the connected socket. */
static int request_connect(const struct ctl_target *t, const char *method,
			   struct ctl_rx *rx, struct ctl_connect_answer *a)
{
	char req[CTL_LINE_MAX];
	int fd, r;

	ctl_rx_init(rx);
	r = ctl_build_connect(t, method, req, sizeof(req));
	if (r < 0)
		return r;
	fd = ctl_open(ctl_control_path, false);
	if (fd < 0)
		return fd;
	r = ctl_send_line(fd, req, (size_t)r, CTL_QUERY_TIMEOUT_MS);
	if (r == 0)
		r = ctl_rx_wait(fd, rx, CTL_CONNECT_TIMEOUT_MS);
	close(fd);
	if (r < 0) {
		ctl_rx_release(rx);
		return r;
	}
	if (ctl_parse_connect_answer(rx->line, rx->len, a) < 0) {
		ctl_rx_release(rx);
		return -EBADMSG;
	}
	if (!a->ok)
		ctl_rx_release(rx);	/* a descriptor with a failure is not ours */
	return 0;
}

int ctl_cmd_connect(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "method", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "udp", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl_connect_answer a;
	bool udp = false;
	struct ctl_target t;
	struct ctl_rx rx;
	const char *method = NULL;
	char **command = NULL;
	bool json = false;
	int c, r, i, nargs = argc;

	/* Everything after "--" is the command, untouched by getopt. */
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			nargs = i;
			command = argv + i + 1;
			if (!*command)
				return ctl_die_usage("%s: a COMMAND must follow", "--");
			break;
		}
	}
	optind = 0;
	while ((c = getopt_long(nargs, argv, ":m:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'm': method = optarg; break;
		case 'u': udp = true; break;
		case 'j': json = true; break;
		case 'h': ctl_usage(stdout); return EXIT_OK;
		default: return usage_err_getopt(PROG, c, argv);
		}
	}
	if (optind >= nargs)
		return ctl_die_usage("connect: %s", "PEER/NAME is missing");
	if (optind + 1 < nargs)
		return ctl_die_usage("connect: unexpected argument %s (a command goes after --)",
				     argv[optind + 1]);
	if (ctl_parse_target(argv[optind], &t) < 0)
		return ctl_die_usage("connect: '%s' is not PEER/NAME (1-64 of A-Z a-z 0-9 . _ - each)",
				     argv[optind]);
	if (method && !ctl_method_valid(method))
		return ctl_die_usage("connect: unknown method '%s'", method);
	/* a UDP session is method udp (both families raced), or udp6 */
	if (udp && method && strcmp(method, "udp") && strcmp(method, "udp6"))
		return ctl_die_usage("connect: --udp and the TCP method '%s' exclude each other", method);
	if (udp && !method)
		method = "udp";
	udp = method && (!strcmp(method, "udp") || !strcmp(method, "udp6"));
	if (json && command)
		return ctl_die_usage("connect: %s", "--json and a COMMAND exclude each other");

	r = request_connect(&t, method, &rx, &a);
	if (r < 0) {
		char msg[512];

		if (r == -EBADMSG)
			snprintf(msg, sizeof(msg), "stuntd's connect answer is not understood");
		else
			ctl_strerror(r, ctl_control_path, msg, sizeof(msg));
		if (json) {
			char q[600];

			cj_quote(msg, q, sizeof(q));
			printf("{\"ok\":false,\"method\":null,\"elapsed_ms\":null,\"relayed\":false,\"error\":%s}\n", q);
		}
		fprintf(stderr, PROG ": %s\n", msg);
		return ctl_not_running(r) ? EXIT_NODAEMON : EXIT_FAILED;
	}
	if (json) {
		printf("%s\n", rx.line);
		ctl_rx_release(&rx);
		return a.ok ? EXIT_OK : EXIT_FAILED;
	}
	if (!a.ok) {
		fprintf(stderr, PROG ": %s/%s: %s\n", t.peer, t.service,
			a.error[0] ? a.error : "the connection failed");
		return EXIT_FAILED;
	}
	if (rx.fd < 0) {
		fprintf(stderr, PROG ": stuntd reported success but sent no socket\n");
		return EXIT_FAILED;
	}
	if (command) {
		int fl = fcntl(rx.fd, F_GETFL);

		/* The daemon's socket may come non-blocking (the flag travels with
		 * the open file): a command expects ordinary blocking stdio. */
		if (fl >= 0 && (fl & O_NONBLOCK))
			fcntl(rx.fd, F_SETFL, fl & ~O_NONBLOCK);
		if (dup2(rx.fd, STDIN_FILENO) < 0 || dup2(rx.fd, STDOUT_FILENO) < 0) {
			fprintf(stderr, PROG ": dup2: %s\n", strerror(errno));
			return EXIT_FAILED;
		}
		if (rx.fd > STDOUT_FILENO)
			close(rx.fd);
		signal(SIGPIPE, SIG_DFL);
		execvp(command[0], command);
		fprintf(stderr, PROG ": %s: %s\n", command[0], strerror(errno));
		return 127;
	}
	r = udp ? copy_udp(STDIN_FILENO, STDOUT_FILENO, rx.fd)
		: ctl_copy_stdio(STDIN_FILENO, STDOUT_FILENO, rx.fd);
	ctl_rx_release(&rx);
	if (r < 0) {
		fprintf(stderr, PROG ": %s/%s: %s\n", t.peer, t.service, strerror(-r));
		return EXIT_FAILED;
	}
	return EXIT_OK;
}
