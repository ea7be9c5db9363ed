// SPDX-License-Identifier: MIT
/*
 * nfq_rules: the state file format, /proc/PID/stat parsing, stunt-rules argv
 * and exit codes; then acquire/release against a fake stunt-rules (a shell
 * script that logs its arguments) in a temp dir: no root, no iptables.
 */
#include "nfq/nfq_rules.h"
#include "tests/unit/tap.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct nfq_rules_state st_full = {
	.pid = 4242, .starttime = 123456789012ull, .queue = 7421,
	.mark = 0x7421, .mark_mask = 0xffffffff, .queue_bypass = 1,
};

static int parse_str(const char *s, struct nfq_rules_state *out)
{
	return nfq_rules_state_parse(s, strlen(s), out);
}

static void test_state_format_exact(void)
{
	char buf[NFQ_RULES_STATE_MAX];
	const char *want =
		"stunt-rules-state 1\n"
		"pid 4242\n"
		"starttime 123456789012\n"
		"queue 7421\n"
		"mark 0x7421/0xffffffff\n"
		"queue_bypass 1\n";
	int n = nfq_rules_state_format(&st_full, buf, sizeof(buf));

	CHECK_EQ(n, strlen(want));
	CHECK(n > 0 && strcmp(buf, want) == 0);
}

static void test_state_roundtrip(void)
{
	struct nfq_rules_state in = {
		.pid = 1, .starttime = 0, .queue = 65535, .mark = 0x100,
		.mark_mask = 0xff00, .queue_bypass = 0,
	};
	struct nfq_rules_state out;
	char buf[NFQ_RULES_STATE_MAX];
	int n;

	n = nfq_rules_state_format(&in, buf, sizeof(buf));
	CHECK(n > 0);
	CHECK_EQ(nfq_rules_state_parse(buf, (size_t)n, &out), 0);
	CHECK_EQ(out.pid, 1);
	CHECK_EQ(out.starttime, 0);
	CHECK_EQ(out.queue, 65535);
	CHECK_EQ(out.mark, 0x100);
	CHECK_EQ(out.mark_mask, 0xff00);
	CHECK_EQ(out.queue_bypass, 0);

	n = nfq_rules_state_format(&st_full, buf, sizeof(buf));
	CHECK_EQ(nfq_rules_state_parse(buf, (size_t)n, &out), 0);
	CHECK_EQ(out.starttime, 123456789012ull);
	CHECK_EQ(out.queue_bypass, 1);
}

static void test_state_format_nospace(void)
{
	char buf[16];

	CHECK_EQ(nfq_rules_state_format(&st_full, buf, sizeof(buf)), -ENOSPC);
}

static void test_state_parse_minimal_and_unknown_keys(void)
{
	struct nfq_rules_state out;

	/* starttime, queue_bypass are optional; unknown keys ignored */
	CHECK_EQ(parse_str("stunt-rules-state 1\n"
			   "pid 77\n"
			   "queue 0\n"
			   "future_key some value\n"
			   "mark 0X10/0xF0\n", &out), 0);
	CHECK_EQ(out.pid, 77);
	CHECK_EQ(out.queue, 0);
	CHECK_EQ(out.mark, 0x10);
	CHECK_EQ(out.mark_mask, 0xf0);
	CHECK_EQ(out.starttime, 0);
}

/* A state file from a version that had a gateway part ("gateway 0|1", also
 * the odd value of a hand-edited file) still parses: it names an owner whose
 * rules a new daemon must be able to remove. */
