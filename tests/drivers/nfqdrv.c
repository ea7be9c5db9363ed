// SPDX-License-Identifier: MIT
/*
 * nfqdrv: drives the nfq engine for the namespace lab tests (tests/lab/t_nfq.sh).
 * Prints one JSON object per line on stdout; diagnostics go to stderr.
 *
 *   nfqdrv [common] syn-ttl  --dst IP:PORT --ttl T [--count K] [--sport P] [--no-suppress]
 *       (IP:PORT of syn-ttl, suppress and connect may be [IPv6]:PORT; the TTL
 *       is then the hop limit)
 *       a marked non-blocking socket connects to dst; its first K SYNs leave
 *       with TTL T; every SYN is reported (seq, options), the ICMP time
 *       exceeded answering it is reported with the router's address, and
 *       inbound RST / ICMP errors of the flow are dropped (unless --no-suppress)
 *       so that a TTL-limited SYN does not abort the connect.
 *   nfqdrv [common] suppress --dst IP:PORT [--suppress-ms T] [--sport P]
 *       the same without a TTL: inbound RSTs and ICMP errors of the flow are
 *       dropped for T ms (0: not at all, the control case); TCP_INFO state
 *       changes are reported, so a test sees the socket stay in SYN_SENT.
 *   nfqdrv [common] hold [--ready-file F]
 *       bind the queue and accept every packet until killed (or --timeout-ms).
 *   nfqdrv [common] connect --dst IP:PORT [--sport P]
 *       no queue: connect a socket marked with --mark (0: unmarked); exit 0 if
 *       it connected before the timeout.
 *   nfqdrv [common] listen --bind IP:PORT [--after-ms D]
 *       no queue: after D ms listen, accept and echo until the timeout.
 *
 * common: --queue N (7421) --mark M (0x7421) --timeout-ms T (5000; hold: none)
 *   --rules [--rules-tool PATH] [--rules-state PATH]
 *       before the mode runs, take the NFQUEUE rules for --queue/--mark
 *       (host mode, --queue-bypass) through stunt-rules, as stuntd does
 *       (nfq_rules.h); remove them when the mode ends or on SIGTERM / SIGINT.
 *       Rules left by a crashed owner are removed first; rules owned by a
 *       running process are left alone and the driver exits 4.
 * Exit status: 0 connected / done, 1 error, 2 usage, 3 the run ended unconnected,
 * 4 the rules belong to another running process.
 */
#include "common/addr.h"
#include "common/clock.h"
#include "nfq/nfq_engine.h"
#include "common/log.h"
#include "nfq/nfq_policy.h"
#include "nfq/nfq_rules.h"
#include "nfq/pkt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DRV_DEFAULT_QUEUE        7421
#define DRV_DEFAULT_MARK         0x7421u
#define DRV_DEFAULT_TIMEOUT_MS   5000
#define DRV_STATE_POLL_MS        10     /* TCP_INFO sampling period */
#define DRV_MAX_CLIENTS          16
#define DRV_COOKIE_SYN           1
#define DRV_COOKIE_TE            2
#define DRV_EXIT_RULES_BUSY      4

enum mode { M_NONE, M_SYN_TTL, M_SUPPRESS, M_HOLD, M_CONNECT, M_LISTEN };

/* an IPv4 or IPv6 endpoint */
union drv_sa {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

struct opts {
	enum mode mode;
	uint16_t queue;
	uint32_t mark;
	int64_t timeout_ms;     /* -1: none */
	union drv_sa dst;
	int have_dst;
	struct sockaddr_in bind;
	int have_bind;
	uint16_t sport;
	int ttl;
	uint32_t count;
	int suppress;           /* -1: the mode's default */
	int64_t suppress_ms;
	int64_t after_ms;
	const char *ready_file;
	int rules;
	const char *rules_tool;
	const char *rules_state;
};

static volatile sig_atomic_t stop_sig;
static uint64_t t0;

static void on_signal(int sig)
{
	stop_sig = sig;
}

static unsigned long long t_ms(void)
{
	return (unsigned long long)(clock_ms() - t0);
}

/* One JSON object per line, flushed at once: tests read it while we run. */
static void __attribute__((format(printf, 1, 2))) emit(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static const char *ip_str(uint32_t a_net, char *buf)
{
	struct in_addr a = { .s_addr = a_net };

	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN) ? buf : "?";
}

static const char *ip6_str(const uint8_t a[16], char *buf)
{
	return inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN) ? buf : "?";
}

