/* SPDX-License-Identifier: MIT */
/*
 * The messages between stuntd's two processes (privilege separation, see
 * daemon/priv.c and daemon/nfq.h): pure encode/decode, no I/O.
 *
 * Both processes are the same binary (fork without exec), so the policy
 * spec, the flow, the event and the parsed packet travel as the host's own
 * structs, whole: a field added to struct nfq_policy_spec or struct
 * nfq_event passes through without a new message type. Pointers never do:
 * spec.bytes travels as the bytes after the struct (its length is spec.len)
 * and event.pkt as the struct pkt after the event; the decoder points them
 * into the message buffer. (A pointer field added to those structs must get
 * the same treatment here.)
 *
 * One message per SOCK_SEQPACKET datagram: a fixed header, then exactly
 * hdr.len payload bytes, whose size each type fixes (or bounds). The decoder
 * checks every length and rejects unknown types; the privileged side then
 * checks the spec's fields (d_priv_spec_check) before the policy table
 * validates it again, and an injected datagram against what the daemon
 * injects (d_priv_inject_check).
 *
 * MARK carries its socket as SCM_RIGHTS beside the header: the unprivileged
 * process creates and binds its sockets itself (as its own uid, so the
 * kernel's same-uid rule keeps them out of other users' SO_REUSEPORT groups)
 * and the privileged one only sets SO_MARK on an AF_INET or AF_INET6 TCP socket.
 */
#ifndef STUNT_DAEMON_PRIV_MSG_H
#define STUNT_DAEMON_PRIV_MSG_H

#include "nfq/nfq_engine.h"
#include "nfq/nfq_policy.h"
#include "nfq/pkt.h"

#include <stddef.h>
#include <stdint.h>

enum d_priv_type {
	/* requests (unprivileged -> privileged), each answered by a reply */
	D_PRIV_POLICY_ADD = 1,		/* spec + spec.len bytes -> result, id */
	D_PRIV_POLICY_REMOVE,		/* id -> result */
	D_PRIV_POLICY_REMOVE_FLOW,	/* flow -> result (policies removed) */
	D_PRIV_MARK,			/* nothing + a TCP socket (SCM_RIGHTS) -> result */
	D_PRIV_INJECT,			/* a TCP SYN -> result, refusals so far */
	D_PRIV_PROBE_FDS,		/* nothing -> result, + capture and raw ICMP sockets */
	D_PRIV_STATS,			/* nothing -> STATS_REPLY (the metrics) */
	D_PRIV_REQ_MAX = D_PRIV_STATS,
	/* privileged -> unprivileged */
	D_PRIV_REPLY = 0x100,		/* result, value */
	D_PRIV_EVENT,			/* a queue event: struct nfq_event + struct pkt */
	D_PRIV_STATS_REPLY,		/* struct d_priv_stats */
};

struct d_priv_hdr {
	uint32_t type;
	uint32_t seq;		/* a request's, echoed by its reply */
	uint32_t len;		/* payload bytes after the header */
	uint32_t pad;
};

#define D_PRIV_INJECT_MAX	PKT_IP4_MAX_LEN
#define D_PRIV_MSG_MAX		(sizeof(struct d_priv_hdr) + sizeof(struct nfq_policy_spec) + \
				 D_PRIV_INJECT_MAX)

struct d_priv_reply {
	int32_t result;		/* 0 or more: done; -errno */
	uint32_t value;		/* policy id; INJECT: datagrams refused so far */
};

/* The queue's counters, as the privileged process has them (metrics). */
struct d_priv_stats {
	struct nfq_engine_stats	engine;
	uint64_t		mark_refused;	/* d_nfq_mark_refused() */
	uint64_t		inject_refused;	/* d_nfq_inject_refused() */
};

struct d_priv_event {
	struct nfq_event ev;	/* ev.pkt points to pkt (or is NULL) after decoding */
	uint32_t has_pkt;
	uint32_t pad;
	struct pkt pkt;
};

/* A decoded message: pointers into the buffer it came from. */
struct d_priv_msg {
	struct d_priv_hdr hdr;
	union {
		struct nfq_policy_spec spec;	/* POLICY_ADD: spec.bytes into the buffer */
		uint32_t id;			/* POLICY_REMOVE */
		struct nfq_flow flow;		/* POLICY_REMOVE_FLOW */
		struct d_priv_reply reply;	/* REPLY */
		struct d_priv_event event;	/* EVENT: event.ev.pkt = &event.pkt */
		struct d_priv_stats stats;	/* STATS_REPLY */
	} u;
	const uint8_t *data;			/* INJECT: the datagram */
	size_t data_len;
};