static void test_state_parse_old_gateway_key(void)
{
	static const char *const old[] = {
		"stunt-rules-state 1\npid 4242\nstarttime 99\nqueue 7421\n"
		"mark 0x7421/0xffffffff\nqueue_bypass 0\ngateway 1\n",
		"stunt-rules-state 1\npid 4242\nstarttime 99\nqueue 7421\n"
		"mark 0x7421/0xffffffff\nqueue_bypass 0\ngateway 0\n",
		"stunt-rules-state 1\npid 4242\nstarttime 99\ngateway 2\nqueue 7421\n"
		"mark 0x7421/0xffffffff\nqueue_bypass 0\n",
	};
	struct nfq_rules_state out;
	char buf[NFQ_RULES_STATE_MAX];
	size_t i;
	int n;

	for (i = 0; i < sizeof(old) / sizeof(old[0]); i++) {
		CHECK_EQ(parse_str(old[i], &out), 0);
		CHECK_EQ(out.pid, 4242);
		CHECK_EQ(out.starttime, 99);
		CHECK_EQ(out.queue, 7421);
		CHECK_EQ(out.mark, 0x7421);
		CHECK_EQ(out.mark_mask, 0xffffffff);
		CHECK_EQ(out.queue_bypass, 0);
	}
	/* and what we write has no gateway key any more */
	n = nfq_rules_state_format(&out, buf, sizeof(buf));
	CHECK(n > 0 && strstr(buf, "gateway") == NULL);
}

static void test_state_parse_rejects(void)
{
	static const char *const bad[] = {
		"",                                                            /* empty */
		"pid 1\nqueue 1\nmark 0x1/0x1\n",                              /* no magic */
		"stunt-rules-state 2\npid 1\nqueue 1\nmark 0x1/0x1\n",         /* other version */
		"stunt-rules-state 1\nqueue 1\nmark 0x1/0x1\n",                /* no pid */
		"stunt-rules-state 1\npid 1\nmark 0x1/0x1\n",                  /* no queue */
		"stunt-rules-state 1\npid 1\nqueue 1\n",                       /* no mark */
		"stunt-rules-state 1\npid 1\nqueue 1\nmark 0x1/0x1",           /* truncated line */
		"stunt-rules-state 1\npid 0\nqueue 1\nmark 0x1/0x1\n",         /* pid 0 */
		"stunt-rules-state 1\npid -5\nqueue 1\nmark 0x1/0x1\n",        /* negative */
		"stunt-rules-state 1\npid 2147483648\nqueue 1\nmark 0x1/0x1\n", /* > INT_MAX */
		"stunt-rules-state 1\npid 1\nqueue 65536\nmark 0x1/0x1\n",     /* queue > 16 bits */
		"stunt-rules-state 1\npid 1\nqueue 1\nmark 0x1\n",             /* no mask */
		"stunt-rules-state 1\npid 1\nqueue 1\nmark 0x0/0xff\n",        /* mark 0 */
		"stunt-rules-state 1\npid 1\nqueue 1\nmark 0x1/0x0\n",         /* mask 0 */
		"stunt-rules-state 1\npid 1\nqueue 1\nmark 0x100/0xff\n",      /* mark outside mask */
		"stunt-rules-state 1\npid 1\nqueue 1\nmark 0x100000000/0xffffffff\n", /* > 32 bits */
		"stunt-rules-state 1\npid 1\nqueue 1\nmark 0x1/0x1\nqueue_bypass 2\n", /* not a bool */
		"stunt-rules-state 1\npid 1x\nqueue 1\nmark 0x1/0x1\n",        /* trailing junk */
		"stunt-rules-state 1\npid \nqueue 1\nmark 0x1/0x1\n",          /* empty value */
		"stunt-rules-state 1\npid 1\nqueue 0x\nmark 0x1/0x1\n",        /* bare 0x */
		"stunt-rules-state 1\n pid 1\nqueue 1\nmark 0x1/0x1\n",        /* empty key */
		"stunt-rules-state 1\npid1\nqueue 1\nmark 0x1/0x1\n",          /* no separator */
		"stunt-rules-state 1\nstarttime 18446744073709551616\npid 1\nqueue 1\nmark 0x1/0x1\n",
	};
	struct nfq_rules_state out;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = parse_str(bad[i], &out);

		if (r != -EINVAL)
			fprintf(stderr, "# accepted bad state file #%zu\n", i);
		CHECK_EQ(r, -EINVAL);
	}
}

