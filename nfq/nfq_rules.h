/* SPDX-License-Identifier: MIT */
/*
 * The daemon's side of the NFQUEUE rules' lifecycle: install them at start
 * through tools/stunt-rules, remove them on exit, and, when the previous
 * owner crashed (kill -9, OOM, power cut of the process), remove what it left
 * the next time a daemon starts.
 *
 * Ownership is recorded in a small state file (e.g. /run/stunt/rules.state):
 *
 *   stunt-rules-state 1
 *   pid 1234                 owner's pid
 *   starttime 567890         owner's start time (/proc/PID/stat field 22), so
 *                            that a reused pid is not taken for the owner
 *   queue 7421
 *   mark 0x7421/0xffffffff
 *   queue_bypass 1
 *
 * (A file from an older version may also hold "gateway 0|1", from a gateway
 * part stunt-rules no longer installs; the key is ignored like any unknown
 * one, and "stunt-rules remove" still deletes that part.)
 *
 * The file is written before the rules are installed and removed after they
 * are removed, so that whenever rules may exist a record names who put them
 * there. It is replaced atomically (write a temporary file, rename); a lock
 * file beside it ("<state>.lock", flock) serialises acquire and release of
 * concurrent processes. Pids are compared in the caller's pid namespace: all
 * users of one state file must share it.
 *
 * stunt-rules runs with fork/execve, no shell, a fixed environment, stdin and
 * stdout on /dev/null; its stderr is captured and logged when it fails, or
 * when it succeeds with a warning (a host without a usable ip6tables gets the
 * IPv4 rules only).
 * Needs what stunt-rules needs (root, CAP_NET_ADMIN) and write access to the
 * state file's directory, which must exist.
 */
#ifndef STUNT_NFQ_RULES_H
#define STUNT_NFQ_RULES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* where `make install` puts stunt-rules (the Makefile passes its SBINDIR) */
#ifndef STUNT_SBINDIR
#define STUNT_SBINDIR "/usr/local/sbin"
#endif
#define NFQ_RULES_DEFAULT_TOOL      STUNT_SBINDIR "/stunt-rules"
#define NFQ_RULES_DEFAULT_STATE     "/run/stunt/rules.state"
#define NFQ_RULES_TOOL_TIMEOUT_MS   30000   /* one stunt-rules run; then SIGKILL */
#define NFQ_RULES_STATE_MAX         512     /* a longer state file is corrupt */
#define NFQ_RULES_STDERR_MAX        2048    /* captured stderr kept for the log */

struct nfq_rules_cfg {
	const char *tool;       /* path of stunt-rules, executed as is (no PATH search) */
	const char *state_path; /* state file; its directory must exist */
	uint16_t queue;
	uint32_t mark;          /* not 0 */
	uint32_t mark_mask;     /* 0: 0xffffffff */
	int queue_bypass;
};

/* What the state file records (also the options of one stunt-rules run). */
struct nfq_rules_state {
	pid_t pid;
	uint64_t starttime;     /* 0: unknown, only "is pid alive" is checked */
	uint16_t queue;
	uint32_t mark;
	uint32_t mark_mask;
	int queue_bypass;
};

/*
 * Take ownership of the rules and install them. A state file left by a dead
 * owner (or by a previous process with our pid but another start time) is
 * stale: its rules are removed first ("removing stale rules left by pid N").
 * Returns 0, -EBUSY when a live process owns the rules (nothing is touched),
 * -EINVAL for a bad cfg, or another -errno (stunt-rules failed: its exit
 * status mapped by nfq_rules_exit_errno(); state file I/O).
 */
int nfq_rules_acquire(const struct nfq_rules_cfg *cfg);

/*
 * Remove the rules and the state file. Returns -EBUSY without touching
 * anything when the state file names another live owner.
 */
int nfq_rules_release(const struct nfq_rules_cfg *cfg);

/* ---- pure helpers (no I/O), exposed for tests and fuzzers ---- */

/* Serialise st into buf; returns the length (without the NUL) or -ENOSPC. */
int nfq_rules_state_format(const struct nfq_rules_state *st, char *buf, size_t size);

/*
 * Parse a state file's bytes (need not be NUL-terminated). Unknown keys are
 * ignored; pid, queue and mark are required. Returns 0 or -EINVAL.
 */
int nfq_rules_state_parse(const char *buf, size_t len, struct nfq_rules_state *out);

/*
 * From the contents of /proc/PID/stat: the process state letter and its start
 * time (field 22). The command name may hold spaces and ')'. 0 or -EINVAL.
 */
int nfq_rules_parse_proc_stat(const char *buf, size_t len, char *state, uint64_t *starttime);

/* The state a cfg asks for (pid and starttime left 0). 0 or -EINVAL. */
int nfq_rules_cfg_state(const struct nfq_rules_cfg *cfg, struct nfq_rules_state *out);

#define NFQ_RULES_ARGV_MAX 12

struct nfq_rules_argv {
	char *argv[NFQ_RULES_ARGV_MAX];
	char queue[8];
	char mark[24];
};

/*
 * argv for "TOOL CMD [--queue N --mark M/MASK --queue-bypass|--fail-closed]"
 * (options only for install). Pointers refer to tool, cmd and out. 0 or -EINVAL.
 */
int nfq_rules_build_argv(const char *tool, const char *cmd, const struct nfq_rules_state *st,
			 struct nfq_rules_argv *out);

/* stunt-rules' exit status as -errno: 0 ok, 1 -EIO, 2 -EINVAL, 3 -ENOENT, 4 -EPERM, 5 -ENOTSUP. */
int nfq_rules_exit_errno(int exit_status);

#endif
