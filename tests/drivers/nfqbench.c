// SPDX-License-Identifier: MIT
/*
 * nfqbench: the programs tests/bench/nfq.sh runs in namespaces to measure the
 * nfq engine. Each prints one JSON object on stdout when it ends.
 *
 *   nfqbench engine [--queue N] [--ttl T] [--flows N] [--duration-ms D] [--warmup-ms W]
 *                   [--ready-file F]
 *       hold the queue with one wildcard policy "every outbound SYN leaves
 *       with TTL T", or with --flows N one such policy per flow (local ports
 *       1024 .. 1024+N-1, the shotgun's table); after the first packet and W ms
 *       of warm-up, count the TTL rewrites (verdicts) for D ms: the SYN/s the
 *       engine sustains. Without --duration-ms it serves until SIGTERM.
 *   nfqbench flood --dst IP [--mark M] [--ports N] [--duration-ms D]
 *       send TCP SYNs as fast as a raw socket (SO_MARK M) can, to IP from
 *       source ports cycling 1024 .. 1024+N-1 (default: up to 65535).
 *   nfqbench echo --bind IP:PORT
 *       UDP echo, and a TCP listener on the same port, until SIGTERM.
 *   nfqbench rtt --dst IP:PORT [--mark M] [--samples N] [--tcp]
 *       alternate one round trip on a marked and one on an unmarked socket
 *       (UDP echo, or with --tcp a connect() until established) N times each;
 *       print median, p90, p99 and mean in microseconds for both.
 */
#include "common/addr.h"
#include "common/clock.h"
#include "nfq/nfq_engine.h"
#include "nfq/nfq_policy.h"
#include "nfq/pkt.h"
#include "nfq/pkt_build.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BENCH_QUEUE_MAXLEN     8192
#define BENCH_RCVBUF           (16u << 20)
#define BENCH_RTT_TIMEOUT_MS   1000
#define BENCH_MAX_SAMPLES      1000000
#define BENCH_FLOOD_BATCH      64      /* sends between clock reads */

struct opts {
	const char *mode;
	uint16_t queue;
	uint32_t mark;
	int ttl;
	int64_t duration_ms;    /* -1: until SIGTERM */
	int64_t warmup_ms;
	const char *ready_file;
	struct sockaddr_in addr;
	int have_addr;
	long samples;
	int tcp;
	long flows;             /* engine: per-flow policies (0: one wildcard) */
	long ports;             /* flood: source ports to cycle through */
};

static volatile sig_atomic_t stop_sig;

static void on_signal(int sig)
{
	stop_sig = sig;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nfqbench engine [--queue N] [--ttl T] [--flows N] [--duration-ms D] [--warmup-ms W] [--ready-file F]\n"
		"       nfqbench flood --dst IP [--mark M] [--ports N] [--duration-ms D]\n"
		"       nfqbench echo --bind IP:PORT\n"
		"       nfqbench rtt --dst IP:PORT [--mark M] [--samples N] [--tcp]\n");
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "queue", required_argument, NULL, 'q' },
		{ "mark", required_argument, NULL, 'm' },
		{ "ttl", required_argument, NULL, 't' },
		{ "duration-ms", required_argument, NULL, 'd' },
		{ "warmup-ms", required_argument, NULL, 'w' },
		{ "ready-file", required_argument, NULL, 'r' },
		{ "dst", required_argument, NULL, 'a' },
		{ "bind", required_argument, NULL, 'a' },
		{ "samples", required_argument, NULL, 'n' },
		{ "tcp", no_argument, NULL, 'T' },
		{ "flows", required_argument, NULL, 'f' },
		{ "ports", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	memset(o, 0, sizeof(*o));
	o->queue = 7421;
	o->mark = 0x7421;
	o->ttl = 3;
	o->duration_ms = -1;
	o->warmup_ms = 300;
	o->samples = 10000;
	o->ports = 65535 - 1024 + 1;
	if (argc < 2 || argv[1][0] == '-') {
		if (argc >= 2 && !strcmp(argv[1], "--help")) {
			usage(stdout);
			exit(0);
		}
		return -EINVAL;
	}
	o->mode = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		errno = 0;
		switch (c) {
		case 'q': o->queue = (uint16_t)strtoul(optarg, &end, 0); break;
		case 'm': o->mark = (uint32_t)strtoul(optarg, &end, 0); break;
		case 't': o->ttl = (int)strtol(optarg, &end, 0); break;
		case 'd': o->duration_ms = strtoll(optarg, &end, 0); break;
		case 'w': o->warmup_ms = strtoll(optarg, &end, 0); break;
		case 'n': o->samples = strtol(optarg, &end, 0); break;
		case 'f': o->flows = strtol(optarg, &end, 0); break;
		case 'p': o->ports = strtol(optarg, &end, 0); break;
		case 'r': o->ready_file = optarg; continue;
		case 'T': o->tcp = 1; continue;
		case 'a':
			if (addr_parse_ipv4(optarg, 0, &o->addr) < 0)
				return -EINVAL;
			o->have_addr = 1;
			continue;
		case 'h': usage(stdout); exit(0);
		default: return -EINVAL;
		}
		if (errno || *end)
			return -EINVAL;
	}
	if (o->ttl < 1 || o->ttl > 255 || o->samples < 1 || o->samples > BENCH_MAX_SAMPLES ||
	    o->flows < 0 || o->flows > NFQ_POLICY_MAX || o->ports < 1 || o->ports > 65535 - 1024 + 1)
		return -EINVAL;
	return 0;
}

