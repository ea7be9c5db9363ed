// SPDX-License-Identifier: MIT
/*
 * Inside the probe library: the state one probe_run() shares between its
 * tests. Each test file has a start function (called before the loop
 * runs) and a finish function (called after it) that turns what it saw
 * into verdicts in the result.
 */
#ifndef STUNT_PROBES_PROBE_INT_H
#define STUNT_PROBES_PROBE_INT_H

#include "probes/probe.h"
#include "probes/probe_loop.h"
#include "proto/stunt.h"

#include <pthread.h>

#define PROBE_SYN_LOG_MAX	256	/* every SYN of ours, retransmissions too */

/* A SYN of ours seen leaving by the capture (probe_pcap.c). */
struct probe_syn_seen {
	uint16_t	sport, dport;
	uint32_t	daddr;
	uint32_t	seq;
};

struct probe_ctx {
	const struct probe_cfg	*cfg;
	struct probe_result	*r;
	struct probe_loop	 L;
	struct sockaddr_in	 srv;		/* primary address and port */
	bool			 root;		/* may open raw sockets and captures */
	/* capture */
	void			*pcap;		/* pcap_t * */
	void			*dumper;	/* pcap_dumper_t * */
	struct probe_sock	*capsock;	/* or the caller's capture socket (cfg.capture_fd) */
	uint32_t		 pcap_local_ip;
	unsigned		 nsyn;
	struct probe_syn_seen	 syn[PROBE_SYN_LOG_MAX];
	/* test state, owned by each test file */
	struct probe_udp_state	*udp;
	struct probe_tcp_state	*tcp;
	struct probe_ttl_state	*ttl;
	struct probe_pm_state	*pm;
	struct probe6_state	*p6;
	struct probe6_ttl_state	*p6ttl;
	struct probe6_fw_state	*p6fw;
};

/* Default route: interface name and gateway (network order), or -errno. */
int probe_default_route(char ifname[16], uint32_t *gw);

int probe_udp_start(struct probe_ctx *c);
void probe_udp_finish(struct probe_ctx *c);
int probe_tcp_start(struct probe_ctx *c);
void probe_tcp_finish(struct probe_ctx *c);
int probe_ttl_start(struct probe_ctx *c);
void probe_ttl_finish(struct probe_ctx *c);
int probe_pm_start(struct probe_ctx *c);
/* The IPv6 part (cfg->server6) in loop L (c->L, or a loop of its own when
 * that one gave up on the IPv4 server); its finish fills r->ipv6. */
int probe6_start(struct probe_ctx *c, struct probe_loop *L);
void probe6_finish(struct probe_ctx *c);
/* Its hops to the server (probe6_ttl.c; from probe6_start / _finish). */
int probe6_ttl_start(struct probe_ctx *c, struct probe_loop *L);
void probe6_ttl_finish(struct probe_ctx *c);
/* The shortest STUNT-TIMEOUT the IPv6 tests ask for (as IPv4's). */
#define PROBE6_STUNT_WAIT_MIN_MS	300
/* The hop limit that opens our IPv6 firewall (probe6_fw.c; from
 * probe6_start / _finish). */
int probe6_fw_start(struct probe_ctx *c, struct probe_loop *L);
void probe6_fw_finish(struct probe_ctx *c);
void probe_pm_finish(struct probe_ctx *c);
/* The run gave up: the port-mapping threads stop at their next wait. */
void probe_pm_abort(struct probe_ctx *c);
int probe_pcap_start(struct probe_ctx *c);
/* The server's alternate address became known: widen the capture filter. */
void probe_pcap_server_alt(struct probe_ctx *c, uint32_t alt_ip);
void probe_pcap_finish(struct probe_ctx *c);
/* The sequence number our SYN from sport to daddr:dport left with, via the
 * capture; -ENOENT if it was not seen. */
int probe_pcap_syn_seq(const struct probe_ctx *c, uint16_t sport, uint32_t *seq);
/* Did any SYN of ours leave with this sequence number? */
bool probe_pcap_seq_seen(const struct probe_ctx *c, uint32_t seq);

/* ---- STUNT helpers both families' TCP tests use (probe_tcp.c) ---- */

/* Send one STUNT request (PROBE-UNSOLICITED or CAPTURE, body its request
 * struct) on the control connection sk. */
struct probe_tx *probe_stunt_req(struct probe_loop *L, struct probe_sock *sk, uint16_t method,
				 const void *body, probe_tx_cb cb, void *arg, int tag);
/* A PROBE-UNSOLICITED transaction's STUNT_PROBE_* result, -1 without one;
 * out (may be NULL) gets the whole answer. */
int probe_unsol_result(const struct probe_tx *t, struct stunt_probe_resp *out);
/* A STUNT_PROBE_* result as a filtering test's answer: 1 passed (SYN-ACK),
 * 0 did not, -1 unknown. */
int probe_syn_verdict(int res);
/* ... and as the answer to an unsolicited SYN. */
enum probe_syn probe_syn_of(int res);
/* A random port in 61000-64999 not in used[0..n). */
uint16_t probe_unused_port(const uint16_t *used, unsigned n);
/* A listener of family on port (SO_REUSEPORT, beside a connected socket
 * there): fd or -errno; probe_listen_drain accepts and closes. */
int probe_listen(int family, uint16_t port);
void probe_listen_drain(struct probe_loop *L, struct probe_sock *sk, short rev);

/* ---- pure parsers of what the network sends (probe_parse.c) ---- */

/* A PCP MAP response (RFC 6887 11.1) to our request with this nonce. */
struct probe_pcp_map {
	uint8_t		result;		/* 0 SUCCESS, else the error code */
	uint32_t	lifetime;
	uint16_t	ext_port;	/* host order; SUCCESS only */
	uint32_t	ext_ip;		/* network order; SUCCESS only, 0 if not IPv4-mapped */
};

/* 0 and *out filled when buf is a MAP response for nonce, -EINVAL if not
 * (another opcode, too short, or a success for another nonce). */
int probe_pcp_parse_map(const uint8_t *buf, size_t len, const uint8_t nonce[12],
			struct probe_pcp_map *out);
/* An ICMP time-exceeded (raw socket: IP header first) about one of our TCP
 * SYNs to srv_ip: the router's address and the quoted source port. 0, or
 * -EINVAL when buf is anything else. */
int probe_icmp_parse_te(const uint8_t *buf, size_t len, uint32_t srv_ip, uint32_t *router,
			uint16_t *sport);
/* An ICMPv6 time-exceeded (raw ICMPv6 socket: the ICMPv6 header first)
 * quoting one of our TCP SYNs to srv6 (no extension headers: ours have
 * none): the quoted source port. 0, or -EINVAL when buf is anything else. */
int probe_icmp6_parse_te(const uint8_t *buf, size_t len, const uint8_t srv6[16], uint16_t *sport);
/* The LOCATION header of an SSDP answer (len bytes, need not end in NUL)
 * into loc (NUL-terminated): 0, or -ENOENT. */
int probe_ssdp_location(const char *buf, size_t len, char *loc, size_t cap);
/* The IPv4 address of an "http://A.B.C.D[:PORT][/...]" URL (network order):
 * 0, or -EINVAL for anything else (a name, IPv6, another scheme). UPnP URLs
 * are taken only when they point at the gateway. */
int probe_url_ipv4(const char *url, uint32_t *ip);

#endif
