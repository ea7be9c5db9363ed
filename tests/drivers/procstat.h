/* SPDX-License-Identifier: MIT */
/*
 * What the load drivers read about the process under load (stunt-server,
 * stuntd) from /proc: its resident memory and its open descriptors. -1 when
 * pid is not positive or the process is gone.
 */
#ifndef STUNT_TESTS_DRIVERS_PROCSTAT_H
#define STUNT_TESTS_DRIVERS_PROCSTAT_H

#include <dirent.h>
#include <stdio.h>

static inline long proc_rss_kb(int pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (pid <= 0 || !(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static inline long proc_fds(int pid)
{
	char path[64];
	struct dirent *e;
	long c = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	if (pid <= 0 || !(d = opendir(path)))
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			c++;
	closedir(d);
	return c;
}

#endif
