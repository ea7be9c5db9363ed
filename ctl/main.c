// SPDX-License-Identifier: MIT
/*
 * stuntctl: the control CLI of stuntd (docs/control.md, docs/man/stuntctl.1).
 *
 *   status [--json]      what the daemon knows about its NAT, server, sessions
 *   peers [--json]       the peers it may talk to and whether they are online
 *   connect PEER/NAME    a traversed socket: stdin/stdout, a command, or --json
 *   forward [ADDR:]PORT PEER/NAME   a local listener, one traversal per client
 *   forward --udp [ADDR:]PORT PEER/NAME   a local UDP port, one UDP traversal
 *                        per client source address (ctl/udpfwd.c)
 *
 * Exit codes: 0 ok, 1 the connection or request failed, 2 usage,
 * 3 stuntd is not running.
 */
#include "ctl/ctl.h"
#include "ctl/udpfwd.h"

#include "common/clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROG	"stuntctl"
#define VERSION	"0.1"

#define EXIT_OK		0
#define EXIT_FAILED	1
#define EXIT_USAGE	2
#define EXIT_NODAEMON	3

#define QUERY_TIMEOUT_MS	5000	/* status, peers */
#define CONNECT_TIMEOUT_MS	60000	/* the daemon bounds its own traversal */
#define FWD_MAX_CONNS		128
#define FWD_BACKLOG		16
#define UDP_FAILED_HOLD_MS	5000	/* a failed UDP client's datagrams dropped this long */

static const char *control_path = CTL_DEFAULT_PATH;

static void usage(FILE *f)
{
	fputs("usage: " PROG " [--control PATH] status [--json]\n"
	      "       " PROG " [--control PATH] peers [--json]\n"
	      "       " PROG " [--control PATH] connect PEER/NAME [--method METHOD | --udp] [--json]\n"
	      "                                 [-- COMMAND ARGS...]\n"
	      "       " PROG " [--control PATH] forward [ADDR:]PORT PEER/NAME\n"
	      "       " PROG " [--control PATH] forward --udp [--idle SECS] [--max-sessions N]\n"
	      "                                 [--queue N] [ADDR:]PORT PEER/NAME\n"
	      "       " PROG " --help | --version\n"
	      "\n"
	      "  --control PATH   stuntd's control socket (default " CTL_DEFAULT_PATH ")\n"
	      "  status           own NAT type, public endpoints, registration, sessions, counters\n"
	      "  peers            peers of the secrets/allow lists and whether they are online\n"
	      "  connect          traverse to PEER's service NAME; copy stdin/stdout to it\n"
	      "                   (an ssh ProxyCommand), or run COMMAND with the socket as its\n"
	      "                   stdin and stdout, or with --json print the result and close\n"
	      "  --method METHOD  direct portmap reversal simopen stunt1 stunt2 synth predict\n"
	      "                   shotgun udp relay (default: the daemon chooses and races)\n"
	      "  --udp            a UDP session (method udp): the socket is a connected UDP\n"
	      "                   socket; stdin is sent a read() per datagram, datagrams are\n"
	      "                   written to stdout until 1 s after the last one once stdin\n"
	      "                   ended\n"
	      "  forward          listen on ADDR:PORT (ADDR defaults to 127.0.0.1); each client\n"
	      "                   gets its own traversal, spliced both ways\n"
	      "  forward --udp    bind UDP ADDR:PORT; each client source address gets its own\n"
	      "                   UDP traversal (its first datagrams queued meanwhile), then\n"
	      "                   datagrams are relayed both ways\n"
	      "  --idle SECS      close a UDP session without datagrams for SECS (default 60)\n"
	      "  --max-sessions N UDP clients served at once (default 64, at most 1024)\n"
	      "  --queue N        datagrams held per client while it connects (default 32)\n"
	      "\n"
	      "exit status: 0 ok, 1 failed, 2 usage, 3 stuntd not running\n", f);
}

static int die_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, PROG ": ");
	fprintf(stderr, fmt, arg);
	fputs("\nTry '" PROG " --help'.\n", stderr);
	return EXIT_USAGE;
}

static int not_running(int err)
{
	return err == -ENOENT || err == -ECONNREFUSED || err == -ENOTDIR;
}

