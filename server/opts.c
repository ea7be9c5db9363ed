// SPDX-License-Identifier: MIT
/* stunt-server's options: see server/opts.h. */
#include "server/opts.h"
#include "server/cluster.h"
#include "server/cluster_rec.h"
#include "server/stun.h"
#include "server/tls.h"
#include "common/addr.h"
#include "common/log.h"
#include "common/promhttp.h"
#include "common/usage.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_PRIMARY = 256, OPT_ALTERNATE, OPT_PORT, OPT_ALT_PORT, OPT_SECRETS, OPT_STATS,
	OPT_SOFTWARE, OPT_IDLE, OPT_MAX_CLIENTS, OPT_STATUS, OPT_HELP, OPT_VERSION, OPT_LOG_LEVEL,
	OPT_CONFIG,
	OPT_UDP_RATE, OPT_UDP_BURST, OPT_TLS_CERT, OPT_TLS_KEY, OPT_TLS_PORT, OPT_NO_STUNT,
	OPT_CAPTURE_IF, OPT_STUNT_AUTH, OPT_STUNT_RATE, OPT_STUNT_BURST, OPT_STUNT_GLOBAL,
	OPT_USER, OPT_KEEP_ROOT, OPT_SIG_RATE, OPT_SIG_BURST, OPT_EXTERNAL_IP, OPT_NO_SPOOF,
	OPT_METRICS,
	OPT_REDIS, OPT_REDIS_PASS, OPT_REDIS_TTL, OPT_SERVER_NAME,
	OPT_PRIMARY6, OPT_ALTERNATE6,
};

const struct option srv_longopts[] = {
	{ "primary",		required_argument, NULL, OPT_PRIMARY },
	{ "alternate",		required_argument, NULL, OPT_ALTERNATE },
	{ "primary6",		required_argument, NULL, OPT_PRIMARY6 },
	{ "alternate6",		required_argument, NULL, OPT_ALTERNATE6 },
	{ "port",		required_argument, NULL, OPT_PORT },
	{ "alt-port",		required_argument, NULL, OPT_ALT_PORT },
	{ "secrets",		required_argument, NULL, OPT_SECRETS },
	{ "stats",		no_argument,	   NULL, OPT_STATS },
	{ "software",		required_argument, NULL, OPT_SOFTWARE },
	{ "idle-timeout",	required_argument, NULL, OPT_IDLE },
	{ "max-clients",	required_argument, NULL, OPT_MAX_CLIENTS },
	{ "status-interval",	required_argument, NULL, OPT_STATUS },
	{ "udp-rate",		required_argument, NULL, OPT_UDP_RATE },
	{ "udp-burst",		required_argument, NULL, OPT_UDP_BURST },
	{ "tls-cert",		required_argument, NULL, OPT_TLS_CERT },
	{ "tls-key",		required_argument, NULL, OPT_TLS_KEY },
	{ "tls-port",		required_argument, NULL, OPT_TLS_PORT },
	{ "no-stunt",		no_argument,	   NULL, OPT_NO_STUNT },
	{ "external-ip",	required_argument, NULL, OPT_EXTERNAL_IP },
	{ "no-spoof",		no_argument,	   NULL, OPT_NO_SPOOF },
	{ "capture-if",		required_argument, NULL, OPT_CAPTURE_IF },
	{ "stunt-auth",		no_argument,	   NULL, OPT_STUNT_AUTH },
	{ "stunt-rate",		required_argument, NULL, OPT_STUNT_RATE },
	{ "stunt-burst",	required_argument, NULL, OPT_STUNT_BURST },
	{ "stunt-global-rate",	required_argument, NULL, OPT_STUNT_GLOBAL },
	{ "user",		required_argument, NULL, OPT_USER },
	{ "keep-root",		no_argument,	   NULL, OPT_KEEP_ROOT },
	{ "signal-rate",	required_argument, NULL, OPT_SIG_RATE },
	{ "signal-burst",	required_argument, NULL, OPT_SIG_BURST },
	{ "metrics",		required_argument, NULL, OPT_METRICS },
	{ "redis",		required_argument, NULL, OPT_REDIS },
	{ "redis-password-file", required_argument, NULL, OPT_REDIS_PASS },
	{ "redis-ttl",		required_argument, NULL, OPT_REDIS_TTL },
	{ "server-name",	required_argument, NULL, OPT_SERVER_NAME },
	{ "help",		no_argument,	   NULL, OPT_HELP },
	{ "version",		no_argument,	   NULL, OPT_VERSION },
	{ "log-level",		required_argument, NULL, OPT_LOG_LEVEL },
	{ "config",		required_argument, NULL, OPT_CONFIG },
	{ NULL, 0, NULL, 0 },
};

