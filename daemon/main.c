// SPDX-License-Identifier: MIT
/*
 * stuntd: the stunt daemon. Installs its NFQUEUE rules, discovers its NAT,
 * registers with stunt-server, serves the control socket and makes
 * traversals for stuntctl and for its peers. See stuntd(8).
 */
#include "daemon/stuntd.h"
#include "daemon/nfq.h"
#include "daemon/privdrop.h"

#include "common/clock.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/usage.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define STUNTD_VERSION "0.1"

static void on_signal(int sig)
{
	if (sig == SIGCHLD)
		d_sig_chld = 1;
	else if (sig == SIGHUP)
		d_sig_hup = 1;
	else
		d_sig_term = sig;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: stuntd --id ID --server HOST[:PORT] [--server HOST[:PORT] ...]\n"
"              --secret-file FILE [--control PATH]\n"
"              [--expose NAME=tcp:HOST:PORT | NAME=udp:HOST:PORT | NAME=exec:COMMAND ...]\n"
"              [--allow NAME=PEER[,PEER...] ...] [--config FILE] [-d] [-v]\n"
"              [--state-dir DIR] [--control-group GROUP] [--connect-timeout MS]\n"
"              [--no-rules] [--rules-tool PATH] [--user USER] [--no-privsep]\n"
"              [--tls (--tls-ca FILE | --tls-pin SHA256) [--server-name NAME]]\n"
"              [--turn HOST[:PORT] --turn-user USER --turn-pass-file FILE]\n"
"              [--log-level LEVEL]\n"
"              [--relay-servers IP[,IP...]] [--max-sessions N] [--max-peer-sessions N]\n"
"              [--max-peer-starts N] [--max-session-packets N] [--allow-forced-methods]\n"
"              [--host-candidates on|off] [--host-interfaces IFACE[,IFACE...]]\n"
"              [--ipv6 on|off] [--ipv6-hop-limit N|auto] [--server6 ADDR6]\n"
"              [--syn-pacing on|off]\n"
"              [--metrics ADDR:PORT]\n"
"  --id ID              our id at the server (its secrets file has 'ID SECRET')\n"
"  --server HOST[:PORT] stunt-server: a name (resolved at start and on each\n"
"                       reconnect), an IPv4 address or an IPv6 one ([ADDR]:PORT:\n"
"                       an IPv6-only host, simopen6 alone); port 3478 by default,\n"
"                       5349 with --tls. Up to 4, in order of preference:\n"
"                       failover to the next, back when the first returns\n"
"  --secret-file FILE   the secret alone on the first line; must not be readable\n"
"                       by group or others\n"
"  --control PATH       control socket (default " D_CONTROL_DEFAULT ";\n"
"                       /run/stunt/net-INODE/stuntd.sock in a network namespace\n"
"                       other than the host's)\n"
"  --control-group G    group allowed on the control socket besides root\n"
"  --expose NAME=TARGET service NAME: tcp:HOST:PORT (spliced), udp:HOST:PORT\n"
"                       (UDP sessions, forwarded) or exec:COMMAND (/bin/sh -c\n"
"                       COMMAND with the socket as stdin/stdout)\n"
"  --allow NAME=PEERS   peers (comma-separated ids) allowed to use service NAME\n"
"  --config FILE        config file (stuntd(8)); flags override it\n"
"  --state-dir DIR      rules state file lives here (default " D_STATE_DIR_DEFAULT ",\n"
"                       /run/stunt/net-INODE in another network namespace)\n"
"  --connect-timeout MS deadline of a whole connect (default %d)\n"
"  --no-rules           no NFQUEUE rules or queue: no TTL-limited SYNs, no RST\n"
"                       suppression (simultaneous open behind RST-answering NATs fails)\n"
"  --rules-tool PATH    stunt-rules (default: next to stuntd, in a build tree\n"
"                       tools/stunt-rules, else %s/stunt-rules)\n"
"  --user USER          the unprivileged process runs as USER (default " D_PRIVDROP_USER "\n"
"                       if it exists, else nobody); exec: services too\n"
"  --no-privsep         one process keeping root (debugging only)\n"
"  --tls                signalling over TLS; the server must pass --tls-ca,\n"
"                       --tls-pin or both (discovery still uses port 3478)\n"
"  --tls-ca FILE        CA bundle (PEM) the server's certificate must chain to,\n"
"                       issued for the server's IP or --server-name\n"
"  --tls-pin SHA256     SHA-256 (hex) of the server's SubjectPublicKeyInfo\n"
"  --server-name NAME   name the certificate must carry instead of the IP\n"
"  --turn HOST[:PORT]   TURN server (RFC 8656 with RFC 6062 TCP allocations, port\n"
"                       3478 by default; IPv4, [IPv6]:PORT or a name) for the\n"
"                       relay method, the last resort\n"
"  --turn-user USER, --turn-pass-file FILE  its long-term credentials, the\n"
"                       password alone on the file's first line (mode 600);\n"
"                       --turn-pass PASS works too but shows it in ps\n"
"  --relay-servers IP[,IP...]  TURN servers (IPv4 or IPv6) whose relayed\n"
"                       addresses a peer may name (besides --turn and --server)\n"
"  --max-sessions N     sessions at once, both roles; more are refused busy\n"
"                       (default %d)\n"
"  --max-peer-sessions N  a peer's sessions at once (default %d)\n"
"  --max-peer-starts N  a peer's session starts a minute (default %d)\n"
"  --max-session-packets N  SYNs, probes and punches of a session (default %d)\n"
"  --allow-forced-methods  run a method a peer forces even where the strategy\n"
"                       says it cannot work (labs and benchmarks only)\n"
"  --host-candidates on|off  offer this host's interface addresses to a peer\n"
"                       behind the same NAT (the host method; default on)\n"
"  --host-interfaces IFACE[,IFACE...]  only these interfaces' addresses\n"
"  --ipv6 on|off        offer this host's global IPv6 address and race a TCP\n"
"                       simultaneous open over IPv6 (simopen6; default on)\n"
"  --ipv6-hop-limit N|auto  simopen6 and udp6: the hop limit of the first SYN\n"
"                       or PUNCH (the side that sends first), past its own\n"
"                       firewall, short of the peer's (default auto: as\n"
"                       discovery measured it against the server over IPv6\n"
"                       -- server6, or an IPv6 server --, else %d)\n"
"  --server6 ADDR6      the server's IPv6 address, [ADDR] or [ADDR]:PORT (port\n"
"                       3478 by default): discovery asks it for our IPv6\n"
"                       address as the internet sees it, which simopen6 offers\n"
"                       behind an NPTv6 gateway (default: none, the host's own)\n"
"  --syn-pacing on|off  send an unanswered SYN again after 100 ms, 200, 400,\n"
"                       800 ms... (stunt1: ask for its SYN-ACK again) instead\n"
"                       of waiting for the kernel's 1 s timer (default on)\n"
"  --metrics ADDR:PORT  serve the counters in the Prometheus text format at\n"
"                       http://ADDR:PORT/metrics (IPv4; default: off)\n"
"  -d                   foreground, logs to stderr (else syslog)\n"
"  -v                   more log output (debug)\n"
"  --log-level LEVEL    error, warning, info (default) or debug\n"
"  --help, --version\n", D_CONNECT_TIMEOUT_MS_DEFAULT, paths_sbindir(), D_SESSIONS_DEFAULT, D_PEER_SESSIONS_DEFAULT,
		D_PEER_STARTS_DEFAULT, D_SESSION_PACKETS_DEFAULT, D_IPV6_HOPS_FALLBACK);
}

