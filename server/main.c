// SPDX-License-Identifier: MIT
/*
 * stunt-server: STUN (RFC 8489 / 5780 / 3489) on two public addresses and
 * two ports, over UDP and TCP (and TLS), STUNT (SYN capture, test packets,
 * unsolicited-SYN probes) and rendezvous over TCP. Options and
 * start-up here; the loop is in server/loop.c, the answers in server/stun.c and
 * server/rdv.c.
 */
#include "server/cluster.h"
#include "server/loop.h"
#include "server/privdrop.h"
#include "server/server.h"
#include "server/secrets.h"
#include "server/stun.h"
#include "server/tls.h"
#include "common/log.h"
#include "common/usage.h"
#include "server/opts.h"
#include "server/reload.h"


#include <errno.h>
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
"                    [--primary6 IPV6 [--alternate6 IPV6]]\n"
"                    [--external-ip PUBLIC[/PRIVATE]]... [--no-spoof]\n"
"                    [--secrets FILE] [-d] [-v] [--stats] [--software NAME]\n"
"                    [--idle-timeout SEC] [--max-clients N] [--status-interval SEC]\n"
"                    [--udp-rate N] [--udp-burst N] [--tls-cert FILE --tls-key FILE]\n"
"                    [--tls-port PORT] [--no-stunt] [--capture-if IFACE] [--stunt-auth]\n"
"                    [--stunt-rate N] [--stunt-burst N] [--stunt-global-rate N]\n"
"                    [--signal-rate N] [--signal-burst N] [--user NAME | --keep-root]\n"
"                    [--redis HOST:PORT [--redis-password-file FILE]\n"
"                     [--redis-ttl SEC] [--server-name NAME]]\n"
"                    [--config FILE] [--log-level LEVEL] [--metrics ADDR:PORT]\n"
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
"  --primary6 IPV6       also answer STUN (UDP and TCP, both ports) on this IPv6\n"
"                        address, with an IPv4 --primary ('2001:db8::1' or\n"
"                        '[2001:db8::1]'), signalling and TLS too; of STUNT\n"
"                        only unsolicited-SYN probes over IPv6\n"
"  --alternate6 IPV6     its alternate, as --alternate is --primary's\n"
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
"                        the command line's override them. Read again on\n"
"                        SIGHUP as the run-as user: limits, rates, log level,\n"
"                        status interval and secrets change at once, other\n"
"                        options changed are logged and need a restart\n"
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
"  --metrics ADDR:PORT   serve the counters in the Prometheus text format at\n"
"                        http://ADDR:PORT/metrics ([IPv6]:PORT too; default: off)\n"
"  --redis HOST:PORT     several servers as one rendezvous: registrations and\n"
"                        the signalling between peers of different servers go\n"
"                        through this Redis (port default %d). Without it the\n"
"                        server keeps everything in memory\n"
"  --redis-password-file FILE\n"
"                        AUTH with the first line of FILE: \"PASSWORD\" or\n"
"                        \"USER PASSWORD\" (an ACL user); read at start, as root\n"
"  --redis-ttl SEC       a registration lapses this long after its server last\n"
"                        refreshed it (default %d; the same on every server)\n"
"  --server-name NAME    this server in the cluster, unique (default: the\n"
"                        primary ip:port)\n"
"  --help                this text\n"
"  --version             print the version\n",
		SRV_PORT_DEFAULT, SRV_ALT_PORT_DEFAULT, SRV_SOFTWARE_MAX, SRV_IDLE_S_DEFAULT,
		SRV_MAX_CLIENTS_DEFAULT, SRV_STATUS_S_DEFAULT, SRV_UDP_RATE_DEFAULT,
		SRV_UDP_BURST_DEFAULT, SRV_TLS_PORT_DEFAULT, STUNT_RATE_CONN_DEFAULT,
		STUNT_BURST_CONN_DEFAULT, STUNT_RATE_ALL_DEFAULT, RDV_SIG_RATE_DEFAULT,
		RDV_SIG_BURST_DEFAULT, SRV_USER_DEFAULT, SRV_REDIS_PORT_DEFAULT,
		SRV_REDIS_TTL_DEFAULT);
}

/* An option the server cannot take: from the config file (the file and its
 * line, status 1) or from the command line (a usage error, status 2). */
static void __attribute__((noreturn)) bad_option(const char *conf_path,
						 const struct srv_conf_args *conf, int where,
						 const char *msg)
{
	if (conf && where >= 1 && where < conf->argc) {
		fprintf(stderr, PROG ": %s: line %u: %s\n", conf_path, conf->line[where], msg);
		exit(1);
	}
	usage_fail(PROG, "%s", msg);
}

/* The path of --config FILE on the command line, or NULL. */
static const char *config_path(int argc, char **argv)
{
	const char *path = NULL;
	const struct option *o;
	int ch, idx;

	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":dv", srv_longopts, &idx)) != -1) {
		o = ch >= 256 ? &srv_longopts[idx] : NULL;
		if (o && !strcmp(o->name, "config"))
			path = optarg;
	}
	return path;
}