static int write_ready(const char *path)
{
	FILE *f;

	if (path == NULL)
		return 0;
	f = fopen(path, "w");
	if (f == NULL || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0)
		return -1;
	return 0;
}

/* ---------------------------------------------------------------- engine */

static int run_engine(const struct opts *o)
{
	struct nfq_engine_cfg cfg = {
		.queue_num = o->queue, .queue_maxlen = BENCH_QUEUE_MAXLEN, .rcvbuf = BENCH_RCVBUF,
	};
	struct nfq_engine *e;
	struct nfq_engine_stats st, st0 = { 0 };
	struct nfq_policy_spec s;
	struct nfq_flow any = { .proto = PKT_PROTO_TCP };
	struct pollfd pfd;
	uint64_t first = 0, t_start = 0, t_end = UINT64_MAX, start_ns = 0, now;
	double cpu0 = 0;
	long i;
	int r, measuring = 0;

	r = nfq_engine_open(&cfg, &e);
	if (r < 0) {
		fprintf(stderr, "nfqbench: cannot bind queue %u: %s\n", o->queue, strerror(-r));
		return 1;
	}
	/*
	 * Every SYN of every flow, for as long as the run (count 0), either from
	 * one wildcard policy or from one policy per local port: a shotgun's
	 * table, where each SYN is looked up among all of them.
	 */
	r = 0;
	for (i = 0; i < (o->flows ? o->flows : 1) && r == 0; i++) {
		any.lport = o->flows ? (uint16_t)(1024 + i) : 0;
		nfq_spec_syn_ttl(&s, &any, 1, (uint8_t)o->ttl, NFQ_POLICY_MAX_TIMEOUT_MS);
		s.count = 0;
		r = nfq_policy_add(nfq_engine_policies(e), &s, clock_ms(), NULL);
	}
	if (r < 0 || write_ready(o->ready_file) < 0) {
		fprintf(stderr, "nfqbench: setup failed\n");
		nfq_engine_close(e);
		return 1;
	}
	pfd.fd = nfq_engine_fd(e);
	pfd.events = POLLIN;
	while (!stop_sig) {
		r = poll(&pfd, 1, 100);
		if (r < 0 && errno != EINTR)
			break;
		if (r > 0 && nfq_engine_dispatch(e) < 0)
			fprintf(stderr, "nfqbench: queue socket error\n");
		if (o->duration_ms < 0)
			continue;
		now = clock_ms();
		nfq_engine_get_stats(e, &st);
		if (!first && st.packets)
			first = now, t_start = now + (uint64_t)o->warmup_ms;
		if (first && !measuring && now >= t_start) {
			measuring = 1;
			st0 = st;
			start_ns = now_ns();
			cpu0 = cpu_s();
			t_end = now + (uint64_t)o->duration_ms;
		}
		if (measuring && now >= t_end)
			break;
	}
	nfq_engine_get_stats(e, &st);
	if (measuring) {
		double el = (double)(now_ns() - start_ns) / 1e9, cpu = cpu_s() - cpu0;
		uint64_t n = st.ttl_rewritten - st0.ttl_rewritten;

		printf("{\"mode\":\"engine\",\"policies\":%zu,\"seconds\":%.3f,\"verdicts\":%llu,\"ttl_rewritten\":%llu,"
		       "\"syn_per_s\":%.0f,\"cpu_s\":%.3f,\"cpu_util\":%.3f,\"parse_errors\":%llu,"
		       "\"verdict_errors\":%llu}\n",
		       nfq_policy_count(nfq_engine_policies(e)), el,
		       (unsigned long long)(st.accepted + st.dropped - st0.accepted - st0.dropped),
		       (unsigned long long)n, (double)n / el, cpu, cpu / el,
		       (unsigned long long)st.parse_errors, (unsigned long long)st.verdict_errors);
	} else {
		printf("{\"mode\":\"engine\",\"packets\":%llu,\"ttl_rewritten\":%llu,\"accepted\":%llu}\n",
		       (unsigned long long)st.packets, (unsigned long long)st.ttl_rewritten,
		       (unsigned long long)st.accepted);
	}
	nfq_engine_close(e);
	return measuring || o->duration_ms < 0 ? 0 : 3;
}