void srv_opts_init(struct srv_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->port = SRV_PORT_DEFAULT;
	o->alt_port = SRV_ALT_PORT_DEFAULT;
	o->idle_s = SRV_IDLE_S_DEFAULT;
	o->max_clients = SRV_MAX_CLIENTS_DEFAULT;
	o->status_s = SRV_STATUS_S_DEFAULT;
	o->udp_rate = SRV_UDP_RATE_DEFAULT;
	o->udp_burst = SRV_UDP_BURST_DEFAULT;
	o->tls_port = SRV_TLS_PORT_DEFAULT;
	o->stunt_rate = STUNT_RATE_CONN_DEFAULT;
	o->stunt_burst = STUNT_BURST_CONN_DEFAULT;
	o->stunt_global = STUNT_RATE_ALL_DEFAULT;
	o->stunt_global_burst = STUNT_BURST_ALL_DEFAULT;
	o->sig_rate = RDV_SIG_RATE_DEFAULT;
	o->sig_burst = RDV_SIG_BURST_DEFAULT;
	o->redis_ttl = SRV_REDIS_TTL_DEFAULT;
	o->level = -1;
}

static int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_ip(const char *s, struct stun_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->ip) == 1) {
		a->family = STUN_FAMILY_IPV4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->ip) == 1) {
		a->family = STUN_FAMILY_IPV6;
		return 0;
	}
	return -EINVAL;
}

/* --primary6 / --alternate6: an IPv6 literal, bracketed or not, without
 * a port (--port and --alt-port are both families'). */
static int parse_ip6(const char *s, struct stun_addr *a)
{
	struct sockaddr_in6 sin6;

	if (addr_parse_ipv6(s, 0, &sin6) < 0 || sin6.sin6_port != 0)
		return -EINVAL;
	return stun_addr_from_sockaddr(a, (struct sockaddr *)&sin6, sizeof(sin6)) < 0 ? -EINVAL : 0;
}

/* --external-ip PUBLIC[/PRIVATE] as coturn takes it: into pub and priv
 * (family 0: the primary address). */
static int parse_external(const char *arg, struct stun_addr *pub, struct stun_addr *priv)
{
	char buf[INET6_ADDRSTRLEN * 2 + 2];
	char *slash;

	if (strlen(arg) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, arg);
	memset(priv, 0, sizeof(*priv));
	if ((slash = strchr(buf, '/'))) {
		*slash = '\0';
		if (parse_ip(slash + 1, priv) < 0)
			return -EINVAL;
	}
	if (parse_ip(buf, pub) < 0 || (priv->family && priv->family != pub->family))
		return -EINVAL;
	return 0;
}

/* --redis HOST:PORT, [IPV6]:PORT, or HOST (port 6379). */
static int parse_redis(const char *arg, char host[256], unsigned *port)
{
	const char *colon = strrchr(arg, ':'), *h = arg;
	unsigned long p = SRV_REDIS_PORT_DEFAULT;
	size_t hl;

	if (arg[0] == '[') {
		const char *close = strchr(arg, ']');

		if (!close || (close[1] && close[1] != ':'))
			return -EINVAL;
		h = arg + 1;
		hl = (size_t)(close - h);
		colon = close[1] ? close + 1 : NULL;
	} else {
		if (colon && strchr(arg, ':') != colon)
			colon = NULL;	/* a bare IPv6 address */
		hl = colon ? (size_t)(colon - arg) : strlen(arg);
	}
	if (!hl || hl > 255 || (colon && parse_uint(colon + 1, 1, 65535, &p) < 0))
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (unsigned)p;
	return 0;
}

/* A value between min and max into *dst, else the message fmt. */
static int take_uint(const char *arg, unsigned long min, unsigned long max, unsigned *dst,
		     const char *fmt, char *err, size_t errlen)
{
	unsigned long v;

	if (parse_uint(arg, min, max, &v) < 0) {
		snprintf(err, errlen, fmt, arg);
		return -EINVAL;
	}
	*dst = (unsigned)v;
	return 0;
}

