// SPDX-License-Identifier: MIT
/* stunt-server's config file at start and on SIGHUP: see server/reload.h. */
#include "server/reload.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONF_FILE_MAX	(64 * 1024)

static const char *s_path;
static int s_argc;
static char **s_argv;
static struct srv_opts s_run;		/* in force; strings into argv, the start's file or: */
static char *s_secrets_path;		/* the secrets path a reload set (owned) */

int srv_reload_read(const char *path, struct srv_conf_args *out, char *err, size_t errlen)
{
	static const char *const refused[] = { "config", "help", "version", NULL };
	static char buf[CONF_FILE_MAX];
	char why[400];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0 || n == (ssize_t)sizeof(buf)) {
		snprintf(err, errlen, "%s: %s", path,
			 n < 0 ? strerror(errno) : "too big (at most 64 KiB)");
		return -1;
	}
	if (srv_conf_args(buf, (size_t)n, srv_longopts, refused, out, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		return -1;
	}
	return 0;
}

void srv_reload_init(const char *path, int argc, char **argv, const struct srv_opts *run)
{
	s_path = path;
	s_argc = argc;
	s_argv = argv;
	s_run = *run;
}

bool srv_reload_config(struct srv_config *cfg)
{
	/* the start's file stays where the running strings point */
	static struct srv_conf_args args;
	struct srv_opts_change ch[SRV_OPTS_MAX_CHANGES];
	struct srv_opts o;
	char err[512], msg[300], live[400] = "";
	char *secrets = NULL;
	size_t n, i, used = 0;
	int where = 0;

	if (!s_path)
		return false;
	if (srv_reload_read(s_path, &args, err, sizeof(err)) < 0) {
		log_warnx("SIGHUP: %s; settings kept as they were", err);
		return false;
	}
	srv_opts_init(&o);
	if (srv_opts_parse(&o, args.argc, args.argv, msg, sizeof(msg), &where) != 0) {
		log_warnx("SIGHUP: %s: line %u: %s; settings kept as they were", s_path,
			  where >= 1 && where < args.argc ? args.line[where] : 0, msg);
		return false;
	}
	/* the command line as at start: a flag overrides the file */
	if (srv_opts_parse(&o, s_argc, s_argv, msg, sizeof(msg), &where) != 0) {
		log_warnx("SIGHUP: command line: %s; settings kept as they were", msg);
		return false;
	}
	/* the strings of args are overwritten by the next reload */
	if (o.secrets_path && !(secrets = strdup(o.secrets_path))) {
		log_warnx("SIGHUP: out of memory; settings kept as they were");
		return false;
	}
	n = srv_opts_diff(&s_run, &o, ch, SRV_OPTS_MAX_CHANGES);
	for (i = 0; i < n; i++) {
		if (!ch[i].live) {
			log_warnx("%s changed in %s: needs a restart", ch[i].name, s_path);
			continue;
		}
		used += (size_t)snprintf(live + used, sizeof(live) - used, "%s%s", used ? ", " : "",
					 ch[i].name);
		if (used >= sizeof(live))
			used = sizeof(live) - 1;
	}
	srv_opts_take_live(&s_run, &o);
	free(s_secrets_path);
	s_run.secrets_path = s_secrets_path = secrets;
	srv_opts_live(&s_run, cfg);
	log_set_level(srv_opts_level(&s_run));
	log_info("SIGHUP: %s read: %s%s", s_path, used ? "applied " : "no live option changed",
		 live);
	return true;
}