/* ---------------------------------------------------------------- flood */

static int run_flood(const struct opts *o)
{
	struct pkt_tcp_spec s = { 0 };
	struct sockaddr_in src = { .sin_family = AF_INET }, dst = o->addr;
	socklen_t sl = sizeof(src);
	uint8_t buf[128];
	size_t len;
	uint64_t sent = 0, errs = 0, end, t0 = clock_ms();
	uint16_t port = 1024;
	int fd, u, i;

	if (!o->have_addr || o->duration_ms < 0) {
		fprintf(stderr, "nfqbench: flood needs --dst and --duration-ms\n");
		return 2;
	}
	/* the source address the route to dst would use */
	u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	dst.sin_port = htons(9);
	if (u < 0 || connect(u, (struct sockaddr *)&dst, sizeof(dst)) < 0 ||
	    getsockname(u, (struct sockaddr *)&src, &sl) < 0) {
		fprintf(stderr, "nfqbench: no route to the flood target: %s\n", strerror(errno));
		return 1;
	}
	close(u);
	fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_MARK, &o->mark, sizeof(o->mark)) < 0) {
		fprintf(stderr, "nfqbench: raw socket: %s\n", strerror(errno));
		return 1;
	}
	s.saddr = src.sin_addr.s_addr;
	s.daddr = o->addr.sin_addr.s_addr;
	s.dport = 5900;
	s.flags = PKT_TCP_SYN;
	s.window = 64240;
	s.ttl = 64;
	s.dont_fragment = 1;
	s.opt.present = PKT_OPT_MSS | PKT_OPT_SACK_OK | PKT_OPT_TS | PKT_OPT_WSCALE;
	s.opt.mss = 1460;
	s.opt.wscale = 7;
	end = t0 + (uint64_t)o->duration_ms;
	while (!stop_sig && clock_ms() < end) {
		for (i = 0; i < BENCH_FLOOD_BATCH; i++) {
			s.sport = port;
			s.seq = (uint32_t)(sent * 2654435761u);
			s.ip_id = (uint16_t)sent;
			s.opt.ts_val = (uint32_t)sent;
			port = port >= 1024 + o->ports - 1 ? 1024 : port + 1;
			if (pkt_build_tcp(&s, buf, sizeof(buf), &len) < 0)
				return 1;
			if (sendto(fd, buf, len, 0, (struct sockaddr *)&dst, sizeof(dst)) < 0)
				errs++;
			else
				sent++;
		}
	}
	printf("{\"mode\":\"flood\",\"seconds\":%.3f,\"sent\":%llu,\"send_errors\":%llu,\"sent_per_s\":%.0f}\n",
	       (double)(clock_ms() - t0) / 1e3, (unsigned long long)sent, (unsigned long long)errs,
	       (double)sent * 1e3 / (double)(clock_ms() - t0));
	close(fd);
	return 0;
}

/* ---------------------------------------------------------------- echo */

static int run_echo(const struct opts *o)
{
	struct pollfd pfd[2];
	char buf[2048];
	int u, l, one = 1;

	if (!o->have_addr)
		return 2;
	u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (u < 0 || l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(u, (const struct sockaddr *)&o->addr, sizeof(o->addr)) < 0 ||
	    bind(l, (const struct sockaddr *)&o->addr, sizeof(o->addr)) < 0 || listen(l, 4096) < 0) {
		fprintf(stderr, "nfqbench: echo: %s\n", strerror(errno));
		return 1;
	}
	if (write_ready(o->ready_file) < 0)
		return 1;
	pfd[0] = (struct pollfd){ .fd = u, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = l, .events = POLLIN };
	while (!stop_sig) {
		if (poll(pfd, 2, 500) <= 0)
			continue;
		if (pfd[0].revents & POLLIN) {
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t n = recvfrom(u, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);

			if (n > 0)
				(void)sendto(u, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
		}
		if (pfd[1].revents & POLLIN) {
			int c;

			/* the handshake is what is measured: accept and close at once */
			while ((c = accept4(l, NULL, NULL, SOCK_CLOEXEC)) >= 0)
				close(c);
		}
	}
	close(u);
	close(l);
	return 0;
}

/* ---------------------------------------------------------------- rtt */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* One UDP round trip on fd (connected); ns, or 0 on a loss or timeout. */
static uint64_t udp_rtt(int fd, uint32_t seq)
{
	uint8_t out[32] = { 0 }, in[64];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t t = now_ns(), deadline = t + (uint64_t)BENCH_RTT_TIMEOUT_MS * 1000000u;
	ssize_t n;

	pkt_put32(out, seq);
	if (send(fd, out, sizeof(out), 0) != (ssize_t)sizeof(out))
		return 0;
	for (;;) {
		uint64_t now = now_ns();

		if (now >= deadline || poll(&p, 1, (int)((deadline - now) / 1000000u) + 1) <= 0)
			return 0;
		n = recv(fd, in, sizeof(in), MSG_DONTWAIT);
		if (n >= 4 && pkt_get32(in) == seq)
			return now_ns() - t;
	}
}

/* One TCP handshake to dst; ns, or 0 on failure. */
static uint64_t tcp_rtt(const struct sockaddr_in *dst, uint32_t mark)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct pollfd p;
	uint64_t t, r = 0;
	int fd, err = 0;
	socklen_t el = sizeof(err);

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	if (mark && setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0)
		goto out;
	t = now_ns();
	if (connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) < 0 && errno != EINPROGRESS)
		goto out;
	p = (struct pollfd){ .fd = fd, .events = POLLOUT };
	if (poll(&p, 1, BENCH_RTT_TIMEOUT_MS) == 1 &&
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == 0)
		r = now_ns() - t;
	/* no TIME_WAIT pile-up over thousands of samples (the RST is not timed) */
	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
