// SPDX-License-Identifier: MIT
/*
 * What stuntctl's subcommands share with main(): the control socket path
 * (--control), the --help text, usage errors and control-socket failures
 * reported with their exit codes.
 */
#include "ctl/cli.h"
#include "ctl/ctl.h"

#include "common/paths.h"
#include "common/usage.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

const char *ctl_control_path = CTL_DEFAULT_PATH;

void ctl_control_default(void)
{
	static char ns_path[PATHS_MAX];
	char dir[PATHS_MAX];
	struct stat st;
	int w;

	/* a stuntd in another network namespace keeps its socket in that
	 * namespace's run directory (stuntd(8)); as a user who cannot tell
	 * (pid 1's namespace unreadable), only an existing socket there counts */
	if (paths_run_dir(dir, sizeof(dir)) < 0 || !strcmp(dir, PATHS_RUN_BASE))
		return;
	w = snprintf(ns_path, sizeof(ns_path), "%s/stuntd.sock", dir);
	if (w > 0 && (size_t)w < sizeof(ns_path) && lstat(ns_path, &st) == 0)
		ctl_control_path = ns_path;
}

void ctl_usage(FILE *f)
{
	fputs("usage: " PROG " [--control PATH] status [--json]\n"
	      "       " PROG " [--control PATH] peers [--json]\n"
	      "       " PROG " [--control PATH] connect PEER/NAME [--method METHOD | --udp] [--json]\n"
	      "                                 [-- COMMAND ARGS...]\n"
	      "       " PROG " [--control PATH] forward [ADDR:]PORT PEER/NAME\n"
	      "       " PROG " [--control PATH] forward --udp [--idle SECS] [--max-sessions N]\n"
	      "                                 [--queue N] [ADDR:]PORT PEER/NAME\n"
	      "       " PROG " genkey [--raw] [ID]\n"
	      "       " PROG " --help | --version\n"
	      "\n"
	      "  --control PATH   stuntd's control socket (default " CTL_DEFAULT_PATH ", or\n"
	      "                   /run/stunt/net-INODE/stuntd.sock when it exists: a stuntd\n"
	      "                   in this network namespace, not the host's)\n"
	      "  status           own NAT type, public endpoints, registration, sessions, counters\n"
	      "  peers            peers of the secrets/allow lists and whether they are online\n"
	      "  connect          traverse to PEER's service NAME; copy stdin/stdout to it\n"
	      "                   (an ssh ProxyCommand), or run COMMAND with the socket as its\n"
	      "                   stdin and stdout, or with --json print the result and close\n"
	      "  --method METHOD  direct portmap reversal simopen stunt1 stunt2 synth predict\n"
	      "                   shotgun udp relay host simopen6 udp6 (default: the daemon\n"
	      "                   chooses and races)\n"
	      "  --udp            a UDP session (method udp: over IPv4 and IPv6, raced where\n"
	      "                   both sides have both; udp6: IPv6 alone): the socket is a\n"
	      "                   connected UDP socket; stdin is sent a read() per datagram,\n"
	      "                   datagrams are written to stdout until 1 s after the last\n"
	      "                   one once stdin ended\n"
	      "  forward          listen on ADDR:PORT (ADDR defaults to 127.0.0.1); each client\n"
	      "                   gets its own traversal, spliced both ways\n"
	      "  forward --udp    bind UDP ADDR:PORT; each client source address gets its own\n"
	      "                   UDP traversal (its first datagrams queued meanwhile), then\n"
	      "                   datagrams are relayed both ways\n"
	      "  --idle SECS      close a UDP session without datagrams for SECS (default 60)\n"
	      "  --max-sessions N UDP clients served at once (default 64, at most 1024)\n"
	      "  --queue N        datagrams held per client while it connects (default 32)\n"
	      "  genkey           a new 256-bit secret (getrandom) for peer ID (default: this\n"
	      "                   host's name): the line for the server's --secrets file and\n"
	      "                   the one for the host's --secret-file; --raw: the secret alone\n"
	      "\n"
	      "exit status: 0 ok, 1 failed, 2 usage, 3 stuntd not running\n", f);
}

int ctl_die_usage(const char *fmt, const char *arg)
{
	char msg[512];

	snprintf(msg, sizeof(msg), fmt, arg);
	return usage_err(PROG, "%s", msg);
}

int ctl_not_running(int err)
{
	return err == -ENOENT || err == -ECONNREFUSED || err == -ENOTDIR;
}

/* Report a control-socket failure; the exit code that goes with it. */
int ctl_fail(int err)
{
	char msg[512];

	fprintf(stderr, PROG ": %s\n", ctl_strerror(err, ctl_control_path, msg, sizeof(msg)));
	return ctl_not_running(err) ? EXIT_NODAEMON : EXIT_FAILED;
}
