// SPDX-License-Identifier: MIT
#include "nfq/nfq_rules.h"

#include "common/clock.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NFQ_RULES_STATE_MAGIC   "stunt-rules-state 1"
#define NFQ_RULES_EXIT_NOEXEC   127     /* the child could not execve the tool */

/* stunt-rules(8) exit status */
enum { SR_OK, SR_FAILED, SR_USAGE, SR_ABSENT, SR_NOT_ROOT, SR_NO_BACKEND };

/* ---------------------------------------------------------------- pure helpers */

int nfq_rules_state_format(const struct nfq_rules_state *st, char *buf, size_t size)
{
	int n;

	n = snprintf(buf, size,
		     NFQ_RULES_STATE_MAGIC "\n"
		     "pid %ld\n"
		     "starttime %" PRIu64 "\n"
		     "queue %u\n"
		     "mark 0x%" PRIx32 "/0x%" PRIx32 "\n"
		     "queue_bypass %d\n",
		     (long)st->pid, st->starttime, (unsigned)st->queue, st->mark, st->mark_mask,
		     st->queue_bypass ? 1 : 0);
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	return n;
}

/* An unsigned number, decimal or 0x hex, spanning all of [s, e), at most max. */
static int parse_u64(const char *s, const char *e, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	unsigned base = 10, d;

	if (e - s > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (s >= e)
		return -EINVAL;
	for (; s < e; s++) {
		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return -EINVAL;
		if (v > (max - d) / base)
			return -EINVAL;
		v = v * base + d;
	}
	*out = v;
	return 0;
}

static int parse_bool(const char *s, const char *e, int *out)
{
	if (e - s != 1 || (*s != '0' && *s != '1'))
		return -EINVAL;
	*out = *s == '1';
	return 0;
}

int nfq_rules_state_parse(const char *buf, size_t len, struct nfq_rules_state *out)
{
	const char *p = buf, *end = buf + len, *nl, *sp, *v;
	enum { HAVE_PID = 1, HAVE_QUEUE = 2, HAVE_MARK = 4 };
	unsigned have = 0;
	size_t klen;
	uint64_t n, m;
	int first = 1;

	memset(out, 0, sizeof(*out));
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			return -EINVAL;         /* truncated: every line ends with \n */
		if (first) {
			if ((size_t)(nl - p) != strlen(NFQ_RULES_STATE_MAGIC) ||
			    memcmp(p, NFQ_RULES_STATE_MAGIC, (size_t)(nl - p)) != 0)
				return -EINVAL;
			first = 0;
			p = nl + 1;
			continue;
		}
		sp = memchr(p, ' ', (size_t)(nl - p));
		if (sp == NULL || sp == p)
			return -EINVAL;
		klen = (size_t)(sp - p);
		v = sp + 1;
#define KEY(k) (klen == sizeof(k) - 1 && memcmp(p, k, klen) == 0)
		if (KEY("pid")) {
			if (parse_u64(v, nl, INT_MAX, &n) < 0 || n == 0)
				return -EINVAL;
			out->pid = (pid_t)n;
			have |= HAVE_PID;
		} else if (KEY("starttime")) {
			if (parse_u64(v, nl, UINT64_MAX, &out->starttime) < 0)
				return -EINVAL;
		} else if (KEY("queue")) {
			if (parse_u64(v, nl, UINT16_MAX, &n) < 0)
				return -EINVAL;
			out->queue = (uint16_t)n;
			have |= HAVE_QUEUE;
		} else if (KEY("mark")) {
			const char *slash = memchr(v, '/', (size_t)(nl - v));

			if (slash == NULL || parse_u64(v, slash, UINT32_MAX, &n) < 0 ||
			    parse_u64(slash + 1, nl, UINT32_MAX, &m) < 0 || n == 0 || m == 0 ||
			    (n & ~m) != 0)
				return -EINVAL;
			out->mark = (uint32_t)n;
			out->mark_mask = (uint32_t)m;
			have |= HAVE_MARK;
		} else if (KEY("queue_bypass")) {
			if (parse_bool(v, nl, &out->queue_bypass) < 0)
				return -EINVAL;
		}
#undef KEY
		/* other keys: written by a newer version, or by an older one
		 * ("gateway"); not needed to clean up: remove takes no options */
		p = nl + 1;
	}
	if (first || have != (HAVE_PID | HAVE_QUEUE | HAVE_MARK))
		return -EINVAL;
	return 0;
}

