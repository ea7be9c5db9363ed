// SPDX-License-Identifier: MIT
/* Run-time paths: helper programs and the per-netns run directory. See common/paths.h. */
#include "common/paths.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef STUNT_SBINDIR
#define STUNT_SBINDIR "/usr/local/sbin"
#endif

const char *paths_sbindir(void)
{
	return STUNT_SBINDIR;
}

/* length of path's directory part ("/a/b/c" -> 4, "/c" -> 0) */
static size_t dir_len(const char *path, size_t len)
{
	while (len > 0 && path[len - 1] != '/')
		len--;
	while (len > 1 && path[len - 1] == '/')
		len--;
	return len;
}

int paths_tool_candidates(const char *exe, const char *name, char out[][PATHS_MAX], int max)
{
	size_t elen, dlen, plen, blen;
	const char *base;
	int n = 0, w;

	if (exe == NULL || name == NULL || exe[0] != '/' || name[0] == '\0' ||
	    strchr(name, '/') || max < 0)
		return -EINVAL;
	elen = strlen(exe);
	if (elen >= PATHS_MAX || exe[elen - 1] == '/')
		return -EINVAL;
	dlen = dir_len(exe, elen);	/* "/" for "/stuntd": 1 */
	if (dlen == 0)
		return -EINVAL;
	if (n < max) {
		w = snprintf(out[n], PATHS_MAX, "%.*s/%s", dlen == 1 ? 0 : (int)dlen, exe, name);
		if (w < 0 || w >= PATHS_MAX)
			return -EINVAL;
		n++;
	}
	/* a build tree: tools/NAME beside the build* directory */
	plen = dir_len(exe, dlen);
	base = exe + (plen == 1 ? 1 : plen + 1);
	blen = dlen - (size_t)(base - exe);
	if (n < max && dlen > 1 && blen >= 5 && !strncmp(base, "build", 5)) {
		w = snprintf(out[n], PATHS_MAX, "%.*s/tools/%s", plen == 1 ? 0 : (int)plen, exe,
			     name);
		if (w < 0 || w >= PATHS_MAX)
			return -EINVAL;
		n++;
	}
	return n;
}

/* a regular executable file, owned by root or uid, writable by its owner alone */
static bool trusted_exec(const char *path, uid_t uid)
{
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return false;
	if (st.st_uid != 0 && st.st_uid != uid)
		return false;
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return false;
	return access(path, X_OK) == 0;
}

const char *paths_find_tool(const char *name, char *buf, size_t size)
{
	static char cand[PATHS_MAX_CANDIDATES][PATHS_MAX];
	char exe[PATHS_MAX];
	struct stat st;
	ssize_t n;
	int i, k;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0 && stat("/proc/self/exe", &st) == 0) {
		exe[n] = '\0';
		k = paths_tool_candidates(exe, name, cand, PATHS_MAX_CANDIDATES);
		for (i = 0; i < k; i++) {
			if (trusted_exec(cand[i], st.st_uid)) {
				snprintf(buf, size, "%s", cand[i]);
				return buf;
			}
		}
	}
	snprintf(buf, size, "%s/%s", paths_sbindir(), name);
	return buf;
}

int paths_run_dir_fmt(const char *base, bool host_ns, uint64_t netns_ino, char *buf,
		      size_t size)
{
	int w;

	if (host_ns)
		w = snprintf(buf, size, "%s", base);
	else
		w = snprintf(buf, size, "%s/net-%llu", base, (unsigned long long)netns_ino);
	return w < 0 || (size_t)w >= size ? -ENAMETOOLONG : 0;
}

int paths_netns_inode(uint64_t *ino)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st) < 0)
		return -errno;
	*ino = (uint64_t)st.st_ino;
	return 0;
}

bool paths_in_host_netns(void)
{
	struct stat self, init;

	if (stat("/proc/self/ns/net", &self) < 0 || stat("/proc/1/ns/net", &init) < 0)
		return false;
	return self.st_dev == init.st_dev && self.st_ino == init.st_ino;
}

int paths_run_dir(char *buf, size_t size)
{
	static char cached[PATHS_MAX];
	uint64_t ino = 0;
	bool host;
	int err;

	/* once: pid 1's namespace may not be readable after a privilege drop */
	if (!cached[0]) {
		host = paths_in_host_netns();
		if (!host) {
			err = paths_netns_inode(&ino);
			if (err < 0)
				return err;
		}
		err = paths_run_dir_fmt(PATHS_RUN_BASE, host, ino, cached, sizeof(cached));
		if (err < 0) {
			cached[0] = '\0';
			return err;
		}
	}
	if (strlen(cached) >= size)
		return -ENAMETOOLONG;
	memcpy(buf, cached, strlen(cached) + 1);
	return 0;
}