/*
 * Encoders: write one message into buf (cap bytes, D_PRIV_MSG_MAX is always
 * enough) and return its length, or -EINVAL (bad argument) / -EMSGSIZE.
 */
int d_priv_enc_policy_add(uint8_t *buf, size_t cap, uint32_t seq,
			  const struct nfq_policy_spec *s);
int d_priv_enc_policy_remove(uint8_t *buf, size_t cap, uint32_t seq, uint32_t id);
int d_priv_enc_policy_remove_flow(uint8_t *buf, size_t cap, uint32_t seq,
				  const struct nfq_flow *f);
/* The socket to mark travels beside it (SCM_RIGHTS), not in buf. */
int d_priv_enc_mark(uint8_t *buf, size_t cap, uint32_t seq);
int d_priv_enc_inject(uint8_t *buf, size_t cap, uint32_t seq, const uint8_t *p, size_t len);
int d_priv_enc_probe_fds(uint8_t *buf, size_t cap, uint32_t seq);
int d_priv_enc_reply(uint8_t *buf, size_t cap, uint32_t seq, int32_t result, uint32_t value);
int d_priv_enc_stats(uint8_t *buf, size_t cap, uint32_t seq);
int d_priv_enc_stats_reply(uint8_t *buf, size_t cap, uint32_t seq, const struct d_priv_stats *s);
/* ev->pkt may be NULL. */
int d_priv_enc_event(uint8_t *buf, size_t cap, const struct nfq_event *ev);

/*
 * Decode one received message of n bytes. 0, or -EBADMSG (short, a length
 * that does not add up, a spec whose spec.len is not the bytes that follow)
 * or -ENOTSUP (unknown type). m points into buf: keep buf while m is used.
 */
int d_priv_decode(const uint8_t *buf, size_t n, struct d_priv_msg *m);

/*
 * The privileged side's field-by-field check of a decoded spec: 0, -EINVAL,
 * or -EPERM for NFQ_ACT_REPLACE (the daemon never replaces a packet, so the
 * privileged process does not let anyone else: a replacement is an arbitrary
 * datagram in place of a queued one).
 */
int d_priv_spec_check(const struct nfq_policy_spec *s);

/* Why d_priv_inject_check refused (an index into its counters). */
enum d_priv_inject_why {
	D_INJ_OK = 0,
	D_INJ_PARSE,		/* not a datagram the parser accepts */
	D_INJ_NOT_SYN,		/* not TCP, not a bare SYN, a fragment, or data */
	D_INJ_IP_OPTIONS,	/* IPv4 options or an IPv6 extension header */
	D_INJ_BAD_ADDR,		/* loopback, multicast, link-local ... source or
				 * destination (either family) */
	D_INJ_NOT_LOCAL,	/* the source is not an address of this host */
	D_INJ_NO_POLICY,	/* no live policy names the SYN's flow */
	D_INJ_MAX
};

/*
 * INJECT's rule (the daemon re-sends a SYN its kernel sent, at full TTL:
 * daemon/trav/sock.c trav_sock_syn_again and its SYN clock): only an
 * unfragmented TCP SYN without ACK, RST, FIN or data, with no IPv4 option
 * or IPv6 extension header, neither address loopback, multicast,
 * link-local, unspecified or IPv4-mapped, whose source is one of local[0..nlocal-1] (the
 * host's IPv4 addresses, network order) or local6[0..nlocal6-1] (its IPv6
 * ones), on a flow that a live policy of t names (nfq_policy_flow_live).
 * 0, or -EINVAL (D_INJ_PARSE) / -EPERM and *why (may be NULL) the reason.
 */
int d_priv_inject_check(const uint8_t *p, size_t len, const struct nfq_policy_table *t,
			uint64_t now_ms, const uint32_t *local, size_t nlocal,
			const uint8_t (*local6)[16], size_t nlocal6, enum d_priv_inject_why *why);
const char *d_priv_inject_why_str(enum d_priv_inject_why why);

#endif
