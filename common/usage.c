// SPDX-License-Identifier: MIT
/* One-line usage errors. See common/usage.h. */
#include "common/usage.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void vline(const char *prog, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	fprintf(stderr, "%s: %s (try '%s --help')\n", prog, msg, prog);
}

int usage_err(const char *prog, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline(prog, fmt, ap);
	va_end(ap);
	return USAGE_EXIT;
}

void usage_fail(const char *prog, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline(prog, fmt, ap);
	va_end(ap);
	exit(USAGE_EXIT);
}

const char *usage_getopt_msg(int c, int opt_char, const char *arg, char *buf, size_t size)
{
	char opt[64];

	if (opt_char > ' ' && opt_char < 127 && (arg == NULL || strncmp(arg, "--", 2)))
		snprintf(opt, sizeof(opt), "-%c", opt_char);
	else if (arg)
		snprintf(opt, sizeof(opt), "%.*s", (int)strcspn(arg, "="), arg);
	else
		snprintf(opt, sizeof(opt), "?");
	if (c == ':')
		snprintf(buf, size, "option '%s' needs a value", opt);
	else
		snprintf(buf, size, "unknown option '%s'", opt);
	return buf;
}

static const char *arg_of(char *const argv[])
{
	return optind > 0 ? argv[optind - 1] : NULL;
}

void usage_fail_getopt(const char *prog, int c, char *const argv[])
{
	char m[128];

	usage_fail(prog, "%s", usage_getopt_msg(c, optopt, arg_of(argv), m, sizeof(m)));
}

int usage_err_getopt(const char *prog, int c, char *const argv[])
{
	char m[128];

	return usage_err(prog, "%s", usage_getopt_msg(c, optopt, arg_of(argv), m, sizeof(m)));
}