static void test_state_parse_not_nul_terminated(void)
{
	char buf[NFQ_RULES_STATE_MAX];
	struct nfq_rules_state out;
	int n = nfq_rules_state_format(&st_full, buf, sizeof(buf));

	/* the parser must stop at len: cut the last line's newline off */
	CHECK_EQ(nfq_rules_state_parse(buf, (size_t)n - 1, &out), -EINVAL);
	buf[n] = 'X';
	CHECK_EQ(nfq_rules_state_parse(buf, (size_t)n, &out), 0);
	CHECK_EQ(out.pid, 4242);
}

static void test_proc_stat(void)
{
	/* fields: pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt
	 * cmajflt utime stime cutime cstime priority nice threads itrealvalue starttime ... */
	const char *plain = "4242 (nfqdrv) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 "
			    "987654 12345 67 18446744073709551615\n";
	/* a command name with a space, a ')' and a digit-looking tail */
	const char *weird = "17 (a) b) 9 (c) Z 1 17 17 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 42 0 0\n";
	const char *shortline = "17 (x) S 1 2 3\n";
	const char *noparen = "17 x S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20\n";
	const char *badnum = "4242 (x) S 1 4242 4242 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 98x7 0\n";
	uint64_t start = 1;
	char st = '?';

	CHECK_EQ(nfq_rules_parse_proc_stat(plain, strlen(plain), &st, &start), 0);
	CHECK_EQ(st, 'S');
	CHECK_EQ(start, 987654);
	CHECK_EQ(nfq_rules_parse_proc_stat(weird, strlen(weird), &st, &start), 0);
	CHECK_EQ(st, 'Z');
	CHECK_EQ(start, 42);
	CHECK_EQ(nfq_rules_parse_proc_stat(shortline, strlen(shortline), &st, &start), -EINVAL);
	CHECK_EQ(nfq_rules_parse_proc_stat(noparen, strlen(noparen), &st, &start), -EINVAL);
	CHECK_EQ(nfq_rules_parse_proc_stat(badnum, strlen(badnum), &st, &start), -EINVAL);
	CHECK_EQ(nfq_rules_parse_proc_stat("", 0, &st, &start), -EINVAL);
	/* starttime as the very last bytes, no newline */
	CHECK_EQ(nfq_rules_parse_proc_stat(plain, strlen("4242 (nfqdrv) S 1 4242 4242 0 -1 4194560 "
							 "100 0 0 0 1 2 0 0 20 0 1 0 987654"),
					   &st, &start), 0);
	CHECK_EQ(start, 987654);
}

static void test_cfg_state(void)
{
	struct nfq_rules_cfg cfg = { .tool = "/x", .state_path = "/y", .queue = 9, .mark = 0x7421 };
	struct nfq_rules_state st;

	CHECK_EQ(nfq_rules_cfg_state(&cfg, &st), 0);
	CHECK_EQ(st.mark_mask, 0xffffffff);     /* 0: the whole mark */
	CHECK_EQ(st.queue, 9);
	CHECK_EQ(st.pid, 0);
	cfg.mark = 0;
	CHECK_EQ(nfq_rules_cfg_state(&cfg, &st), -EINVAL);
	cfg.mark = 0x100;
	cfg.mark_mask = 0xff;
	CHECK_EQ(nfq_rules_cfg_state(&cfg, &st), -EINVAL);
}

static void test_argv_install(void)
{
	struct nfq_rules_argv av;
	struct nfq_rules_state st = st_full;

	CHECK_EQ(nfq_rules_build_argv("/sbin/stunt-rules", "install", &st, &av), 0);
	CHECK(!strcmp(av.argv[0], "/sbin/stunt-rules"));
	CHECK(!strcmp(av.argv[1], "install"));
	CHECK(!strcmp(av.argv[2], "--queue"));
	CHECK(!strcmp(av.argv[3], "7421"));
	CHECK(!strcmp(av.argv[4], "--mark"));
	CHECK(!strcmp(av.argv[5], "0x7421/0xffffffff"));
	CHECK(!strcmp(av.argv[6], "--queue-bypass"));
	CHECK(av.argv[7] == NULL);

	st.queue_bypass = 0;
	st.queue = 0;
	CHECK_EQ(nfq_rules_build_argv("t", "install", &st, &av), 0);
	CHECK(!strcmp(av.argv[3], "0"));
	/* the tool fails open by default: no bypass has to be asked for */
	CHECK(!strcmp(av.argv[6], "--fail-closed"));
	CHECK(av.argv[7] == NULL);

	st.mark = 0;
	CHECK_EQ(nfq_rules_build_argv("t", "install", &st, &av), -EINVAL);
	CHECK_EQ(nfq_rules_build_argv("t", "install", NULL, &av), -EINVAL);
}

