// SPDX-License-Identifier: MIT
/*
 * delayline: a fixed-delay link for the namespace lab, built on NFQUEUE.
 *
 * The lab kernel has no sch_netem, so a router namespace sends the traffic of
 * one link to an NFQUEUE and this program holds every packet for --delay-ms
 * (plus uniform jitter) before accepting it. Packets leave in arrival order,
 * like on a wire. The queue length is bounded by --maxlen both in the kernel
 * and here; a full queue drops, as a real link's tail drop would, so there is
 * deliberately no fail-open flag.
 *
 * Only the packet id is needed, so the queue copies metadata, never payload.
 * Standalone: it links libmnl and libnetfilter_queue only, no project code.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#define DEFAULT_MAXLEN		8192u
#define MAX_MAXLEN		(1u << 20)
#define MAX_DELAY_MS		60000L
#define NETLINK_RCVBUF_BYTES	(16 * 1024 * 1024)
/* Messages read per wake-up before due packets are looked at again, so a
 * burst of arrivals cannot push releases late. */
#define RECV_BURST		64
#define RECV_BUF_BYTES		65536
#define NSEC_PER_USEC		1000ull
#define NSEC_PER_MSEC		1000000ull
#define NSEC_PER_SEC		1000000000ull

struct held {
	uint32_t id;
	uint64_t due_ns;
};

/* FIFO ring of held packets; due times never decrease from head to tail. */
struct ring {
	struct held *slot;
	uint32_t cap;
	uint32_t head;
	uint32_t len;
};

struct line {
	struct mnl_socket *nl;
	uint32_t portid;
	uint16_t queue;
	uint64_t delay_ns;
	uint64_t jitter_us;
	uint64_t rng;
	struct ring ring;
	uint64_t last_due_ns;
	uint64_t n_delayed;
	uint64_t n_dropped;
	uint64_t n_verdict_err;
	char *rbuf;
	char *sbuf;
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: jitter needs to be uniform, not unpredictable. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1Dull;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: delayline --queue N --delay-ms D [--jitter-ms J] [--maxlen L]\n"
		"                 [--ready-file PATH]\n"
		"\n"
		"Hold every packet of NFQUEUE N for D ms (+ uniform 0..J ms) and then\n"
		"accept it, in arrival order. At most L packets (default %u) wait;\n"
		"beyond that the link tail-drops. Writes \"ready\" to PATH once bound.\n"
		"SIGINT/SIGTERM accept what is still held, print a summary, exit 0.\n",
		DEFAULT_MAXLEN);
}

/* Parse a decimal integer in [lo, hi]; 0 or -EINVAL. */
static int parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

static int write_ready(const char *path)
{
	char tmp[PATH_MAX];
	ssize_t n;
	int fd, ret = 0;

	/* Write then rename, so a waiting script never sees a half file. */
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	n = write(fd, "ready\n", 6);
	if (n != 6)
		ret = n < 0 ? -errno : -EIO;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path) < 0)
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

static int send_verdict(struct line *l, int type, uint32_t id, int verdict)
{
	struct nlmsghdr *nlh;

	nlh = nfq_nlmsg_put(l->sbuf, type, l->queue);
	nfq_nlmsg_verdict_put(nlh, (int)id, verdict);
	if (mnl_socket_sendto(l->nl, nlh, nlh->nlmsg_len) < 0) {
		l->n_verdict_err++;
		return -errno;
	}
	return 0;
}

/*
 * Accept every held packet due by now_ns (all of them if now_ns is
 * UINT64_MAX). Due packets form a prefix of the ring and the kernel hands out
 * ids in the order it queues them, so one batch verdict for the newest due id
 * accepts exactly that prefix: every older id is either in it or was already
 * dropped by a verdict of its own.
 */
static void release_due(struct line *l, uint64_t now_ns)
{
	struct ring *r = &l->ring;
	uint32_t n = 0, last_id = 0;

	while (r->len && r->slot[r->head].due_ns <= now_ns) {
		last_id = r->slot[r->head].id;
		r->head = (r->head + 1) % r->cap;
		r->len--;
		n++;
	}
	if (!n)
		return;
	send_verdict(l, n == 1 ? NFQNL_MSG_VERDICT : NFQNL_MSG_VERDICT_BATCH,
		     last_id, NF_ACCEPT);
	l->n_delayed += n;
}

