/* SPDX-License-Identifier: MIT */
/*
 * How wide predict's window must be on a busy sequential NAT. A sequential
 * NAT hands every new mapping the next port, to every host behind it: the
 * ports other hosts take between our last STUN Binding and our window's
 * SYNs push our sockets to later predictions. The sequential side's sockets
 * all aim at the predictable side's one endpoint, so any of them landing
 * on prediction k meets the peer's socket k: the window the peer opens
 * (the count we advertise) must reach past the ports the others take in
 * that time. Two Bindings back to back give the pace (foreign ports per
 * second between their mappings, probe_classify_pace); the lead (ms from the last Binding to the
 * window's SYNs leaving) comes from the sessions before. Pure: no I/O, no
 * globals.
 */
#ifndef STUNT_DAEMON_TRAV_PREDWIN_H
#define STUNT_DAEMON_TRAV_PREDWIN_H

#include <stdint.h>

#define TRAV_PREDWIN_BASE	16	/* the window on a quiet NAT, and the least */
#define TRAV_PREDWIN_MAX	96	/* the widest window (its sockets on each side) */
#define TRAV_PREDWIN_LEAD_MS	250	/* the lead before any session measured one */

#define TRAV_PREDWIN_MIN_MS	25	/* the least time a pace is taken over */
#define TRAV_PREDWIN_HALF_MS	10000	/* a measurement weighs half after this */

/* The mean of the old estimate and the new (the first: the new one;
 * old_valid false): the lead's estimate. */
uint32_t trav_predwin_blend(uint32_t old_tenths, int old_valid, uint32_t new_tenths);

/*
 * The others' pace: the foreign ports all measurements saw over the time
 * they spanned, older ones weighing half per TRAV_PREDWIN_HALF_MS of age.
 * Two Bindings back to back are one round trip to the server apart, a few
 * ms on a near server: one foreign port in 3 ms alone would read 333
 * ports/s, a pace beyond any window, where a NAT handing out 40 a second
 * does that every eighth time. So the time is taken as at least
 * TRAV_PREDWIN_MIN_MS (one port in it: 40 ports/s), and short measurements
 * add up until their sum is long enough to tell a pace from a coincidence.
 */
struct trav_predwin_pace {
	double		ports;		/* foreign ports seen, weighted by age */
	double		ms;		/* the time they were seen in, weighted alike */
	uint64_t	at_ms;		/* the last measurement; 0: none yet */
};
/* one more measurement: foreign ports in interval_ms, made at now_ms */
void trav_predwin_pace_add(struct trav_predwin_pace *p, uint32_t ports, uint32_t interval_ms,
			   uint64_t now_ms);
/* the estimate, tenths of ports per second (0 before any measurement) */
uint32_t trav_predwin_pace_tenths(const struct trav_predwin_pace *p);

/* The window to advertise for pace (tenths of ports per second) and lead
 * (ms): the base plus one and a half times the ports the others are
 * expected to take in that time, rounded up; 0 when it would exceed
 * TRAV_PREDWIN_MAX (no window can cover such a NAT). */
uint16_t trav_predwin_count(uint32_t pace_tenths, uint32_t lead_ms);

#endif
