// SPDX-License-Identifier: MIT
/*
 * stunt-server: STUN (RFC 8489 / 5780 / 3489) on two public addresses and
 * two ports, over UDP and TCP (and TLS), STUNT (SYN capture, test packets,
 * unsolicited-SYN probes) and rendezvous over TCP. Options and
 * start-up here; the loop is in server/loop.c, the answers in server/stun.c and
 * server/rdv.c.
 */
#include "server/loop.h"
#include "server/privdrop.h"
#include "server/server.h"
#include "server/secrets.h"
#include "server/stun.h"
#include "server/tls.h"
#include "common/log.h"
#include "common/usage.h"
#include "server/conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROG		"stunt-server"
#define VERSION		"0.1"

static void usage(FILE *f)
{
	fprintf(f,
"usage: " PROG " --primary IP [--alternate IP] [--port PORT] [--alt-port PORT]\n"
"                    [--external-ip PUBLIC[/PRIVATE]]... [--no-spoof]\n"
"                    [--secrets FILE] [-d] [-v] [--stats] [--software NAME]\n"
"                    [--idle-timeout SEC] [--max-clients N] [--status-interval SEC]\n"
"                    [--udp-rate N] [--udp-burst N] [--tls-cert FILE --tls-key FILE]\n"
"                    [--tls-port PORT] [--no-stunt] [--capture-if IFACE] [--stunt-auth]\n"
"                    [--stunt-rate N] [--stunt-burst N] [--stunt-global-rate N]\n"
"                    [--signal-rate N] [--signal-burst N] [--user NAME | --keep-root]\n"
"                    [--config FILE] [--log-level LEVEL]\n"
"       " PROG " --help | --version\n"
"\n"
"STUN server for NAT behaviour discovery (RFC 8489, RFC 5780, RFC 3489 classic\n"
"clients) over UDP and TCP on both addresses and both ports, and rendezvous\n"
"(register with an HMAC credential, relay between registered peers) over TCP;\n"
"STUNT over TCP: capture of a client's SYN (libpcap), test SYN / SYN-ACK and\n"
"unsolicited-SYN probes (raw socket), only toward the asking client.\n"
"\n"
"  --primary IP          primary address (IPv4 or IPv6)\n"
"  --alternate IP        alternate address, same family (CHANGE-REQUEST \"change IP\",\n"
"                        OTHER-ADDRESS). Without it the server has one address:\n"
"                        no OTHER-ADDRESS, 420 to a CHANGE-REQUEST for another\n"
"                        IP (RFC 5780 6), change port still from --alt-port\n"
"  --external-ip PUBLIC[/PRIVATE]\n"
"                        behind a 1:1 NAT: PUBLIC is what clients reach for the\n"
"                        local address PRIVATE (default: --primary), and the\n"
"                        address responses name; once for each address\n"
"  --no-spoof            the provider drops packets with foreign sources: no\n"
"                        STUNT #1 (spoofed SYN-ACKs; SYNACK and SEND-PACKET\n"
"                        with a peer's source get an error, other methods run)\n"
"  --port PORT           primary port (default %d)\n"
"  --alt-port PORT       alternate port (default %d)\n"
"  --secrets FILE        rendezvous peers: one \"ID SECRET\" per line, '#'\n"
"                        comments; without it no id registers. Read as the\n"
"                        run-as user (see --user), at start and on SIGHUP: it\n"
"                        must be readable by that user and by no group or\n"
"                        others (chmod 600), else the server refuses to start\n"
"                        (at SIGHUP: keeps the ids it has). SIGHUP closes the\n"
"                        registrations of ids removed or whose secret changed\n"
"  -d                    stay in the foreground and log to stderr\n"
"  -v                    log debug messages too\n"
"  --log-level LEVEL     error, warning, info (default) or debug\n"
"  --config FILE         options from FILE, one a line without the dashes\n"
"                        ('primary 192.0.2.1', 'keep-root on'), '#' comments;\n"
"                        the command line's override them\n"
"  --stats               print the counters as one JSON line on stdout at exit\n"
"                        and on SIGUSR1 (SIGUSR1 always logs them)\n"
"  --software NAME       send a SOFTWARE attribute (at most %d bytes; default none)\n"
"  --idle-timeout SEC    close TCP clients idle this long (default %d)\n"
"  --max-clients N       TCP clients at once (default %d): beyond, the quietest\n"
"                        unauthenticated one is closed, else the new one\n"
"  --status-interval SEC log a status line with the counters this often,\n"
"                        0 for never (default %d)\n"
"  --udp-rate N          UDP answers per second to one source IP, 0 for no\n"
"                        limit (default %d); more are dropped and counted\n"
"  --udp-burst N         ... allowing bursts of N (default %d)\n"
"  --tls-cert FILE       certificate chain (PEM): also listen for TLS on\n"
"  --tls-key FILE        --tls-port of both addresses, with this key (PEM)\n"
"  --tls-port PORT       TLS port (default %d); plain TCP stays on the others\n"
"  --no-stunt            no raw socket and no capture: STUNT requests get 500\n"
"  --capture-if IFACE    capture SYNs on IFACE (default: the interface of\n"
"                        --primary, else \"any\")\n"
"  --stunt-auth          STUNT only for connections authenticated through\n"
"                        rendezvous (default: any TCP connection)\n"
"  --stunt-rate N        packets per second one connection may have sent\n"
"                        (default %d, bursts of --stunt-burst, default %d)\n"
"  --stunt-burst N\n"
"  --stunt-global-rate N packets per second for all clients (default %d)\n"
"  --signal-rate N       EXCHANGE / SCHEDULE / RELAY one registered id may have\n"
"                        relayed per second (default %d), in bursts of\n"
"  --signal-burst N      N (default %d); more get 429 and are counted\n"
"  --user NAME           after opening every socket, the raw socket, the capture\n"
"                        and the TLS key, switch to this user and its group with\n"
"                        no capability left (default: %s)\n"
"  --keep-root           stay root with every capability (debugging only)\n"
"  --help                this text\n"
"  --version             print the version\n",
		SRV_PORT_DEFAULT, SRV_ALT_PORT_DEFAULT, SRV_SOFTWARE_MAX, SRV_IDLE_S_DEFAULT,
		SRV_MAX_CLIENTS_DEFAULT, SRV_STATUS_S_DEFAULT, SRV_UDP_RATE_DEFAULT,
		SRV_UDP_BURST_DEFAULT, SRV_TLS_PORT_DEFAULT, STUNT_RATE_CONN_DEFAULT,
		STUNT_BURST_CONN_DEFAULT, STUNT_RATE_ALL_DEFAULT, RDV_SIG_RATE_DEFAULT,
		RDV_SIG_BURST_DEFAULT, SRV_USER_DEFAULT);
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

enum {
	OPT_PRIMARY = 256, OPT_ALTERNATE, OPT_PORT, OPT_ALT_PORT, OPT_SECRETS, OPT_STATS,
	OPT_SOFTWARE, OPT_IDLE, OPT_MAX_CLIENTS, OPT_STATUS, OPT_HELP, OPT_VERSION, OPT_LOG_LEVEL,
	OPT_CONFIG,
	OPT_UDP_RATE, OPT_UDP_BURST, OPT_TLS_CERT, OPT_TLS_KEY, OPT_TLS_PORT, OPT_NO_STUNT,
	OPT_CAPTURE_IF, OPT_STUNT_AUTH, OPT_STUNT_RATE, OPT_STUNT_BURST, OPT_STUNT_GLOBAL,
	OPT_USER, OPT_KEEP_ROOT, OPT_SIG_RATE, OPT_SIG_BURST, OPT_EXTERNAL_IP, OPT_NO_SPOOF,
};

static const struct option longopts[] = {
	{ "primary",		required_argument, NULL, OPT_PRIMARY },
	{ "alternate",		required_argument, NULL, OPT_ALTERNATE },
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
	{ "help",		no_argument,	   NULL, OPT_HELP },
	{ "version",		no_argument,	   NULL, OPT_VERSION },
	{ "log-level",		required_argument, NULL, OPT_LOG_LEVEL },
	{ "config",		required_argument, NULL, OPT_CONFIG },
	{ NULL, 0, NULL, 0 },
};

/* while the config file's options are taken: the file and its lines */
static const char *s_conf_path;
static const struct srv_conf_args *s_conf;

static void __attribute__((noreturn)) bad_usage(const char *fmt, const char *arg)
{
	char msg[256];

	snprintf(msg, sizeof(msg), fmt, arg);
	/* a bad value in the config file: the file and its line, status 1 */
	if (s_conf && optind >= 1 && optind - 1 < s_conf->argc) {
		fprintf(stderr, PROG ": %s: line %u: %s\n", s_conf_path, s_conf->line[optind - 1],
			msg);
		exit(1);
	}
	usage_fail(PROG, "%s", msg);
}

/*
 * --config FILE: its directives as options (server/conf.c), taken before the
 * command line's. NULL without --config; exits 1 on a file it cannot use.
 */
static const struct srv_conf_args *read_config(int argc, char **argv)
{
	static const char *const refused[] = { "config", "help", "version", NULL };
	static struct srv_conf_args args;
	static char buf[64 * 1024];
	char err[400];
	ssize_t n;
	int ch, fd;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":dv", longopts, NULL)) != -1)
		if (ch == OPT_CONFIG)
			s_conf_path = optarg;
	optind = 0;	/* GNU getopt: start afresh */
	if (s_conf_path == NULL)
		return NULL;
	fd = open(s_conf_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, PROG ": %s: %s\n", s_conf_path, strerror(errno));
		exit(1);
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0 || n == (ssize_t)sizeof(buf)) {
		fprintf(stderr, PROG ": %s: %s\n", s_conf_path,
			n < 0 ? strerror(errno) : "too big (at most 64 KiB)");
		exit(1);
	}
	if (srv_conf_args(buf, (size_t)n, longopts, refused, &args, err, sizeof(err)) < 0) {
		fprintf(stderr, PROG ": %s: %s\n", s_conf_path, err);
		exit(1);
	}
	return &args;
}