static void __attribute__((noreturn)) bad_usage(const char *fmt, const char *arg)
{
	char msg[512];

	snprintf(msg, sizeof(msg), fmt, arg);
	usage_fail("stuntd", "%s", msg);
}

static int read_file(const char *path, char *buf, size_t cap, size_t *len, bool secret)
{
	struct stat st;
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (secret && (st.st_mode & 077)) {
		close(fd);
		return -EPERM;
	}
	n = read(fd, buf, cap - 1);
	if (n < 0)
		goto fail;
	buf[n] = '\0';
	*len = (size_t)n;
	close(fd);
	return 0;
fail:
	err = -errno;
	close(fd);
	return err;
}

enum { O_ID = 256, O_SERVER, O_SECRET, O_CONTROL, O_GROUP, O_EXPOSE, O_ALLOW, O_CONFIG,
       O_STATE, O_TIMEOUT, O_NORULES, O_TOOL, O_HELP, O_VERSION, O_TLS, O_TLS_CA, O_TLS_PIN,
       O_SERVER_NAME, O_TURN, O_TURN_USER, O_TURN_PASS, O_USER, O_NOPRIVSEP, O_RELAY_SERVERS,
       O_PEER_SESSIONS, O_SESSIONS, O_PEER_STARTS, O_SESSION_PACKETS, O_ALLOW_FORCED, O_HOST_CAND,
       O_HOST_IFACES, O_TURN_PASS_FILE, O_LOG_LEVEL, O_SYN_PACING, O_METRICS, O_IPV6, O_IPV6_HOPS,
       O_SERVER6 };

