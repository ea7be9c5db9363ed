// SPDX-License-Identifier: MIT
#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

static int log_foreground = 1;
static int log_verbosity = LOG_LVL_INFO;
static int log_journal;		/* stderr is the journal: no own time stamps */
static const char *log_prog = "stunt";
static const char *const log_names[] = { "error", "warning", "info", "debug" };

int log_level_parse(const char *s)
{
	int i;

	if (s == NULL)
		return -1;
	for (i = LOG_LVL_ERR; i <= LOG_LVL_DEBUG; i++)
		if (!strcmp(s, log_names[i]))
			return i;
	if (!strcmp(s, "err"))
		return LOG_LVL_ERR;
	if (!strcmp(s, "warn"))
		return LOG_LVL_WARN;
	return -1;
}

const char *log_level_name(int lvl)
{
	return lvl >= LOG_LVL_ERR && lvl <= LOG_LVL_DEBUG ? log_names[lvl] : "?";
}

const char *log_iso8601(char *buf, size_t size, const struct tm *tm, long ms, long gmtoff)
{
	long off = gmtoff < 0 ? -gmtoff : gmtoff;

	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03ld%c%02ld:%02ld",
		 tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday, tm->tm_hour, tm->tm_min,
		 tm->tm_sec, ms, gmtoff < 0 ? '-' : '+', off / 3600, off % 3600 / 60);
	return buf;
}

bool log_journal_match(const char *env, dev_t dev, ino_t ino)
{
	unsigned long long d, i;
	int n = 0;

	if (env == NULL || sscanf(env, "%llu:%llu%n", &d, &i, &n) != 2 || env[n] != '\0')
		return false;
	return d == (unsigned long long)dev && i == (unsigned long long)ino;
}

void log_init(const char *progname, int foreground, int verbosity)
{
	struct stat st;

	log_prog = progname;
	log_foreground = foreground;
	log_verbosity = verbosity;
	log_journal = fstat(STDERR_FILENO, &st) == 0 &&
		      log_journal_match(getenv("JOURNAL_STREAM"), st.st_dev, st.st_ino);
	if (!foreground)
		openlog(progname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_level(int verbosity)
{
	log_verbosity = verbosity;
}

static void log_vemit(int lvl, int with_errno, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char msg[1024];
	int saved = errno;

	if (lvl > log_verbosity)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno) {
		size_t n = strlen(msg);
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(saved));
	}
	if (log_foreground && log_journal) {
		fprintf(stderr, "<%d>%s: %s: %s\n", prio[lvl], log_prog, log_names[lvl], msg);
	} else if (log_foreground) {
		struct timespec ts;
		struct tm tm;
		char t[48];

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		fprintf(stderr, "%s %s: %s: %s\n",
			log_iso8601(t, sizeof(t), &tm, ts.tv_nsec / 1000000, tm.tm_gmtoff),
			log_prog, log_names[lvl], msg);
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