static void test_argv_remove_status(void)
{
	struct nfq_rules_argv av;

	/* remove deletes every STUNT chain whatever the options: none are passed */
	CHECK_EQ(nfq_rules_build_argv("t", "remove", &st_full, &av), 0);
	CHECK(!strcmp(av.argv[1], "remove"));
	CHECK(av.argv[2] == NULL);
	CHECK_EQ(nfq_rules_build_argv("t", "status", NULL, &av), 0);
	CHECK(av.argv[2] == NULL);
	CHECK_EQ(nfq_rules_build_argv("t", "rm -rf", NULL, &av), -EINVAL);
	CHECK_EQ(nfq_rules_build_argv("", "remove", NULL, &av), -EINVAL);
	CHECK_EQ(nfq_rules_build_argv(NULL, "remove", NULL, &av), -EINVAL);
}

static void test_exit_errno(void)
{
	CHECK_EQ(nfq_rules_exit_errno(0), 0);
	CHECK_EQ(nfq_rules_exit_errno(1), -EIO);
	CHECK_EQ(nfq_rules_exit_errno(2), -EINVAL);
	CHECK_EQ(nfq_rules_exit_errno(3), -ENOENT);
	CHECK_EQ(nfq_rules_exit_errno(4), -EPERM);
	CHECK_EQ(nfq_rules_exit_errno(5), -ENOTSUP);
	CHECK_EQ(nfq_rules_exit_errno(127), -ENOEXEC);
	CHECK_EQ(nfq_rules_exit_errno(99), -EIO);
}

/* ---------------------------------------------------------------- against a fake tool */

static char tdir[64] = "/tmp/test_nfq_rules.XXXXXX";
static char tool[128], state[128], calls[128], failflag[128];

