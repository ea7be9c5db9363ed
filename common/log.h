/* SPDX-License-Identifier: MIT */
/*
 * Logging in the OpenNTPD manner: stderr in the foreground (-d), syslog
 * otherwise. On stderr each line is "TIME PROG: LEVEL: MESSAGE", TIME in ISO
 * 8601 local time with milliseconds and the UTC offset
 * (2026-12-06T17:14:03.123+01:00); when stderr is the systemd journal
 * (JOURNAL_STREAM names stderr's device and inode) the journal stamps the
 * lines itself: no TIME, and a "<N>" syslog priority prefix instead, which
 * the journal takes as the line's priority.
 */
#ifndef STUNT_LOG_H
#define STUNT_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

void log_init(const char *progname, int foreground, int verbosity);
/* The level from now on (SIGHUP). */
void log_set_level(int verbosity);

/* "error", "warning", "info" or "debug" (also "err", "warn") -> a level, or -1. */
int log_level_parse(const char *s);
/* A level's name ("info"). */
const char *log_level_name(int lvl);
/* Pure: tm (local time), the milliseconds and the UTC offset in seconds as
 * "2026-12-06T17:14:03.123+01:00" into buf; returns buf. */
const char *log_iso8601(char *buf, size_t size, const struct tm *tm, long ms, long gmtoff);
/* Pure: does JOURNAL_STREAM's value ("DEV:INO") name this device and inode? */
bool log_journal_match(const char *env, dev_t dev, ino_t ino);
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));   /* appends strerror(errno) */
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
