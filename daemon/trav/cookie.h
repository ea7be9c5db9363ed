/* SPDX-License-Identifier: MIT */
/*
 * The cookie of a "report our first SYN" queue policy (stunt1, synth, each
 * socket of predict's window): the queue hands it back with the SYN, and it
 * must name the session, the attempt and the socket the SYN left from.
 * Pure: no I/O, no globals.
 *
 *   bits  0..31  session id
 *        32..39  method (SIG_M_*)
 *        40      this side is the session's requester
 *        41..48  window entry + 1 (0: the attempt's own socket)
 */
#ifndef STUNT_DAEMON_TRAV_COOKIE_H
#define STUNT_DAEMON_TRAV_COOKIE_H

#include <stdbool.h>
#include <stdint.h>

#define TRAV_COOKIE_NO_WIN	(-1)	/* the attempt's own socket */
#define TRAV_COOKIE_WIN_MAX	254	/* window entries a cookie can name: 0..254 */

/* win: a window entry (0..TRAV_COOKIE_WIN_MAX) or TRAV_COOKIE_NO_WIN; any
 * other value is stored as TRAV_COOKIE_NO_WIN. */
uint64_t trav_cookie_make(uint32_t sid, uint8_t method, bool requester, int win);
/* The parts; *win is TRAV_COOKIE_NO_WIN or a window entry. */
void trav_cookie_parse(uint64_t cookie, uint32_t *sid, uint8_t *method, bool *requester,
		       int *win);

#endif