/* a packet's source address, either family */
static const char *src_str(const struct pkt *k, char *buf)
{
	return k->family == AF_INET6 ? ip6_str(k->ip6.saddr, buf) : ip_str(k->ip.saddr, buf);
}

static socklen_t sa_len(const union drv_sa *u)
{
	return u->sa.sa_family == AF_INET6 ? sizeof(u->in6) : sizeof(u->in);
}

static uint16_t sa_port(const union drv_sa *u)
{
	return ntohs(u->sa.sa_family == AF_INET6 ? u->in6.sin6_port : u->in.sin_port);
}


static const char *tcp_state_name(int st)
{
	static const char *const n[] = {
		[TCP_ESTABLISHED] = "ESTABLISHED", [TCP_SYN_SENT] = "SYN_SENT",
		[TCP_SYN_RECV] = "SYN_RECV", [TCP_FIN_WAIT1] = "FIN_WAIT1",
		[TCP_FIN_WAIT2] = "FIN_WAIT2", [TCP_TIME_WAIT] = "TIME_WAIT",
		[TCP_CLOSE] = "CLOSE", [TCP_CLOSE_WAIT] = "CLOSE_WAIT",
		[TCP_LAST_ACK] = "LAST_ACK", [TCP_LISTEN] = "LISTEN",
		[TCP_CLOSING] = "CLOSING",
	};

	if (st > 0 && st < (int)(sizeof(n) / sizeof(n[0])) && n[st])
		return n[st];
	return "UNKNOWN";
}

/* the handshake completed: ESTABLISHED, or CLOSE_WAIT when the peer closed at
 * once and its FIN arrived before this process looked (a loaded machine) */
static int handshake_done(int st)
{
	return st == TCP_ESTABLISHED || st == TCP_CLOSE_WAIT;
}

static int tcp_state(int fd)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l) < 0)
		return -errno;
	return ti.tcpi_state;
}