/* Everything privileged (binding, the raw socket, the capture handle, the
 * TLS key) is open by now: become user (NULL: the default) with no
 * capability left, unless keep_root. */
static void drop_privileges(const char *user, bool keep_root)
{
	const char *name = user ? user : SRV_USER_DEFAULT;
	uid_t uid;
	gid_t gid;
	int err;

	if (keep_root) {
		log_warnx("--keep-root: running as uid %u with its capabilities (debugging only)",
			  (unsigned)geteuid());
		return;
	}
	if (getuid() != 0 && geteuid() != 0) {
		if (user)
			fatalx("--user %s: not started as root, cannot switch user", user);
		if ((err = srv_privdrop_caps()) < 0)
			fatalx("dropping capabilities: %s", strerror(-err));
		log_info("not started as root: running as uid %u, no capabilities",
			 (unsigned)getuid());
		return;
	}
	if ((err = srv_privdrop_lookup(name, &uid, &gid)) < 0)
		fatalx("user %s: %s (choose one with --user NAME, or --keep-root)", name,
		       err == -EPERM ? "is root, no drop" :
		       err == -ENOENT ? "no such user" : strerror(-err));
	if ((err = srv_privdrop_user(uid, gid)) < 0)
		fatalx("switching to user %s: %s", name, strerror(-err));
	log_info("running as %s (uid %u, gid %u), no capabilities", name, (unsigned)uid,
		 (unsigned)gid);
}

