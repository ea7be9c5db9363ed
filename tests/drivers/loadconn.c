// SPDX-License-Identifier: MIT
/*
 * loadconn: many concurrent traversals through one stuntd, for the load
 * test (tests/lab/t_load.sh) and benchmark (tests/bench/load.sh).
 *
 *   loadconn --control PATH --peer ID --service NAME [--method M]
 *            [--total N] [--concurrency C] [--stuntd-pid PID]
 *            [--timeout-ms T]
 *
 * Runs N `connect` requests on stuntd's control socket (docs/control.md),
 * at most C at once; each received socket carries 64 random bytes to the
 * far service (an echo) and back. A traversal counts as ok when the answer
 * is "ok":true, a descriptor came with it and the 64 bytes came back.
 * Before and after: stuntd's open descriptors and RSS (/proc/PID).
 * Output: "key value" lines (and one "error COUNT TEXT" per distinct
 * error); progress on stderr. Exit 0 (the numbers say how well), 1 error,
 * 2 usage.
 */
#include "common/clock.h"
#include "tests/drivers/procstat.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define ECHO_LEN	64
#define MAX_ERRS	16

enum cstate { C_IDLE, C_CTL, C_ECHO, C_DONE };

struct conn {
	enum cstate	 st;
	int		 ctl, sock;
	uint64_t	 start_ms;
	char		 line[1024];
	size_t		 llen;
	uint8_t		 want[ECHO_LEN], got[ECHO_LEN];
	size_t		 glen;
};

static struct { char text[160]; unsigned long count; } errs[MAX_ERRS];
static unsigned long n_ok, n_fail, lat_sum;
static unsigned long *lat;
static int epfd;

static void usage(void)
{
	fprintf(stderr, "usage: loadconn --control PATH --peer ID --service NAME [--method M]\n"
			"  [--total N] [--concurrency C] [--stuntd-pid PID] [--timeout-ms T]\n");
	exit(2);
}

static void note_error(const char *why)
{
	unsigned i;

	for (i = 0; i < MAX_ERRS && errs[i].count; i++)
		if (!strcmp(errs[i].text, why))
			break;
	if (i == MAX_ERRS)
		i = MAX_ERRS - 1;
	if (!errs[i].count)
		snprintf(errs[i].text, sizeof(errs[i].text), "%s", why);
	errs[i].count++;
}

static void conn_end(struct conn *c, const char *err)
{
	if (c->ctl >= 0) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, c->ctl, NULL);
		close(c->ctl);
	}
	if (c->sock >= 0) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, c->sock, NULL);
		close(c->sock);
	}
	c->ctl = c->sock = -1;
	c->st = C_DONE;
	if (err) {
		n_fail++;
		note_error(err);
	} else {
		lat[n_ok++] = (unsigned long)(clock_ms() - c->start_ms);
	}
}

static int conn_start(struct conn *c, uint32_t idx, const struct sockaddr_un *sun,
		      const char *req)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = idx };

	c->sock = -1;
	c->llen = c->glen = 0;
	c->start_ms = clock_ms();
	c->ctl = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->ctl < 0)
		return -1;
	/* blocking connect and write: the daemon accepts as it can, the
	 * request is one short line */
	if (connect(c->ctl, (const struct sockaddr *)sun, sizeof(*sun)) < 0 ||
	    write(c->ctl, req, strlen(req)) != (ssize_t)strlen(req)) {
		close(c->ctl);
		c->ctl = -1;
		return -1;
	}
	c->st = C_CTL;
	epoll_ctl(epfd, EPOLL_CTL_ADD, c->ctl, &ev);
	return 0;
}

static void conn_ctl(struct conn *c, uint32_t idx)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { c->line + c->llen, sizeof(c->line) - 1 - c->llen };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = idx };
	struct cmsghdr *cm;
	ssize_t r;
	char *e;

	r = recvmsg(c->ctl, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	for (cm = CMSG_FIRSTHDR(&mh); r > 0 && cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(&c->sock, CMSG_DATA(cm), sizeof(int));
	if (r <= 0) {
		conn_end(c, "control socket closed without an answer");
		return;
	}
	c->llen += (size_t)r;
	c->line[c->llen] = '\0';
	if (!strchr(c->line, '\n')) {
		if (c->llen >= sizeof(c->line) - 1)
			conn_end(c, "answer too long");
		return;
	}
	if (!strstr(c->line, "\"ok\":true")) {
		char why[160];

		if ((e = strstr(c->line, "\"error\":\""))) {
			snprintf(why, sizeof(why), "%s", e + 9);
			if ((e = strchr(why, '"')))
				*e = '\0';
		} else {
			snprintf(why, sizeof(why), "answer without ok and error");
		}
		conn_end(c, why);
		return;
	}
	if (c->sock < 0) {
		conn_end(c, "ok without a descriptor");
		return;
	}
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->ctl, NULL);
	close(c->ctl);
	c->ctl = -1;
	RAND_bytes(c->want, ECHO_LEN);
	if (send(c->sock, c->want, ECHO_LEN, MSG_NOSIGNAL | MSG_DONTWAIT) != ECHO_LEN) {
		conn_end(c, "cannot send on the traversed socket");
		return;
	}
	c->st = C_ECHO;
	epoll_ctl(epfd, EPOLL_CTL_ADD, c->sock, &ev);
}

