/* SPDX-License-Identifier: MIT */
/*
 * `stuntctl forward --udp`: a local UDP port whose clients each get their own
 * UDP traversal (a stuntd connect with method udp), datagrams relayed both
 * ways. One poll loop, no threads; every session is keyed by the client's
 * source address. See ctl/udpfwd.c for the session life cycle.
 */
#ifndef STUNT_CTL_UDPFWD_H
#define STUNT_CTL_UDPFWD_H

#include "ctl/ctl.h"

#include <signal.h>
#include <stdio.h>

#define CTL_UDPFWD_IDLE_S_DEFAULT	60
#define CTL_UDPFWD_SESSIONS_DEFAULT	64
#define CTL_UDPFWD_SESSIONS_MAX		1024
#define CTL_UDPFWD_QUEUE_DEFAULT	32	/* datagrams held per client while connecting */
#define CTL_UDPFWD_QUEUE_MAX		1024

struct ctl_udpfwd_conf {
	const char		*control_path;	/* stuntd's control socket */
	struct ctl_target	 target;	/* PEER/NAME (a udp: or exec: service) */
	struct sockaddr_storage	 listen;	/* the local UDP address to bind */
	socklen_t		 listen_len;
	unsigned		 idle_ms;	/* a session without datagrams is closed */
	unsigned		 max_sessions;	/* clients served (or being connected) at once */
	unsigned		 queue_max;	/* datagrams queued per connecting client */
	unsigned		 connect_timeout_ms;	/* waiting for stuntd's answer */
	unsigned		 failed_hold_ms;	/* a failed client's datagrams are dropped this long */
	FILE			*log;		/* one line per event; NULL: silent */
};

/* Counters over the forwarder's life (what the session close lines sum up). */
struct ctl_udpfwd_stats {
	unsigned long long	sessions_opened;	/* traversals started */
	unsigned long long	sessions_connected;
	unsigned long long	sessions_failed;
	unsigned long long	sessions_idle;		/* closed after idle_ms */
	unsigned long long	dgrams_up;		/* client -> peer, sent */
	unsigned long long	dgrams_down;		/* peer -> client, sent */
	unsigned long long	drop_queue_full;	/* queue_max reached while connecting */
	unsigned long long	drop_failed;		/* queued or held for a failed traversal */
	unsigned long long	drop_limit;		/* max_sessions reached: new client refused */
	unsigned long long	drop_send;		/* send()/sendto() refused it */
	unsigned long long	drop_handshake;		/* a late punch datagram of the peer */
	unsigned		open;			/* sessions now */
};

struct ctl_udpfwd;

/* Bind the local socket. The forwarder, or NULL with *err (-errno). */
struct ctl_udpfwd *ctl_udpfwd_new(const struct ctl_udpfwd_conf *conf, int *err);
/* Serve until *stop becomes non-zero (checked after every poll wake-up;
 * a signal interrupts poll). 0, or -errno when poll itself fails. */
int ctl_udpfwd_run(struct ctl_udpfwd *f, volatile sig_atomic_t *stop);
const struct ctl_udpfwd_stats *ctl_udpfwd_stats(const struct ctl_udpfwd *f);
/* Close every session (logged, reason "stopping") and the local socket. */
void ctl_udpfwd_free(struct ctl_udpfwd *f);

#endif
