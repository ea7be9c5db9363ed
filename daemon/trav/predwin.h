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

/* The pace estimate after one more measurement: the mean of the old one
 * and the new (the first: the new one; old_valid false). */
uint32_t trav_predwin_blend(uint32_t old_tenths, int old_valid, uint32_t new_tenths);

/* The window to advertise for pace (tenths of ports per second) and lead
 * (ms): the base plus one and a half times the ports the others are
 * expected to take in that time, rounded up; 0 when it would exceed
 * TRAV_PREDWIN_MAX (no window can cover such a NAT). */
uint16_t trav_predwin_count(uint32_t pace_tenths, uint32_t lead_ms);

#endif