/* Report a control-socket failure; the exit code that goes with it. */
static int ctl_fail(int err)
{
	char msg[512];

	fprintf(stderr, PROG ": %s\n", ctl_strerror(err, control_path, msg, sizeof(msg)));
	return not_running(err) ? EXIT_NODAEMON : EXIT_FAILED;
}

/* ---- status and peers ----------------------------------------------------- */

static const char *mapping_words(const char *m)
{
	if (!strcmp(m, "EIM"))
		return "endpoint-independent mapping (EIM)";
	if (!strcmp(m, "ADM"))
		return "address-dependent mapping (ADM)";
	if (!strcmp(m, "APDM"))
		return "address-and-port-dependent mapping (APDM)";
	if (!strcmp(m, "none"))
		return "no translation";
	return m;
}

static const char *filtering_words(const char *f)
{
	if (!strcmp(f, "EIF"))
		return "endpoint-independent filtering (EIF)";
	if (!strcmp(f, "ADF"))
		return "address-dependent filtering (ADF)";
	if (!strcmp(f, "APDF"))
		return "address-and-port-dependent filtering (APDF)";
	return f;
}

/* RFC 3489's classic name for a mapping/filtering pair. */
static const char *classic_name(const char *m, const char *f)
{
	if (!strcmp(m, "none"))
		return !strcmp(f, "EIF") ? "open internet, no NAT" : "no NAT, but a firewall";
	if (!strcmp(m, "ADM") || !strcmp(m, "APDM"))
		return "symmetric NAT";
	if (!strcmp(m, "EIM")) {
		if (!strcmp(f, "EIF"))
			return "full cone NAT";
		if (!strcmp(f, "ADF"))
			return "restricted cone NAT";
		if (!strcmp(f, "APDF"))
			return "port-restricted cone NAT";
	}
	return NULL;
}

/* String at path in root, or dflt when missing, null or not a string. */
static const char *jstr(const struct cj_val *root, const char *path, char *buf, size_t size,
			const char *dflt)
{
	struct cj_val v;

	if (cj_path(root, path, &v) < 0 || v.type != CJ_STR || cj_str(&v, buf, size) < 0)
		return dflt;
	return buf;
}

static long long jint(const struct cj_val *root, const char *path, long long dflt)
{
	struct cj_val v;
	long long x;

	if (cj_path(root, path, &v) < 0 || cj_int(&v, &x) < 0)
		return dflt;
	return x;
}

/* 1 true, 0 false, -1 null / missing. */
static int jtri(const struct cj_val *root, const char *path)
{
	struct cj_val v;
	bool b;

	if (cj_path(root, path, &v) < 0 || cj_bool(&v, &b) < 0)
		return -1;
	return b;
}

static const char *yesno(int t)
{
	return t < 0 ? "unknown" : t ? "yes" : "no";
}

static void print_duration(long long ms)
{
	if (ms < 0)
		fputs("?", stdout);
	else if (ms < 10000)
		printf("%lld ms", ms);
	else if (ms < 3600 * 1000LL)
		printf("%lld s", ms / 1000);
	else
		printf("%lldh%02lldm", ms / 3600000, ms / 60000 % 60);
}

/* One line for the UDP or TCP behaviour of a NAT object. */
static void print_nat_proto(const struct cj_val *nat, const char *proto)
{
	char m[32], f[32], a[32], path[64];
	const char *ms, *fs, *as, *cl;
	long long delta;

	snprintf(path, sizeof(path), "%s.mapping", proto);
	ms = jstr(nat, path, m, sizeof(m), NULL);
	snprintf(path, sizeof(path), "%s.filtering", proto);
	fs = jstr(nat, path, f, sizeof(f), NULL);
	snprintf(path, sizeof(path), "%s.allocation", proto);
	as = jstr(nat, path, a, sizeof(a), NULL);
	snprintf(path, sizeof(path), "%s.delta", proto);
	delta = jint(nat, path, 0);
	if (!ms && !fs) {
		printf("  %s: not measured\n", proto);
		return;
	}
	cl = ms && fs ? classic_name(ms, fs) : NULL;
	printf("  %s: %s, %s", proto, ms ? mapping_words(ms) : "mapping not measured",
	       fs ? filtering_words(fs) : "filtering not measured");
	if (cl)
		printf(" - a %s", cl);
	if (as) {
		printf("; ports %s", as);
		if (!strcmp(as, "sequential"))
			printf(" (delta %lld)", delta);
	}
	fputs("\n", stdout);
}

