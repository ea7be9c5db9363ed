/* SPDX-License-Identifier: MIT */
/*
 * Per-flow packet policies: pure logic, no socket. Given a parsed packet, the
 * table and the time, nfq_policy_decide() says what the queue engine should
 * do with it (accept, drop, accept with a new TTL, accept replaced by other
 * bytes) and what to report to the daemon. The engine (nfq_engine.c) glues
 * this to the NFQUEUE socket; tests call it directly.
 *
 * A flow is seen from this host: "local" is our address and port, "remote"
 * the peer's. Outbound packets of the flow go local -> remote, inbound ones
 * remote -> local, and an ICMP error belongs to the flow when the datagram it
 * quotes is one of the flow's outbound packets. Zero fields are wildcards
 * (a shotgun may want "every SYN from local port P").
 *
 * Every policy has a timeout: none outlives it, whatever else happens.
 */
#ifndef STUNT_NFQ_POLICY_H
#define STUNT_NFQ_POLICY_H

#include "nfq/pkt.h"

#include <stddef.h>
#include <stdint.h>

#define NFQ_POLICY_MAX              4096
#define NFQ_POLICY_MAX_TIMEOUT_MS   (10u * 60u * 1000u)
#define NFQ_POLICY_MAX_REPLACE      1500
#define NFQ_DECISION_MAX_EVENTS     8

/*
 * A flow of one family: IPv4 (family 0 or AF_INET: laddr, raddr) or IPv6
 * (AF_INET6: laddr6, raddr6). It matches packets of its family only, so a
 * flow whose addresses are all wildcards still never acts on the other
 * family's packets.
 */
struct nfq_flow {
	uint32_t laddr;         /* network byte order; 0 = any */
	uint32_t raddr;         /* network byte order; 0 = any */
	uint16_t lport;         /* 0 = any */
	uint16_t rport;         /* 0 = any */
	uint8_t proto;          /* PKT_PROTO_TCP / PKT_PROTO_UDP; 0 = any */
	uint8_t family;         /* 0 or AF_INET: IPv4; AF_INET6: IPv6 */
	uint8_t laddr6[16];     /* AF_INET6, network byte order; all zero = any */
	uint8_t raddr6[16];
};

/* Packet classes a policy matches (a bit mask). */
#define NFQ_MATCH_OUT_SYN      0x01u   /* outbound SYN without ACK */
#define NFQ_MATCH_OUT_RST      0x02u   /* outbound TCP with RST */
#define NFQ_MATCH_OUT_ANY      0x04u   /* any outbound packet of the flow */
#define NFQ_MATCH_IN_RST       0x08u   /* inbound TCP with RST */
#define NFQ_MATCH_IN_SYNACK    0x10u   /* inbound SYN+ACK */
#define NFQ_MATCH_IN_ICMP_ERR  0x20u   /* inbound ICMP error quoting the flow */
#define NFQ_MATCH_IN_ICMP_TE   0x40u   /* ... of type time exceeded */
#define NFQ_MATCH_IN_ANY       0x80u   /* any inbound packet, ICMP errors included */

#define NFQ_MATCH_OUT_ALL      (NFQ_MATCH_OUT_SYN | NFQ_MATCH_OUT_RST | NFQ_MATCH_OUT_ANY)
#define NFQ_MATCH_IN_ALL       (NFQ_MATCH_IN_RST | NFQ_MATCH_IN_SYNACK | NFQ_MATCH_IN_ICMP_ERR | \
				NFQ_MATCH_IN_ICMP_TE | NFQ_MATCH_IN_ANY)
#define NFQ_MATCH_ALL          (NFQ_MATCH_OUT_ALL | NFQ_MATCH_IN_ALL)

enum nfq_action {
	NFQ_ACT_TTL = 1,        /* accept with the IPv4 TTL (IPv6 hop limit) set to ttl */
	NFQ_ACT_DROP,           /* drop */
	NFQ_ACT_REPORT,         /* accept and report an event */
	NFQ_ACT_REPLACE,        /* accept with the packet replaced by bytes */
};

struct nfq_policy_spec {
	struct nfq_flow flow;
	uint32_t match;         /* NFQ_MATCH_* */
	enum nfq_action action;
	uint8_t ttl;            /* NFQ_ACT_TTL */
	const uint8_t *bytes;   /* NFQ_ACT_REPLACE: an IPv4 or IPv6 datagram, copied */
	size_t len;
	uint32_t count;         /* packets it acts on before it is spent; 0 = until timeout */
	uint32_t timeout_ms;    /* required: 1 .. NFQ_POLICY_MAX_TIMEOUT_MS */
	uint64_t cookie;        /* the caller's, handed back in events */
};

struct nfq_policy {
	uint32_t id;
	struct nfq_policy_spec spec;    /* spec.bytes points to the owned copy */
	uint8_t *bytes;
	uint64_t expires_ms;
	uint32_t left;                  /* remaining packets when spec.count != 0 */
	int dead;                       /* spent: freed on the next call */
};

struct nfq_policy_table {
	struct nfq_policy *v;
	size_t n;
	size_t cap;
	uint32_t next_id;
};