/* One option (ch, its argument arg) into o: 0, a SRV_OPTS_ code, or -EINVAL. */
static int take(struct srv_opts *o, int ch, const char *arg, char *err, size_t errlen)
{
	switch (ch) {
	case OPT_PRIMARY:
	case OPT_ALTERNATE:
		if (parse_ip(arg, &o->ip[ch - OPT_PRIMARY]) < 0)
			goto bad_addr;
		o->have[ch - OPT_PRIMARY] = true;
		return 0;
	case OPT_PRIMARY6:
	case OPT_ALTERNATE6:
		if (parse_ip6(arg, &o->ip6[ch - OPT_PRIMARY6]) < 0) {
			snprintf(err, errlen, "bad IPv6 address (ADDR or [ADDR], no port): %s", arg);
			return -EINVAL;
		}
		o->have6[ch - OPT_PRIMARY6] = true;
		return 0;
	case OPT_PORT:
	case OPT_ALT_PORT:
		if (parse_uint(arg, 1, 65535, ch == OPT_PORT ? &o->port : &o->alt_port) < 0) {
			snprintf(err, errlen, "bad port: %s", arg);
			return -EINVAL;
		}
		return 0;
	case OPT_SECRETS:
		o->secrets_path = arg;
		return 0;
	case OPT_STATS:
		o->stats = true;
		return 0;
	case OPT_SOFTWARE:
		if (strlen(arg) > SRV_SOFTWARE_MAX) {
			snprintf(err, errlen, "--software: longer than 64 bytes: %s", arg);
			return -EINVAL;
		}
		o->software = arg;
		return 0;
	case OPT_IDLE:
		return take_uint(arg, 1, 86400, &o->idle_s, "bad --idle-timeout: %s", err, errlen);
	case OPT_MAX_CLIENTS:
		return take_uint(arg, 1, 1000000, &o->max_clients, "bad --max-clients: %s", err,
				 errlen);
	case OPT_STATUS:
		return take_uint(arg, 0, 86400, &o->status_s, "bad --status-interval: %s", err,
				 errlen);
	case OPT_UDP_RATE:
		return take_uint(arg, 0, 1000000, &o->udp_rate, "bad --udp-rate: %s", err, errlen);
	case OPT_UDP_BURST:
		return take_uint(arg, 1, 1000000, &o->udp_burst, "bad --udp-burst: %s", err, errlen);
	case OPT_TLS_CERT:
		o->tls_cert = arg;
		return 0;
	case OPT_TLS_KEY:
		o->tls_key = arg;
		return 0;
	case OPT_TLS_PORT:
		return take_uint(arg, 1, 65535, &o->tls_port, "bad port: %s", err, errlen);
	case OPT_NO_STUNT:
		o->no_stunt = true;
		return 0;
	case OPT_NO_SPOOF:
		o->no_spoof = true;
		return 0;
	case OPT_EXTERNAL_IP:
		if (o->next >= 2) {
			snprintf(err, errlen, "--external-ip: at most one for each of the two addresses");
			return -EINVAL;
		}
		if (parse_external(arg, &o->ext[o->next], &o->ext_priv[o->next]) < 0) {
			snprintf(err, errlen, "bad --external-ip (PUBLIC or PUBLIC/PRIVATE): %s", arg);
			return -EINVAL;
		}
		o->next++;
		return 0;
	case OPT_CAPTURE_IF:
		o->capture_if = arg;
		return 0;
	case OPT_STUNT_AUTH:
		o->stunt_auth = true;
		return 0;
	case OPT_STUNT_RATE:
		return take_uint(arg, 1, 100000, &o->stunt_rate, "bad STUNT rate: %s", err, errlen);
	case OPT_STUNT_BURST:
		return take_uint(arg, 1, 100000, &o->stunt_burst, "bad STUNT rate: %s", err, errlen);
	case OPT_STUNT_GLOBAL:
		if (take_uint(arg, 1, 100000, &o->stunt_global, "bad STUNT rate: %s", err,
			      errlen) < 0)
			return -EINVAL;
		o->stunt_global_burst = o->stunt_global;
		return 0;
	case OPT_USER:
		o->user = arg;
		return 0;
	case OPT_KEEP_ROOT:
		o->keep_root = true;
		return 0;
	case OPT_SIG_RATE:
		return take_uint(arg, 0, 1000000, &o->sig_rate, "bad --signal-rate: %s", err,
				 errlen);
	case OPT_SIG_BURST:
		return take_uint(arg, 1, 1000000, &o->sig_burst, "bad --signal-burst: %s", err,
				 errlen);
	case OPT_METRICS:
		if (promhttp_parse_addr(arg, &o->metrics) < 0) {
			snprintf(err, errlen, "bad --metrics (ADDR:PORT, or [IPv6]:PORT): %s", arg);
			return -EINVAL;
		}
		o->have_metrics = true;
		return 0;
	case OPT_REDIS:
		if (parse_redis(arg, o->redis_host, &o->redis_port) < 0) {
			snprintf(err, errlen, "bad --redis (HOST:PORT): %s", arg);
			return -EINVAL;
		}
		o->redis = arg;
		return 0;
	case OPT_REDIS_PASS:
		o->redis_pass_file = arg;
		return 0;
	case OPT_REDIS_TTL:
		return take_uint(arg, 3, 3600, &o->redis_ttl, "bad --redis-ttl (3-3600 s): %s", err,
				 errlen);
	case OPT_SERVER_NAME:
		if (!srv_cluster_name_valid(arg, strlen(arg))) {
			snprintf(err, errlen,
				 "bad --server-name (1-64 printable bytes, no space): %s", arg);
			return -EINVAL;
		}
		o->server_name = arg;
		return 0;
	case 'd':
		o->foreground = 1;
		return 0;
	case 'v':
		o->verbose = 1;
		return 0;
	case OPT_HELP:
		return SRV_OPTS_HELP;
	case OPT_VERSION:
		return SRV_OPTS_VERSION;
	case OPT_LOG_LEVEL:
		if ((o->level = log_level_parse(arg)) < 0) {
			snprintf(err, errlen, "bad --log-level '%s' (error, warning, info or debug)",
				 arg);
			return -EINVAL;
		}
		return 0;
	case OPT_CONFIG:
		return 0;	/* read before: server/main.c */
	}
	return -EINVAL;
bad_addr:
	snprintf(err, errlen, "bad address: %s", arg);
	return -EINVAL;
}

