// SPDX-License-Identifier: MIT
/*
 * The engine against the real kernel, in a private network namespace made
 * with unshare(CLONE_NEWNET): only its loopback exists, the iptables rules
 * are installed there (child processes inherit the namespace) and vanish
 * with the process. The root namespace is never touched: the test checks
 * that the namespace really changed before it runs iptables.
 *
 * Rules, as stunt-rules installs them in host mode:
 *   mangle OUTPUT: mark 0x5a -> save the mark in the connmark, then queue 7
 *   mangle INPUT:  connmark 0x5a -> queue 7 (the replies)
 * Needs root; prints "ok - ... # SKIP" lines otherwise.
 */
#include "common/clock.h"
#include "nfq/nfq_engine.h"
#include "nfq/pkt.h"
#include "tests/unit/tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define QNUM    7
#define MARK    0x5a
#define SRV_PORT 5900
#define CLOSED_PORT 5999

static struct nfq_engine *eng;
static int n_syn_events;
static struct nfq_event last_ev;
static uint32_t last_ev_seq;

static uint16_t watch_port;
static int watch_seen;

/* Note queued packets of one port; give no verdict, so the policies decide. */
static void on_packet(struct nfq_engine *e, const struct nfq_packet *p, void *arg)
{
	(void)e;
	(void)arg;
	if (p->pkt && p->pkt->l4 == PKT_L4_TCP &&
	    (p->pkt->tcp.sport == watch_port || p->pkt->tcp.dport == watch_port))
		watch_seen++;
}

static void on_event(struct nfq_engine *e, const struct nfq_event *ev, void *arg)
{
	(void)e;
	(void)arg;
	n_syn_events++;
	last_ev = *ev;
	last_ev.pkt = NULL;
	last_ev_seq = ev->seq;
}

/* Run the engine (and let the kernel work) for ms milliseconds. */
static void pump(int ms)
{
	uint64_t end = clock_ms() + (uint64_t)ms;
	struct pollfd p = { .fd = nfq_engine_fd(eng), .events = POLLIN };

	while (clock_ms() < end) {
		if (poll(&p, 1, 10) > 0)
			nfq_engine_dispatch(eng);
	}
}

static int sh(const char *cmd)
{
	int r = system(cmd);

	if (r != 0)
		fprintf(stderr, "command failed (%d): %s\n", r, cmd);
	return r;
}

static int enter_private_netns(void)
{
	struct stat a, b;

	if (stat("/proc/self/ns/net", &a) < 0 || unshare(CLONE_NEWNET) < 0 ||
	    stat("/proc/self/ns/net", &b) < 0 || a.st_ino == b.st_ino)
		return -1;
	if (sh("ip link set lo up") != 0 ||
	    sh("iptables -w -t mangle -A OUTPUT -m mark --mark 0x5a -j CONNMARK --save-mark") != 0 ||
	    sh("iptables -w -t mangle -A OUTPUT -m mark --mark 0x5a "
	       "-j NFQUEUE --queue-num 7 --queue-bypass") != 0 ||
	    sh("iptables -w -t mangle -A INPUT -m connmark --mark 0x5a "
	       "-j NFQUEUE --queue-num 7 --queue-bypass") != 0)
		return -1;
	return 0;
}

static int listener(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 8) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A non-blocking client bound to a fixed local port, marked if mark != 0. */
static int client(uint32_t mark, uint16_t *lport)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (mark)
		setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark));
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	getsockname(fd, (struct sockaddr *)&a, &al);
	*lport = ntohs(a.sin_port);
	return fd;
}

static void start_connect(int fd, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	connect(fd, (struct sockaddr *)&a, sizeof(a));
}

static int tcp_state(int fd)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l) < 0)
		return -1;
	return ti.tcpi_state;
}

/* The TTL of the first SYN to port seen by the raw observer, or -1. */
static int observed_syn_ttl(int raw, uint16_t port)
{
	uint8_t b[2048];
	struct pkt k;
	ssize_t n;

	while ((n = recv(raw, b, sizeof(b), MSG_DONTWAIT)) > 0) {
		if (pkt_parse(b, (size_t)n, &k) == 0 && k.l4 == PKT_L4_TCP &&
		    k.tcp.dport == port && (k.tcp.flags & (PKT_TCP_SYN | PKT_TCP_ACK)) == PKT_TCP_SYN)
			return k.ip.ttl;
	}
	return -1;
}

static struct nfq_flow lo_flow(uint16_t lport, uint16_t rport)
{
	struct nfq_flow f = { .proto = PKT_PROTO_TCP, .lport = lport, .rport = rport };

	f.laddr = htonl(INADDR_LOOPBACK);
	f.raddr = htonl(INADDR_LOOPBACK);
	return f;
}

static void second_bind_of_the_queue_is_refused(void)
{
	struct nfq_engine_cfg cfg = { .queue_num = QNUM };
	struct nfq_engine *e2 = NULL;

	/* the kernel refuses a queue bound to another socket with EPERM */
	CHECK_EQ(nfq_engine_open(&cfg, &e2), -EPERM);
	nfq_engine_close(e2);
}

