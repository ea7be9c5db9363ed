/* SPDX-License-Identifier: MIT */
/*
 * The daemon's own SYN clock. A lost SYN would wait for the kernel's
 * retransmission timer (RFC 6298: 1 s, then 2 s, 4 s): most of a traversal's
 * deadline on a lossy link. Once a flow's SYN has left at full TTL, stuntd
 * sends it again itself (the same segment, daemon/trav/sock.c) on this
 * schedule until the flow is answered, the attempt ends or the copies run
 * out: TRAV_PACE_FIRST_MS after it left, then each gap twice the one
 * before, at most TRAV_PACE_MAX_GAP_MS, at most TRAV_PACE_MAX copies.
 * Every copy also takes one packet of the session's budget
 * (max-session-packets). Pure: no I/O, no globals.
 */
#ifndef STUNT_DAEMON_TRAV_PACE_H
#define STUNT_DAEMON_TRAV_PACE_H

#include <stdbool.h>
#include <stdint.h>

#define TRAV_PACE_FIRST_MS	100	/* the first copy: after one lab-to-WAN RTT or so */
#define TRAV_PACE_MAX_GAP_MS	800
#define TRAV_PACE_MAX		8	/* copies of one SYN */

struct trav_pace {
	uint64_t	next_ms;	/* when the next copy is due; 0: not paced */
	uint8_t		sent;		/* copies sent so far */
};

/* The SYN left (or went again at full TTL) at now: the next copy is due
 * TRAV_PACE_FIRST_MS later (or after the gap the copies so far give). */
void trav_pace_start(struct trav_pace *p, uint64_t now);
/* Is a copy due at now? If so it counts as sent and the next one is
 * scheduled (or none, after TRAV_PACE_MAX). */
bool trav_pace_due(struct trav_pace *p, uint64_t now);
/* The flow was answered or ended: no more copies. */
void trav_pace_stop(struct trav_pace *p);
/* The gap before copy n (0-based): FIRST * 2^n, at most MAX_GAP. */
uint32_t trav_pace_gap_ms(unsigned n);

#endif
