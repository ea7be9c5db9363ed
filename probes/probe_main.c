// SPDX-License-Identifier: MIT
/*
 * stunt-probe: measure the local NAT's behaviour for UDP and TCP against a
 * stunt-server and say which traversal methods will work. Options and
 * output here; the measuring is the probe library (probes/probe_*.c).
 */
#include "common/addr.h"
#include "common/resolve.h"
#include "common/usage.h"
#include "probes/probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROG	"stunt-probe"
#define VERSION	"0.1"

/* Exit codes (stunt-probe(1)). */
#define EXIT_OK			0
#define EXIT_ERROR		1
#define EXIT_USAGE		2
#define EXIT_UNREACHABLE	3

static void usage(FILE *f)
{
	fprintf(f,
"usage: " PROG " --server HOST[:PORT] [--server6 ADDR6] [--json] [--udp-only | --tcp-only]\n"
"                   (or --server6 ADDR6 alone: IPv6 only)\n"
"                   [--timeout MS] [--pcap FILE] [--no-portmap] [--no-ttl] [-v]\n"
"       " PROG " --help | --version\n"
"\n"
"Measure how the NAT(s) in front of this host map, filter and allocate ports\n"
"for UDP and TCP, how they answer an unsolicited SYN, whether they rewrite TCP\n"
"sequence numbers, how many hops away the outermost one is, and whether\n"
"UPnP-IGD, NAT-PMP or PCP can map a port; then list the traversal methods\n"
"that can work from here. All tests run at once.\n"
"\n"
"  --server HOST[:PORT]  stunt-server (or any RFC 5780 STUN server, for UDP);\n"
"                        port 3478 by default. An IPv6 address (2001:db8::1 or\n"
"                        [2001:db8::1]:PORT), or a name with only an IPv6 one,\n"
"                        measures IPv6 alone, as --server6 does (an IPv6-only\n"
"                        host: nothing of IPv4 is measured)\n"
"  --server6 ADDR6       also measure IPv6 against the server's IPv6 address\n"
"                        (2001:db8::1, [2001:db8::1] or [2001:db8::1]:PORT; the\n"
"                        port of --server by default): translation (NAT66,\n"
"                        NPTv6), UDP mapping and filtering, the TCP mapped address,\n"
"                        TCP filtering and the answer to an unsolicited SYN\n"
"  --json                print one JSON object (docs/probe.md) instead of words\n"
"  --udp-only            UDP tests only (and port mapping)\n"
"  --tcp-only            TCP tests only (and port mapping, hop count)\n"
"  --timeout MS          bound on the whole run (default %d)\n"
"  --pcap FILE           write a capture of the probe's traffic with the server\n"
"                        (default-route interface; needs root)\n"
"  --no-portmap          skip UPnP-IGD, NAT-PMP and PCP\n"
"  --no-ttl              skip the hop counts (TTL- and hop-limited SYNs)\n"
"  -v                    more detail on standard error\n"
"  --help                this text\n"
"  --version             print the version\n"
"\n"
"The report starts with a one-line verdict (direct connections: likely, need\n"
"help or relay only) and ends with the methods, one sentence each. When ICMP\n"
"or a refused connection says the server cannot be reached, it gives up at once.\n"
"At a terminal, a run over a second shows its progress on standard error.\n"
"\n"
"Exit status: 0 measured, 1 error, 2 usage, 3 server unreachable (no answer,\n"
"ICMP unreachable, connection refused, or its name does not resolve).\n"
"Without root the hop count, sequence-number test and --pcap are skipped\n"
"(and said so); everything else runs.\n",
		PROBE_TIMEOUT_MS_DEFAULT);
}