static void hold_packet(struct line *l, uint32_t id, uint64_t now_ns)
{
	struct ring *r = &l->ring;
	uint64_t due = now_ns + l->delay_ns;

	if (r->len == r->cap) {
		send_verdict(l, NFQNL_MSG_VERDICT, id, NF_DROP);
		l->n_dropped++;
		return;
	}
	if (l->jitter_us)
		due += (rng_next(&l->rng) % (l->jitter_us + 1)) * NSEC_PER_USEC;
	/* A packet never overtakes the one before it, jitter or not. */
	if (due < l->last_due_ns)
		due = l->last_due_ns;
	l->last_due_ns = due;
	r->slot[(r->head + r->len) % r->cap] = (struct held){ .id = id, .due_ns = due };
	r->len++;
}

static int handle_packet_msg(struct line *l, const struct nlmsghdr *nlh, uint64_t now_ns)
{
	struct nlattr *attr[NFQA_MAX + 1] = { 0 };
	struct nfqnl_msg_packet_hdr ph;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR])
		return -EBADMSG;
	if (mnl_attr_get_payload_len(attr[NFQA_PACKET_HDR]) < sizeof(ph))
		return -EBADMSG;
	memcpy(&ph, mnl_attr_get_payload(attr[NFQA_PACKET_HDR]), sizeof(ph));
	hold_packet(l, ntohl(ph.packet_id), now_ns);
	return 0;
}

/*
 * Walk one datagram from the kernel: hold queued packets, and report the
 * acknowledgement for ack_seq (if non-zero) through *acked (0 or -errno).
 */
static void handle_datagram(struct line *l, const char *buf, size_t len,
			    uint32_t ack_seq, int *acked)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	int left = (int)len;
	uint64_t now = mono_ns();

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);

			if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*err))
				continue;
			if (ack_seq && nlh->nlmsg_seq == ack_seq && acked)
				*acked = err->error;
			else if (err->error)
				l->n_verdict_err++;
			continue;
		}
		if (nlh->nlmsg_type == ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET))
			handle_packet_msg(l, nlh, now);
	}
}

/* Read what the socket holds, up to RECV_BURST datagrams, without blocking. */
static int drain(struct line *l)
{
	int i;

	for (i = 0; i < RECV_BURST; i++) {
		ssize_t n = recv(mnl_socket_get_fd(l->nl), l->rbuf, RECV_BUF_BYTES,
				 MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			/* Overrun without NO_ENOBUFS honoured: the kernel
			 * already dropped those packets; keep going. */
			if (errno == ENOBUFS)
				continue;
			return -errno;
		}
		handle_datagram(l, l->rbuf, (size_t)n, 0, NULL);
	}
	return 0;
}

/*
 * Bind the queue and configure it in one message: bind, metadata-only copy,
 * queue length. Packets may arrive before the acknowledgement, so they are
 * held as usual while waiting for it.
 */
static int bind_queue(struct line *l, uint32_t maxlen)
{
	struct nlmsghdr *nlh;
	uint32_t seq = (uint32_t)time(NULL);
	int acked = 1;

	nlh = nfq_nlmsg_put(l->sbuf, NFQNL_MSG_CONFIG, l->queue);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_META, 0);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, maxlen);
	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(l->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;

	while (acked > 0) {
		ssize_t n = mnl_socket_recvfrom(l->nl, l->rbuf, RECV_BUF_BYTES);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		handle_datagram(l, l->rbuf, (size_t)n, seq, &acked);
	}
	return acked;
}

