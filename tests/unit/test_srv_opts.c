// SPDX-License-Identifier: MIT
/* stunt-server's options (server/opts.c): parsed as at start and at
 * SIGHUP, and what a reload may change while running. */
#include "server/opts.h"
#include "server/cluster.h"
#include "common/log.h"
#include "tests/unit/tap.h"

#include <arpa/inet.h>
#include <errno.h>

/* av[] for getopt: writable strings, NULL-terminated */
#define ARGV(...)	((char *[]){ "stunt-server", __VA_ARGS__, NULL })
#define ARGC(...)	((int)(sizeof((char *[]){ "stunt-server", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(o, ...)	srv_opts_parse((o), ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), err, sizeof(err), &where)

static char err[200];
static int where;

static void a_flag_after_the_file_wins(void)
{
	struct srv_opts o;

	srv_opts_init(&o);
	CHECK_EQ(o.max_clients, SRV_MAX_CLIENTS_DEFAULT);
	CHECK_EQ(o.level, -1);
	/* the file's options, then the command line's */
	CHECK_EQ(PARSE(&o, "--primary=192.0.2.1", "--max-clients=5", "--udp-rate=7"), 0);
	CHECK_EQ(PARSE(&o, "--max-clients", "9", "-d"), 0);
	CHECK(o.have[0] && !o.have[1]);
	CHECK_EQ(o.max_clients, 9);
	CHECK_EQ(o.udp_rate, 7);
	CHECK_EQ(o.foreground, 1);
	/* --stunt-global-rate sets the global burst too */
	CHECK_EQ(o.stunt_global_burst, STUNT_BURST_ALL_DEFAULT);
	CHECK_EQ(PARSE(&o, "--stunt-global-rate=30"), 0);
	CHECK_EQ(o.stunt_global, 30);
	CHECK_EQ(o.stunt_global_burst, 30);
}

static void errors_say_which_option(void)
{
	struct srv_opts o;

	srv_opts_init(&o);
	CHECK_EQ(PARSE(&o, "--port=1", "--port=99999"), -EINVAL);
	CHECK(!strcmp(err, "bad port: 99999"));
	CHECK_EQ(where, 2);
	CHECK_EQ(PARSE(&o, "--max-clients=0"), -EINVAL);
	CHECK(!strcmp(err, "bad --max-clients: 0"));
	CHECK_EQ(where, 1);
	CHECK_EQ(PARSE(&o, "--log-level=loud"), -EINVAL);
	CHECK(strstr(err, "bad --log-level 'loud'") != NULL);
	CHECK_EQ(PARSE(&o, "--frob"), -EINVAL);
	CHECK(!strcmp(err, "unknown option '--frob'"));
	CHECK_EQ(PARSE(&o, "--port"), -EINVAL);
	CHECK(!strcmp(err, "option '--port' needs a value"));
	CHECK_EQ(PARSE(&o, "--port=1", "extra"), -EINVAL);
	CHECK(!strcmp(err, "unexpected argument: extra"));
	CHECK_EQ(where, 2);
	CHECK_EQ(PARSE(&o, "--external-ip=1.2.3.4", "--external-ip=1.2.3.5",
		       "--external-ip=1.2.3.6"), -EINVAL);
	CHECK(strstr(err, "at most one") != NULL);
	/* --metrics: an IPv4 address and a port, both */
	CHECK_EQ(PARSE(&o, "--metrics=127.0.0.1"), -EINVAL);
	CHECK(!strcmp(err, "bad --metrics (ADDR:PORT, or [IPv6]:PORT): 127.0.0.1"));
	CHECK_EQ(PARSE(&o, "--metrics=127.0.0.1:0"), -EINVAL);
	CHECK_EQ(PARSE(&o, "--metrics=localhost:9477"), -EINVAL);
	CHECK(!o.have_metrics);
	CHECK_EQ(PARSE(&o, "--metrics=10.0.0.1:9477"), 0);
	CHECK(o.have_metrics && ntohs(o.metrics.in.sin_port) == 9477 &&
	      ntohl(o.metrics.in.sin_addr.s_addr) == 0x0a000001);
	CHECK_EQ(PARSE(&o, "--metrics=[2001:db8::5]:9477"), 0);
	CHECK(o.have_metrics && o.metrics.sa.sa_family == AF_INET6 &&
	      ntohs(o.metrics.in6.sin6_port) == 9477);
	CHECK_EQ(PARSE(&o, "--metrics=2001:db8::5"), -EINVAL);
	CHECK_EQ(PARSE(&o, "--version", "--help"), SRV_OPTS_VERSION);
	CHECK_EQ(PARSE(&o, "--help"), SRV_OPTS_HELP);
}