/*
 * The options: --config FILE's directives first (server/reload.c), then
 * the command line's, into o. Exits on an error (the file's: its line,
 * status 1), and after --help or --version.
 */
static void take_options(struct srv_opts *o, int argc, char **argv, const char **conf_path)
{
	static struct srv_conf_args conf;	/* the strings of o point into it */
	char err[PATH_MAX + 512];
	int r = 0, where = 0;

	srv_opts_init(o);
	if ((*conf_path = config_path(argc, argv))) {
		if (srv_reload_read(*conf_path, &conf, err, sizeof(err)) < 0) {
			fprintf(stderr, PROG ": %s\n", err);
			exit(1);
		}
		r = srv_opts_parse(o, conf.argc, conf.argv, err, sizeof(err), &where);
		if (r < 0)
			bad_option(*conf_path, &conf, where, err);
	}
	if (r == 0 && (r = srv_opts_parse(o, argc, argv, err, sizeof(err), &where)) < 0)
		bad_option(NULL, NULL, 0, err);
	if (r == SRV_OPTS_HELP) {
		usage(stdout);
		exit(0);
	}
	if (r == SRV_OPTS_VERSION) {
		printf(PROG " " VERSION "\n");
		exit(0);
	}
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
				 stun_addr_str(&cfg->pub[i][0], a, sizeof(a)),
				 stun_addr_str(&cfg->addr[i][0], b, sizeof(b)));
	if (cfg->have6)
		log_info("IPv6: %s, %s; STUN, signalling and TLS (of STUNT unsolicited-SYN "
			 "probes only)",
			 stun_addr_str(&cfg->addr6[0][0], a, sizeof(a)),
			 cfg->one_addr6 ? "one address" :
			 stun_addr_str(&cfg->addr6[1][0], b, sizeof(b)));
	if (cfg->no_stunt)
		log_info("STUNT off (--no-stunt)");
	else if (cfg->no_spoof)
		log_info("STUNT #1 off (--no-spoof): no spoofed SYN-ACKs, SYNACK requests refused");
	else
		log_info("STUNT #1 on: spoofed SYN-ACKs (needs a provider that does not filter "
			 "spoofed sources; --no-spoof if it does)");
}

/* --redis and its options into cfg; the password file is read now, as
 * root if started so (like the TLS key): it need not be readable by the
 * user the server becomes. */
static void take_redis(const struct srv_opts *o, struct srv_config *cfg)
{
	static char line[1024];
	char *sp, *end;
	FILE *f;

	cfg->redis_host = o->redis_host;
	cfg->redis_port = (uint16_t)o->redis_port;
	cfg->redis_ttl_s = o->redis_ttl;
	if (o->server_name)
		snprintf(cfg->server_name, sizeof(cfg->server_name), "%s", o->server_name);
	else
		stun_addr_str(&cfg->pub[0][0], cfg->server_name, sizeof(cfg->server_name));
	if (!o->redis_pass_file)
		return;
	if (!(f = fopen(o->redis_pass_file, "re")))
		fatal("--redis-password-file %s", o->redis_pass_file);
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	if (!line[0])
		fatalx("--redis-password-file %s: empty first line", o->redis_pass_file);
	/* "USER PASSWORD": an ACL user (Redis 6) */
	if ((sp = strchr(line, ' '))) {
		*sp = '\0';
		for (end = sp + 1; *end == ' '; end++)
			;
		if (!*end)
			fatalx("--redis-password-file %s: no password after the user",
			       o->redis_pass_file);
		cfg->redis_user = line;
		cfg->redis_pass = end;
	} else {
		cfg->redis_pass = line;
	}
}