out:
	close(fd);
	return r;
}

static void print_dist(const char *name, uint64_t *v, long n, long lost)
{
	double sum = 0;
	long i;

	qsort(v, (size_t)n, sizeof(*v), cmp_u64);
	for (i = 0; i < n; i++)
		sum += (double)v[i];
	if (n == 0) {
		printf("\"%s\":{\"n\":0,\"lost\":%ld}", name, lost);
		return;
	}
	printf("\"%s\":{\"n\":%ld,\"lost\":%ld,\"median_us\":%.2f,\"p90_us\":%.2f,\"p99_us\":%.2f,"
	       "\"mean_us\":%.2f,\"min_us\":%.2f}",
	       name, n, lost, (double)v[n / 2] / 1e3, (double)v[n * 9 / 10] / 1e3,
	       (double)v[n * 99 / 100] / 1e3, sum / (double)n / 1e3, (double)v[0] / 1e3);
}

static int run_rtt(const struct opts *o)
{
	uint64_t *vm, *vu, r;
	long nm = 0, nu = 0, lm = 0, lu = 0, i;
	int fm = -1, fu = -1, rc = 1;

	if (!o->have_addr)
		return 2;
	vm = calloc((size_t)o->samples, sizeof(*vm));
	vu = calloc((size_t)o->samples, sizeof(*vu));
	if (vm == NULL || vu == NULL)
		goto out;
	if (!o->tcp) {
		fm = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		fu = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fm < 0 || fu < 0 ||
		    setsockopt(fm, SOL_SOCKET, SO_MARK, &o->mark, sizeof(o->mark)) < 0 ||
		    connect(fm, (const struct sockaddr *)&o->addr, sizeof(o->addr)) < 0 ||
		    connect(fu, (const struct sockaddr *)&o->addr, sizeof(o->addr)) < 0) {
			fprintf(stderr, "nfqbench: rtt sockets: %s\n", strerror(errno));
			goto out;
		}
	}
	/* interleaved, so that both see the same machine at the same moments */
	for (i = 0; i < o->samples && !stop_sig; i++) {
		r = o->tcp ? tcp_rtt(&o->addr, o->mark) : udp_rtt(fm, (uint32_t)i);
		if (r)
			vm[nm++] = r;
		else
			lm++;
		r = o->tcp ? tcp_rtt(&o->addr, 0) : udp_rtt(fu, (uint32_t)i);
		if (r)
			vu[nu++] = r;
		else
			lu++;
	}
	printf("{\"mode\":\"rtt\",\"proto\":\"%s\",", o->tcp ? "tcp" : "udp");
	print_dist("queued", vm, nm, lm);
	putchar(',');
	print_dist("unqueued", vu, nu, lu);
	printf("}\n");
	rc = 0;
out:
	if (fm >= 0)
		close(fm);
	if (fu >= 0)
		close(fu);
	free(vm);
	free(vu);
	return rc;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct opts o;

	if (parse_args(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(o.mode, "engine"))
		return run_engine(&o);
	if (!strcmp(o.mode, "flood"))
		return run_flood(&o);
	if (!strcmp(o.mode, "echo"))
		return run_echo(&o);
	if (!strcmp(o.mode, "rtt"))
		return run_rtt(&o);
	usage(stderr);
	return 2;
}
