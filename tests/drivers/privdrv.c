// SPDX-License-Identifier: MIT
/*
 * privdrv: talks to stuntd's privileged process (daemon/priv.c) directly, as
 * a compromised unprivileged process would, for tests/lab/t_priv_narrow.sh.
 *
 *   privdrv --state-dir DIR --rules-tool PATH --src IP --dst IP --foreign IP
 *           --listen-port P [--user NAME] [--src6 IP6 --dst6 IP6]
 *
 * As root it forks the privileged process the way stuntd does (d_priv_fork:
 * the queue and the rules come up), opens a root SO_REUSEPORT listener on
 * --listen-port and shows that a uid-0 socket made the old way (what the
 * removed SOCKET request did) joins its port; then it becomes --user (default
 * nobody, no capability, no_new_privs) and sends raw requests on the
 * socketpair. Each result is one line "NAME VALUE" on stdout (VALUE: a
 * number, 0 or -errno); diagnostics go to stderr. --src is this host's
 * address, --dst a host the injected SYNs go to, --foreign an address that
 * is not this host's. The lab test counts what reaches --dst. With --src6
 * (this host's IPv6 address) and --dst6, INJECT is driven over IPv6 too:
 * a SYN before its flow has a policy, one to ff02::1 and one behind a
 * routing header (each with a policy naming its flow) are refused, the
 * SYN on the flow is sent.
 *
 * Exit status: 0 when every step ran (the test judges the values), 1 on a
 * setup error, 2 usage.
 */
#include "common/fdpass.h"
#include "common/log.h"
#include "daemon/nfq.h"
#include "daemon/priv_msg.h"
#include "daemon/privdrop.h"
#include "daemon/stuntd.h"
#include "nfq/pkt_build.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define PD_LPORT	40001	/* the flow: --src:PD_LPORT -> --dst:PD_RPORT */
#define PD_RPORT	5000

static int req = -1;
static uint32_t seq;
static uint8_t buf[D_PRIV_MSG_MAX];

static void out(const char *name, long v)
{
	printf("%s %ld\n", name, v);
	fflush(stdout);
}

/* One request of n bytes (with nfds descriptors): the reply's result, its
 * value in *value, up to 2 descriptors back in rfds (-1 otherwise). */
static int rpc(int n, const int *fds, int nfds, uint32_t *value, int *rfds)
{
	struct d_priv_msg m;
	struct pollfd pf = { .fd = req, .events = POLLIN };
	int got[FDPASS_MAX], ngot, i;
	bool trunc;
	ssize_t k;

	if (rfds)
		rfds[0] = rfds[1] = -1;
	if (n < 0)
		return n;
	if (fdpass_send(req, buf, (size_t)n, fds, nfds) != n)
		return -errno;
	if (poll(&pf, 1, 5000) != 1)
		return -ETIMEDOUT;
	k = fdpass_recv(req, buf, sizeof(buf), 0, got, FDPASS_MAX, &ngot, &trunc);
	if (k <= 0)
		return -EPIPE;
	for (i = 0; i < ngot; i++) {
		if (rfds && i < 2)
			rfds[i] = got[i];
		else
			close(got[i]);
	}
	if (d_priv_decode(buf, (size_t)k, &m) < 0 || m.hdr.type != D_PRIV_REPLY)
		return -EPROTO;
	if (value)
		*value = m.u.reply.value;
	return m.u.reply.result;
}

static int mark_of(int fd)
{
	uint32_t mark = 0;
	socklen_t l = sizeof(mark);

	return getsockopt(fd, SOL_SOCKET, SO_MARK, &mark, &l) < 0 ? -errno : (int)mark;
}

/* MARK with these descriptors */
static int mark(const int *fds, int nfds)
{
	return rpc(d_priv_enc_mark(buf, sizeof(buf), ++seq), fds, nfds, NULL, NULL);
}

static int inject(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint8_t proto,
		  uint8_t flags, uint32_t *refused)
{
	struct pkt_tcp_spec sp = { .saddr = src, .daddr = dst, .sport = sport, .dport = dport,
				   .seq = 12345, .flags = flags, .window = 64240, .ttl = 64,
				   .dont_fragment = 1 };
	uint8_t p[128];
	size_t len = 0;
	int r;

	if (proto == PKT_PROTO_TCP) {
		r = pkt_build_tcp(&sp, p, sizeof(p), &len);
		if (r < 0)
			return r;
	} else {
		/* UDP: IPv4 header + 8 bytes + 4 bytes of data */
		memset(p, 0, 32);
		p[0] = 0x45;
		p[3] = 32;
		p[8] = 64;
		p[9] = PKT_PROTO_UDP;
		memcpy(p + 12, &src, 4);
		memcpy(p + 16, &dst, 4);
		p[20] = (uint8_t)(sport >> 8);
		p[21] = (uint8_t)sport;
		p[22] = (uint8_t)(dport >> 8);
		p[23] = (uint8_t)dport;
		p[25] = 12;
		memcpy(p + 28, "boom", 4);
		len = 32;
		if (pkt_fix_checksums(p, len) < 0)
			return -EINVAL;
	}
	return rpc(d_priv_enc_inject(buf, sizeof(buf), ++seq, p, len), NULL, 0, refused, NULL);
}

