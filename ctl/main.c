// SPDX-License-Identifier: MIT
/*
 * stuntctl: the control CLI of stuntd (docs/control.md, docs/man/stuntctl.1).
 *
 *   status [--json]      what the daemon knows about its NAT, server, sessions
 *   peers [--json]       the peers it may talk to and whether they are online
 *   connect PEER/NAME    a traversed socket: stdin/stdout, a command, or --json
 *   forward [ADDR:]PORT PEER/NAME   a local listener, one traversal per client
 *   forward --udp [ADDR:]PORT PEER/NAME   a local UDP port, one UDP traversal
 *                        per client source address (ctl/udpfwd.c)
 *   genkey [--raw] [ID]  a 256-bit secret for both secrets files (ctl/genkey.c)
 *
 * Exit codes: 0 ok, 1 the connection or request failed, 2 usage,
 * 3 stuntd is not running.
 *
 * This file: the global options and the dispatch to the subcommands
 * (ctl/status.c, ctl/connect.c, ctl/forward.c); what they share with it, the
 * --help text among them, is ctl/cli.c.
 */
#include "common/usage.h"
#include "ctl/cli.h"

#include <getopt.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#define VERSION	"0.1"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{ "connect", ctl_cmd_connect },
	{ "forward", ctl_cmd_forward },
	{ "genkey", ctl_cmd_genkey },
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "control", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	bool control_given = false;
	size_t i;
	int c;

	signal(SIGPIPE, SIG_IGN);
	opterr = 0;	/* usage errors: one line (common/usage.h) */
	while ((c = getopt_long(argc, argv, "+:c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': ctl_control_path = optarg; control_given = true; break;
		case 'h': ctl_usage(stdout); return EXIT_OK;
		case 'V': printf(PROG " " VERSION "\n"); return EXIT_OK;
		default: return usage_err_getopt(PROG, c, argv);
		}
	}
	if (optind >= argc)
		return ctl_die_usage("%s", "a command is needed: status, peers, connect, forward or genkey");
	if (!control_given)
		ctl_control_default();
	argc -= optind;
	argv += optind;
	if (!strcmp(argv[0], "status") || !strcmp(argv[0], "peers"))
		return ctl_cmd_query(argc, argv, argv[0]);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[0], commands[i].name))
			return commands[i].fn(argc, argv);
	return ctl_die_usage("unknown command '%s'", argv[0]);
}
