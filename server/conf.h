/* SPDX-License-Identifier: MIT */
/*
 * stunt-server's config file (--config FILE): the syntax of stuntd's
 * (common/conf.h), one long option a line without its dashes:
 *
 *   primary 192.0.2.1
 *   alternate 192.0.2.2
 *   secrets /etc/stunt/secrets
 *   tls-cert /etc/stunt/cert.pem
 *   max-clients 5000
 *   keep-root off             (an option without a value: on or off)
 *
 * The file becomes options ("--primary=192.0.2.1", "--keep-root") that the
 * server's getopt loop takes before its command line, so a value means what
 * the flag means and a flag overrides the file. Pure.
 */
#ifndef STUNT_SERVER_CONF_H
#define STUNT_SERVER_CONF_H

#include <getopt.h>
#include <stddef.h>

#define SRV_CONF_MAX_ARGS	128

struct srv_conf_args {
	int		argc;				/* argv[0] is "config" */
	char		*argv[SRV_CONF_MAX_ARGS + 2];	/* NULL-terminated */
	unsigned	line[SRV_CONF_MAX_ARGS + 1];	/* argv[i]'s line in the file */
	char		store[64 * 1024];		/* the strings */
	size_t		used;
};

/*
 * len bytes of a config file -> out. opts: the program's long options; a
 * key must be one of them, not one of the names in refused (NULL-terminated,
 * e.g. "config", "help"). -EINVAL with "line N: REASON" in err (unknown
 * directive, a bad on/off, too many lines), or 0.
 */
int srv_conf_args(const char *buf, size_t len, const struct option *opts,
		  const char *const *refused, struct srv_conf_args *out, char *err, size_t errlen);

#endif