static int parse_num(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 0);
	if (errno || *end || end == s || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* "A.B.C.D:PORT" or "[IPv6]:PORT" (port required) -> u; 0 or -1 */
static int parse_dst(const char *s, union drv_sa *u)
{
	char host[INET6_ADDRSTRLEN];
	const char *end;
	long long v;

	memset(u, 0, sizeof(*u));
	if (s[0] != '[')
		return addr_parse_ipv4(s, 0, &u->in) < 0 || !u->in.sin_port ? -1 : 0;
	end = strchr(s, ']');
	if (end == NULL || (size_t)(end - s - 1) >= sizeof(host) || end[1] != ':')
		return -1;
	memcpy(host, s + 1, (size_t)(end - s - 1));
	host[end - s - 1] = '\0';
	if (inet_pton(AF_INET6, host, &u->in6.sin6_addr) != 1 || parse_num(end + 2, 1, 65535, &v) < 0)
		return -1;
	u->in6.sin6_family = AF_INET6;
	u->in6.sin6_port = htons((uint16_t)v);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nfqdrv [--queue N] [--mark M] [--timeout-ms T]\n"
		"              [--rules [--rules-tool PATH] [--rules-state PATH]] MODE [options]\n"
		"  syn-ttl  --dst IP:PORT --ttl T [--count K] [--sport P] [--no-suppress]\n"
		"  suppress --dst IP:PORT [--suppress-ms T] [--sport P]\n"
		"  hold     [--ready-file F]\n"
		"  connect  --dst IP:PORT [--sport P]      (no queue; --mark 0 = unmarked)\n"
		"  listen   --bind IP:PORT [--after-ms D]  (no queue; accept and echo)\n"
		"Prints one JSON object per line. Exit: 0 connected/done, 1 error, 2 usage,\n"
		"3 ended without a connection, 4 the rules belong to another running process.\n"
		"--rules: install the NFQUEUE rules with stunt-rules (default " NFQ_RULES_DEFAULT_TOOL ")\n"
		"for the run, owned through the state file (default " NFQ_RULES_DEFAULT_STATE ").\n");
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	enum { O_QUEUE = 256, O_MARK, O_TIMEOUT, O_DST, O_BIND, O_SPORT, O_TTL, O_COUNT,
	       O_NOSUP, O_SUPMS, O_AFTER, O_READY, O_RULES, O_RULES_TOOL, O_RULES_STATE, O_HELP };
	static const struct option lo[] = {
		{ "queue", required_argument, NULL, O_QUEUE },
		{ "mark", required_argument, NULL, O_MARK },
		{ "timeout-ms", required_argument, NULL, O_TIMEOUT },
		{ "dst", required_argument, NULL, O_DST },
		{ "bind", required_argument, NULL, O_BIND },
		{ "sport", required_argument, NULL, O_SPORT },
		{ "ttl", required_argument, NULL, O_TTL },
		{ "count", required_argument, NULL, O_COUNT },
		{ "no-suppress", no_argument, NULL, O_NOSUP },
		{ "suppress-ms", required_argument, NULL, O_SUPMS },
		{ "after-ms", required_argument, NULL, O_AFTER },
		{ "ready-file", required_argument, NULL, O_READY },
		{ "rules", no_argument, NULL, O_RULES },
		{ "rules-tool", required_argument, NULL, O_RULES_TOOL },
		{ "rules-state", required_argument, NULL, O_RULES_STATE },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	long long v;
	int c;

	memset(o, 0, sizeof(*o));
	o->queue = DRV_DEFAULT_QUEUE;
	o->mark = DRV_DEFAULT_MARK;
	o->timeout_ms = -2;     /* "not given" */
	o->count = 1;
	o->suppress = -1;
	o->suppress_ms = -1;
	o->rules_tool = NFQ_RULES_DEFAULT_TOOL;
	o->rules_state = NFQ_RULES_DEFAULT_STATE;
	/* options may come before and after the mode word */
	while ((c = getopt_long(argc, argv, "+h", lo, NULL)) != -1 || optind < argc) {
		if (c == -1) {
			const char *m = argv[optind++];

			if (o->mode != M_NONE)
				goto bad;
			if (!strcmp(m, "syn-ttl"))
				o->mode = M_SYN_TTL;
			else if (!strcmp(m, "suppress"))
				o->mode = M_SUPPRESS;
			else if (!strcmp(m, "hold"))
				o->mode = M_HOLD;
			else if (!strcmp(m, "connect"))
				o->mode = M_CONNECT;
			else if (!strcmp(m, "listen"))
				o->mode = M_LISTEN;
			else {
				fprintf(stderr, "nfqdrv: unknown mode '%s'\n", m);
				return -EINVAL;
			}
			continue;
		}
		switch (c) {
		case O_QUEUE:
			if (parse_num(optarg, 0, 65535, &v) < 0)
				goto bad;
			o->queue = (uint16_t)v;
			break;
		case O_MARK:
			if (parse_num(optarg, 0, UINT32_MAX, &v) < 0)
				goto bad;
			o->mark = (uint32_t)v;
			break;
		case O_TIMEOUT:
			if (parse_num(optarg, 1, NFQ_POLICY_MAX_TIMEOUT_MS, &v) < 0)
				goto bad;
			o->timeout_ms = v;
			break;
		case O_DST:
			if (parse_dst(optarg, &o->dst) < 0)
				goto bad;
			o->have_dst = 1;
			break;
		case O_BIND:
			if (addr_parse_ipv4(optarg, 0, &o->bind) < 0 || !o->bind.sin_port)
				goto bad;
			o->have_bind = 1;
			break;
		case O_SPORT:
			if (parse_num(optarg, 0, 65535, &v) < 0)
				goto bad;
			o->sport = (uint16_t)v;
			break;
		case O_TTL:
			if (parse_num(optarg, 1, 255, &v) < 0)
				goto bad;
			o->ttl = (int)v;
			break;
		case O_COUNT:
			if (parse_num(optarg, 1, 1000, &v) < 0)
				goto bad;
			o->count = (uint32_t)v;
			break;
		case O_NOSUP:
			o->suppress = 0;
			break;
		case O_SUPMS:
			if (parse_num(optarg, 0, NFQ_POLICY_MAX_TIMEOUT_MS, &v) < 0)
				goto bad;
			o->suppress_ms = v;
			break;
		case O_AFTER:
			if (parse_num(optarg, 0, NFQ_POLICY_MAX_TIMEOUT_MS, &v) < 0)
				goto bad;
			o->after_ms = v;
			break;
		case O_READY:
			o->ready_file = optarg;
			break;
		case O_RULES:
			o->rules = 1;
			break;
		case O_RULES_TOOL:
			o->rules_tool = optarg;
			break;
		case O_RULES_STATE:
			o->rules_state = optarg;
			break;
		case 'h':
		case O_HELP:
			usage(stdout);
			exit(0);
		default:
			goto bad;
		}
	}
	if (o->mode == M_NONE)
		goto bad;
	if ((o->mode == M_SYN_TTL || o->mode == M_SUPPRESS || o->mode == M_CONNECT) && !o->have_dst) {
		fprintf(stderr, "nfqdrv: --dst IP:PORT is required\n");
		return -EINVAL;
	}
	if (o->mode == M_SYN_TTL && o->ttl == 0) {
		fprintf(stderr, "nfqdrv: syn-ttl needs --ttl\n");
		return -EINVAL;
	}
	if (o->mode == M_LISTEN && !o->have_bind) {
		fprintf(stderr, "nfqdrv: listen needs --bind IP:PORT\n");
		return -EINVAL;
	}
	if (o->rules && o->mark == 0) {
		fprintf(stderr, "nfqdrv: --rules needs a non-zero --mark\n");
		return -EINVAL;
	}
	if (o->timeout_ms == -2)
		o->timeout_ms = o->mode == M_HOLD ? -1 : DRV_DEFAULT_TIMEOUT_MS;
	return 0;
bad:
	fprintf(stderr, "nfqdrv: bad arguments (see --help)\n");
	return -EINVAL;
}

/* ---------------------------------------------------------------- engine callbacks */

struct run {
	const struct opts *o;
	struct nfq_engine *eng;
	struct nfq_flow flow;
	int fd;
	unsigned n_in_rst, n_in_icmp, n_syn, n_te;
};

static void print_syn_event(const struct nfq_event *ev)
{
	const struct pkt_tcpopts *op = &ev->opt;

	emit("{\"event\":\"syn\",\"t_ms\":%llu,\"seq\":%u,\"ttl\":%u,\"ip_id\":%u,"
	     "\"mss\":%d,\"wscale\":%d,\"sack_ok\":%s,\"ts\":%s}",
	     t_ms(), ev->seq, ev->ttl, ev->ip_id,
	     op->present & PKT_OPT_MSS ? (int)op->mss : -1,
	     op->present & PKT_OPT_WSCALE ? (int)op->wscale : -1,
	     op->present & PKT_OPT_SACK_OK ? "true" : "false",
	     op->present & PKT_OPT_TS ? "true" : "false");
}

static void on_event(struct nfq_engine *e, const struct nfq_event *ev, void *arg)
{
	struct run *r = arg;
	char a[INET6_ADDRSTRLEN];

	(void)e;
	if (ev->cookie == DRV_COOKIE_SYN) {
		r->n_syn++;
		print_syn_event(ev);
	} else if (ev->cookie == DRV_COOKIE_TE) {
		r->n_te++;
		emit("{\"event\":\"icmp_te\",\"t_ms\":%llu,\"router\":\"%s\",\"type\":%u,\"code\":%u,"
		     "\"quoted_seq\":%lld}",
		     t_ms(), ev->pkt && ev->pkt->family == AF_INET6 ? ip6_str(ev->router6, a) :
		     ip_str(ev->router, a), ev->icmp_type, ev->icmp_code,
		     ev->has_seq ? (long long)ev->seq : -1LL);
	}
}

/* Note the inbound errors of our flow before the policies decide (they may drop them). */
static void on_packet(struct nfq_engine *e, const struct nfq_packet *p, void *arg)
{
	struct run *r = arg;
	char a[INET6_ADDRSTRLEN];
	uint32_t cls;

	(void)e;
	if (p->pkt == NULL || r->fd < 0)
		return;
	cls = nfq_flow_classify(&r->flow, p->pkt);
	if (cls & NFQ_MATCH_IN_RST) {
		r->n_in_rst++;
		emit("{\"event\":\"inbound\",\"t_ms\":%llu,\"kind\":\"rst\",\"from\":\"%s\"}",
		     t_ms(), src_str(p->pkt, a));
	} else if (cls & NFQ_MATCH_IN_ICMP_ERR) {
		r->n_in_icmp++;
		emit("{\"event\":\"inbound\",\"t_ms\":%llu,\"kind\":\"icmp\",\"type\":%u,\"code\":%u,"
		     "\"from\":\"%s\"}",
		     t_ms(), p->pkt->icmp.type, p->pkt->icmp.code, src_str(p->pkt, a));
	}
}

static int open_engine(const struct opts *o, struct run *r)
{
	struct nfq_engine_cfg cfg = {
		.queue_num = o->queue, .event_cb = on_event, .packet_cb = on_packet, .arg = r,
	};
	int err = nfq_engine_open(&cfg, &r->eng);

	if (err < 0) {
		fprintf(stderr, "nfqdrv: cannot bind queue %u: %s%s\n", o->queue, strerror(-err),
			err == -EPERM ? " (not root, or another process holds the queue)" : "");
		emit("{\"event\":\"error\",\"what\":\"nfq_engine_open\",\"errno\":%d}", -err);
	}
	return err;
}

static void print_stats(const struct run *r)
{
	struct nfq_engine_stats st;

	if (r->eng == NULL)
		return;
	nfq_engine_get_stats(r->eng, &st);
	emit("{\"event\":\"stats\",\"packets\":%llu,\"accepted\":%llu,\"dropped\":%llu,"
	     "\"ttl_rewritten\":%llu,\"events\":%llu,\"parse_errors\":%llu}",
	     (unsigned long long)st.packets, (unsigned long long)st.accepted,
	     (unsigned long long)st.dropped, (unsigned long long)st.ttl_rewritten,
	     (unsigned long long)st.events, (unsigned long long)st.parse_errors);
}

/* ---------------------------------------------------------------- sockets */

/* A non-blocking TCP socket of family, marked when mark != 0, bound to sport (0: any). */
static int client_socket(int family, uint32_t mark, uint16_t sport, uint16_t *lport)
{
	union drv_sa a;
	socklen_t al;
	int fd, one = 1, err;

	memset(&a, 0, sizeof(a));
	a.sa.sa_family = (sa_family_t)family;
	if (family == AF_INET6)
		a.in6.sin6_port = htons(sport);
	else
		a.in.sin_port = htons(sport);
	al = sa_len(&a);
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (mark && setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		goto fail;
	/* bind now so that the flow's local port is known before the first SYN */
	if (bind(fd, &a.sa, al) < 0 || getsockname(fd, &a.sa, &al) < 0)
		goto fail;
	*lport = sa_port(&a);
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

static int start_connect(int fd, const union drv_sa *dst)
{
	if (connect(fd, &dst->sa, sa_len(dst)) == 0 || errno == EINPROGRESS)
		return 0;
	return -errno;
}

/* Milliseconds to wait in poll: up to the deadline, at most cap (-1: none). */
static int poll_timeout(uint64_t deadline, int cap)
{
	uint64_t now = clock_ms();
	uint64_t left;

	if (deadline == UINT64_MAX)
		return cap;
	left = deadline > now ? deadline - now : 0;
	if (cap >= 0 && left > (uint64_t)cap)
		return cap;
	return (int)left;
}

/*
 * syn-ttl and suppress: one marked connect, driven until it connects, fails
 * or the timeout ends. Returns the exit status.
 */
static int run_flow(const struct opts *o)
{
	struct run r = { .o = o, .fd = -1 };
	struct nfq_policy_table *pt;
	struct nfq_policy_spec s;
	struct pollfd pfd[2];
	uint64_t deadline, syn_sent_since = 0, syn_sent_ms = 0;
	uint32_t tmo = (uint32_t)o->timeout_ms;
	int64_t sup_ms;
	int st, last_st = -1, rc = 1, err = 0, done = 0, n;
	socklen_t el = sizeof(err);
	uint16_t lport;
	char a[INET6_ADDRSTRLEN];

	if (open_engine(o, &r) < 0)
		return 1;
	r.fd = client_socket(o->dst.sa.sa_family, o->mark, o->sport, &lport);
	if (r.fd < 0) {
		fprintf(stderr, "nfqdrv: socket: %s\n", strerror(-r.fd));
		goto out;
	}
	r.flow = (struct nfq_flow){
		.proto = PKT_PROTO_TCP, .lport = lport, .rport = sa_port(&o->dst),
	};
	if (o->dst.sa.sa_family == AF_INET6) {
		r.flow.family = AF_INET6;
		memcpy(r.flow.raddr6, &o->dst.in6.sin6_addr, 16);
	} else {
		r.flow.raddr = o->dst.in.sin_addr.s_addr;
	}

	/* suppression: syn-ttl drops inbound errors for the whole run unless told not to */
	sup_ms = o->suppress_ms;
	if (o->suppress == 0)
		sup_ms = 0;
	else if (sup_ms < 0)
		sup_ms = o->timeout_ms;

	pt = nfq_engine_policies(r.eng);
	if (o->ttl) {
		nfq_spec_syn_ttl(&s, &r.flow, o->count, (uint8_t)o->ttl, tmo);
		if (nfq_policy_add(pt, &s, clock_ms(), NULL) < 0)
			goto policy_fail;
	}
	nfq_spec_report_syn(&s, &r.flow, tmo, DRV_COOKIE_SYN);
	if (nfq_policy_add(pt, &s, clock_ms(), NULL) < 0)
		goto policy_fail;
	nfq_spec_report_icmp_te(&s, &r.flow, tmo, DRV_COOKIE_TE);
	if (nfq_policy_add(pt, &s, clock_ms(), NULL) < 0)
		goto policy_fail;
	if (sup_ms > 0) {
		nfq_spec_drop_inbound_errors(&s, &r.flow, (uint32_t)sup_ms);
		if (nfq_policy_add(pt, &s, clock_ms(), NULL) < 0)
			goto policy_fail;
	}
	emit("{\"event\":\"start\",\"mode\":\"%s\",\"queue\":%u,\"mark\":%u,\"dst\":\"%s%s%s:%u\","
	     "\"sport\":%u,\"ttl\":%d,\"count\":%u,\"suppress_ms\":%lld}",
	     o->mode == M_SYN_TTL ? "syn-ttl" : "suppress", o->queue, o->mark,
	     r.flow.family ? "[" : "",
	     r.flow.family ? ip6_str(r.flow.raddr6, a) : ip_str(o->dst.in.sin_addr.s_addr, a),
	     r.flow.family ? "]" : "", sa_port(&o->dst), lport, o->ttl,
	     o->ttl ? o->count : 0, (long long)sup_ms);

	t0 = clock_ms();
	deadline = t0 + (uint64_t)o->timeout_ms;
	err = start_connect(r.fd, &o->dst);
	if (err < 0) {
		done = 1;
		err = -err;
	}
	while (!done && !stop_sig) {
		if (clock_ms() >= deadline)
			break;
		pfd[0] = (struct pollfd){ .fd = nfq_engine_fd(r.eng), .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = r.fd, .events = POLLOUT };
		n = poll(pfd, 2, poll_timeout(deadline, DRV_STATE_POLL_MS));
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "nfqdrv: poll: %s\n", strerror(errno));
			goto out;
		}
		if (n > 0 && (pfd[0].revents & POLLIN) && nfq_engine_dispatch(r.eng) < 0)
			fprintf(stderr, "nfqdrv: queue socket error\n");
		st = tcp_state(r.fd);
		if (st != last_st) {
			emit("{\"event\":\"state\",\"t_ms\":%llu,\"state\":\"%s\"}", t_ms(),
			     tcp_state_name(st));
			if (st == TCP_SYN_SENT)
				syn_sent_since = clock_ms();
			else if (last_st == TCP_SYN_SENT)
				syn_sent_ms += clock_ms() - syn_sent_since;
			last_st = st;
		}
		if (n > 0 && (pfd[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
			el = sizeof(err);
			if (getsockopt(r.fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
				err = errno;
			done = 1;
		}
	}
	if (last_st == TCP_SYN_SENT)
		syn_sent_ms += clock_ms() - syn_sent_since;
	/* what is still queued (e.g. the ACK's trailing packets) gets its verdict */
	(void)nfq_engine_dispatch(r.eng);
	st = tcp_state(r.fd);
	rc = (done && err == 0 && handshake_done(st)) ? 0 : 3;
	emit("{\"event\":\"result\",\"t_ms\":%llu,\"connected\":%s,\"state\":\"%s\",\"error\":\"%s\","
	     "\"syn_sent_ms\":%llu,\"syns\":%u,\"icmp_te\":%u,\"inbound_rst\":%u,\"inbound_icmp\":%u}",
	     t_ms(), rc == 0 ? "true" : "false", tcp_state_name(st),
	     err ? strerror(err) : (done ? "" : "timeout"), (unsigned long long)syn_sent_ms,
	     r.n_syn, r.n_te, r.n_in_rst, r.n_in_icmp);
	print_stats(&r);
	goto out;
policy_fail:
	fprintf(stderr, "nfqdrv: cannot add a policy\n");
out:
	if (r.fd >= 0)
		close(r.fd);
	nfq_engine_close(r.eng);
	return rc;
}

static int run_hold(const struct opts *o)
{
	struct run r = { .o = o, .fd = -1 };
	struct pollfd pfd;
	uint64_t deadline;
	FILE *f;
	int n;

	if (open_engine(o, &r) < 0)
		return 1;
	t0 = clock_ms();
	deadline = o->timeout_ms < 0 ? UINT64_MAX : t0 + (uint64_t)o->timeout_ms;
	emit("{\"event\":\"holding\",\"queue\":%u,\"pid\":%d}", o->queue, (int)getpid());
	if (o->ready_file) {
		f = fopen(o->ready_file, "w");
		if (f == NULL || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0) {
			fprintf(stderr, "nfqdrv: %s: %s\n", o->ready_file, strerror(errno));
			nfq_engine_close(r.eng);
			return 1;
		}
	}
	while (!stop_sig && clock_ms() < deadline) {
		pfd = (struct pollfd){ .fd = nfq_engine_fd(r.eng), .events = POLLIN };
		n = poll(&pfd, 1, poll_timeout(deadline, 1000));
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0 && nfq_engine_dispatch(r.eng) < 0)
			fprintf(stderr, "nfqdrv: queue socket error\n");
	}
	print_stats(&r);
	nfq_engine_close(r.eng);
	return 0;
}

static int run_connect(const struct opts *o)
{
	struct pollfd pfd;
	uint64_t deadline;
	uint16_t lport;
	int fd, err = 0, n, done = 0, st;
	socklen_t el = sizeof(err);

	fd = client_socket(o->dst.sa.sa_family, o->mark, o->sport, &lport);
	if (fd < 0) {
		fprintf(stderr, "nfqdrv: socket: %s\n", strerror(-fd));
		return 1;
	}
	t0 = clock_ms();
	deadline = t0 + (uint64_t)o->timeout_ms;
	err = -start_connect(fd, &o->dst);
	done = err != 0;
	while (!done && !stop_sig && clock_ms() < deadline) {
		pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
		n = poll(&pfd, 1, poll_timeout(deadline, -1));
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0) {
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
				err = errno;
			done = 1;
		}
	}
	st = tcp_state(fd);
	n = done && err == 0 && handshake_done(st);
	emit("{\"event\":\"result\",\"t_ms\":%llu,\"connected\":%s,\"state\":\"%s\","
	     "\"sport\":%u,\"mark\":%u,\"error\":\"%s\"}",
	     t_ms(), n ? "true" : "false", tcp_state_name(st), lport, o->mark,
	     err ? strerror(err) : (done ? "" : "timeout"));
	close(fd);
	return n ? 0 : 3;
}

static int run_listen(const struct opts *o)
{
	struct pollfd pfd[1 + DRV_MAX_CLIENTS];
	uint64_t deadline, listen_at;
	int lfd = -1, cl[DRV_MAX_CLIENTS], ncl = 0, one = 1, i, n, rc = 1;
	char buf[2048], a[INET_ADDRSTRLEN];

	t0 = clock_ms();
	deadline = t0 + (uint64_t)o->timeout_ms;
	listen_at = t0 + (uint64_t)o->after_ms;
	while (!stop_sig && clock_ms() < deadline) {
		if (lfd < 0 && clock_ms() >= listen_at) {
			lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
			if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
			    bind(lfd, (const struct sockaddr *)&o->bind, sizeof(o->bind)) < 0 ||
			    listen(lfd, 64) < 0) {
				fprintf(stderr, "nfqdrv: listen: %s\n", strerror(errno));
				goto out;
			}
			emit("{\"event\":\"listening\",\"t_ms\":%llu}", t_ms());
		}
		n = 0;
		if (lfd >= 0)
			pfd[n++] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (i = 0; i < ncl; i++)
			pfd[n++] = (struct pollfd){ .fd = cl[i], .events = POLLIN };
		if (poll(pfd, (nfds_t)n,
			 poll_timeout(lfd < 0 ? listen_at : deadline, -1)) < 0 && errno != EINTR)
			goto out;
		/* echo what clients send; forget a client at EOF or error */
		for (i = ncl - 1; i >= 0; i--) {
			struct pollfd *p = &pfd[(lfd >= 0) + i];
			ssize_t got;

			if (!(p->revents & (POLLIN | POLLERR | POLLHUP)))
				continue;
			got = read(cl[i], buf, sizeof(buf));
			if (got > 0 && write(cl[i], buf, (size_t)got) == got)
				continue;
			if (got < 0 && errno == EAGAIN)
				continue;
			close(cl[i]);
			cl[i] = cl[--ncl];
		}
		if (lfd >= 0 && (pfd[0].revents & POLLIN)) {
			struct sockaddr_in peer;
			socklen_t pl = sizeof(peer);
			int c = accept4(lfd, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);

			if (c >= 0) {
				emit("{\"event\":\"accepted\",\"t_ms\":%llu,\"peer\":\"%s:%u\"}", t_ms(),
				     ip_str(peer.sin_addr.s_addr, a), ntohs(peer.sin_port));
				if (ncl < DRV_MAX_CLIENTS)
					cl[ncl++] = c;
				else
					close(c);
			}
		}
	}
	rc = 0;
out:
	for (i = 0; i < ncl; i++)
		close(cl[i]);
	if (lfd >= 0)
		close(lfd);
	return rc;
}

static int run_mode(const struct opts *o)
{
	switch (o->mode) {
	case M_SYN_TTL:
	case M_SUPPRESS:
		return run_flow(o);
	case M_HOLD:
		return run_hold(o);
	case M_CONNECT:
		return run_connect(o);
	case M_LISTEN:
		return run_listen(o);
	default:
		return 2;
	}
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct nfq_rules_cfg rc;
	struct opts o;
	int err, status;

	if (parse_args(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	t0 = clock_ms();
	if (!o.rules)
		return run_mode(&o);

	log_init("nfqdrv", 1, LOG_LVL_INFO);
	rc = (struct nfq_rules_cfg){
		.tool = o.rules_tool, .state_path = o.rules_state, .queue = o.queue,
		.mark = o.mark, .queue_bypass = 1,
	};
	err = nfq_rules_acquire(&rc);
	if (err < 0) {
		fprintf(stderr, "nfqdrv: cannot take the NFQUEUE rules: %s%s\n", strerror(-err),
			err == -EBUSY ? " (another running process owns them)" : "");
		emit("{\"event\":\"error\",\"what\":\"nfq_rules_acquire\",\"errno\":%d}", -err);
		return err == -EBUSY ? DRV_EXIT_RULES_BUSY : 1;
	}
	emit("{\"event\":\"rules\",\"installed\":true,\"pid\":%d}", (int)getpid());
	status = run_mode(&o);
	err = nfq_rules_release(&rc);
	if (err < 0) {
		fprintf(stderr, "nfqdrv: cannot remove the NFQUEUE rules: %s\n", strerror(-err));
		return 1;
	}
	emit("{\"event\":\"rules\",\"installed\":false}");
	return status;
}
