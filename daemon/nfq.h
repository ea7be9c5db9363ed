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
 * whole (d_session_on_nfq_event), an injected packet is raw bytes checked
 * by the packet parser. New policy kinds need no new message.
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
/* A marked, bound, non-blocking TCP socket (SO_MARK needs CAP_NET_ADMIN). */
int d_nfq_local_socket(uint32_t mark, uint16_t port, uint16_t *bound);

/* Fork the privileged process (daemon/priv.c), which brings the queue and rules
 * up; return once it has (else exit), with the facade in remote mode. */
void d_priv_start(struct stuntd *d);

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
 * (0: any), *bound its port: the fd, or -errno. */
int d_nfq_marked_socket(uint16_t port, uint16_t *bound);
/* Hand an IPv4 datagram to the kernel (nfq_engine_inject). */
int d_nfq_inject(const uint8_t *p, size_t len);
/* Expire policies (local; the privileged process does its own). */
void d_nfq_tick(uint64_t now);
/* For discovery without root: a capture socket (IPv4 SYNs leaving on the
 * default route) and a raw ICMP socket (errors only), both with locked
 * filters. 0, or -errno (the caller then probes without them). */
int d_nfq_probe_fds(int *capture_fd, int *icmp_fd);

#endif