int nfq_rules_parse_proc_stat(const char *buf, size_t len, char *state, uint64_t *starttime)
{
	const char *p = NULL, *end = buf + len, *f;
	size_t i;
	int field;

	/* "pid (comm) S ppid ...": comm may contain ") ", so the last ')' ends it */
	for (i = len; i > 0; i--) {
		if (buf[i - 1] == ')') {
			p = buf + i;
			break;
		}
	}
	if (p == NULL || end - p < 3 || p[0] != ' ')
		return -EINVAL;
	p++;
	*state = *p;
	/* field 3 is the state; field 22 the start time in clock ticks since boot */
	for (field = 3; field < 22; field++) {
		while (p < end && *p != ' ')
			p++;
		if (p >= end)
			return -EINVAL;
		p++;
	}
	f = p;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	if (p == f || (p < end && *p != ' ' && *p != '\n'))
		return -EINVAL;
	return parse_u64(f, p, UINT64_MAX, starttime);
}

int nfq_rules_cfg_state(const struct nfq_rules_cfg *cfg, struct nfq_rules_state *out)
{
	uint32_t mask = cfg->mark_mask ? cfg->mark_mask : 0xffffffffu;

	memset(out, 0, sizeof(*out));
	if (cfg->mark == 0 || (cfg->mark & ~mask) != 0)
		return -EINVAL;
	out->queue = cfg->queue;
	out->mark = cfg->mark;
	out->mark_mask = mask;
	out->queue_bypass = !!cfg->queue_bypass;
	return 0;
}

int nfq_rules_build_argv(const char *tool, const char *cmd, const struct nfq_rules_state *st,
			 struct nfq_rules_argv *out)
{
	int n = 0;

	memset(out, 0, sizeof(*out));
	if (tool == NULL || *tool == '\0' || cmd == NULL)
		return -EINVAL;
	out->argv[n++] = (char *)tool;
	out->argv[n++] = (char *)cmd;
	if (strcmp(cmd, "install") == 0) {
		if (st == NULL || st->mark == 0 || (st->mark & ~st->mark_mask) != 0)
			return -EINVAL;
		snprintf(out->queue, sizeof(out->queue), "%u", (unsigned)st->queue);
		snprintf(out->mark, sizeof(out->mark), "0x%" PRIx32 "/0x%" PRIx32, st->mark,
			 st->mark_mask);
		out->argv[n++] = (char *)"--queue";
		out->argv[n++] = out->queue;
		out->argv[n++] = (char *)"--mark";
		out->argv[n++] = out->mark;
		/* stunt-rules fails open by default: say which, either way */
		out->argv[n++] = st->queue_bypass ? (char *)"--queue-bypass" : (char *)"--fail-closed";
	} else if (strcmp(cmd, "remove") != 0 && strcmp(cmd, "status") != 0) {
		return -EINVAL;
	}
	out->argv[n] = NULL;
	return 0;
}

int nfq_rules_exit_errno(int exit_status)
{
	switch (exit_status) {
	case SR_OK:
		return 0;
	case SR_FAILED:
		return -EIO;
	case SR_USAGE:
		return -EINVAL;
	case SR_ABSENT:
		return -ENOENT;
	case SR_NOT_ROOT:
		return -EPERM;
	case SR_NO_BACKEND:
		return -ENOTSUP;
	case NFQ_RULES_EXIT_NOEXEC:
		return -ENOEXEC;
	default:
		return -EIO;
	}
}

/* ---------------------------------------------------------------- processes */