static void live_or_restart(void)
{
	struct srv_opts a, b;
	struct srv_opts_change ch[SRV_OPTS_MAX_CHANGES];
	size_t n;

	srv_opts_init(&a);
	CHECK_EQ(PARSE(&a, "--primary=192.0.2.1", "--secrets=/s", "--external-ip=203.0.113.1"), 0);
	b = a;
	CHECK_EQ(srv_opts_diff(&a, &b, ch, SRV_OPTS_MAX_CHANGES), 0);
	/* the same values parsed again: the same options, other strings */
	srv_opts_init(&b);
	CHECK_EQ(PARSE(&b, "--primary=192.0.2.1", "--secrets=/s", "--external-ip=203.0.113.1"), 0);
	CHECK_EQ(srv_opts_diff(&a, &b, ch, SRV_OPTS_MAX_CHANGES), 0);
	CHECK_EQ(PARSE(&b, "--max-clients=2", "--port=4000", "--signal-rate=3",
		       "--log-level=debug", "--alternate=192.0.2.2", "--tls-cert=/c"), 0);
	n = srv_opts_diff(&a, &b, ch, SRV_OPTS_MAX_CHANGES);
	CHECK_EQ(n, 6);
	/* in srv_longopts' order */
	CHECK(n == 6 && !strcmp(ch[0].name, "alternate") && !ch[0].live);
	CHECK(n == 6 && !strcmp(ch[1].name, "port") && !ch[1].live);
	CHECK(n == 6 && !strcmp(ch[2].name, "max-clients") && ch[2].live);
	CHECK(n == 6 && !strcmp(ch[3].name, "tls-cert") && !ch[3].live);
	CHECK(n == 6 && !strcmp(ch[4].name, "signal-rate") && ch[4].live);
	CHECK(n == 6 && !strcmp(ch[5].name, "log-level") && ch[5].live);
	/* cap */
	CHECK_EQ(srv_opts_diff(&a, &b, ch, 2), 2);
	/* the secrets file taken out, the external address changed */
	srv_opts_init(&b);
	CHECK_EQ(PARSE(&b, "--primary=192.0.2.1", "--external-ip=203.0.113.2"), 0);
	n = srv_opts_diff(&a, &b, ch, SRV_OPTS_MAX_CHANGES);
	CHECK_EQ(n, 2);
	CHECK(n == 2 && !strcmp(ch[0].name, "secrets") && ch[0].live);
	CHECK(n == 2 && !strcmp(ch[1].name, "external-ip") && !ch[1].live);
	/* -v or --log-level debug: the same level, no change */
	srv_opts_init(&a);
	srv_opts_init(&b);
	CHECK_EQ(PARSE(&a, "-v"), 0);
	CHECK_EQ(PARSE(&b, "--log-level=debug"), 0);
	CHECK_EQ(srv_opts_level(&a), LOG_LVL_DEBUG);
	CHECK_EQ(srv_opts_diff(&a, &b, ch, SRV_OPTS_MAX_CHANGES), 0);
	/* --metrics added, or its port changed: a restart */
	CHECK_EQ(PARSE(&b, "--metrics=127.0.0.1:9477"), 0);
	n = srv_opts_diff(&a, &b, ch, SRV_OPTS_MAX_CHANGES);
	CHECK(n == 1 && !strcmp(ch[0].name, "metrics") && !ch[0].live);
	CHECK_EQ(PARSE(&a, "--metrics=127.0.0.1:9477"), 0);
	CHECK_EQ(srv_opts_diff(&a, &b, ch, SRV_OPTS_MAX_CHANGES), 0);
	CHECK_EQ(PARSE(&a, "--metrics=127.0.0.1:9478"), 0);
	CHECK_EQ(srv_opts_diff(&a, &b, ch, SRV_OPTS_MAX_CHANGES), 1);
}

static void take_live_keeps_the_rest(void)
{
	struct srv_opts run, o;
	struct srv_opts_change ch[SRV_OPTS_MAX_CHANGES];
	struct srv_config cfg;

	srv_opts_init(&run);
	CHECK_EQ(PARSE(&run, "--primary=192.0.2.1", "--port=3478"), 0);
	srv_opts_init(&o);
	CHECK_EQ(PARSE(&o, "--primary=192.0.2.9", "--port=4000", "--max-clients=3",
		       "--udp-burst=9", "--stunt-global-rate=11", "--status-interval=0",
		       "--secrets=/x"), 0);
	srv_opts_take_live(&run, &o);
	CHECK_EQ(run.port, 3478);
	CHECK_EQ(run.ip[0].ip[3], 1);
	CHECK_EQ(run.max_clients, 3);
	/* only what needs a restart is left to differ */
	CHECK_EQ(srv_opts_diff(&run, &o, ch, SRV_OPTS_MAX_CHANGES), 2);
	CHECK(!ch[0].live && !ch[1].live);
	memset(&cfg, 0, sizeof(cfg));
	srv_opts_live(&run, &cfg);
	CHECK_EQ(cfg.max_clients, 3);
	CHECK_EQ(cfg.udp_burst, 9);
	CHECK_EQ(cfg.stunt.all_rate, 11);
	CHECK_EQ(cfg.stunt.all_burst, 11);
	CHECK_EQ(cfg.status_s, 0);
	CHECK(cfg.secrets_path && !strcmp(cfg.secrets_path, "/x"));
	CHECK_EQ(cfg.addr[0][0].port, 0);	/* addresses are no live option */
}

