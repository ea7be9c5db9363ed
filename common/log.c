// SPDX-License-Identifier: MIT
#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

static int log_foreground = 1;
static int log_verbosity = LOG_LVL_INFO;
static const char *log_prog = "stunt";

void log_init(const char *progname, int foreground, int verbosity)
{
	log_prog = progname;
	log_foreground = foreground;
	log_verbosity = verbosity;
	if (!foreground)
		openlog(progname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

static void log_vemit(int lvl, int with_errno, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	static const char *const tag[] = { "error", "warning", "info", "debug" };
	char msg[1024];
	int saved = errno;

	if (lvl > log_verbosity)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno) {
		size_t n = strlen(msg);
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(saved));
	}
	if (log_foreground) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		fprintf(stderr, "%lld.%03ld %s: %s: %s\n", (long long)ts.tv_sec,
			ts.tv_nsec / 1000000, log_prog, tag[lvl], msg);
	} else {
		syslog(prio[lvl], "%s", msg);
	}
	errno = saved;
}

#define LOG_BODY(lvl, e)                    \
	do {                                \
		va_list ap;                 \
		va_start(ap, fmt);          \
		log_vemit(lvl, e, fmt, ap); \
		va_end(ap);                 \
	} while (0)

void log_warn(const char *fmt, ...) { LOG_BODY(LOG_LVL_WARN, 1); }
void log_warnx(const char *fmt, ...) { LOG_BODY(LOG_LVL_WARN, 0); }
void log_info(const char *fmt, ...) { LOG_BODY(LOG_LVL_INFO, 0); }
void log_debug(const char *fmt, ...) { LOG_BODY(LOG_LVL_DEBUG, 0); }

void fatal(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_ERR, 1);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_ERR, 0);
	exit(1);
}
