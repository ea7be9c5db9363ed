/* SPDX-License-Identifier: MIT */
/*
 * A thin TCP stream (signalling, a traversal's session header and its
 * answer) under loss: a lost segment of a new connection waits 200 ms,
 * then 400, 800, 1600, 3200 ms (RTO backoff). At 30 % loss on both WAN
 * links (half the packets lost end to end) the header or its one-byte
 * answer then missed a 10 s deadline in a third of the connects whose SYNs
 * had met (captured: the answer sent again after 0.2, 2.9, 7.8 s), and a
 * keepalive went unanswered for 2.5 s often enough to drop the signalling
 * connection every minute. Linear timeouts (TCP_THIN_LINEAR_TIMEOUTS) do
 * not help there: the kernel applies them only after the initial slow
 * start, never on a fresh connection. A capped RTO does: at most
 * TCP_RTO_CAP_MS between two copies (TCP_RTO_MAX_MS, Linux 6.15; older
 * kernels keep the backoff).
 */
#ifndef STUNT_COMMON_TCPRTO_H
#define STUNT_COMMON_TCPRTO_H

#define TCP_RTO_CAP_MS	1000	/* the smallest cap the kernel takes */

/* Cap fd's RTO (and turn on linear timeouts): 0, or -errno of the cap. */
int tcp_rto_cap(int fd);

#endif
