// SPDX-License-Identifier: MIT
#include "common/paths.h"
#include "tests/unit/tap.h"

#include <errno.h>

static char c[PATHS_MAX_CANDIDATES][PATHS_MAX];

static void installed_sibling_only(void)
{
	CHECK_EQ(paths_tool_candidates("/usr/sbin/stuntd", "stunt-rules", c, 2), 1);
	CHECK(!strcmp(c[0], "/usr/sbin/stunt-rules"));
	CHECK_EQ(paths_tool_candidates("/opt/x/sbin/stuntd", "stunt-rules", c, 2), 1);
	CHECK(!strcmp(c[0], "/opt/x/sbin/stunt-rules"));
}

static void build_tree_adds_tools(void)
{
	CHECK_EQ(paths_tool_candidates("/work/src/build/stuntd", "stunt-rules", c, 2), 2);
	CHECK(!strcmp(c[0], "/work/src/build/stunt-rules"));
	CHECK(!strcmp(c[1], "/work/src/tools/stunt-rules"));
	CHECK_EQ(paths_tool_candidates("/work/src/build-asan/stuntd", "stunt-rules", c, 2), 2);
	CHECK(!strcmp(c[1], "/work/src/tools/stunt-rules"));
	/* only a directory named build*: not "rebuild", not a parent named build */
	CHECK_EQ(paths_tool_candidates("/w/rebuild/stuntd", "stunt-rules", c, 2), 1);
	CHECK_EQ(paths_tool_candidates("/build/x/stuntd", "stunt-rules", c, 2), 1);
	CHECK(!strcmp(c[0], "/build/x/stunt-rules"));
	/* build right under / */
	CHECK_EQ(paths_tool_candidates("/build/stuntd", "stunt-rules", c, 2), 2);
	CHECK(!strcmp(c[0], "/build/stunt-rules"));
	CHECK(!strcmp(c[1], "/tools/stunt-rules"));
	/* max bounds the count */
	CHECK_EQ(paths_tool_candidates("/w/build/stuntd", "stunt-rules", c, 1), 1);
	CHECK(!strcmp(c[0], "/w/build/stunt-rules"));
}

static void root_and_doubled_slashes(void)
{
	CHECK_EQ(paths_tool_candidates("/stuntd", "stunt-rules", c, 2), 1);
	CHECK(!strcmp(c[0], "/stunt-rules"));
	CHECK_EQ(paths_tool_candidates("/usr//sbin//stuntd", "stunt-rules", c, 2), 1);
	CHECK(!strcmp(c[0], "/usr//sbin/stunt-rules"));
}

static void bad_input_refused(void)
{
	char big[PATHS_MAX + 8];

	CHECK_EQ(paths_tool_candidates("build/stuntd", "stunt-rules", c, 2), -EINVAL);
	CHECK_EQ(paths_tool_candidates("/usr/sbin/", "stunt-rules", c, 2), -EINVAL);
	CHECK_EQ(paths_tool_candidates("/usr/sbin/stuntd", "../x", c, 2), -EINVAL);
	CHECK_EQ(paths_tool_candidates("/usr/sbin/stuntd", "", c, 2), -EINVAL);
	CHECK_EQ(paths_tool_candidates(NULL, "x", c, 2), -EINVAL);
	memset(big, 'a', sizeof(big));
	big[0] = '/';
	big[sizeof(big) - 1] = '\0';
	CHECK_EQ(paths_tool_candidates(big, "x", c, 2), -EINVAL);
	/* fits as an executable path, not with the helper's name beside it */
	big[PATHS_MAX - 3] = '\0';
	big[PATHS_MAX - 5] = '/';
	CHECK_EQ(paths_tool_candidates(big, "a-long-helper-name", c, 2), -EINVAL);
}

static void sbindir_compiled_in(void)
{
	CHECK(paths_sbindir()[0] == '/');
	CHECK(!strcmp(paths_sbindir(), STUNT_SBINDIR));
}

static void run_dir_names(void)
{
	char b[64];

	CHECK_EQ(paths_run_dir_fmt("/run/stunt", true, 4026532289ULL, b, sizeof(b)), 0);
	CHECK(!strcmp(b, "/run/stunt"));
	CHECK_EQ(paths_run_dir_fmt("/run/stunt", false, 4026532289ULL, b, sizeof(b)), 0);
	CHECK(!strcmp(b, "/run/stunt/net-4026532289"));
	CHECK_EQ(paths_run_dir_fmt("/run/stunt", false, 4026532289ULL, b, 20), -ENAMETOOLONG);
	CHECK_EQ(paths_run_dir_fmt("/run/stunt", true, 0, b, 10), -ENAMETOOLONG);
}

static void run_dir_of_this_process(void)
{
	char a[PATHS_MAX], b[PATHS_MAX];
	uint64_t ino = 0;

	CHECK_EQ(paths_netns_inode(&ino), 0);
	CHECK(ino != 0);
	CHECK_EQ(paths_run_dir(a, sizeof(a)), 0);
	CHECK(!strncmp(a, PATHS_RUN_BASE, strlen(PATHS_RUN_BASE)));
	/* the same answer each time (cached) */
	CHECK_EQ(paths_run_dir(b, sizeof(b)), 0);
	CHECK(!strcmp(a, b));
	CHECK_EQ(paths_run_dir(b, 4), -ENAMETOOLONG);
}

int main(void)
{
	RUN(installed_sibling_only);
	RUN(build_tree_adds_tools);
	RUN(root_and_doubled_slashes);
	RUN(bad_input_refused);
	RUN(sbindir_compiled_in);
	RUN(run_dir_names);
	RUN(run_dir_of_this_process);
	return TAP_DONE();
}
