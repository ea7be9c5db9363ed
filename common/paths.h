/* SPDX-License-Identifier: MIT */
/*
 * Where the programs find what they need at run time, wherever they were
 * installed or built:
 *
 * - a helper program (stunt-rules) is looked for next to the running
 *   executable first (/proc/self/exe's directory), then, for a build tree
 *   (the executable in a directory named build*), in ../tools/, and last at
 *   the path compiled in from the Makefile's SBINDIR (PREFIX/sbin);
 * - the per-network-namespace run directory: state that belongs to a network
 *   namespace (the netfilter rules' ownership file, the control socket) is
 *   kept in BASE (/run/stunt) in the host's network namespace (the one of
 *   pid 1) and in BASE/net-INODE in any other, INODE being the namespace's
 *   inode number (/proc/self/ns/net), so that two stuntds in two namespaces
 *   of one host do not meet.
 *
 * The pure pieces (candidates, directory names) are separate from the ones
 * that look at the file system.
 */
#ifndef STUNT_COMMON_PATHS_H
#define STUNT_COMMON_PATHS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PATHS_MAX		4096
#define PATHS_MAX_CANDIDATES	2
#define PATHS_RUN_BASE		"/run/stunt"

/* The compiled-in directory of installed system programs (SBINDIR). */
const char *paths_sbindir(void);

/*
 * Pure: where to look for helper NAME, given the running executable's path
 * EXE (absolute): EXE's directory, then DIR/../tools when that directory's
 * name starts with "build". Writes up to max paths of PATHS_MAX bytes into
 * out; returns how many, or -EINVAL (exe not absolute, a name with '/',
 * a path too long).
 */
int paths_tool_candidates(const char *exe, const char *name, char out[][PATHS_MAX], int max);

/*
 * Helper NAME to run: the first candidate that is a regular executable file
 * owned by root or by the executable's owner and writable by no one else,
 * else SBINDIR/NAME. Writes it into buf; returns buf.
 */
const char *paths_find_tool(const char *name, char *buf, size_t size);

/*
 * Pure: the run directory: base itself when host_ns, else base/net-INODE.
 * 0, or -ENAMETOOLONG.
 */
int paths_run_dir_fmt(const char *base, bool host_ns, uint64_t netns_ino, char *buf,
		      size_t size);

/* The inode of this process's network namespace: 0 or -errno. */
int paths_netns_inode(uint64_t *ino);

/*
 * Is this process in the host's network namespace (pid 1's)? Unknown (e.g.
 * /proc/1/ns/net not readable by this user) counts as not.
 */
bool paths_in_host_netns(void);

/* This process's run directory (paths_run_dir_fmt on PATHS_RUN_BASE): 0 or -errno. */
int paths_run_dir(char *buf, size_t size);

#endif