static int read_small(const char *path, char *buf, size_t size, size_t *len)
{
	ssize_t n;
	size_t got = 0;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	while (got < size) {
		n = read(fd, buf + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got == size)
		err = -EFBIG;
	*len = got;
out:
	close(fd);
	return err;
}

/* State letter and start time of pid; -ENOENT when there is no such process. */
static int proc_identity(pid_t pid, char *state, uint64_t *starttime)
{
	char path[64], buf[1024];
	size_t len;
	int err;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	err = read_small(path, buf, sizeof(buf), &len);
	if (err < 0)
		return err;
	return nfq_rules_parse_proc_stat(buf, len, state, starttime);
}

/*
 * Is the process the state file names still running? A zombie is not (its
 * queue socket is closed); a pid now held by a process with another start
 * time is not the owner.
 */
static int owner_alive(const struct nfq_rules_state *st)
{
	uint64_t start;
	char state;
	int err = proc_identity(st->pid, &state, &start);

	if (err == -ENOENT)
		return 0;
	if (err < 0) {
		/* no usable /proc: fall back to the pid alone */
		return kill(st->pid, 0) == 0 || errno == EPERM;
	}
	if (state == 'Z' || state == 'X')
		return 0;
	return st->starttime == 0 || st->starttime == start;
}

static int is_self(const struct nfq_rules_state *st, uint64_t self_start)
{
	return st->pid == getpid() && (st->starttime == 0 || st->starttime == self_start);
}

static void log_child_stderr(const char *cmd, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *nl;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if (nl > p)
			log_warnx("stunt-rules %s: %.*s", cmd, (int)(nl - p), p);
		p = nl + 1;
	}
}

/* fork/execve with a fixed environment; stdin, stdout: /dev/null; stderr: a pipe to us. */
static int run_tool(const char *tool, const char *cmd, const struct nfq_rules_state *st)
{
	static char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL };
	struct nfq_rules_argv av;
	char errbuf[NFQ_RULES_STDERR_MAX], drain[256];
	size_t errlen = 0;
	uint64_t deadline;
	struct pollfd pfd;
	sigset_t all;
	pid_t pid, w;
	int pipefd[2] = { -1, -1 }, devnull = -1, status = 0, killed = 0, err, n;
	ssize_t got;

	err = nfq_rules_build_argv(tool, cmd, st, &av);
	if (err < 0)
		return err;
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
		err = -errno;
		log_warn("stunt-rules %s: pipe", cmd);
		goto cleanup;
	}
	pid = fork();
	if (pid < 0) {
		err = -errno;
		log_warn("stunt-rules %s: fork", cmd);
		goto cleanup;
	}
	if (pid == 0) {
		/* only async-signal-safe calls from here to execve */
		if (dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(pipefd[1], 2) < 0)
			_exit(NFQ_RULES_EXIT_NOEXEC);
		/* descriptors the caller did not mark close-on-exec stay ours */
		closefrom(3);
		/* ignored signals (SIGPIPE in most daemons) stay ignored across execve */
		signal(SIGPIPE, SIG_DFL);
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		execve(tool, av.argv, envp);
		(void)!write(2, "execve failed\n", 14);
		_exit(NFQ_RULES_EXIT_NOEXEC);
	}
	close(pipefd[1]);
	pipefd[1] = -1;

	/* collect stderr until EOF (the tool and its iptables children are done) */
	deadline = clock_ms() + NFQ_RULES_TOOL_TIMEOUT_MS;
	for (;;) {
		uint64_t now = clock_ms();

		if (now >= deadline) {
			kill(pid, SIGKILL);
			killed = 1;
			break;
		}
		pfd = (struct pollfd){ .fd = pipefd[0], .events = POLLIN };
		n = poll(&pfd, 1, (int)(deadline - now));
		if (n < 0 && errno != EINTR)
			break;
		if (n <= 0)
			continue;
		if (errlen < sizeof(errbuf))
			got = read(pipefd[0], errbuf + errlen, sizeof(errbuf) - errlen);
		else
			got = read(pipefd[0], drain, sizeof(drain));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		if (errlen < sizeof(errbuf))
			errlen += (size_t)got;
	}
	do
		w = waitpid(pid, &status, 0);
	while (w < 0 && errno == EINTR);
	if (w < 0) {
		err = -errno;
		log_warn("stunt-rules %s: waitpid", cmd);
		goto cleanup;
	}
	if (killed) {
		log_warnx("stunt-rules %s: no answer after %d ms, killed", cmd,
			  NFQ_RULES_TOOL_TIMEOUT_MS);
		err = -ETIMEDOUT;
	} else if (WIFSIGNALED(status)) {
		log_warnx("stunt-rules %s: killed by signal %d", cmd, WTERMSIG(status));
		err = -EIO;
	} else {
		err = nfq_rules_exit_errno(WEXITSTATUS(status));
		if (err < 0 && !(err == -ENOENT && strcmp(cmd, "status") == 0))
			log_warnx("stunt-rules %s failed (exit %d)", cmd, WEXITSTATUS(status));
	}
	/*
	 * What a failed run says, and what a successful one warns of (no
	 * usable ip6tables: the IPv4 rules only); "status" finding nothing is
	 * no news.
	 */
	if (!(err == -ENOENT && strcmp(cmd, "status") == 0) && (err < 0 || errlen > 0))
		log_child_stderr(cmd, errbuf, errlen);
	else
		log_debug("stunt-rules %s: done", cmd);