static void fake_setup(void)
{
	FILE *f;

	if (mkdtemp(tdir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(tool, sizeof(tool), "%s/stunt-rules", tdir);
	snprintf(state, sizeof(state), "%s/rules.state", tdir);
	snprintf(calls, sizeof(calls), "%s/calls", tdir);
	snprintf(failflag, sizeof(failflag), "%s/fail", tdir);
	f = fopen(tool, "w");
	if (f == NULL)
		exit(1);
	fprintf(f, "#!/bin/sh\n"
		   "echo \"$* leak=${STUNT_TEST_LEAK-no}\" >>'%s'\n"
		   "if [ -e '%s' ]; then echo 'iptables: boom' >&2; exit 1; fi\n"
		   "exit 0\n", calls, failflag);
	fclose(f);
	chmod(tool, 0755);
}

static void fake_teardown(void)
{
	char p[160];
	static const char *const names[] = { "stunt-rules", "rules.state", "rules.state.lock",
					     "calls", "fail" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", tdir, names[i]);
		unlink(p);
	}
	rmdir(tdir);
}

/* The calls the fake tool logged since the last call, then forget them. */
static void take_calls(char *buf, size_t size)
{
	FILE *f = fopen(calls, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, size - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	unlink(calls);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static struct nfq_rules_cfg fake_cfg(void)
{
	return (struct nfq_rules_cfg){ .tool = tool, .state_path = state, .queue = 7421,
				       .mark = 0x7421, .queue_bypass = 1 };
}

static void test_acquire_release(void)
{
	struct nfq_rules_cfg cfg = fake_cfg();
	struct nfq_rules_state st;
	char buf[NFQ_RULES_STATE_MAX], c[1024];
	FILE *f;
	size_t n = 0;

	CHECK_EQ(nfq_rules_acquire(&cfg), 0);
	take_calls(c, sizeof(c));
	/* one install; the caller's environment does not reach the tool */
	CHECK(!strcmp(c, "install --queue 7421 --mark 0x7421/0xffffffff --queue-bypass leak=no\n"));
	f = fopen(state, "r");
	CHECK(f != NULL);
	if (f) {
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
	}
	CHECK_EQ(nfq_rules_state_parse(buf, n, &st), 0);
	CHECK_EQ(st.pid, getpid());
	CHECK(st.starttime != 0);
	/* acquiring again (same process): reinstall, nothing stale to remove */
	CHECK_EQ(nfq_rules_acquire(&cfg), 0);
	take_calls(c, sizeof(c));
	CHECK(!strncmp(c, "install ", 8) && strchr(c, '\n') == c + strlen(c) - 1);
	CHECK_EQ(nfq_rules_release(&cfg), 0);
	take_calls(c, sizeof(c));
	CHECK(!strcmp(c, "remove leak=no\n"));
	CHECK(access(state, F_OK) < 0 && errno == ENOENT);
}

static void test_acquire_removes_stale(void)
{
	struct nfq_rules_cfg cfg = fake_cfg();
	char text[256], c[1024];
	pid_t dead = fork();

	if (dead == 0)
		_exit(0);
	waitpid(dead, NULL, 0);
	/* left by an older daemon that had a gateway part: remove takes it too */
	snprintf(text, sizeof(text),
		 "stunt-rules-state 1\npid %ld\nqueue 9\nmark 0x1/0x1\ngateway 1\n", (long)dead);
	write_file(state, text);
	CHECK_EQ(nfq_rules_acquire(&cfg), 0);
	take_calls(c, sizeof(c));
	CHECK(!strcmp(c, "remove leak=no\n"
			 "install --queue 7421 --mark 0x7421/0xffffffff --queue-bypass leak=no\n"));
	CHECK_EQ(nfq_rules_release(&cfg), 0);
	take_calls(c, sizeof(c));
}

static void test_acquire_busy(void)
{
	struct nfq_rules_cfg cfg = fake_cfg();
	char text[256], c[1024];

	/* our parent is alive: its rules are not ours to touch */
	snprintf(text, sizeof(text), "stunt-rules-state 1\npid %ld\nqueue 9\nmark 0x1/0x1\n",
		 (long)getppid());
	write_file(state, text);
	CHECK_EQ(nfq_rules_acquire(&cfg), -EBUSY);
	CHECK_EQ(nfq_rules_release(&cfg), -EBUSY);
	take_calls(c, sizeof(c));
	CHECK(!strcmp(c, ""));
	unlink(state);
}

static void test_acquire_tool_fails(void)
{
	struct nfq_rules_cfg cfg = fake_cfg();
	char c[1024];

	write_file(failflag, "1");
	CHECK_EQ(nfq_rules_acquire(&cfg), -EIO);
	take_calls(c, sizeof(c));
	CHECK(!strncmp(c, "install ", 8));
	/* no claim left behind for rules that were never installed */
	CHECK(access(state, F_OK) < 0);
	unlink(failflag);
	cfg.tool = "/nonexistent/stunt-rules";
	CHECK_EQ(nfq_rules_acquire(&cfg), -ENOENT);
	CHECK(access(state, F_OK) < 0);
	cfg = fake_cfg();
	cfg.mark = 0;
	CHECK_EQ(nfq_rules_acquire(&cfg), -EINVAL);
}

int main(void)
{
	int rc;

	RUN(test_state_format_exact);
	RUN(test_state_roundtrip);
	RUN(test_state_format_nospace);
	RUN(test_state_parse_minimal_and_unknown_keys);
	RUN(test_state_parse_old_gateway_key);
	RUN(test_state_parse_rejects);
	RUN(test_state_parse_not_nul_terminated);
	RUN(test_proc_stat);
	RUN(test_cfg_state);
	RUN(test_argv_install);
	RUN(test_argv_remove_status);
	RUN(test_exit_errno);
	fake_setup();
	setenv("STUNT_TEST_LEAK", "yes", 1);
	RUN(test_acquire_release);
	RUN(test_acquire_removes_stale);
	RUN(test_acquire_busy);
	RUN(test_acquire_tool_fails);
	rc = TAP_DONE();
	fake_teardown();
	return rc;
}