/* --server as IPv4: HOST[:PORT], a name resolved to its IPv4 address */
static int parse_server4(const char *arg, struct probe_cfg *cfg)
{
	char host[256], *colon, *end;
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_DGRAM }, *res = NULL;
	unsigned long port = cfg->server_port;

	if (strlen(arg) >= sizeof(host))
		return -EINVAL;
	strcpy(host, arg);
	if ((colon = strrchr(host, ':'))) {
		*colon = '\0';
		errno = 0;
		port = strtoul(colon + 1, &end, 10);
		if (errno || *end || !colon[1] || port == 0 || port > 65535)
			return -EINVAL;
	}
	if (!host[0] || getaddrinfo(host, NULL, &hints, &res) != 0 || !res)
		return -ENOENT;
	cfg->server_ip = ((struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr;
	cfg->server_port = (uint16_t)port;
	freeaddrinfo(res);
	return 0;
}

/* --server: an IPv6 address, or a name with an IPv6 address only, makes
 * the run IPv6 only (cfg->ipv6_only, the address as server6) */
static int parse_server(const char *arg, struct probe_cfg *cfg)
{
	union addr_sa a;
	char host[256], why[128];
	uint16_t port;
	int e;

	if (addr_parse_ipv6(arg, cfg->server_port, &cfg->server6) == 0) {
		cfg->server6_set = cfg->ipv6_only = true;
		return 0;
	}
	if ((e = parse_server4(arg, cfg)) != -ENOENT)
		return e;
	/* no IPv4 address: an IPv6 one? */
	if (resolve_split(arg, cfg->server_port, host, sizeof(host), &port) < 0 ||
	    resolve_remote(host, port, &a, why, sizeof(why)) < 0 || a.sa.sa_family != AF_INET6)
		return -ENOENT;
	cfg->server6 = a.in6;
	cfg->server6_set = cfg->ipv6_only = true;
	return 0;
}

int main(int argc, char **argv)
{
	enum { O_JSON = 256, O_UDP, O_TCP, O_TIMEOUT, O_PCAP, O_NOPM, O_NOTTL, O_HELP, O_VERSION, O_SERVER,
	       O_SERVER6 };
	static const struct option opts[] = {
		{ "server", required_argument, NULL, O_SERVER },
		{ "server6", required_argument, NULL, O_SERVER6 },
		{ "json", no_argument, NULL, O_JSON },
		{ "udp-only", no_argument, NULL, O_UDP },
		{ "tcp-only", no_argument, NULL, O_TCP },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "pcap", required_argument, NULL, O_PCAP },
		{ "no-portmap", no_argument, NULL, O_NOPM },
		{ "no-ttl", no_argument, NULL, O_NOTTL },
		{ "help", no_argument, NULL, O_HELP },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct probe_cfg cfg;
	struct probe_result *r;
	const char *server = NULL, *server6 = NULL;
	bool json = false, udp_only = false, tcp_only = false;
	char *end;
	unsigned long v;
	int o, ret;

	probe_cfg_init(&cfg);
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":v", opts, NULL)) != -1) {
		switch (o) {
		case O_SERVER: server = optarg; break;
		case O_SERVER6: server6 = optarg; break;
		case O_JSON: json = true; break;
		case O_UDP: udp_only = true; break;
		case O_TCP: tcp_only = true; break;
		case O_TIMEOUT:
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || v < 100 || v > 600000)
				return usage_err(PROG, "--timeout: 100 to 600000 milliseconds");
			cfg.timeout_ms = (unsigned)v;
			break;
		case O_PCAP: cfg.pcap_file = optarg; break;
		case O_NOPM: cfg.what &= ~(unsigned)PROBE_F_PORTMAP; break;
		case O_NOTTL: cfg.what &= ~(unsigned)PROBE_F_TTL; break;
		case 'v': cfg.verbose++; break;
		case O_HELP: usage(stdout); return EXIT_OK;
		case O_VERSION: printf(PROG " " VERSION "\n"); return EXIT_OK;
		default: return usage_err_getopt(PROG, o, argv);
		}
	}
	if (udp_only && tcp_only)
		return usage_err(PROG, "--udp-only and --tcp-only exclude each other");
	if (!server && !server6)
		return usage_err(PROG, "--server is required (or --server6 alone: IPv6 only)");
	if (optind != argc)
		return usage_err(PROG, "unexpected argument '%s'", argv[optind]);
	if (udp_only)
		cfg.what &= ~(unsigned)(PROBE_F_TCP | PROBE_F_TTL);
	if (tcp_only)
		cfg.what &= ~(unsigned)PROBE_F_UDP;
	if (server && (ret = parse_server(server, &cfg)) == -EINVAL)
		return usage_err(PROG, "--server %s: want HOST[:PORT], an IPv4 address or an IPv6 "
				 "one ([ADDR]:PORT)", server);
	if (server && ret < 0) {
		/* a name that does not resolve: the server cannot be reached */
		fprintf(stderr, PROG ": --server %s: cannot resolve to an address\n", server);
		return EXIT_UNREACHABLE;
	}
	if (cfg.ipv6_only && server6)
		return usage_err(PROG, "--server %s is IPv6: --server6 is then not needed", server);
	/* after --server: its port is the default; alone: IPv6 only */
	if (server6) {
		cfg.ipv6_only = server == NULL;
		if (addr_parse_ipv6(server6, cfg.server_port, &cfg.server6) < 0)
			return usage_err(PROG, "--server6 %s: want an IPv6 address, [ADDR] or [ADDR]:PORT",
					 server6);
		cfg.server6_set = true;
	}
	/* a person at a terminal is told the run goes on; never in JSON (a
	 * program reads it) nor with -v (its own lines) */
	cfg.progress = !json && !cfg.verbose && isatty(STDERR_FILENO);
	if (!(r = malloc(sizeof(*r)))) {
		fprintf(stderr, PROG ": out of memory\n");
		return EXIT_ERROR;
	}
	ret = probe_run(&cfg, r);
	if (r->unreachable[0])
		fprintf(stderr, PROG ": %s\n", r->unreachable);
	if (ret < 0 && ret != -EHOSTUNREACH) {
		fprintf(stderr, PROG ": %s\n", strerror(-ret));
		free(r);
		return EXIT_ERROR;
	}
	if (json)
		probe_report_json(stdout, r);
	else
		probe_report_human(stdout, r);
	fflush(stdout);
	free(r);
	return ret == -EHOSTUNREACH ? EXIT_UNREACHABLE : EXIT_OK;
}