/* --external-ip PUBLIC[/PRIVATE] as coturn takes it: into ext[n] (public)
 * and priv[n] (family 0: the primary address). */
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

static bool same_ip(const struct stun_addr *a, const struct stun_addr *b)
{
	return a->family == b->family && memcmp(a->ip, b->ip, sizeof(a->ip)) == 0;
}

/* What this server can answer, for whoever reads the log: one address or
 * two, the public addresses it names, STUNT #1 on or off. */
static void log_server_shape(const struct srv_config *cfg)
{
	char a[80], b[80];
	unsigned i;

	if (cfg->one_addr)
		log_info("one address: no OTHER-ADDRESS, CHANGE-REQUEST change IP answered 420 "
			 "(RFC 5780 6); change port from the second port");
	else
		log_info("two addresses: RFC 5780 behaviour discovery (OTHER-ADDRESS, "
			 "CHANGE-REQUEST)");
	for (i = 0; i < (cfg->one_addr ? 1u : 2u); i++)
		if (memcmp(&cfg->pub[i][0], &cfg->addr[i][0], sizeof(cfg->pub[i][0])))
			log_info("external address %s for local %s (1:1 NAT)",
				 srv_loop_addr_str(&cfg->pub[i][0], a, sizeof(a)),
				 srv_loop_addr_str(&cfg->addr[i][0], b, sizeof(b)));
	if (cfg->no_stunt)
		log_info("STUNT off (--no-stunt)");
	else if (cfg->no_spoof)
		log_info("STUNT #1 off (--no-spoof): no spoofed SYN-ACKs, SYNACK requests refused");
	else
		log_info("STUNT #1 on: spoofed SYN-ACKs (needs a provider that does not filter "
			 "spoofed sources; --no-spoof if it does)");
}

