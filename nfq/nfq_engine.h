/* SPDX-License-Identifier: MIT */
/*
 * The NFQUEUE engine: one netlink socket bound to one queue (libmnl +
 * libnetfilter_queue's nlmsg API), copy-packet mode, fail-open, explicit
 * queue length, NETLINK_NO_ENOBUFS, a non-blocking fd for the caller's epoll
 * loop, and exactly one verdict per queued packet.
 *
 * The queue carries IPv4 and IPv6 packets alike (the kernel ignores the
 * family of the bind since 3.8; stunt-rules installs iptables and ip6tables
 * rules that queue to the same number); pkt_parse() tells them apart.
 *
 * Each queued packet goes first to the caller's packet callback (if any); if
 * that gives no verdict, the engine's policy table (nfq_policy.h) decides
 * and REPORT policies raise events. A packet that does not parse is accepted
 * untouched: the queue must never be the reason traffic stops.
 *
 * Only the rules decide what is queued (stunt-rules: marked sockets and
 * their connmarked replies); the engine does not filter again by mark.
 *
 * Needs CAP_NET_ADMIN (queue) and, for nfq_engine_inject(), CAP_NET_RAW.
 */
#ifndef STUNT_NFQ_ENGINE_H
#define STUNT_NFQ_ENGINE_H

#include "nfq/nfq_policy.h"
#include "nfq/pkt.h"

#include <stddef.h>
#include <stdint.h>

#define NFQ_ENGINE_DEFAULT_MAXLEN   4096
#define NFQ_ENGINE_DEFAULT_RCVBUF   (4u << 20)
#define NFQ_ENGINE_DISPATCH_BUDGET  256     /* messages per dispatch call, for fairness */
#define NFQ_ENGINE_ACK_TIMEOUT_MS   1000

struct nfq_engine;

struct nfq_packet {
	uint32_t id;            /* the kernel's packet id: the verdict's key */
	uint8_t hook;           /* NF_INET_LOCAL_OUT, NF_INET_LOCAL_IN, ... */
	uint32_t mark;          /* skb mark (0 when the kernel sent none) */
	const uint8_t *data;    /* the IPv4 or IPv6 datagram (valid during the callback) */
	size_t len;
	int truncated;          /* the kernel copied less than the whole packet */
	const struct pkt *pkt;  /* parsed, or NULL when it did not parse */
};

struct nfq_verdict {
	int drop;               /* NF_DROP instead of NF_ACCEPT */
	int set_mark;
	uint32_t mark;
	const uint8_t *bytes;   /* accept with the packet replaced by these (checksums are the caller's) */
	size_t len;
};

/*
 * Called for every queued packet. Return after calling nfq_engine_verdict()
 * (the packet is done), or without it to let the policy table decide.
 */
typedef void (*nfq_packet_cb)(struct nfq_engine *e, const struct nfq_packet *p, void *arg);

/* Called for every REPORT policy that matched (after the verdict was sent). */
typedef void (*nfq_event_cb)(struct nfq_engine *e, const struct nfq_event *ev, void *arg);

struct nfq_engine_cfg {
	uint16_t queue_num;
	uint32_t queue_maxlen;  /* 0: NFQ_ENGINE_DEFAULT_MAXLEN */
	uint32_t rcvbuf;        /* 0: NFQ_ENGINE_DEFAULT_RCVBUF */
	nfq_packet_cb packet_cb;
	nfq_event_cb event_cb;
	void *arg;
	int inject;             /* open the raw sockets nfq_engine_inject() needs */
	uint32_t inject_mark;   /* SO_MARK of injected packets (0: none); with a mark the
				 * rules queue, they pass the queue once more and the
				 * policies must accept them */
};

struct nfq_engine_stats {
	uint64_t packets;
	uint64_t parse_errors;  /* accepted untouched */
	uint64_t accepted;
	uint64_t dropped;
	uint64_t ttl_rewritten;
	uint64_t replaced;
	uint64_t events;
	uint64_t events_lost;
	uint64_t verdict_errors;
	uint64_t netlink_errors;
	uint64_t injected;
};

/*
 * Bind queue cfg->queue_num. Returns 0, or -EPERM (no CAP_NET_ADMIN, or
 * another socket already holds the queue: the kernel says EPERM for both),
 * -ETIMEDOUT, -ENOMEM, or another -errno from the socket calls.
 */
int nfq_engine_open(const struct nfq_engine_cfg *cfg, struct nfq_engine **out);

/* Unbind and close; packets still queued are accepted by the kernel (fail-open). */
void nfq_engine_close(struct nfq_engine *e);

/* The non-blocking fd to watch for EPOLLIN. */
int nfq_engine_fd(const struct nfq_engine *e);

/*
 * Read and handle what is pending (at most NFQ_ENGINE_DISPATCH_BUDGET
 * messages). Returns the number of packets handled (0: nothing pending) or
 * -errno on a socket error.
 */
int nfq_engine_dispatch(struct nfq_engine *e);

/* Send the verdict for packet id. -EALREADY if the current packet already has one. */
int nfq_engine_verdict(struct nfq_engine *e, uint32_t id, const struct nfq_verdict *v);
int nfq_engine_accept(struct nfq_engine *e, uint32_t id);
int nfq_engine_drop(struct nfq_engine *e, uint32_t id);

/* The policy table the engine consults; add and remove policies through it. */
struct nfq_policy_table *nfq_engine_policies(struct nfq_engine *e);

/*
 * Hand an IPv4 or IPv6 datagram to the kernel: it is sent on a raw socket
 * of its family (header included) to its own destination address. When that is a
 * local address the kernel loops it back into the input path, so a
 * synthesized SYN-ACK "from the peer" reaches the socket in SYN_SENT (the
 * NATBlaster-style method). The other way to do the same is to replace a
 * queued inbound packet (the ICMP time exceeded answering our SYN) with it:
 * NFQ_ACT_REPLACE / nfq_verdict.bytes. Checksums are recomputed here.
 * An IPv6 datagram leaves as it is (the daemon's copies of its own SYNs,
 * daemon/trav/sock.c). Returns 0, -ENOTCONN (engine opened without
 * cfg.inject), -EINVAL, -EAFNOSUPPORT (an IPv6 packet on a host whose
 * kernel has no IPv6 raw socket), -errno.
 */
int nfq_engine_inject(struct nfq_engine *e, const uint8_t *p, size_t len);

void nfq_engine_get_stats(const struct nfq_engine *e, struct nfq_engine_stats *out);

#endif