static void first_syn_leaves_with_ttl_and_is_reported(void)
{
	struct nfq_policy_spec s;
	struct nfq_flow f;
	struct nfq_engine_stats st;
	uint16_t lport;
	int srv = listener(SRV_PORT), raw, c, c2;

	raw = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_TCP);
	CHECK(srv >= 0 && raw >= 0);
	c = client(MARK, &lport);
	f = lo_flow(lport, SRV_PORT);
	nfq_spec_syn_ttl(&s, &f, 1, 3, 5000);
	CHECK_EQ(nfq_policy_add(nfq_engine_policies(eng), &s, clock_ms(), NULL), 0);
	nfq_spec_report_syn(&s, &f, 5000, 77);
	CHECK_EQ(nfq_policy_add(nfq_engine_policies(eng), &s, clock_ms(), NULL), 0);
	n_syn_events = 0;
	start_connect(c, SRV_PORT);
	pump(200);
	CHECK_EQ(observed_syn_ttl(raw, SRV_PORT), 3);
	CHECK_EQ(tcp_state(c), TCP_ESTABLISHED);
	CHECK_EQ(n_syn_events, 1);
	CHECK_EQ(last_ev.cookie, 77);
	CHECK(last_ev.opt.present & PKT_OPT_MSS);
	nfq_engine_get_stats(eng, &st);
	CHECK(st.ttl_rewritten >= 1);

	/* a later connection of the same kind (a new flow) leaves with the normal TTL */
	c2 = client(MARK, &lport);
	start_connect(c2, SRV_PORT);
	pump(200);
	CHECK_EQ(observed_syn_ttl(raw, SRV_PORT), 64);
	CHECK_EQ(tcp_state(c2), TCP_ESTABLISHED);
	close(c);
	close(c2);
	close(raw);
	close(srv);
}

static void unmarked_socket_is_never_queued(void)
{
	uint16_t lport;
	int srv = listener(SRV_PORT + 1), c;

	watch_port = SRV_PORT + 1;
	watch_seen = 0;
	c = client(0, &lport);
	start_connect(c, SRV_PORT + 1);
	pump(200);
	CHECK_EQ(tcp_state(c), TCP_ESTABLISHED);
	CHECK_EQ(watch_seen, 0);
	/* while a marked one on the same host is */
	close(c);
	c = client(MARK, &lport);
	start_connect(c, SRV_PORT + 1);
	pump(200);
	CHECK_EQ(tcp_state(c), TCP_ESTABLISHED);
	CHECK(watch_seen >= 3);
	close(c);
	close(srv);
}

static void inbound_rst_suppressed_until_real_synack(void)
{
	struct nfq_policy_spec s;
	struct nfq_flow f;
	struct nfq_engine_stats a, b;
	uint16_t lport;
	int c, srv, err = 0;
	socklen_t el = sizeof(err);

	c = client(MARK, &lport);
	f = lo_flow(lport, CLOSED_PORT);
	nfq_spec_drop_inbound_errors(&s, &f, 5000);
	CHECK_EQ(nfq_policy_add(nfq_engine_policies(eng), &s, clock_ms(), NULL), 0);
	nfq_engine_get_stats(eng, &a);
	start_connect(c, CLOSED_PORT);
	pump(300);
	nfq_engine_get_stats(eng, &b);
	/* the closed port answered with an RST, which never reached the socket */
	CHECK(b.dropped >= a.dropped + 1);
	CHECK_EQ(tcp_state(c), TCP_SYN_SENT);
	getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &el);
	CHECK_EQ(err, 0);
	/* now the peer listens: the retransmitted SYN (after ~1 s) completes the connect */
	srv = listener(CLOSED_PORT);
	CHECK(srv >= 0);
	pump(1500);
	CHECK_EQ(tcp_state(c), TCP_ESTABLISHED);
	close(c);
	close(srv);
}

static void inject_delivers_to_the_local_stack(void)
{
	/* a UDP datagram "from 192.0.2.9" injected towards our own loopback socket */
	uint8_t d[32] = {
		0x45, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00,
		0x40, 0x11, 0x00, 0x00,         /* TTL 64, UDP, checksum filled by inject */
		192, 0, 2, 9, 127, 0, 0, 1,
		0x30, 0x39, 0x00, 0x00,         /* 12345 -> (port below) */
		0x00, 0x0c, 0x00, 0x00, 'p', 'i', 'n', 'g',
	};
	struct sockaddr_in a = { .sin_family = AF_INET }, from;
	socklen_t al = sizeof(a), fl = sizeof(from);
	char got[16] = { 0 };
	int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ssize_t n;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(u, (struct sockaddr *)&a, sizeof(a));
	getsockname(u, (struct sockaddr *)&a, &al);
	memcpy(d + 22, &a.sin_port, 2);
	CHECK_EQ(nfq_engine_inject(eng, d, sizeof(d)), 0);
	pump(50);
	n = recvfrom(u, got, sizeof(got), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
	CHECK_EQ(n, 4);
	CHECK(memcmp(got, "ping", 4) == 0);
	CHECK_EQ(ntohl(from.sin_addr.s_addr), 0xc0000209);
	close(u);
}

int main(void)
{
	struct nfq_engine_cfg cfg = {
		.queue_num = QNUM, .queue_maxlen = 1024, .event_cb = on_event, .packet_cb = on_packet,
		.inject = 1, .inject_mark = 0,
	};
	int r;

	if (geteuid() != 0) {
		printf("ok - nfq_engine # SKIP needs root for a network namespace\n");
		return 0;
	}
	if (enter_private_netns() != 0) {
		printf("not ok - nfq_engine: private namespace with NFQUEUE rules\n");
		return 1;
	}
	r = nfq_engine_open(&cfg, &eng);
	if (r < 0) {
		fprintf(stderr, "nfq_engine_open: %s\n", strerror(-r));
		printf("not ok - nfq_engine_open\n");
		return 1;
	}
	RUN(second_bind_of_the_queue_is_refused);
	RUN(first_syn_leaves_with_ttl_and_is_reported);
	RUN(unmarked_socket_is_never_queued);
	RUN(inbound_rst_suppressed_until_real_synack);
	RUN(inject_delivers_to_the_local_stack);
	nfq_engine_close(eng);
	return TAP_DONE();
}