int main(int argc, char **argv)
{
	static struct srv_config cfg;
	struct stun_addr ip[2], ext[2], ext_priv[2];
	unsigned next = 0;
	bool have[2] = { false, false };
	unsigned long port = SRV_PORT_DEFAULT, alt_port = SRV_ALT_PORT_DEFAULT, v;
	int foreground = 0, verbose = 0, level = -1, ch, err, ac;
	char **av;
	const char *user = NULL;
	bool keep_root = false;
	unsigned i, j, k;

	cfg.idle_s = SRV_IDLE_S_DEFAULT;
	cfg.max_clients = SRV_MAX_CLIENTS_DEFAULT;
	cfg.status_s = SRV_STATUS_S_DEFAULT;
	cfg.udp_rate = SRV_UDP_RATE_DEFAULT;
	cfg.udp_burst = SRV_UDP_BURST_DEFAULT;
	cfg.tls_port = SRV_TLS_PORT_DEFAULT;
	cfg.stunt.conn_rate = STUNT_RATE_CONN_DEFAULT;
	cfg.stunt.conn_burst = STUNT_BURST_CONN_DEFAULT;
	cfg.stunt.all_rate = STUNT_RATE_ALL_DEFAULT;
	cfg.stunt.all_burst = STUNT_BURST_ALL_DEFAULT;
	cfg.sig_rate = RDV_SIG_RATE_DEFAULT;
	cfg.sig_burst = RDV_SIG_BURST_DEFAULT;
	/* the config file's options first, then the command line's */
	s_conf = read_config(argc, argv);
	av = s_conf ? (char **)s_conf->argv : argv;
	ac = s_conf ? s_conf->argc : argc;
	opterr = 0;
again:
	while ((ch = getopt_long(ac, av, ":dv", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_PRIMARY:
		case OPT_ALTERNATE:
			if (parse_ip(optarg, &ip[ch - OPT_PRIMARY]) < 0)
				bad_usage("bad address: %s", optarg);
			have[ch - OPT_PRIMARY] = true;
			break;
		case OPT_PORT:
			if (parse_uint(optarg, 1, 65535, &port) < 0)
				bad_usage("bad port: %s", optarg);
			break;
		case OPT_ALT_PORT:
			if (parse_uint(optarg, 1, 65535, &alt_port) < 0)
				bad_usage("bad port: %s", optarg);
			break;
		case OPT_SECRETS:
			cfg.secrets_path = optarg;
			break;
		case OPT_STATS:
			cfg.stats = true;
			break;
		case OPT_SOFTWARE:
			if (strlen(optarg) > SRV_SOFTWARE_MAX)
				bad_usage("--software: longer than 64 bytes: %s", optarg);
			cfg.software = optarg;
			break;
		case OPT_IDLE:
			if (parse_uint(optarg, 1, 86400, &v) < 0)
				bad_usage("bad --idle-timeout: %s", optarg);
			cfg.idle_s = (unsigned)v;
			break;
		case OPT_MAX_CLIENTS:
			if (parse_uint(optarg, 1, 1000000, &v) < 0)
				bad_usage("bad --max-clients: %s", optarg);
			cfg.max_clients = (unsigned)v;
			break;
		case OPT_STATUS:
			if (parse_uint(optarg, 0, 86400, &v) < 0)
				bad_usage("bad --status-interval: %s", optarg);
			cfg.status_s = (unsigned)v;
			break;
		case OPT_UDP_RATE:
			if (parse_uint(optarg, 0, 1000000, &v) < 0)
				bad_usage("bad --udp-rate: %s", optarg);
			cfg.udp_rate = (unsigned)v;
			break;
		case OPT_UDP_BURST:
			if (parse_uint(optarg, 1, 1000000, &v) < 0)
				bad_usage("bad --udp-burst: %s", optarg);
			cfg.udp_burst = (unsigned)v;
			break;
		case OPT_TLS_CERT:
			cfg.tls_cert = optarg;
			break;
		case OPT_TLS_KEY:
			cfg.tls_key = optarg;
			break;
		case OPT_TLS_PORT:
			if (parse_uint(optarg, 1, 65535, &v) < 0)
				bad_usage("bad port: %s", optarg);
			cfg.tls_port = (uint16_t)v;
			break;
		case OPT_NO_STUNT:
			cfg.no_stunt = true;
			break;
		case OPT_NO_SPOOF:
			cfg.no_spoof = true;
			break;
		case OPT_EXTERNAL_IP:
			if (next >= 2)
				bad_usage("%s", "--external-ip: at most one for each of the two addresses");
			if (parse_external(optarg, &ext[next], &ext_priv[next]) < 0)
				bad_usage("bad --external-ip (PUBLIC or PUBLIC/PRIVATE): %s", optarg);
			next++;
			break;
		case OPT_CAPTURE_IF:
			cfg.capture_if = optarg;
			break;
		case OPT_STUNT_AUTH:
			cfg.stunt.require_auth = true;
			break;
		case OPT_STUNT_RATE:
		case OPT_STUNT_BURST:
		case OPT_STUNT_GLOBAL:
			if (parse_uint(optarg, 1, 100000, &v) < 0)
				bad_usage("bad STUNT rate: %s", optarg);
			if (ch == OPT_STUNT_RATE)
				cfg.stunt.conn_rate = (unsigned)v;
			else if (ch == OPT_STUNT_BURST)
				cfg.stunt.conn_burst = (unsigned)v;
			else
				cfg.stunt.all_rate = cfg.stunt.all_burst = (unsigned)v;
			break;
		case OPT_USER:
			user = optarg;
			break;
		case OPT_KEEP_ROOT:
			keep_root = true;
			break;
		case OPT_SIG_RATE:
			if (parse_uint(optarg, 0, 1000000, &v) < 0)
				bad_usage("bad --signal-rate: %s", optarg);
			cfg.sig_rate = (unsigned)v;
			break;
		case OPT_SIG_BURST:
			if (parse_uint(optarg, 1, 1000000, &v) < 0)
				bad_usage("bad --signal-burst: %s", optarg);
			cfg.sig_burst = (unsigned)v;
			break;
		case 'd':
			foreground = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case OPT_HELP:
			usage(stdout);
			return 0;
		case OPT_LOG_LEVEL:
			level = log_level_parse(optarg);
			if (level < 0)
				bad_usage("bad --log-level '%s' (error, warning, info or debug)", optarg);
			break;
		case OPT_VERSION:
			printf(PROG " " VERSION "\n");
			return 0;
		case OPT_CONFIG:
			break;	/* read_config */
		default:
			usage_fail_getopt(PROG, ch, av);
		}
	}
	if (optind < ac)
		bad_usage("unexpected argument: %s", av[optind]);
	if (av != argv) {
		s_conf = NULL;
		av = argv;
		ac = argc;
		optind = 0;
		goto again;
	}
	if (!have[0])
		bad_usage("%s", "--primary is required");
	/* one address: the second row is the first again (server/loop.h) */
	cfg.one_addr = !have[1];
	if (cfg.one_addr)
		ip[1] = ip[0];
	if (ip[0].family != ip[1].family)
		bad_usage("%s", "--primary and --alternate must be of the same family");
	if (!cfg.one_addr && memcmp(ip[0].ip, ip[1].ip, sizeof(ip[0].ip)) == 0)
		bad_usage("%s", "--primary and --alternate must differ");
	if (port == alt_port)
		bad_usage("%s", "--port and --alt-port must differ");
	/* stunt-probe looks for a one-address server's second port there */
	if (!have[1] && alt_port != port + 1)
		fprintf(stderr, PROG ": warning: one address and --alt-port %lu, not --port + 1 "
			"(%lu): stunt-probe and stuntd will not find the second port\n", alt_port,
			port + 1);
	if (!cfg.tls_cert != !cfg.tls_key)
		bad_usage("%s", "--tls-cert and --tls-key go together");
	if (cfg.tls_cert && (cfg.tls_port == port || cfg.tls_port == alt_port))
		bad_usage("%s", "--tls-port must differ from --port and --alt-port");
	if (user && keep_root)
		bad_usage("%s", "--user and --keep-root exclude each other");

	log_init(PROG, foreground, level >= 0 ? level : verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	for (i = 0; i < 2; i++)
		for (j = 0; j < 2; j++) {
			cfg.addr[i][j] = ip[i];
			cfg.addr[i][j].port = (uint16_t)(j ? alt_port : port);
		}
	memcpy(cfg.pub, cfg.addr, sizeof(cfg.pub));
	for (k = 0; k < next; k++) {
		/* without PRIVATE: the primary address's */
		i = !ext_priv[k].family || same_ip(&ext_priv[k], &ip[0]) ? 0 :
		    same_ip(&ext_priv[k], &ip[1]) ? 1 : 2;
		if (i == 2)
			bad_usage("%s", "--external-ip: PRIVATE must be --primary or --alternate");
		if (ext[k].family != ip[0].family)
			bad_usage("%s", "--external-ip: PUBLIC must be of the family of --primary");
		for (j = 0; j < 2; j++) {
			cfg.pub[i][j] = ext[k];
			cfg.pub[i][j].port = cfg.addr[i][j].port;
			if (cfg.one_addr)
				cfg.pub[1][j] = cfg.pub[0][j];
		}
	}
	srv_loop_open(&cfg);
	drop_privileges(user, keep_root);
	/* read as the user that will re-read it on SIGHUP: a file that
	 * starts the server also reloads */
	if (cfg.secrets_path) {
		char why[PATH_MAX + 2048];

		if (srv_secrets_read(cfg.secrets_path, &cfg.secrets, why, sizeof(why)) < 0)
			fatalx("%s", why);
		log_info("%zu ids from %s", cfg.secrets.n, cfg.secrets_path);
	}
	if (!foreground && daemon(0, 0) < 0)
		fatal("daemon");
	log_info("started: %s, ports %lu and %lu, udp and tcp%s", argv[0], port, alt_port,
		 cfg.tls_cert ? ", tls" : "");
	log_server_shape(&cfg);
	err = srv_loop_run(&cfg);
	srv_secrets_free(&cfg.secrets);
	return err;
}