static void print_nat(const struct cj_val *root, const char *path, const char *indent)
{
	struct cj_val nat, v;
	char buf[64];
	long long hops;
	size_t i;

	if (cj_path(root, path, &nat) < 0 || nat.type != CJ_OBJ) {
		printf("%sNAT: not measured yet\n", indent);
		return;
	}
	print_nat_proto(&nat, "tcp");
	print_nat_proto(&nat, "udp");
	if (jstr(&nat, "tcp.unsolicited_syn", buf, sizeof(buf), NULL)) {
		printf("  unsolicited inbound SYN: %s",
		       !strcmp(buf, "drop") ? "silently dropped" :
		       !strcmp(buf, "rst") ? "answered with RST" :
		       !strcmp(buf, "icmp") ? "answered with ICMP" : buf);
		hops = jint(&nat, "tcp.nat_hops", -1);
		if (hops >= 0)
			printf("; %lld NAT hop%s", hops, hops == 1 ? "" : "s");
		if (jtri(&nat, "tcp.seq_rewrite") == 1)
			fputs("; rewrites TCP sequence numbers", stdout);
		fputs("\n", stdout);
	}
	printf("  port mapping: UPnP-IGD %s, NAT-PMP %s, PCP %s",
	       yesno(jtri(&nat, "port_mapping.upnp")), yesno(jtri(&nat, "port_mapping.natpmp")),
	       yesno(jtri(&nat, "port_mapping.pcp")));
	if (jstr(&nat, "port_mapping.external_ip", buf, sizeof(buf), NULL))
		printf(" (external address %s)", buf);
	fputs("\n", stdout);
	if (cj_get(&nat, "methods", &v) == 0 && v.type == CJ_ARR) {
		struct cj_val m;

		fputs("  methods that can work:", stdout);
		for (i = 0; cj_index(&v, i, &m) == 0; i++)
			if (cj_str(&m, buf, sizeof(buf)) >= 0)
				printf("%s %s", i ? "," : "", buf);
		fputs(i ? "\n" : " none known\n", stdout);
	}
}

static void print_status(const struct cj_val *root)
{
	char id[80], server[80], tcp[64], udp[64];
	struct cj_val v, e, k;
	size_t i, it;
	int reg = jtri(root, "registered");

	printf("stuntd %s, up ", jstr(root, "id", id, sizeof(id), "(no id)"));
	print_duration(jint(root, "uptime_ms", -1));
	fputs("\n", stdout);
	printf("server: %s, %s\n", jstr(root, "server", server, sizeof(server), "(none)"),
	       reg == 1 ? "registered" : reg == 0 ? "NOT registered" : "registration unknown");
	if (cj_get(root, "public", &v) == 0 && v.type == CJ_OBJ)
		printf("public endpoints: tcp %s, udp %s\n",
		       jstr(&v, "tcp", tcp, sizeof(tcp), "unknown"),
		       jstr(&v, "udp", udp, sizeof(udp), "unknown"));
	else
		printf("public endpoints: unknown\n");
	printf("NAT:\n");
	print_nat(root, "nat", "  ");

	if (cj_get(root, "sessions", &v) == 0 && v.type == CJ_ARR) {
		for (i = 0; cj_index(&v, i, &e) == 0; i++)
			;
		printf("sessions: %zu\n", i);
		for (i = 0; cj_index(&v, i, &e) == 0; i++) {
			char peer[80], svc[80], meth[32], state[32];

			printf("  %s/%s  %s  %s  ", jstr(&e, "peer", peer, sizeof(peer), "?"),
			       jstr(&e, "service", svc, sizeof(svc), "?"),
			       jstr(&e, "method", meth, sizeof(meth), "-"),
			       jstr(&e, "state", state, sizeof(state), "?"));
			print_duration(jint(&e, "since_ms", -1));
			fputs("\n", stdout);
		}
	}
	if (cj_get(root, "counters", &v) == 0 && v.type == CJ_OBJ) {
		bool any = false;

		it = 0;
		while (cj_member(&v, &it, &k, &e) == 1) {
			char name[32];

			if (cj_str(&k, name, sizeof(name)) < 0)
				continue;
			if (!any)
				printf("methods:   %-10s %6s %6s %6s\n", "", "tried", "won", "failed");
			any = true;
			printf("           %-10s %6lld %6lld %6lld\n", name, jint(&e, "tried", 0),
			       jint(&e, "won", 0), jint(&e, "failed", 0));
		}
		if (!any)
			printf("methods: nothing tried yet\n");
	}
}