cleanup:
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	if (devnull >= 0)
		close(devnull);
	return err;
}

/* ---------------------------------------------------------------- state file */

/* 0 and *st, -ENOENT when there is no state file, -EINVAL when it is corrupt. */
static int state_read(const char *path, struct nfq_rules_state *st)
{
	char buf[NFQ_RULES_STATE_MAX];
	size_t len;
	int err = read_small(path, buf, sizeof(buf), &len);

	if (err == -EFBIG)
		return -EINVAL;
	if (err < 0)
		return err;
	return nfq_rules_state_parse(buf, len, st);
}

/* Replace the state file atomically: a reader sees the old file or the new one. */
static int state_write(const char *path, const struct nfq_rules_state *st)
{
	char buf[NFQ_RULES_STATE_MAX], tmp[PATH_MAX];
	size_t off = 0;
	ssize_t n;
	int fd = -1, len, err = 0;

	len = nfq_rules_state_format(st, buf, sizeof(buf));
	if (len < 0)
		return len;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= sizeof(tmp))
		return -ENAMETOOLONG;
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		err = -errno;
		log_warn("%s", tmp);
		return err;
	}
	while (off < (size_t)len) {
		n = write(fd, buf + off, (size_t)len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		off += (size_t)n;
	}
	if (fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto fail;
	return 0;
fail:
	err = -errno;
	log_warn("cannot write %s", path);
	if (fd >= 0)
		close(fd);
	(void)unlink(tmp);
	return err;
}

static int state_remove(const char *path)
{
	if (unlink(path) < 0 && errno != ENOENT) {
		log_warn("cannot remove %s", path);
		return -errno;
	}
	return 0;
}

/* flock on "<state>.lock": acquire and release of concurrent processes take turns. */
static int state_lock(const char *path)
{
	char lp[PATH_MAX];
	int fd, err;

	if ((size_t)snprintf(lp, sizeof(lp), "%s.lock", path) >= sizeof(lp))
		return -ENAMETOOLONG;
	fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		err = -errno;
		log_warn("cannot open %s", lp);
		return err;
	}
	while (flock(fd, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		err = -errno;
		log_warn("cannot lock %s", lp);
		close(fd);
		return err;
	}
	return fd;
}

static void state_unlock(int fd)
{
	if (fd >= 0)
		close(fd);      /* drops the flock */
}

/* A bad cfg or a missing tool fails here, before anything changes. */
static int check_cfg(const struct nfq_rules_cfg *cfg, struct nfq_rules_state *want)
{
	int err;

	if (cfg == NULL || cfg->tool == NULL || *cfg->tool == '\0' || cfg->state_path == NULL ||
	    *cfg->state_path == '\0' || nfq_rules_cfg_state(cfg, want) < 0) {
		log_warnx("nfq rules: bad configuration (tool, state file, mark)");
		return -EINVAL;
	}
	if (access(cfg->tool, X_OK) < 0) {
		err = -errno;
		log_warn("cannot run %s", cfg->tool);
		return err;
	}
	return 0;
}

/* ---------------------------------------------------------------- lifecycle */

int nfq_rules_acquire(const struct nfq_rules_cfg *cfg)
{
	struct nfq_rules_state want, old;
	uint64_t self_start = 0;
	char self_state;
	int lock, err;

	err = check_cfg(cfg, &want);
	if (err < 0)
		return err;
	want.pid = getpid();
	if (proc_identity(want.pid, &self_state, &self_start) < 0)
		self_start = 0;
	want.starttime = self_start;

	lock = state_lock(cfg->state_path);
	if (lock < 0)
		return lock;

	err = state_read(cfg->state_path, &old);
	if (err == 0 && !is_self(&old, self_start) && owner_alive(&old)) {
		log_warnx("nfq rules are owned by running pid %ld (queue %u, state file %s): "
			  "refusing to touch them",
			  (long)old.pid, (unsigned)old.queue, cfg->state_path);
		err = -EBUSY;
		goto cleanup;
	}
	if (err == 0 && !is_self(&old, self_start)) {
		log_info("removing stale rules left by pid %ld (queue %u, mark 0x%" PRIx32 "/0x%" PRIx32 ")",
			 (long)old.pid, (unsigned)old.queue, old.mark, old.mark_mask);
		err = run_tool(cfg->tool, "remove", &old);
		if (err < 0)
			goto cleanup;
	} else if (err == -EINVAL) {
		/* written atomically, so corrupt means not written by us: nobody to ask */
		log_warnx("%s: not a stunt-rules state file; removing whatever rules it stands for",
			  cfg->state_path);
		err = run_tool(cfg->tool, "remove", NULL);
		if (err < 0)
			goto cleanup;
	} else if (err < 0 && err != -ENOENT) {
		errno = -err;
		log_warn("cannot read %s", cfg->state_path);
		goto cleanup;
	}

	/* the record first: from here on, rules that may exist have a named owner */
	err = state_write(cfg->state_path, &want);
	if (err < 0)
		goto cleanup;
	err = run_tool(cfg->tool, "install", &want);
	if (err < 0) {
		/* leave nothing half-installed behind, and no claim on it */
		(void)run_tool(cfg->tool, "remove", NULL);
		(void)state_remove(cfg->state_path);
		goto cleanup;
	}
	log_info("nfq rules installed (queue %u, mark 0x%" PRIx32 "/0x%" PRIx32 "%s)",
		 (unsigned)want.queue, want.mark, want.mark_mask,
		 want.queue_bypass ? ", queue-bypass" : "");
cleanup:
	state_unlock(lock);
	return err;
}

int nfq_rules_release(const struct nfq_rules_cfg *cfg)
{
	struct nfq_rules_state want, old;
	uint64_t self_start = 0;
	char self_state;
	int lock, err;

	err = check_cfg(cfg, &want);
	if (err < 0)
		return err;
	if (proc_identity(getpid(), &self_state, &self_start) < 0)
		self_start = 0;

	lock = state_lock(cfg->state_path);
	if (lock < 0)
		return lock;
	err = state_read(cfg->state_path, &old);
	if (err == 0 && !is_self(&old, self_start) && owner_alive(&old)) {
		log_warnx("nfq rules now belong to running pid %ld (state file %s): leaving them",
			  (long)old.pid, cfg->state_path);
		err = -EBUSY;
		goto cleanup;
	}
	err = run_tool(cfg->tool, "remove", NULL);
	if (err < 0)
		goto cleanup;
	/* the record last: it outlives the rules, never the other way round */
	err = state_remove(cfg->state_path);
	if (err == 0)
		log_info("nfq rules removed");
cleanup:
	state_unlock(lock);
	return err;
}