int main(int argc, char **argv)
{
	static struct srv_config cfg;
	struct srv_opts o;
	struct stun_addr ip[2];
	const char *conf_path;
	int err;
	unsigned i, j, k;

	/* the config file's options first, then the command line's */
	take_options(&o, argc, argv, &conf_path);
	memcpy(ip, o.ip, sizeof(ip));	/* o stays as given: SIGHUP compares with it */
	if (!o.have[0])
		bad_option(NULL, NULL, 0, "--primary is required");
	/* one address: the second row is the first again (server/loop.h) */
	cfg.one_addr = !o.have[1];
	if (cfg.one_addr)
		ip[1] = ip[0];
	if (ip[0].family != ip[1].family)
		bad_option(NULL, NULL, 0, "--primary and --alternate must be of the same family");
	if (!cfg.one_addr && memcmp(ip[0].ip, ip[1].ip, sizeof(ip[0].ip)) == 0)
		bad_option(NULL, NULL, 0, "--primary and --alternate must differ");
	if (o.have6[1] && !o.have6[0])
		bad_option(NULL, NULL, 0, "--alternate6 needs --primary6");
	if (o.have6[0] && ip[0].family != STUN_FAMILY_IPV4)
		bad_option(NULL, NULL, 0, "--primary6 needs an IPv4 --primary (an IPv6 --primary "
			   "serves IPv6 alone)");
	if (o.have6[1] && memcmp(o.ip6[0].ip, o.ip6[1].ip, sizeof(o.ip6[0].ip)) == 0)
		bad_option(NULL, NULL, 0, "--primary6 and --alternate6 must differ");
	if (o.port == o.alt_port)
		bad_option(NULL, NULL, 0, "--port and --alt-port must differ");
	/* stunt-probe looks for a one-address server's second port there */
	if (!o.have[1] && o.alt_port != o.port + 1)
		fprintf(stderr, PROG ": warning: one address and --alt-port %lu, not --port + 1 "
			"(%lu): stunt-probe and stuntd will not find the second port\n", o.alt_port,
			o.port + 1);
	if (!o.tls_cert != !o.tls_key)
		bad_option(NULL, NULL, 0, "--tls-cert and --tls-key go together");
	if (o.tls_cert && (o.tls_port == o.port || o.tls_port == o.alt_port))
		bad_option(NULL, NULL, 0, "--tls-port must differ from --port and --alt-port");
	if (o.user && o.keep_root)
		bad_option(NULL, NULL, 0, "--user and --keep-root exclude each other");
	if (!o.redis && (o.redis_pass_file || o.server_name))
		bad_option(NULL, NULL, 0, o.server_name ? "--server-name needs --redis" :
			   "--redis-password-file needs --redis");

	log_init(PROG, o.foreground, srv_opts_level(&o));
	srv_opts_live(&o, &cfg);
	cfg.software = o.software;
	cfg.stats = o.stats;
	cfg.tls_cert = o.tls_cert;
	cfg.tls_key = o.tls_key;
	cfg.tls_port = (uint16_t)o.tls_port;
	cfg.no_stunt = o.no_stunt;
	cfg.no_spoof = o.no_spoof;
	cfg.capture_if = o.capture_if;
	cfg.stunt.require_auth = o.stunt_auth;
	cfg.metrics = o.have_metrics ? &o.metrics : NULL;
	for (i = 0; i < 2; i++)
		for (j = 0; j < 2; j++) {
			cfg.addr[i][j] = ip[i];
			cfg.addr[i][j].port = (uint16_t)(j ? o.alt_port : o.port);
		}
	memcpy(cfg.pub, cfg.addr, sizeof(cfg.pub));
	/* the IPv6 rows: the same ports, no --external-ip (no NAT66 in
	 * front of a server) */
	cfg.have6 = o.have6[0];
	cfg.one_addr6 = !o.have6[1];
	for (i = 0; cfg.have6 && i < 2; i++)
		for (j = 0; j < 2; j++) {
			cfg.addr6[i][j] = o.ip6[cfg.one_addr6 ? 0 : i];
			cfg.addr6[i][j].port = (uint16_t)(j ? o.alt_port : o.port);
		}
	for (k = 0; k < o.next; k++) {
		/* without PRIVATE: the primary address's */
		i = !o.ext_priv[k].family || same_ip(&o.ext_priv[k], &ip[0]) ? 0 :
		    same_ip(&o.ext_priv[k], &ip[1]) ? 1 : 2;
		if (i == 2)
			bad_option(NULL, NULL, 0,
				   "--external-ip: PRIVATE must be --primary or --alternate");
		if (o.ext[k].family != ip[0].family)
			bad_option(NULL, NULL, 0,
				   "--external-ip: PUBLIC must be of the family of --primary");
		for (j = 0; j < 2; j++) {
			cfg.pub[i][j] = o.ext[k];
			cfg.pub[i][j].port = cfg.addr[i][j].port;
			if (cfg.one_addr)
				cfg.pub[1][j] = cfg.pub[0][j];
		}
	}
	if (o.redis)
		take_redis(&o, &cfg);
	srv_loop_open(&cfg);
	drop_privileges(o.user, o.keep_root);
	/* read as the user that will re-read it on SIGHUP: a file that
	 * starts the server also reloads */
	if (cfg.secrets_path) {
		char why[PATH_MAX + 2048];

		if (srv_secrets_read(cfg.secrets_path, &cfg.secrets, why, sizeof(why)) < 0)
			fatalx("%s", why);
		log_info("%zu ids from %s", cfg.secrets.n, cfg.secrets_path);
	}
	/* SIGHUP reads the file again, with the command line after it */
	srv_reload_init(conf_path, argc, argv, &o);
	if (!o.foreground && daemon(0, 0) < 0)
		fatal("daemon");
	log_info("started: %s, ports %lu and %lu, udp and tcp%s", argv[0], o.port, o.alt_port,
		 cfg.tls_cert ? ", tls" : "");
	log_server_shape(&cfg);
	err = srv_loop_run(&cfg);
	srv_secrets_free(&cfg.secrets);
	return err;
}