static void print_peers(const struct cj_val *root)
{
	struct cj_val v, e, nat;
	size_t i;

	if (cj_get(root, "peers", &v) < 0 || v.type != CJ_ARR) {
		printf("no peers\n");
		return;
	}
	for (i = 0; cj_index(&v, i, &e) == 0; i++) {
		char id[80], m[32], f[32];
		const char *ms = NULL, *fs = NULL, *cl = NULL;
		int online = jtri(&e, "online");

		if (cj_get(&e, "nat", &nat) == 0 && nat.type == CJ_OBJ) {
			ms = jstr(&nat, "tcp.mapping", m, sizeof(m), NULL);
			fs = jstr(&nat, "tcp.filtering", f, sizeof(f), NULL);
			cl = ms && fs ? classic_name(ms, fs) : NULL;
		}
		printf("%-24s %-8s", jstr(&e, "id", id, sizeof(id), "?"),
		       online == 1 ? "online" : online == 0 ? "offline" : "unknown");
		if (ms && fs)
			printf(" %s (%s/%s)", cl ? cl : "NAT", ms, fs);
		fputs("\n", stdout);
	}
	if (i == 0)
		printf("no peers\n");
}

static int cmd_query(int argc, char **argv, const char *cmd)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char req[64], msg[512];
	struct ctl_rx rx;
	struct cj_val root, v;
	bool json = false;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc)
		return die_usage("%s: unexpected argument", argv[optind]);
	ctl_build_simple(cmd, req, sizeof(req));
	r = ctl_query(control_path, req, &rx, QUERY_TIMEOUT_MS);
	if (r < 0)
		return ctl_fail(r);
	if (cj_parse(rx.line, rx.len, &root) < 0 || root.type != CJ_OBJ) {
		fprintf(stderr, PROG ": stuntd's %s answer is not a JSON object\n", cmd);
		return EXIT_FAILED;
	}
	/* {"ok":false,"error":"..."}: the daemon refused */
	if (cj_get(&root, "ok", &v) == 0 && v.type == CJ_BOOL && v.p[0] == 'f') {
		fprintf(stderr, PROG ": %s: %s\n", cmd, jstr(&root, "error", msg, sizeof(msg), "refused"));
		if (json)
			printf("%s\n", rx.line);
		return EXIT_FAILED;
	}
	if (json)
		printf("%s\n", rx.line);
	else if (!strcmp(cmd, "status"))
		print_status(&root);
	else
		print_peers(&root);
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAILED;
}

/* ---- connect -------------------------------------------------------------- */

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
	fd = ctl_open(control_path, false);
	if (fd < 0)
		return fd;
	r = ctl_send_line(fd, req, (size_t)r, QUERY_TIMEOUT_MS);
	if (r == 0)
		r = ctl_rx_wait(fd, rx, CONNECT_TIMEOUT_MS);
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