static const struct option lopts[] = {
	{ "id", required_argument, NULL, O_ID },
	{ "server", required_argument, NULL, O_SERVER },
	{ "secret-file", required_argument, NULL, O_SECRET },
	{ "control", required_argument, NULL, O_CONTROL },
	{ "control-group", required_argument, NULL, O_GROUP },
	{ "expose", required_argument, NULL, O_EXPOSE },
	{ "allow", required_argument, NULL, O_ALLOW },
	{ "config", required_argument, NULL, O_CONFIG },
	{ "state-dir", required_argument, NULL, O_STATE },
	{ "connect-timeout", required_argument, NULL, O_TIMEOUT },
	{ "no-rules", no_argument, NULL, O_NORULES },
	{ "rules-tool", required_argument, NULL, O_TOOL },
	{ "tls", no_argument, NULL, O_TLS },
	{ "tls-ca", required_argument, NULL, O_TLS_CA },
	{ "tls-pin", required_argument, NULL, O_TLS_PIN },
	{ "server-name", required_argument, NULL, O_SERVER_NAME },
	{ "turn", required_argument, NULL, O_TURN },
	{ "turn-user", required_argument, NULL, O_TURN_USER },
	{ "turn-pass", required_argument, NULL, O_TURN_PASS },
	{ "turn-pass-file", required_argument, NULL, O_TURN_PASS_FILE },
	{ "log-level", required_argument, NULL, O_LOG_LEVEL },
	{ "user", required_argument, NULL, O_USER },
	{ "no-privsep", no_argument, NULL, O_NOPRIVSEP },
	{ "relay-servers", required_argument, NULL, O_RELAY_SERVERS },
	{ "max-peer-sessions", required_argument, NULL, O_PEER_SESSIONS },
	{ "max-sessions", required_argument, NULL, O_SESSIONS },
	{ "max-peer-starts", required_argument, NULL, O_PEER_STARTS },
	{ "max-session-packets", required_argument, NULL, O_SESSION_PACKETS },
	{ "allow-forced-methods", no_argument, NULL, O_ALLOW_FORCED },
	{ "host-candidates", required_argument, NULL, O_HOST_CAND },
	{ "host-interfaces", required_argument, NULL, O_HOST_IFACES },
	{ "syn-pacing", required_argument, NULL, O_SYN_PACING },
	{ "ipv6", required_argument, NULL, O_IPV6 },
	{ "ipv6-hop-limit", required_argument, NULL, O_IPV6_HOPS },
	{ "server6", required_argument, NULL, O_SERVER6 },
	{ "metrics", required_argument, NULL, O_METRICS },
	{ "help", no_argument, NULL, O_HELP },
	{ "version", no_argument, NULL, O_VERSION },
	{ NULL, 0, NULL, 0 },
};