/* AF_PACKET sockets in this namespace (/proc/net/packet, one line each after the header) */
static int packet_sockets(void)
{
	FILE *f = fopen("/proc/net/packet", "r");
	char line[512];
	int n = -1;

	if (f == NULL)
		return -errno;
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	return n;
}

static int reuseport_listener(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 8) < 0)
		return -errno;
	return fd;
}

/* An IPv6 SYN src6:PD_LPORT -> dst6:PD_RPORT; rh: behind a routing header
 * (type 4, no segment left). */
static int inject6(const struct in6_addr *src6, const struct in6_addr *dst6, bool rh,
		   uint32_t *refused)
{
	struct pkt_tcp_spec sp = { .family = AF_INET6, .sport = PD_LPORT, .dport = PD_RPORT,
				   .seq = 12345, .flags = PKT_TCP_SYN, .window = 64240, .ttl = 64 };
	uint8_t p[160], q[168];
	size_t len = 0;
	int r;

	memcpy(sp.saddr6, src6, 16);
	memcpy(sp.daddr6, dst6, 16);
	r = pkt_build_tcp(&sp, p, sizeof(p), &len);
	if (r < 0)
		return r;
	if (!rh)
		return rpc(d_priv_enc_inject(buf, sizeof(buf), ++seq, p, len), NULL, 0, refused,
			   NULL);
	memcpy(q, p, 40);
	q[6] = 43;
	memset(q + 40, 0, 8);
	q[40] = PKT_PROTO_TCP;
	q[42] = 4;
	memcpy(q + 48, p + 40, len - 40);
	q[4] = 0;
	q[5] = (uint8_t)(len - 40 + 8);
	if (pkt_fix_checksums(q, len + 8) < 0)
		return -EINVAL;
	return rpc(d_priv_enc_inject(buf, sizeof(buf), ++seq, q, len + 8), NULL, 0, refused, NULL);
}