/* What a REPORT policy tells the daemon about a packet. */
struct nfq_event {
	uint32_t policy_id;
	uint64_t cookie;
	uint32_t match;         /* the NFQ_MATCH_* classes of the packet for this flow */
	const struct pkt *pkt; /* the packet, valid during the callback only */
	uint32_t router;        /* ICMP: the address that sent it (network order); else 0 */
	uint8_t router6[16];    /* ICMPv6: the same; else zero */
	uint8_t icmp_type;      /* ICMP or ICMPv6 (pkt->family says which) */
	uint8_t icmp_code;
	int has_seq;
	uint32_t seq;           /* TCP: the segment's sequence number, or the quoted one */
	uint8_t ttl;            /* TCP: the TTL (hop limit) it carries (before any rewrite) */
	uint16_t ip_id;         /* IPv4 only */
	struct pkt_tcpopts opt; /* TCP: its options */
};

struct nfq_decision {
	int drop;
	int set_ttl;
	uint8_t ttl;
	const uint8_t *replace; /* valid until the next call on the table */
	size_t replace_len;
	uint32_t matched;       /* policies that acted on the packet */
	size_t n_events;
	size_t events_lost;     /* reports beyond NFQ_DECISION_MAX_EVENTS */
	struct nfq_event ev[NFQ_DECISION_MAX_EVENTS];
};

void nfq_policy_table_init(struct nfq_policy_table *t);
void nfq_policy_table_free(struct nfq_policy_table *t);

/*
 * Add a policy; *id (may be NULL) gets its id, never 0. Returns 0,
 * -EINVAL (bad spec: no match bits, no or too long timeout, replacement that
 * is not a parseable IPv4 or IPv6 datagram), -ENOSPC (table full) or -ENOMEM.
 * A replacement's checksums are recomputed here.
 */
int nfq_policy_add(struct nfq_policy_table *t, const struct nfq_policy_spec *s,
		   uint64_t now_ms, uint32_t *id);

/* Remove one policy by id (-ENOENT if it is gone), or every policy of a flow (count removed). */
int nfq_policy_remove(struct nfq_policy_table *t, uint32_t id);
int nfq_policy_remove_flow(struct nfq_policy_table *t, const struct nfq_flow *f);

/* Drop expired and spent policies; returns how many went. */
int nfq_policy_expire(struct nfq_policy_table *t, uint64_t now_ms);

/* Live policies, and the earliest expiry (UINT64_MAX when none): for the caller's epoll timeout. */
size_t nfq_policy_count(const struct nfq_policy_table *t);
uint64_t nfq_policy_next_expiry(const struct nfq_policy_table *t);

/*
 * Decide for one parsed packet. dirs limits the classes a packet can have by
 * where it was queued: NFQ_MATCH_OUT_ALL at LOCAL_OUT / POST_ROUTING,
 * NFQ_MATCH_IN_ALL at PRE_ROUTING / LOCAL_IN, NFQ_MATCH_ALL in FORWARD (and
 * in tests). Without it a loopback packet, which passes OUTPUT and then
 * INPUT, would act on "outbound" policies twice. Every live, matching policy acts and
 * consumes one of its count. When several act: a replacement wins (it is a
 * deliberate substitute, e.g. a synthesized SYN-ACK standing in for the ICMP
 * error that a drop policy would otherwise suppress), then a drop, then a
 * TTL (the first one). Reports are made in every case. Returns the number of
 * policies that acted.
 */
int nfq_policy_decide(struct nfq_policy_table *t, const struct pkt *k, uint32_t dirs,
		      uint64_t now_ms, struct nfq_decision *d);

/*
 * Is outbound packet k on a flow that a live policy (not spent, not expired
 * at now_ms) names? The policy's flow must give k's local port and remote
 * address themselves (not wildcards) and match k as outbound (its other
 * fields equal to k's or wildcards). 1 or 0. For the privileged process's
 * INJECT check: a SYN goes out again only on a flow the daemon is working on.
 */
int nfq_policy_flow_live(const struct nfq_policy_table *t, const struct pkt *k,
			 uint64_t now_ms);

/* The NFQ_MATCH_* classes of packet k for flow f (0: not the flow's). */
uint32_t nfq_flow_classify(const struct nfq_flow *f, const struct pkt *k);

/* Specs for the policies the traversal methods use. */
void nfq_spec_syn_ttl(struct nfq_policy_spec *s, const struct nfq_flow *f, uint32_t n_syns,
		      uint8_t ttl, uint32_t timeout_ms);
void nfq_spec_drop_inbound_errors(struct nfq_policy_spec *s, const struct nfq_flow *f,
				  uint32_t timeout_ms);
void nfq_spec_drop_outbound_rst(struct nfq_policy_spec *s, const struct nfq_flow *f,
				uint32_t timeout_ms);
void nfq_spec_report_icmp_te(struct nfq_policy_spec *s, const struct nfq_flow *f,
			     uint32_t timeout_ms, uint64_t cookie);
void nfq_spec_report_syn(struct nfq_policy_spec *s, const struct nfq_flow *f,
			 uint32_t timeout_ms, uint64_t cookie);
void nfq_spec_replace(struct nfq_policy_spec *s, const struct nfq_flow *f, uint32_t match,
		      const uint8_t *bytes, size_t len, uint32_t timeout_ms);

#endif