int srv_opts_parse(struct srv_opts *o, int ac, char **av, char *err, size_t errlen, int *where)
{
	int ch, r;

	opterr = 0;
	optind = 0;	/* GNU getopt: start afresh */
	while ((ch = getopt_long(ac, av, ":dv", srv_longopts, NULL)) != -1) {
		*where = optind - 1;
		if (ch == '?' || ch == ':') {
			usage_getopt_msg(ch, optopt, optind > 0 ? av[optind - 1] : NULL, err, errlen);
			return -EINVAL;
		}
		if ((r = take(o, ch, optarg, err, errlen)) != 0)
			return r;
	}
	if (optind < ac) {
		*where = optind;
		snprintf(err, errlen, "unexpected argument: %s", av[optind]);
		return -EINVAL;
	}
	return 0;
}

int srv_opts_level(const struct srv_opts *o)
{
	return o->level >= 0 ? o->level : o->verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO;
}

void srv_opts_live(const struct srv_opts *o, struct srv_config *cfg)
{
	cfg->idle_s = o->idle_s;
	cfg->max_clients = o->max_clients;
	cfg->status_s = o->status_s;
	cfg->udp_rate = o->udp_rate;
	cfg->udp_burst = o->udp_burst;
	cfg->stunt.conn_rate = o->stunt_rate;
	cfg->stunt.conn_burst = o->stunt_burst;
	cfg->stunt.all_rate = o->stunt_global;
	cfg->stunt.all_burst = o->stunt_global_burst;
	cfg->sig_rate = o->sig_rate;
	cfg->sig_burst = o->sig_burst;
	cfg->secrets_path = o->secrets_path;
}