static const char *flag_key(int c)
{
	switch (c) {
	case O_ID: return "id";
	case O_SERVER: return "server";
	case O_SECRET: return "secret-file";
	case O_CONTROL: return "control";
	case O_GROUP: return "control-group";
	case O_EXPOSE: return "expose";
	case O_ALLOW: return "allow";
	case O_STATE: return "state-dir";
	case O_TIMEOUT: return "connect-timeout";
	case O_TLS: return "tls";
	case O_TLS_CA: return "tls-ca";
	case O_TLS_PIN: return "tls-pin";
	case O_SERVER_NAME: return "server-name";
	case O_TURN: return "turn";
	case O_TURN_USER: return "turn-user";
	case O_TURN_PASS: return "turn-pass";
	case O_TURN_PASS_FILE: return "turn-pass-file";
	case O_LOG_LEVEL: return "log-level";
	case O_USER: return "user";
	case O_NOPRIVSEP: return "privsep";
	case O_RELAY_SERVERS: return "relay-servers";
	case O_PEER_SESSIONS: return "max-peer-sessions";
	case O_SESSIONS: return "max-sessions";
	case O_PEER_STARTS: return "max-peer-starts";
	case O_SESSION_PACKETS: return "max-session-packets";
	case O_ALLOW_FORCED: return "allow-forced-methods";
	case O_HOST_CAND: return "host-candidates";
	case O_HOST_IFACES: return "host-interfaces";
	case O_SYN_PACING: return "syn-pacing";
	case O_IPV6: return "ipv6";
	case O_IPV6_HOPS: return "ipv6-hop-limit";
	case O_SERVER6: return "server6";
	case O_METRICS: return "metrics";
	default: return NULL;
	}
}

/* a flag's value for d_config_set: the argument, or what the flag means */
static const char *flag_value(int c)
{
	return c == O_TLS || c == O_ALLOW_FORCED ? "on" : c == O_NOPRIVSEP ? "off" : optarg;
}

/* a flag into c: the first --server replaces the config file's server
 * lines, the later ones add to the list */
static int flag_set(struct d_config *c, int o, bool *servers_seen, char *err, size_t errlen)
{
	const char *key = flag_key(o);

	if (key == NULL)
		return 0;
	if (o == O_SERVER && !*servers_seen) {
		d_config_clear_servers(c);
		*servers_seen = true;
	}
	return d_config_set(c, key, flag_value(o), err, errlen);
}

/*
 * turn-pass-file: the password alone on its first line, from a file that
 * group and others cannot read (as --secret-file), into c->turn_pass.
 * SIGHUP runs unprivileged: an unchanged path keeps the password read at
 * start (running, NULL at start). 0 or -errno with the reason in err.
 */
static int load_turn_pass(struct d_config *c, const struct d_config *running, char *err,
			  size_t errlen)
{
	char buf[D_TURN_CRED_MAX * 2 + 8], pass[D_TURN_CRED_MAX * 2 + 8], why[160];
	size_t len;
	int e, n;

	if (!c->turn_pass_file[0])
		return 0;
	if (running && !strcmp(running->turn_pass_file, c->turn_pass_file)) {
		memcpy(c->turn_pass, running->turn_pass, sizeof(c->turn_pass));
		return 0;
	}
	e = read_file(c->turn_pass_file, buf, sizeof(buf), &len, true);
	if (e == -EPERM)
		snprintf(err, errlen, "turn-pass-file %s is readable by group or others: chmod 600 it",
			 c->turn_pass_file);
	else if (e < 0)
		snprintf(err, errlen, "turn-pass-file %s: %s", c->turn_pass_file, strerror(-e));
	if (e < 0)
		return e;
	n = d_secret_parse(buf, len, pass, sizeof(pass) - 1);
	explicit_bzero(buf, sizeof(buf));
	if (n > 0)
		pass[n] = '\0';
	e = n <= 0 ? -EINVAL : d_config_set(c, "turn-pass", pass, why, sizeof(why));
	explicit_bzero(pass, sizeof(pass));
	if (e < 0) {
		snprintf(err, errlen, "turn-pass-file %.120s: %.120s", c->turn_pass_file,
			 n <= 0 ? "no password on its first line" : why);
		return -EINVAL;
	}
	return 0;
}

