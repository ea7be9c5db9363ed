/* SPDX-License-Identifier: MIT */
/*
 * Usage errors, the same in every program: one line on stderr,
 *
 *   PROG: MESSAGE (try 'PROG --help')
 *
 * and exit status 2; --help alone prints the whole text, on stdout.
 */
#ifndef STUNT_COMMON_USAGE_H
#define STUNT_COMMON_USAGE_H

#include <stddef.h>

#define USAGE_EXIT	2

/* The line above; returns USAGE_EXIT (for programs that return their status). */
int usage_err(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The line above, then exit(USAGE_EXIT). */
void usage_fail(const char *prog, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));

/*
 * Pure: what getopt_long (opterr = 0, optstring starting with ':', after
 * any '+') reported, as a message into buf: c ':' "option '--port' needs a
 * value", c '?' "unknown option '--frob'"; arg is argv[optind - 1] (the
 * option as written, "=VALUE" dropped), opt_char getopt's optopt (a short
 * option's letter, shown as "-x"). Returns buf.
 */
const char *usage_getopt_msg(int c, int opt_char, const char *arg, char *buf, size_t size);

/* usage_fail with usage_getopt_msg's message (getopt's globals read). */
void usage_fail_getopt(const char *prog, int c, char *const argv[])
	__attribute__((noreturn));

/* usage_err with usage_getopt_msg's message. */
int usage_err_getopt(const char *prog, int c, char *const argv[]);

#endif