static int cmd_connect(int argc, char **argv)
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
				return die_usage("%s: a COMMAND must follow", "--");
			break;
		}
	}
	optind = 0;
	while ((c = getopt_long(nargs, argv, "m:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'm': method = optarg; break;
		case 'u': udp = true; break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= nargs)
		return die_usage("connect: %s", "PEER/NAME is missing");
	if (optind + 1 < nargs)
		return die_usage("connect: unexpected argument %s (a command goes after --)",
				 argv[optind + 1]);
	if (ctl_parse_target(argv[optind], &t) < 0)
		return die_usage("connect: '%s' is not PEER/NAME (1-64 of A-Z a-z 0-9 . _ - each)",
				 argv[optind]);
	if (method && !ctl_method_valid(method))
		return die_usage("connect: unknown method '%s'", method);
	/* a UDP session is method udp */
	if (udp && method && strcmp(method, "udp"))
		return die_usage("connect: --udp and the TCP method '%s' exclude each other", method);
	if (udp)
		method = "udp";
	udp = method && !strcmp(method, "udp");
	if (json && command)
		return die_usage("connect: %s", "--json and a COMMAND exclude each other");

	r = request_connect(&t, method, &rx, &a);
	if (r < 0) {
		char msg[512];

		if (r == -EBADMSG)
			snprintf(msg, sizeof(msg), "stuntd's connect answer is not understood");
		else
			ctl_strerror(r, control_path, msg, sizeof(msg));
		if (json) {
			char q[600];

			cj_quote(msg, q, sizeof(q));
			printf("{\"ok\":false,\"method\":null,\"elapsed_ms\":null,\"relayed\":false,\"error\":%s}\n", q);
		}
		fprintf(stderr, PROG ": %s\n", msg);
		return not_running(r) ? EXIT_NODAEMON : EXIT_FAILED;
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

/* ---- forward -------------------------------------------------------------- */

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
	c->deadline_ms = c->started_ms + CONNECT_TIMEOUT_MS;
	ctl_addr_str(from, c->from, sizeof(c->from));
	ctl_rx_init(&c->rx);
	r = ctl_build_connect(t, NULL, req, sizeof(req));
	if (r >= 0) {
		c->ctl = ctl_open(control_path, true);
		r = c->ctl < 0 ? c->ctl : ctl_send_line(c->ctl, req, (size_t)r, QUERY_TIMEOUT_MS);
	}
	if (r < 0) {
		fprintf(stderr, PROG ": connection %u from %s: %s\n", id, c->from,
			ctl_strerror(r, control_path, msg, sizeof(msg)));
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
		.control_path = control_path,
		.target = *t,
		.listen = *ss,
		.listen_len = sslen,
		.idle_ms = idle_s * 1000,
		.max_sessions = max_sessions,
		.queue_max = queue_max,
		.connect_timeout_ms = CONNECT_TIMEOUT_MS,
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

static int cmd_forward(int argc, char **argv)
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
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'u': udp = true; break;
		case 'i':
			udp_opts = true;
			if (parse_uint(optarg, 1, 86400, &idle_s) < 0)
				return die_usage("forward: --idle '%s': seconds, 1-86400", optarg);
			break;
		case 'n':
			udp_opts = true;
			if (parse_uint(optarg, 1, CTL_UDPFWD_SESSIONS_MAX, &max_sessions) < 0)
				return die_usage("forward: --max-sessions '%s': 1-1024", optarg);
			break;
		case 'q':
			udp_opts = true;
			if (parse_uint(optarg, 1, CTL_UDPFWD_QUEUE_MAX, &queue_max) < 0)
				return die_usage("forward: --queue '%s': 1-1024", optarg);
			break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (udp_opts && !udp)
		return die_usage("forward: %s", "--idle, --max-sessions and --queue go with --udp");
	if (argc - optind != 2)
		return die_usage("forward: %s", "needs [ADDR:]PORT and PEER/NAME");
	if (ctl_parse_listen(argv[optind], &ss, &sslen) < 0)
		return die_usage("forward: '%s' is not [ADDR:]PORT", argv[optind]);
	if (ctl_parse_target(argv[optind + 1], &t) < 0)
		return die_usage("forward: '%s' is not PEER/NAME", argv[optind + 1]);

	/* Fail early and clearly when there is no daemon to ask. */
	r = ctl_open(control_path, false);
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
							c->from, ctl_strerror(r, control_path, msg, sizeof(msg)));
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
						c->id, c->from, CONNECT_TIMEOUT_MS / 1000);
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

/* ---- main ----------------------------------------------------------------- */

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{ "connect", cmd_connect },
	{ "forward", cmd_forward },
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "control", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	size_t i;
	int c;

	signal(SIGPIPE, SIG_IGN);
	while ((c = getopt_long(argc, argv, "+c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': control_path = optarg; break;
		case 'h': usage(stdout); return EXIT_OK;
		case 'V': printf(PROG " " VERSION "\n"); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	if (!strcmp(argv[0], "status") || !strcmp(argv[0], "peers"))
		return cmd_query(argc, argv, argv[0]);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[0], commands[i].name))
			return commands[i].fn(argc, argv);
	return die_usage("unknown command '%s'", argv[0]);
}