static int open_socket(struct line *l)
{
	int one = 1, rcvbuf = NETLINK_RCVBUF_BYTES, fd;

	l->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!l->nl)
		return -errno;
	if (mnl_socket_bind(l->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	l->portid = mnl_socket_get_portid(l->nl);
	/* Losing a packet to a full socket is the link's loss, not ours to
	 * report: do not fail reads with ENOBUFS. */
	mnl_socket_setsockopt(l->nl, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	fd = mnl_socket_get_fd(l->nl);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	return 0;
}

static int run(struct line *l)
{
	struct pollfd pfd = { .fd = mnl_socket_get_fd(l->nl), .events = POLLIN };
	sigset_t waitmask;
	int ret;

	/* Signals stay blocked except inside ppoll, so a flag set just before
	 * the wait cannot be missed. */
	sigemptyset(&waitmask);
	while (!stop_signal) {
		struct timespec ts, *tsp = NULL;
		uint64_t now = mono_ns();

		release_due(l, now);
		if (l->ring.len) {
			uint64_t wait = l->ring.slot[l->ring.head].due_ns - now;

			ts.tv_sec = (time_t)(wait / NSEC_PER_SEC);
			ts.tv_nsec = (long)(wait % NSEC_PER_SEC);
			tsp = &ts;
		}
		ret = ppoll(&pfd, 1, tsp, &waitmask);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (ret > 0 && (pfd.revents & POLLIN)) {
			ret = drain(l);
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "queue", required_argument, NULL, 'q' },
		{ "delay-ms", required_argument, NULL, 'd' },
		{ "jitter-ms", required_argument, NULL, 'j' },
		{ "maxlen", required_argument, NULL, 'm' },
		{ "ready-file", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct line l = { 0 };
	const char *ready_file = NULL;
	long queue = -1, delay = -1, jitter = 0, maxlen = DEFAULT_MAXLEN;
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block;
	int c, ret, status = 1;

	while ((c = getopt_long(argc, argv, "q:d:j:m:r:h", opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			if (parse_long(optarg, 0, UINT16_MAX, &queue) < 0) {
				fprintf(stderr, "delayline: --queue: want 0..65535, got '%s'\n", optarg);
				return 1;
			}
			break;
		case 'd':
			if (parse_long(optarg, 0, MAX_DELAY_MS, &delay) < 0) {
				fprintf(stderr, "delayline: --delay-ms: want 0..%ld, got '%s'\n",
					MAX_DELAY_MS, optarg);
				return 1;
			}
			break;
		case 'j':
			if (parse_long(optarg, 0, MAX_DELAY_MS, &jitter) < 0) {
				fprintf(stderr, "delayline: --jitter-ms: want 0..%ld, got '%s'\n",
					MAX_DELAY_MS, optarg);
				return 1;
			}
			break;
		case 'm':
			if (parse_long(optarg, 1, MAX_MAXLEN, &maxlen) < 0) {
				fprintf(stderr, "delayline: --maxlen: want 1..%u, got '%s'\n",
					MAX_MAXLEN, optarg);
				return 1;
			}
			break;
		case 'r':
			ready_file = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "delayline: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 1;
	}
	if (queue < 0 || delay < 0) {
		fprintf(stderr, "delayline: --queue and --delay-ms are required\n");
		usage(stderr);
		return 1;
	}

	l.queue = (uint16_t)queue;
	l.delay_ns = (uint64_t)delay * NSEC_PER_MSEC;
	l.jitter_us = (uint64_t)jitter * 1000;
	if (getrandom(&l.rng, sizeof(l.rng), 0) != sizeof(l.rng) || !l.rng)
		l.rng = mono_ns() | 1;
	l.ring.cap = (uint32_t)maxlen;
	l.ring.slot = calloc(l.ring.cap, sizeof(*l.ring.slot));
	l.rbuf = malloc(RECV_BUF_BYTES);
	l.sbuf = malloc(MNL_SOCKET_BUFFER_SIZE);
	if (!l.ring.slot || !l.rbuf || !l.sbuf) {
		fprintf(stderr, "delayline: out of memory\n");
		goto cleanup;
	}

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* Wake-ups are the link's timing: ask for no timer slack. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);

	ret = open_socket(&l);
	if (ret < 0) {
		fprintf(stderr, "delayline: netfilter netlink socket: %s\n", strerror(-ret));
		goto cleanup;
	}
	ret = bind_queue(&l, (uint32_t)maxlen);
	if (ret < 0) {
		fprintf(stderr, "delayline: cannot bind NFQUEUE %ld: %s%s\n", queue,
			strerror(-ret),
			/* The kernel answers EPERM both to a caller without
			 * CAP_NET_ADMIN and when another socket holds the queue. */
			ret == -EPERM ? " (needs CAP_NET_ADMIN, or another process holds this queue)" : "");
		goto cleanup;
	}
	if (ready_file) {
		ret = write_ready(ready_file);
		if (ret < 0) {
			fprintf(stderr, "delayline: %s: %s\n", ready_file, strerror(-ret));
			goto cleanup;
		}
	}

	ret = run(&l);
	if (ret < 0) {
		fprintf(stderr, "delayline: netlink: %s\n", strerror(-ret));
		goto cleanup;
	}
	/* Closing the socket would drop what is still held; let it through. */
	release_due(&l, UINT64_MAX);
	fprintf(stderr, "delayline: queue %u: %llu delayed, %llu dropped, %llu verdict errors\n",
		l.queue, (unsigned long long)l.n_delayed,
		(unsigned long long)l.n_dropped,
		(unsigned long long)l.n_verdict_err);
	status = 0;
cleanup:
	if (l.nl)
		mnl_socket_close(l.nl);
	free(l.ring.slot);
	free(l.rbuf);
	free(l.sbuf);
	return status;
}