static void redis_options(void)
{
	struct srv_opts o, b;
	struct srv_opts_change ch[SRV_OPTS_MAX_CHANGES];
	size_t n;

	srv_opts_init(&o);
	CHECK(!o.redis && o.redis_ttl == SRV_REDIS_TTL_DEFAULT);
	CHECK_EQ(PARSE(&o, "--redis=10.0.0.5:6380", "--redis-ttl=9", "--server-name=eu-1"), 0);
	CHECK(!strcmp(o.redis_host, "10.0.0.5") && o.redis_port == 6380);
	CHECK(o.redis_ttl == 9 && !strcmp(o.server_name, "eu-1"));
	CHECK_EQ(PARSE(&o, "--redis=redis.example"), 0);
	CHECK(!strcmp(o.redis_host, "redis.example") && o.redis_port == SRV_REDIS_PORT_DEFAULT);
	CHECK_EQ(PARSE(&o, "--redis=[2001:db8::5]:7000"), 0);
	CHECK(!strcmp(o.redis_host, "2001:db8::5") && o.redis_port == 7000);
	CHECK_EQ(PARSE(&o, "--redis=2001:db8::5"), 0);
	CHECK(!strcmp(o.redis_host, "2001:db8::5") && o.redis_port == SRV_REDIS_PORT_DEFAULT);
	CHECK_EQ(PARSE(&o, "--redis=h:0"), -EINVAL);
	CHECK(strstr(err, "bad --redis") != NULL);
	CHECK_EQ(PARSE(&o, "--redis=:6379"), -EINVAL);
	CHECK_EQ(PARSE(&o, "--redis=[::1]x"), -EINVAL);
	CHECK_EQ(PARSE(&o, "--redis=h:65536"), -EINVAL);
	CHECK_EQ(PARSE(&o, "--redis-ttl=2"), -EINVAL);
	CHECK_EQ(PARSE(&o, "--server-name=a b"), -EINVAL);
	CHECK(strstr(err, "bad --server-name") != NULL);
	/* the cluster is joined at start: a change needs a restart */
	srv_opts_init(&o);
	srv_opts_init(&b);
	CHECK_EQ(PARSE(&b, "--redis=h:1", "--redis-ttl=5"), 0);
	n = srv_opts_diff(&o, &b, ch, SRV_OPTS_MAX_CHANGES);
	CHECK_EQ(n, 2);
	CHECK(n == 2 && !strcmp(ch[0].name, "redis") && !ch[0].live);
	CHECK(n == 2 && !strcmp(ch[1].name, "redis-ttl") && !ch[1].live);
}

static void ipv6_addresses(void)
{
	struct srv_opts a, b;
	struct srv_opts_change ch[SRV_OPTS_MAX_CHANGES];
	uint8_t want[16];

	srv_opts_init(&a);
	/* bare and bracketed literals, as the config file's keys too */
	CHECK_EQ(PARSE(&a, "--primary=192.0.2.1", "--primary6=2001:db8::1",
		       "--alternate6", "[2001:db8::2]"), 0);
	CHECK(a.have6[0] && a.have6[1]);
	CHECK_EQ(a.ip6[0].family, STUN_FAMILY_IPV6);
	CHECK_EQ(a.ip6[0].port, 0);
	inet_pton(AF_INET6, "2001:db8::1", want);
	CHECK(!memcmp(a.ip6[0].ip, want, 16));
	inet_pton(AF_INET6, "2001:db8::2", want);
	CHECK(!memcmp(a.ip6[1].ip, want, 16));
	/* no port (--port is both families'), no IPv4, no zone */
	srv_opts_init(&b);
	CHECK_EQ(PARSE(&b, "--primary6=[2001:db8::1]:3478"), -EINVAL);
	CHECK(!strcmp(err, "bad IPv6 address (ADDR or [ADDR], no port): [2001:db8::1]:3478"));
	CHECK_EQ(PARSE(&b, "--primary6=192.0.2.1"), -EINVAL);
	CHECK_EQ(PARSE(&b, "--alternate6=fe80::1%eth0"), -EINVAL);
	CHECK(!b.have6[0] && !b.have6[1]);
	/* a change of either needs a restart */
	CHECK_EQ(PARSE(&b, "--primary=192.0.2.1", "--primary6=2001:db8::1",
		       "--alternate6=2001:db8::3"), 0);
	CHECK_EQ(srv_opts_diff(&a, &b, ch, SRV_OPTS_MAX_CHANGES), 1);
	CHECK(!strcmp(ch[0].name, "alternate6") && !ch[0].live);
}

int main(void)
{
	RUN(a_flag_after_the_file_wins);
	RUN(errors_say_which_option);
	RUN(live_or_restart);
	RUN(take_live_keeps_the_rest);
	RUN(redis_options);
	RUN(ipv6_addresses);
	return TAP_DONE();
}