/* control and state-dir not given: per network namespace (common/paths.h) */
static int netns_defaults(struct d_config *c, char *err, size_t errlen)
{
	char dir[PATHS_MAX];
	int e;

	e = paths_run_dir(dir, sizeof(dir));
	if (e == 0 && d_config_netns_defaults(c, dir) < 0)
		e = -ENAMETOOLONG;
	if (e < 0)
		snprintf(err, errlen, "the run directory of this network namespace: %s",
			 strerror(-e));
	return e;
}

/* what SIGHUP reads again: the config file, then the flags on top */
static int s_level;	/* the log level without log-level: info, or debug with -v */
static int s_argc;
static char **s_argv;
static const char *s_config;

/*
 * SIGHUP: a fresh configuration from the config file and the flags, as at
 * start, into c. 0, or -errno with the reason in err (the running
 * configuration is then kept).
 */
static int reread_config(struct d_config *c, char *err, size_t errlen)
{
	char buf[65536], why[256];
	size_t len;
	int o, e;
	bool servers_seen = false;

	d_config_init(c);
	if (s_config) {
		e = read_file(s_config, buf, sizeof(buf), &len, false);
		if (e < 0) {
			snprintf(err, errlen, "%s: %s", s_config, strerror(-e));
			return e;
		}
		if (d_config_parse(buf, len, c, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: %s", s_config, why);
			return -EINVAL;
		}
	}
	optind = 0;	/* GNU getopt: start afresh */
	opterr = 0;
	while ((o = getopt_long(s_argc, s_argv, ":dvh", lopts, NULL)) != -1) {
		if (flag_set(c, o, &servers_seen, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "--%s: %s", flag_key(o), why);
			return -EINVAL;
		}
	}
	if (d_config_finish(c, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s", why);
		return -EINVAL;
	}
	e = netns_defaults(c, err, errlen);
	if (e == 0)
		e = load_turn_pass(c, &g_d->cfg, err, errlen);
	if (e < 0)
		return e;
	return d_config_resolve(c, D_RESOLVE_ALL, err, errlen);
}

static void on_hup(void)
{
	static struct d_config fresh;
	char err[400];

	if (reread_config(&fresh, err, sizeof(err)) < 0) {
		log_warnx("SIGHUP: cannot re-read the configuration (%s): the running one is kept "
			  "unchanged", err);
		return;
	}
	log_info("SIGHUP: configuration re-read from %s", s_config ? s_config : "the flags alone");
	d_reload_apply(&fresh);
	if (fresh.log_level != g_d->cfg.log_level) {
		int lvl = fresh.log_level >= 0 ? fresh.log_level : s_level;

		/* said at the old level, so that it shows even when lowered */
		log_info("SIGHUP: log level %s", log_level_name(lvl));
		g_d->cfg.log_level = fresh.log_level;
		log_set_level(lvl);
	}
}

static void parse_args(int argc, char **argv, struct stuntd *d, int *verbose)
{
	const char *config = NULL;
	char buf[65536], err[256];
	size_t len;
	int c, e;
	bool servers_seen = false;

	/* first pass: the config file and the output options */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":dvh", lopts, NULL)) != -1) {
		if (c == O_CONFIG)
			config = optarg;
		else if (c == 'd')
			d->foreground = true;
		else if (c == 'v')
			(*verbose)++;
		else if (c == O_HELP || c == 'h') {
			usage(stdout);
			exit(0);
		} else if (c == O_VERSION) {
			printf("stuntd %s\n", STUNTD_VERSION);
			exit(0);
		} else if (c == '?' || c == ':')
			usage_fail_getopt("stuntd", c, argv);
	}
	d_config_init(&d->cfg);
	if (config) {
		e = read_file(config, buf, sizeof(buf), &len, false);
		if (e < 0) {
			fprintf(stderr, "stuntd: %s: %s\n", config, strerror(-e));
			exit(1);
		}
		if (d_config_parse(buf, len, &d->cfg, err, sizeof(err)) < 0) {
			fprintf(stderr, "stuntd: %s: %s\n", config, err);
			exit(1);
		}
	}
	/* second pass: flags override the file */
	optind = 1;
	while ((c = getopt_long(argc, argv, ":dvh", lopts, NULL)) != -1) {
		if (c == O_TURN_PASS)
			fprintf(stderr, "stuntd: warning: --turn-pass shows the password to every "
				"user (ps); use --turn-pass-file FILE ('turn-pass-file' in the "
				"config)\n");
		if (c == O_NORULES)
			d->no_rules = true;
		else if (c == O_TOOL)
			d->rules_tool = optarg;
		else if (flag_set(&d->cfg, c, &servers_seen, err, sizeof(err)) < 0)
			usage_fail("stuntd", "--%s: %s", flag_key(c), err);
	}
	if (optind < argc)
		bad_usage("unexpected argument '%s'", argv[optind]);
	s_argc = argc;
	s_argv = argv;
	s_config = config;
	if (d_config_finish(&d->cfg, err, sizeof(err)) < 0)
		bad_usage("%s", err);
	if (netns_defaults(&d->cfg, err, sizeof(err)) < 0 ||
	    load_turn_pass(&d->cfg, NULL, err, sizeof(err)) < 0 ||
	    d_config_resolve(&d->cfg, D_RESOLVE_ALL, err, sizeof(err)) < 0) {
		fprintf(stderr, "stuntd: %s\n", err);
		exit(1);
	}
}