static void usage(void)
{
	fprintf(stderr, "usage: privdrv --state-dir DIR --rules-tool PATH --src IP --dst IP "
		"--foreign IP --listen-port P [--user NAME] [--src6 IP6 --dst6 IP6]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "state-dir", required_argument, NULL, 's' },
		{ "rules-tool", required_argument, NULL, 'r' },
		{ "src", required_argument, NULL, 'a' },
		{ "dst", required_argument, NULL, 'b' },
		{ "foreign", required_argument, NULL, 'f' },
		{ "listen-port", required_argument, NULL, 'p' },
		{ "user", required_argument, NULL, 'u' },
		{ "src6", required_argument, NULL, 'A' },
		{ "dst6", required_argument, NULL, 'B' },
		{ NULL, 0, NULL, 0 },
	};
	static struct stuntd d;
	struct in_addr src = { 0 }, dst = { 0 }, foreign = { 0 };
	struct in6_addr src6, dst6, mc6;
	bool have6 = false, have_dst6 = false;
	const char *user = "nobody";
	struct nfq_policy_spec sp;
	struct nfq_flow flow;
	uint32_t v = 0, refused = 0;
	uint16_t lport = 0, bound = 0;
	int ev = -1, c, r, fd, fds[2], cap[2], pipefd[2], lis, i;
	uid_t uid;
	gid_t gid;
	pid_t pid;

	g_d = &d;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			snprintf(d.cfg.state_dir, sizeof(d.cfg.state_dir), "%s", optarg);
			break;
		case 'r':
			d.rules_tool = optarg;
			break;
		case 'a':
			if (inet_pton(AF_INET, optarg, &src) != 1)
				usage();
			break;
		case 'b':
			if (inet_pton(AF_INET, optarg, &dst) != 1)
				usage();
			break;
		case 'f':
			if (inet_pton(AF_INET, optarg, &foreign) != 1)
				usage();
			break;
		case 'p':
			lport = (uint16_t)atoi(optarg);
			break;
		case 'u':
			user = optarg;
			break;
		case 'A':
			if (inet_pton(AF_INET6, optarg, &src6) != 1)
				usage();
			have6 = true;
			break;
		case 'B':
			if (inet_pton(AF_INET6, optarg, &dst6) != 1)
				usage();
			have_dst6 = true;
			break;
		default:
			usage();
		}
	}
	if (!d.cfg.state_dir[0] || !d.rules_tool || !src.s_addr || !dst.s_addr ||
	    !foreign.s_addr || !lport || have6 != have_dst6)
		usage();
	log_init("privdrv", 1, LOG_LVL_INFO);
	if (geteuid() != 0) {
		fprintf(stderr, "privdrv: needs root\n");
		return 1;
	}
	if (d_privdrop_lookup(user, &uid, &gid) < 0) {
		fprintf(stderr, "privdrv: no user %s\n", user);
		return 1;
	}

	/* (b) another user's (here root's) SO_REUSEPORT listener */
	lis = reuseport_listener(lport);
	if (lis < 0) {
		fprintf(stderr, "privdrv: listener: %s\n", strerror(-lis));
		return 1;
	}
	/* what the removed SOCKET request did, as uid 0: it joins the group */
	fd = d_nfq_local_socket(D_MARK_DEFAULT, lport, &bound);
	out("old_way_root_socket_joins_port", fd >= 0 ? bound : fd);
	if (fd >= 0)
		close(fd);

	pid = d_priv_fork(&d, &req, &ev);
	out("priv_pid", pid);
	r = d_privdrop_user(uid, gid);
	if (r < 0) {
		fprintf(stderr, "privdrv: dropping to %s: %s\n", user, strerror(-r));
		return 1;
	}
	out("uid", (long)getuid());

	/* the new way: our uid's socket cannot join root's port */
	fd = d_nfq_local_socket(0, lport, &bound);
	out("new_way_bind_root_port", fd >= 0 ? bound : fd);
	if (fd >= 0)
		close(fd);
	/* and no request makes the privileged process create one: the old
	 * SOCKET request (type 4, a port) is a malformed MARK now */
	{
		struct d_priv_hdr h = { .type = D_PRIV_MARK, .seq = ++seq, .len = 2 };

		memcpy(buf, &h, sizeof(h));
		memcpy(buf + sizeof(h), &lport, 2);
		r = rpc((int)sizeof(h) + 2, NULL, 0, NULL, fds);
		out("old_socket_request", r);
		out("old_socket_request_fds", fds[0] >= 0);
	}

	/* (a) MARK: our TCP socket is marked; anything else is refused */
	fd = d_nfq_local_socket(0, 0, &bound);
	r = mark(&fd, 1);
	out("mark_tcp", r);
	out("mark_tcp_so_mark", mark_of(fd));
	close(fd);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	out("mark_udp", mark(&fd, 1));
	out("mark_udp_so_mark", mark_of(fd));
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	out("mark_unix_stream", mark(&fd, 1));
	close(fd);
	if (pipe(pipefd) == 0) {
		out("mark_pipe", mark(&pipefd[0], 1));
		close(pipefd[0]);
		close(pipefd[1]);
	}
	out("mark_no_fd", mark(NULL, 0));
	fds[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	fds[1] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	out("mark_two_fds", mark(fds, 2));
	out("mark_two_fds_so_mark", mark_of(fds[0]) + mark_of(fds[1]));
	close(fds[0]);
	close(fds[1]);
	/* a descriptor on a request that takes none */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	out("probe_fds_with_fd",
	    rpc(d_priv_enc_probe_fds(buf, sizeof(buf), ++seq), &fd, 1, NULL, cap));
	close(fd);
	for (i = 0; i < 2; i++)
		if (cap[i] >= 0)
			close(cap[i]);

	/* (d) REPLACE: refused, even a well-formed one */
	memset(&flow, 0, sizeof(flow));
	flow.proto = PKT_PROTO_TCP;
	flow.lport = PD_LPORT;
	flow.raddr = dst.s_addr;
	flow.rport = PD_RPORT;
	{
		struct pkt_tcp_spec ts = { .saddr = dst.s_addr, .daddr = src.s_addr,
					   .sport = PD_RPORT, .dport = PD_LPORT,
					   .flags = PKT_TCP_SYN | PKT_TCP_ACK, .ttl = 64 };
		uint8_t p[64];
		size_t len = 0;

		(void)pkt_build_tcp(&ts, p, sizeof(p), &len);
		nfq_spec_replace(&sp, &flow, NFQ_MATCH_IN_ANY, p, len, 5000);
		out("policy_replace",
		    rpc(d_priv_enc_policy_add(buf, sizeof(buf), ++seq, &sp), NULL, 0, NULL, NULL));
	}

	/* (c) INJECT: nothing before the flow has a policy */
	out("inject_syn_no_policy_yet",
	    inject(src.s_addr, PD_LPORT, dst.s_addr, PD_RPORT, PKT_PROTO_TCP, PKT_TCP_SYN, NULL));
	nfq_spec_drop_inbound_errors(&sp, &flow, 30000);
	out("policy_add_flow",
	    rpc(d_priv_enc_policy_add(buf, sizeof(buf), ++seq, &sp), NULL, 0, &v, NULL));
	out("inject_udp",
	    inject(src.s_addr, PD_LPORT, dst.s_addr, PD_RPORT, PKT_PROTO_UDP, 0, NULL));
	out("inject_syn_foreign_source",
	    inject(foreign.s_addr, PD_LPORT, dst.s_addr, PD_RPORT, PKT_PROTO_TCP, PKT_TCP_SYN,
		   NULL));
	out("inject_syn_other_flow",
	    inject(src.s_addr, PD_LPORT, dst.s_addr, PD_RPORT + 1, PKT_PROTO_TCP, PKT_TCP_SYN,
		   NULL));
	out("inject_synack_on_flow",
	    inject(src.s_addr, PD_LPORT, dst.s_addr, PD_RPORT, PKT_PROTO_TCP,
		   PKT_TCP_SYN | PKT_TCP_ACK, &refused));
	out("inject_refused_counter", refused);
	out("inject_syn_on_flow",
	    inject(src.s_addr, PD_LPORT, dst.s_addr, PD_RPORT, PKT_PROTO_TCP, PKT_TCP_SYN,
		   &refused));
	out("inject_refused_counter_after", refused);
	if (have6) {
		inet_pton(AF_INET6, "ff02::1", &mc6);
		out("inject6_syn_no_policy_yet", inject6(&src6, &dst6, false, NULL));
		memset(&flow, 0, sizeof(flow));
		flow.proto = PKT_PROTO_TCP;
		flow.family = AF_INET6;
		flow.lport = PD_LPORT;
		flow.rport = PD_RPORT;
		memcpy(flow.raddr6, &mc6, 16);
		nfq_spec_drop_inbound_errors(&sp, &flow, 30000);
		out("policy6_add_multicast",
		    rpc(d_priv_enc_policy_add(buf, sizeof(buf), ++seq, &sp), NULL, 0, NULL, NULL));
		memcpy(flow.raddr6, &dst6, 16);
		nfq_spec_drop_inbound_errors(&sp, &flow, 30000);
		out("policy6_add_flow",
		    rpc(d_priv_enc_policy_add(buf, sizeof(buf), ++seq, &sp), NULL, 0, NULL, NULL));
		out("inject6_syn_multicast", inject6(&src6, &mc6, false, NULL));
		out("inject6_syn_routing_header", inject6(&src6, &dst6, true, &refused));
		out("inject6_refused_counter", refused);
		out("inject6_syn_on_flow", inject6(&src6, &dst6, false, &refused));
		out("inject6_refused_counter_after", refused);
		/* the IPv4 flow's removal below must find it */
		memset(&flow, 0, sizeof(flow));
		flow.proto = PKT_PROTO_TCP;
		flow.lport = PD_LPORT;
		flow.raddr = dst.s_addr;
		flow.rport = PD_RPORT;
	}

	/* (e) PROBE_FDS: one capture at a time */
	out("packet_sockets_before", packet_sockets());
	r = rpc(d_priv_enc_probe_fds(buf, sizeof(buf), ++seq), NULL, 0, NULL, cap);
	out("probe_fds_first", r);
	out("probe_fds_first_fds", cap[0] >= 0 && cap[1] >= 0);
	out("packet_sockets_open", packet_sockets());
	r = rpc(d_priv_enc_probe_fds(buf, sizeof(buf), ++seq), NULL, 0, NULL, fds);
	out("probe_fds_second", r);
	out("probe_fds_second_fds", fds[0] >= 0 || fds[1] >= 0);
	for (i = 0; i < 2; i++) {
		if (cap[i] >= 0)
			close(cap[i]);
		if (fds[i] >= 0)
			close(fds[i]);
	}
	/* the reader closed: the capture ends (wait for it, bounded) */
	for (i = 0; i < 100 && packet_sockets() > 0; i++)
		usleep(50000);
	out("packet_sockets_after_close", packet_sockets());
	/* and a new one right away is still refused: too soon after the last */
	r = rpc(d_priv_enc_probe_fds(buf, sizeof(buf), ++seq), NULL, 0, NULL, fds);
	out("probe_fds_too_soon", r);
	for (i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);

	/* the privileged process is still there and answers */
	out("policy_remove_flow",
	    rpc(d_priv_enc_policy_remove_flow(buf, sizeof(buf), ++seq, &flow), NULL, 0, NULL,
		NULL));
	close(req);
	close(ev);
	close(lis);
	r = 0;
	if (waitpid(pid, &r, 0) == pid)
		out("priv_exit", WIFEXITED(r) ? WEXITSTATUS(r) : 128 + WTERMSIG(r));
	return 0;
}
