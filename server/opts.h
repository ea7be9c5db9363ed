/* SPDX-License-Identifier: MIT */
/*
 * stunt-server's options, parsed once for both places that take them: at
 * start (server/main.c, where an error exits) and on SIGHUP (server/reload.c,
 * where an error is logged and nothing changes). The same getopt loop takes
 * the config file's options (server/conf.h) and then the command line's,
 * so a flag overrides the file at start and at every reload alike.
 *
 * srv_opts_diff says which options differ between two parses and whether
 * the running server can take the new value (limits, rates, log level,
 * status interval, secrets file) or needs a restart (addresses, ports,
 * TLS, the user, STUNT's raw socket and capture). Pure but for getopt's
 * globals in srv_opts_parse.
 */
#ifndef STUNT_SERVER_OPTS_H
#define STUNT_SERVER_OPTS_H

#include "common/addr.h"
#include "server/loop.h"
#include "proto/stun_attr.h"

#include <getopt.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

struct srv_opts {
	struct stun_addr	 ip[2];		/* --primary, --alternate */
	bool			 have[2];
	struct stun_addr	 ip6[2];	/* --primary6, --alternate6 */
	bool			 have6[2];
	unsigned long		 port, alt_port;
	struct stun_addr	 ext[2];	/* --external-ip PUBLIC */
	struct stun_addr	 ext_priv[2];	/* ... /PRIVATE, family 0: the primary */
	unsigned		 next;		/* --external-ip given */
	const char		*secrets_path;	/* strings: into argv or the file's */
	const char		*software;
	const char		*tls_cert, *tls_key;
	const char		*capture_if;
	const char		*user;
	bool			 stats, no_stunt, no_spoof, stunt_auth, keep_root;
	unsigned		 idle_s, max_clients, status_s;
	unsigned		 udp_rate, udp_burst;
	unsigned		 tls_port;
	unsigned		 stunt_rate, stunt_burst;
	unsigned		 stunt_global, stunt_global_burst;	/* the option sets both */
	unsigned		 sig_rate, sig_burst;
	const char		*redis;		/* --redis HOST:PORT as given */
	char			 redis_host[256];	/* ... its host */
	unsigned		 redis_port;
	const char		*redis_pass_file;
	unsigned		 redis_ttl;
	const char		*server_name;	/* NULL: the primary ip:port */
	int			 foreground, verbose;
	int			 level;		/* --log-level, -1: none given */
	union addr_sa		 metrics;	/* --metrics ADDR:PORT, IPv4 or IPv6 */
	bool			 have_metrics;
};

/* The long options (the config file's directives are their names). */
extern const struct option srv_longopts[];

/* The defaults, before any option. */
void srv_opts_init(struct srv_opts *o);

#define SRV_OPTS_HELP		1	/* --help seen: print the usage, exit 0 */
#define SRV_OPTS_VERSION	2	/* --version seen */

/*
 * Take the options of av[1..ac-1] into o (getopt_long, afresh). 0, or
 * SRV_OPTS_HELP / SRV_OPTS_VERSION where one is met, or -EINVAL at the first
 * bad one: its message in err ("bad port: 99999", "unknown option '--x'")
 * and its index in av in *where.
 */
int srv_opts_parse(struct srv_opts *o, int ac, char **av, char *err, size_t errlen, int *where);

/* The log level the options ask for. */
int srv_opts_level(const struct srv_opts *o);

/* The live options' values into cfg: limits, rates, status interval,
 * secrets path (not the secrets themselves). */
void srv_opts_live(const struct srv_opts *o, struct srv_config *cfg);

/* The live options' values from o into run, the others left as they are
 * (SIGHUP: what needs a restart keeps its running value). */
void srv_opts_take_live(struct srv_opts *run, const struct srv_opts *o);

struct srv_opts_change {
	const char	*name;		/* the option, without dashes */
	bool		 live;		/* taken at once; false: needs a restart */
};

#define SRV_OPTS_MAX_CHANGES	40	/* more than there are options */

/* What differs from a to b, in srv_longopts' order, at most cap of them;
 * returns how many. */
size_t srv_opts_diff(const struct srv_opts *a, const struct srv_opts *b,
		     struct srv_opts_change *out, size_t cap);

#endif