/* the per-namespace run directory, when a default path lives in it */
static void make_run_dir(const struct stuntd *d)
{
	char dir[PATHS_MAX];

	if ((d->cfg.control_set && d->cfg.state_dir_set) || paths_run_dir(dir, sizeof(dir)) < 0 ||
	    !strcmp(dir, PATHS_RUN_BASE))
		return;
	if (mkdir(PATHS_RUN_BASE, 0755) < 0 && errno != EEXIST)
		log_warn("mkdir %s", PATHS_RUN_BASE);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		log_warn("mkdir %s", dir);
}

static void load_secret(struct stuntd *d)
{
	char buf[D_SECRET_MAX * 2];
	size_t len;
	int e, n;

	e = read_file(d->cfg.secret_file, buf, sizeof(buf), &len, true);
	if (e == -EPERM)
		fatalx("secret file %s is readable by group or others: chmod 600 it",
		       d->cfg.secret_file);
	if (e < 0)
		fatalx("secret file %s: %s", d->cfg.secret_file, strerror(-e));
	n = d_secret_parse(buf, len, d->secret, sizeof(d->secret));
	explicit_bzero(buf, sizeof(buf));
	if (n < 0)
		fatalx("secret file %s: no secret on its first line", d->cfg.secret_file);
	d->secret_len = (size_t)n;
}

static void on_nfq_event(struct nfq_engine *e, const struct nfq_event *ev, void *arg)
{
	(void)e;
	(void)arg;
	d_session_on_nfq_event(ev);
}

static void on_nfq(struct d_ev *ev, uint32_t events)
{
	(void)ev;
	(void)events;
	if (nfq_engine_dispatch(g_d->nfq) < 0)
		log_debug("queue: socket error");
}

/* privsep off: the queue and the rules in this process */
static void rules_up_local(struct stuntd *d)
{
	d_nfq_local_up(d, on_nfq_event);
	if (d->nfq == NULL)
		return;
	d->nfq_ev = (struct d_ev){ .fd = nfq_engine_fd(d->nfq), .cb = on_nfq };
	if (d_loop_add(&d->nfq_ev, EPOLLIN) < 0)
		fatal("epoll");
}

static void rules_down(struct stuntd *d)
{
	if (d->nfq)
		d_loop_del(&d->nfq_ev);
	d_nfq_down(d);
}

/* After the control socket is open: become the configured user, with no
 * capability left and no way to gain one. */