void srv_opts_take_live(struct srv_opts *run, const struct srv_opts *o)
{
	run->idle_s = o->idle_s;
	run->max_clients = o->max_clients;
	run->status_s = o->status_s;
	run->udp_rate = o->udp_rate;
	run->udp_burst = o->udp_burst;
	run->stunt_rate = o->stunt_rate;
	run->stunt_burst = o->stunt_burst;
	run->stunt_global = o->stunt_global;
	run->stunt_global_burst = o->stunt_global_burst;
	run->sig_rate = o->sig_rate;
	run->sig_burst = o->sig_burst;
	run->level = o->level;
	run->verbose = o->verbose;
	run->secrets_path = o->secrets_path;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool same_addrs(const struct stun_addr *a, const struct stun_addr *b, size_t n)
{
	return memcmp(a, b, n * sizeof(*a)) == 0;
}

/* Is option ch the same in a and b? *live: may it change while running?
 * The live ones are those srv_opts_take_live and srv_opts_live copy. */
static bool same(const struct srv_opts *a, const struct srv_opts *b, int ch, bool *live)
{
	*live = true;
	switch (ch) {
	case OPT_IDLE:		return a->idle_s == b->idle_s;
	case OPT_MAX_CLIENTS:	return a->max_clients == b->max_clients;
	case OPT_STATUS:	return a->status_s == b->status_s;
	case OPT_UDP_RATE:	return a->udp_rate == b->udp_rate;
	case OPT_UDP_BURST:	return a->udp_burst == b->udp_burst;
	case OPT_STUNT_RATE:	return a->stunt_rate == b->stunt_rate;
	case OPT_STUNT_BURST:	return a->stunt_burst == b->stunt_burst;
	case OPT_STUNT_GLOBAL:
		return a->stunt_global == b->stunt_global &&
		       a->stunt_global_burst == b->stunt_global_burst;
	case OPT_SIG_RATE:	return a->sig_rate == b->sig_rate;
	case OPT_SIG_BURST:	return a->sig_burst == b->sig_burst;
	case OPT_LOG_LEVEL:	return srv_opts_level(a) == srv_opts_level(b);
	case OPT_SECRETS:	return same_str(a->secrets_path, b->secrets_path);
	}
	*live = false;
	switch (ch) {
	case OPT_PRIMARY:
	case OPT_ALTERNATE:
		return a->have[ch - OPT_PRIMARY] == b->have[ch - OPT_PRIMARY] &&
		       same_addrs(&a->ip[ch - OPT_PRIMARY], &b->ip[ch - OPT_PRIMARY], 1);
	case OPT_PRIMARY6:
	case OPT_ALTERNATE6:
		return a->have6[ch - OPT_PRIMARY6] == b->have6[ch - OPT_PRIMARY6] &&
		       same_addrs(&a->ip6[ch - OPT_PRIMARY6], &b->ip6[ch - OPT_PRIMARY6], 1);
	case OPT_PORT:		return a->port == b->port;
	case OPT_ALT_PORT:	return a->alt_port == b->alt_port;
	case OPT_STATS:		return a->stats == b->stats;
	case OPT_SOFTWARE:	return same_str(a->software, b->software);
	case OPT_TLS_CERT:	return same_str(a->tls_cert, b->tls_cert);
	case OPT_TLS_KEY:	return same_str(a->tls_key, b->tls_key);
	case OPT_TLS_PORT:	return a->tls_port == b->tls_port;
	case OPT_NO_STUNT:	return a->no_stunt == b->no_stunt;
	case OPT_NO_SPOOF:	return a->no_spoof == b->no_spoof;
	case OPT_EXTERNAL_IP:
		return a->next == b->next && same_addrs(a->ext, b->ext, a->next) &&
		       same_addrs(a->ext_priv, b->ext_priv, a->next);
	case OPT_CAPTURE_IF:	return same_str(a->capture_if, b->capture_if);
	case OPT_STUNT_AUTH:	return a->stunt_auth == b->stunt_auth;
	case OPT_USER:		return same_str(a->user, b->user);
	case OPT_KEEP_ROOT:	return a->keep_root == b->keep_root;
	case OPT_METRICS:
		return a->have_metrics == b->have_metrics &&
		       (!a->have_metrics || (addr_sa_same_ip(&a->metrics, &b->metrics) &&
					     addr_sa_port(&a->metrics) == addr_sa_port(&b->metrics)));
	case OPT_REDIS:		return same_str(a->redis, b->redis);
	case OPT_REDIS_PASS:	return same_str(a->redis_pass_file, b->redis_pass_file);
	case OPT_REDIS_TTL:	return a->redis_ttl == b->redis_ttl;
	case OPT_SERVER_NAME:	return same_str(a->server_name, b->server_name);
	}
	return true;	/* --help, --version, --config: no value */
}

size_t srv_opts_diff(const struct srv_opts *a, const struct srv_opts *b,
		     struct srv_opts_change *out, size_t cap)
{
	const struct option *opt;
	size_t n = 0;
	bool live;

	for (opt = srv_longopts; opt->name && n < cap; opt++) {
		if (same(a, b, opt->val, &live))
			continue;
		out[n].name = opt->name;
		out[n].live = live;
		n++;
	}
	return n;
}
