/* SPDX-License-Identifier: MIT */
/*
 * Escaping untrusted text for logs and terminals: what a peer, a server or
 * a gateway sent (error texts, reason phrases, names) must not be able to
 * end a log line, forge a second one, or drive a terminal with escape
 * sequences. Every byte outside printable ASCII (0x20-0x7e), and the
 * backslash itself, becomes \xNN; text that does not fit ends in
 * "...(N more bytes)", N counting the source bytes left out.
 */
#ifndef STUNT_COMMON_ESC_H
#define STUNT_COMMON_ESC_H

#include <stddef.h>

/* A buffer for esc_str() that shows up to n source bytes in full. */
#define ESC_BUF(n)	(4 * (n) + 32)

/*
 * Escape len bytes of src (NUL bytes included: they are data) into dst of
 * size (>= 1), always NUL-terminated; returns dst, so that it can be a log
 * argument. Pure: no allocation, no locale.
 */
const char *esc_str(char *dst, size_t size, const void *src, size_t len);
/* The same for a NUL-terminated string (NULL: ""). */
const char *esc_cstr(char *dst, size_t size, const char *src);
/*
 * For a terminal (stuntctl printing what stuntd answered, which stuntd
 * escaped already): the same, but a backslash stays as it is, so that
 * stuntd's "\x0a" is not shown as "\x5cx0a".
 */
const char *esc_term(char *dst, size_t size, const char *src);

#endif
