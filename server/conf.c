// SPDX-License-Identifier: MIT
/* stunt-server's config file as options. See server/conf.h. */
#include "server/conf.h"

#include "common/conf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

struct ctx {
	const struct option	*opts;
	const char *const	*refused;
	struct srv_conf_args	*out;
};

static int add(struct srv_conf_args *o, const char *key, const char *val, char *why, size_t len)
{
	int w;

	if (o->argc >= SRV_CONF_MAX_ARGS + 1) {
		snprintf(why, len, "too many directives (at most %d)", SRV_CONF_MAX_ARGS);
		return -EINVAL;
	}
	w = snprintf(o->store + o->used, sizeof(o->store) - o->used, val ? "--%s=%s" : "--%s",
		     key, val);
	if (w < 0 || (size_t)w >= sizeof(o->store) - o->used) {
		snprintf(why, len, "the file is too big");
		return -EINVAL;
	}
	o->argv[o->argc++] = o->store + o->used;
	o->argv[o->argc] = NULL;
	o->used += (size_t)w + 1;
	return 0;
}

static int set(void *arg, const char *key, const char *val, char *why, size_t len)
{
	struct ctx *c = arg;
	const struct option *o;
	size_t i;

	for (i = 0; c->refused && c->refused[i]; i++) {
		if (!strcmp(key, c->refused[i])) {
			snprintf(why, len, "'%s' is no directive of the config file", key);
			return -EINVAL;
		}
	}
	for (o = c->opts; o->name; o++)
		if (!strcmp(o->name, key))
			break;
	if (o->name == NULL) {
		snprintf(why, len, "unknown directive '%.64s'", key);
		return -EINVAL;
	}
	if (o->has_arg == no_argument) {
		if (!strcmp(val, "off"))
			return 0;
		if (strcmp(val, "on")) {
			snprintf(why, len, "bad %s '%.64s' (on or off)", key, val);
			return -EINVAL;
		}
		return add(c->out, key, NULL, why, len);
	}
	return add(c->out, key, val, why, len);
}

int srv_conf_args(const char *buf, size_t len, const struct option *opts,
		  const char *const *refused, struct srv_conf_args *out, char *err, size_t errlen)
{
	struct ctx c = { .opts = opts, .refused = refused, .out = out };
	size_t off, n;
	unsigned lineno = 0;
	int e;

	memset(out, 0, sizeof(*out));
	out->argv[0] = "config";
	out->argc = 1;
	/* one line at a time, so that each option knows its line */
	for (off = 0; off < len; off += n + 1) {
		const char *nl = memchr(buf + off, '\n', len - off);
		char why[300];
		int before = out->argc;

		n = nl ? (size_t)(nl - (buf + off)) : len - off;
		lineno++;
		e = conf_parse(buf + off, n, NULL, set, &c, why, sizeof(why));
		if (e < 0) {
			/* conf_parse numbered it line 1: give the file's number */
			snprintf(err, errlen, "line %u: %s", lineno,
				 strncmp(why, "line 1: ", 8) ? why : why + 8);
			return e;
		}
		if (out->argc > before)
			out->line[before] = lineno;
	}
	return 0;
}