static void drop_privileges(struct stuntd *d)
{
	uid_t uid;
	gid_t gid;
	int err;

	err = d_privdrop_lookup(d->cfg.user, &uid, &gid);
	if (err < 0) {
		rules_down(d);
		fatalx("user '%s': %s", d->cfg.user[0] ? d->cfg.user : D_PRIVDROP_USER "/nobody",
		       err == -EPERM ? "is root" : strerror(-err));
	}
	err = d_privdrop_user(uid, gid);
	if (err < 0) {
		rules_down(d);
		fatalx("dropping privileges to uid %u: %s", (unsigned)uid, strerror(-err));
	}
	log_info("running as uid %u gid %u, no capabilities; the queue and rules are in pid %d",
		 (unsigned)uid, (unsigned)gid, (int)d_nfq_priv_pid());
}

/* Descriptors for max-sessions sessions: each holds a socket per method it
 * races (a predict window 16) and its hand-off two more; 1024, the usual
 * soft limit, is reached near 100 sessions. Raise the soft limit towards
 * the hard one (at most D_NOFILE_WANT); a failure only costs capacity. */
#define D_NOFILE_WANT	65536

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= D_NOFILE_WANT)
		return;
	rl.rlim_cur = rl.rlim_max < D_NOFILE_WANT ? rl.rlim_max : D_NOFILE_WANT;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		log_warnx("cannot raise the descriptor limit to %llu: %s",
			  (unsigned long long)rl.rlim_cur, strerror(errno));
}

int main(int argc, char **argv)
{
	static struct stuntd d;
	struct sigaction sa;
	int verbose = 0;
	uint64_t now;
	char err[256];

	g_d = &d;
	d.cev.fd = -1;
	d.cur = -1;
	parse_args(argc, argv, &d, &verbose);
	s_level = LOG_LVL_INFO + verbose > LOG_LVL_DEBUG ? LOG_LVL_DEBUG : LOG_LVL_INFO + verbose;
	log_init("stuntd", d.foreground, d.cfg.log_level >= 0 ? d.cfg.log_level : s_level);
	load_secret(&d);
	raise_nofile();
	if (d_sig_tls_init(err, sizeof(err)) < 0)
		fatalx("TLS: %s", err);
	d.start_ms = clock_ms();

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (d_loop_init() < 0)
		fatal("epoll");
	if (d.cfg.privsep && geteuid() != 0) {
		log_warnx("not root: nothing to separate, one process");
		d.cfg.privsep = false;
	}
	make_run_dir(&d);
	if (d.cfg.privsep)
		d_priv_start(&d);	/* the queue and rules: a privileged process of their own */
	else
		rules_up_local(&d);
	if (d_control_open() < 0) {
		rules_down(&d);
		fatalx("cannot open the control socket %s", d.cfg.control);
	}
	if (d_metrics_open(err, sizeof(err)) < 0) {
		d_control_close();
		rules_down(&d);
		fatalx("%s", err);
	}
	if (d.cfg.privsep)
		drop_privileges(&d);
	(void)d_discovery_run();
	log_info("stuntd %s: id %s, %zu service(s) exposed", STUNTD_VERSION, d.cfg.id,
		 d.cfg.nexpose);

	while (!d_sig_term) {
		now = clock_ms();
		d_sig_tick(now);
		d_session_tick(now);
		d_nfq_tick(now);
		d_metrics_tick(now);
		d_relayhc_tick(now);
		if (d_sig_chld) {
			d_sig_chld = 0;
			d_handoff_reap();
		}
		if (d_sig_hup) {
			d_sig_hup = 0;
			on_hup();
			log_info("SIGHUP: discovery again");
			(void)d_discovery_run();
		}
		if (d_loop_run_once(d_session_wait_ms()) < 0)
			log_warn("epoll_wait");
	}
	log_info("signal %d: stopping", (int)d_sig_term);
	d_session_shutdown();
	d_handoff_shutdown();
	d_control_close();
	d_metrics_close();
	d_sig_close("stopping");
	rules_down(&d);
	d_sig_tls_fini();
	explicit_bzero(d.secret, sizeof(d.secret));
	log_info("stopped");
	return d_nfq_remote_lost() ? 1 : 0;
}
