/* SPDX-License-Identifier: MIT */
/*
 * The stuntctl program's subcommands and what they share with main()
 * (ctl/main.c): the program name, exit codes and timeouts, the control socket
 * path set by --control, the --help text and the usage / control-socket error
 * reports (ctl/cli.c). Unlike ctl/ctl.h this is the program, not a library
 * for tests: a global, messages on stdout and stderr, exit codes.
 */
#ifndef STUNT_CTL_CLI_H
#define STUNT_CTL_CLI_H

#include <stdio.h>

#define PROG	"stuntctl"

#define EXIT_OK		0
#define EXIT_FAILED	1
#define EXIT_USAGE	2
#define EXIT_NODAEMON	3

#define CTL_QUERY_TIMEOUT_MS	5000	/* status, peers */
#define CTL_CONNECT_TIMEOUT_MS	60000	/* the daemon bounds its own traversal */

/* ---- ctl/cli.c ------------------------------------------------------------ */

/* stuntd's control socket: CTL_DEFAULT_PATH, or --control PATH. */
extern const char *ctl_control_path;
/* Without --control: this network namespace's socket when there is one (common/paths.h). */
void ctl_control_default(void);

/* The --help text, on f. */
void ctl_usage(FILE *f);
/* "stuntctl: " fmt (with arg) and a pointer to --help on stderr; EXIT_USAGE. */
int ctl_die_usage(const char *fmt, const char *arg);
/* True for the errors of ctl_open() that mean stuntd is not running. */
int ctl_not_running(int err);
/* Report a control-socket failure; the exit code that goes with it. */
int ctl_fail(int err);

/* ---- the subcommands: argv[0] is the command's name; an exit code --------- */

/* status, peers (ctl/status.c); cmd is "status" or "peers". */
int ctl_cmd_query(int argc, char **argv, const char *cmd);
/* connect (ctl/connect.c) */
int ctl_cmd_connect(int argc, char **argv);
/* forward, forward --udp (ctl/forward.c) */
int ctl_cmd_forward(int argc, char **argv);
/* genkey (ctl/genkey.c): no daemon needed */
int ctl_cmd_genkey(int argc, char **argv);

#endif