static void conn_echo(struct conn *c)
{
	ssize_t r = recv(c->sock, c->got + c->glen, ECHO_LEN - c->glen, MSG_DONTWAIT);

	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		conn_end(c, "traversed socket closed before the echo");
		return;
	}
	c->glen += (size_t)r;
	if (c->glen == ECHO_LEN)
		conn_end(c, memcmp(c->got, c->want, ECHO_LEN) ? "echo differs" : NULL);
}

static int cmp_ul(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "control", required_argument, NULL, 'c' },
		{ "peer", required_argument, NULL, 'p' },
		{ "service", required_argument, NULL, 's' },
		{ "method", required_argument, NULL, 'm' },
		{ "total", required_argument, NULL, 'n' },
		{ "concurrency", required_argument, NULL, 'C' },
		{ "stuntd-pid", required_argument, NULL, 'P' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *control = NULL, *peer = NULL, *service = NULL, *method = NULL;
	unsigned long total = 100, conc = 10, timeout_ms = 30000, started = 0, active, i;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct epoll_event evs[128];
	struct conn *cs;
	struct rlimit rl;
	char req[512];
	uint64_t t0, wall;
	long fd0, rss0, fd1, rss1;
	int pid = 0, c, k;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c': control = optarg; break;
		case 'p': peer = optarg; break;
		case 's': service = optarg; break;
		case 'm': method = optarg; break;
		case 'n': total = strtoul(optarg, NULL, 0); break;
		case 'C': conc = strtoul(optarg, NULL, 0); break;
		case 'P': pid = atoi(optarg); break;
		case 't': timeout_ms = strtoul(optarg, NULL, 0); break;
		default: usage();
		}
	}
	if (!control || !peer || !service || !total || !conc ||
	    strlen(control) >= sizeof(sun.sun_path))
		usage();
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", control);
	snprintf(req, sizeof(req), "{\"cmd\":\"connect\",\"peer\":\"%s\",\"service\":\"%s\"%s%s%s}\n",
		 peer, service, method ? ",\"method\":\"" : "", method ? method : "",
		 method ? "\"" : "");
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	cs = calloc(total, sizeof(*cs));
	lat = calloc(total, sizeof(*lat));
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!cs || !lat || epfd < 0)
		return 1;
	fd0 = proc_fds(pid);
	rss0 = proc_rss_kb(pid);

	t0 = clock_ms();
	for (;;) {
		uint64_t now = clock_ms();

		for (active = 0, i = 0; i < started; i++)
			if (cs[i].st == C_CTL || cs[i].st == C_ECHO) {
				active++;
				if (now - cs[i].start_ms > timeout_ms)
					conn_end(&cs[i], "no answer before the driver's timeout");
			}
		while (started < total && active < conc) {
			if (conn_start(&cs[started], (uint32_t)started, &sun, req) < 0)
				conn_end(&cs[started], "cannot reach the control socket");
			else
				active++;
			started++;
		}
		if (started == total && active == 0)
			break;
		k = epoll_wait(epfd, evs, 128, 50);
		for (c = 0; c < k; c++) {
			struct conn *x = &cs[evs[c].data.u32];

			if (x->st == C_CTL)
				conn_ctl(x, evs[c].data.u32);
			else if (x->st == C_ECHO)
				conn_echo(x);
		}
	}
	wall = clock_ms() - t0;
	/* let the daemon finish its own clean-up of the sessions */
	usleep(2000000);
	fd1 = proc_fds(pid);
	rss1 = proc_rss_kb(pid);

	qsort(lat, n_ok, sizeof(*lat), cmp_ul);
	for (i = 0; i < n_ok; i++)
		lat_sum += lat[i];
	printf("total %lu\nconcurrency %lu\nok %lu\nfailed %lu\nwall_ms %llu\n", total, conc, n_ok,
	       n_fail, (unsigned long long)wall);
	printf("per_s %.1f\n", wall ? (double)n_ok * 1000.0 / (double)wall : 0.0);
	printf("median_ms %lu\np90_ms %lu\n", n_ok ? lat[n_ok / 2] : 0,
	       n_ok ? lat[n_ok * 9 / 10] : 0);
	printf("fd_before %ld\nfd_after %ld\nrss_before_kb %ld\nrss_after_kb %ld\n", fd0, fd1, rss0,
	       rss1);
	for (i = 0; i < MAX_ERRS && errs[i].count; i++)
		printf("error %lu %s\n", errs[i].count, errs[i].text);
	free(cs);
	free(lat);
	return 0;
}
