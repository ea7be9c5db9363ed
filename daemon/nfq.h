/* SPDX-License-Identifier: MIT */
/*
 * What the daemon asks of the queue, whoever holds it: the NFQUEUE engine,
 * its policy table, the iptables rules and marked sockets. With privilege
 * separation (the default) they live in the privileged process (daemon/priv.c)
 * and these calls are requests over a socketpair, answered before they
 * return (a policy is in place before the caller's connect() sends the
 * first SYN); with `privsep off` they act on the engine in this process.
 *
 * Generic on purpose: a policy spec is passed whole, an event comes back
 * whole (d_session_on_nfq_event). New policy kinds of the existing actions
 * need no new message. Narrow where it matters: a socket is created and
 * bound by the caller and only marked by the privileged process, an
 * injected datagram must be a SYN from a local address on a flow with a
 * live policy, and no policy may replace a packet (daemon/priv_msg.h).
 */
#ifndef STUNT_DAEMON_NFQ_H
#define STUNT_DAEMON_NFQ_H

#include "nfq/nfq_engine.h"
#include "nfq/nfq_policy.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct stuntd;

#define D_PRIV_REPLY_MS		5000	/* a request unanswered this long: the other side is gone */
#define D_PRIV_EXIT_WAIT_MS	5000	/* at shutdown: how long to wait for it to release the rules */

/* The queue and rules in this process (privsep off, or the privileged
 * process itself): fatal when they cannot be had. cb gets the events. */
void d_nfq_local_up(struct stuntd *d, nfq_event_cb cb);
void d_nfq_local_down(struct stuntd *d);
/* A bound, non-blocking TCP socket (SO_REUSEADDR, SO_REUSEPORT), marked
 * unless mark is 0 (SO_MARK needs CAP_NET_ADMIN). */
int d_nfq_local_socket(uint32_t mark, uint16_t port, uint16_t *bound);
/* The same, IPv6 (v6-only), bound to [ip]:port. */
int d_nfq_local_socket6(uint32_t mark, const uint8_t ip[16], uint16_t port, uint16_t *bound);
/* The privileged process's MARK: set SO_MARK on fd if it is an AF_INET or
 * AF_INET6 TCP socket: 0, -ENOTSOCK, -EAFNOSUPPORT, -EPROTOTYPE (the first refusal logged,
 * all counted: d_nfq_mark_refused), -ENOTCONN (mark 0: no rules). */
int d_nfq_mark_fd(int fd, uint32_t mark);
unsigned long d_nfq_mark_refused(void);
/* This host's addresses, at most D_NFQ_LOCAL_ADDRS_MAX of each family
 * (IPv4 in network order): 0, or -errno. */
#define D_NFQ_LOCAL_ADDRS_MAX	64
struct d_nfq_local {
	uint32_t	v4[D_NFQ_LOCAL_ADDRS_MAX];
	size_t		n4;
	uint8_t		v6[D_NFQ_LOCAL_ADDRS_MAX][16];
	size_t		n6;
};
int d_nfq_local_addrs(struct d_nfq_local *out);
/* nfq_engine_inject of a datagram that d_priv_inject_check allows (the
 * host's addresses, e's policies, now), else -EPERM / -EINVAL (the first
 * refusal of each kind logged, all counted: d_nfq_inject_refused). */
int d_nfq_inject_checked(struct nfq_engine *e, const uint8_t *p, size_t len);
unsigned long d_nfq_inject_refused(void);

/* Fork the privileged process (daemon/priv.c), which brings the queue and rules
 * up; return once it has (else exit), with the facade in remote mode. */
void d_priv_start(struct stuntd *d);
/* The same without the facade: its pid, *req_fd and *ev_fd the two
 * socketpair ends (for a test driver that talks to it directly). */
pid_t d_priv_fork(struct stuntd *d, int *req_fd, int *ev_fd);

/* The unprivileged side: requests go to req_fd, events come from ev_fd
 * (watched in the event loop); pid is the privileged process. */
void d_nfq_remote(int req_fd, int ev_fd, pid_t pid);
bool d_nfq_remote_lost(void);	/* the privileged process went away */
pid_t d_nfq_priv_pid(void);	/* 0 without one */

/* Shutdown: local, release; remote, close the channel and wait (bounded)
 * until the privileged process has released the rules and exited. */
void d_nfq_down(struct stuntd *d);

/* Is there a queue (rules installed)? Without one, policies are not added. */
bool d_nfq_on(void);

/* 0 and *id (never 0), or -errno (-ENOTCONN: no queue). */
int d_nfq_policy_add(const struct nfq_policy_spec *s, uint32_t *id);
int d_nfq_policy_remove(uint32_t id);
int d_nfq_policy_remove_flow(const struct nfq_flow *f);	/* count removed */
/* A socket with the queue's mark (unmarked without rules) bound to port
 * (0: any), *bound its port: the fd, or -errno. Created and bound by the
 * caller's process (its uid); with privilege separation the privileged
 * process only marks it (D_PRIV_MARK). */
int d_nfq_marked_socket(uint16_t port, uint16_t *bound);
/* The same, IPv6, bound to [ip] on a port of the kernel's (simopen6). */
int d_nfq_marked_socket6(const uint8_t ip[16], uint16_t *bound);
/* Send a SYN again (nfq_engine_inject): only what d_priv_inject_check
 * allows, in either mode. 0 or -errno (-EPERM: refused). */
int d_nfq_inject(const uint8_t *p, size_t len);
/* Expire policies (local; the privileged process does its own). */
void d_nfq_tick(uint64_t now);
/* The queue's counters (metrics): this process's engine, or asked of the
 * privileged process. 0, or -errno (-ENOTCONN: no queue). */
struct d_priv_stats;
int d_nfq_stats(struct d_priv_stats *out);
/* The same from the engine in this process (zeros without one). */
void d_nfq_local_stats(struct d_priv_stats *out);
/* For discovery without root: a capture socket (IPv4 SYNs leaving on the
 * default route) and a raw ICMP socket (errors only), both with locked
 * filters. 0, or -errno (the caller then probes without them). */
int d_nfq_probe_fds(int *capture_fd, int *icmp_fd);

#endif
