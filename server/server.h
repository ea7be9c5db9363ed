// SPDX-License-Identifier: MIT
/*
 * What stunt-server's event loop shares between its files, internal to
 * server/: server/loop.c owns the one struct srv_state and the epoll set,
 * server/client.c the TCP/TLS clients on state->clients, server/pend.c the STUNT
 * pending operations, the raw socket and the capture handle.
 */
#ifndef STUNT_SERVER_SERVER_H
#define STUNT_SERVER_SERVER_H

#include "server/capture.h"
#include "server/loop.h"
#include "server/rdv.h"
#include "server/stats.h"
#include "server/stun.h"
#include "server/stunt.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

struct srv_cluster;

#define SRV_CLIENT_IN_MAX	2048	/* a Binding request is far smaller */
#define SRV_CLIENT_OUT_MAX	(4 * SRV_STUN_BUF)

enum srv_fd_kind {
	SRV_FD_UDP,
	SRV_FD_LISTEN,
	SRV_FD_CLIENT,
	SRV_FD_PCAP,
	SRV_FD_METRICS,		/* server/metrics.c: the listener or a client (slot) */
	SRV_FD_REDIS,	/* server/cluster.c's links */
};

/* First member of everything registered with epoll. */
struct srv_fd {
	enum srv_fd_kind kind;
	int		 fd;
	unsigned	 ip, port;	/* which of the four local addresses */
	bool		 v6;		/* ... of the --primary6 rows */
	bool		 tls;		/* SRV_FD_LISTEN: a TLS listener */
	int		 slot;		/* SRV_FD_METRICS: -1 the listener, else a client */
};

struct srv_client {
	struct srv_fd		 h;
	struct stun_addr	 peer;
	uint64_t		 last_ms;
	size_t			 in_len, out_len, out_off;
	bool			 want_out;	/* EPOLLOUT registered, reading paused */
	struct rdv_conn		 rdv;		/* rendezvous state of this connection */
	struct stunt_conn	 stunt;		/* STUNT state of this connection */
	void			*ssl;		/* TLS, or NULL */
	bool			 handshake;	/* TLS handshake not finished */
	unsigned long		 sec_refused;	/* messages refused by client_open() */
	unsigned long		 sig_limited;	/* signalling refused: over the budget */
	TAILQ_ENTRY(srv_client)	 entry;
	uint8_t			 in[SRV_CLIENT_IN_MAX];
	uint8_t			 out[SRV_CLIENT_OUT_MAX];
};

TAILQ_HEAD(srv_client_list, srv_client);

/* One armed capture, running probe or delayed packet. */
enum srv_pend_kind { SRV_PEND_FREE, SRV_PEND_CAPTURE, SRV_PEND_PROBE, SRV_PEND_SEND };

struct srv_pend {
	enum srv_pend_kind	 kind;
	struct srv_client	*c;
	uint64_t		 start_ms, deadline_ms;
	struct srv_cap_want	 want;		/* CAPTURE, PROBE */
	uint32_t		 capture_id;
	uint8_t			 txid[STUN_TXID_LEN];	/* PROBE: the request's */
	struct pkt_tcp_spec	 pkt;		/* PROBE, SEND */
	struct stun_addr	 source;	/* PROBE */
};

struct srv_state {
	int			 epfd;
	void			*tls_ctx;	/* NULL: no TLS listener */
	struct srv_stats	 stats;
	struct srv_rdv		 rdv;
	struct srv_stunt	 stunt;
	struct srv_client_list	 clients;	/* oldest activity first */
	struct srv_cluster	*cluster;	/* server/cluster.c; NULL: no --redis */
	unsigned		 evict_wanted;	/* at the client limit: unauthenticated
						 * clients to close after this batch */
	/* server/pend.c */
	int			 raw_fd;	/* -1: STUNT unavailable */
	int			 raw6_fd;	/* -1: no PROBE-UNSOLICITED over IPv6 */
	struct srv_pcap		 pcap;
	struct srv_fd		 cap_fd;
	bool			 filter_dirty;	/* captures or probes changed */
	bool			 filter_armed;	/* SRV_CAP_FILTER_ARMED is set */
	struct srv_pend		 pends[STUNT_PENDING_MAX];
};

/* A STUN answering context for a request received on f (a UDP socket or
 * a client accepted on a listener: its rows, its sock[ip][port]). */
void srv_loop_stun_ctx(struct srv_stun_ctx *ctx, const struct srv_config *cfg,
		       const struct srv_fd *f, enum srv_transport t);

#endif
