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

#include <pthread.h>

#define PROBE_SYN_LOG_MAX	64

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
	uint32_t		 pcap_local_ip;
	unsigned		 nsyn;
	struct probe_syn_seen	 syn[PROBE_SYN_LOG_MAX];
	/* test state, owned by each test file */
	struct probe_udp_state	*udp;
	struct probe_tcp_state	*tcp;
	struct probe_ttl_state	*ttl;
	struct probe_pm_state	*pm;
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
void probe_pm_finish(struct probe_ctx *c);
int probe_pcap_start(struct probe_ctx *c);
/* The server's alternate address became known: widen the capture filter. */
void probe_pcap_server_alt(struct probe_ctx *c, uint32_t alt_ip);
void probe_pcap_finish(struct probe_ctx *c);
/* The sequence number our SYN from sport to daddr:dport left with, via the
 * capture; -ENOENT if it was not seen. */
int probe_pcap_syn_seq(const struct probe_ctx *c, uint16_t sport, uint32_t *seq);

#endif
