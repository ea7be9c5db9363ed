// SPDX-License-Identifier: MIT
/* stuntd's one epoll loop: each watched fd carries a struct d_ev. */
#include "daemon/stuntd.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#define D_LOOP_EVENTS 64

static int d_epfd = -1;

int d_loop_init(void)
{
	d_epfd = epoll_create1(EPOLL_CLOEXEC);
	return d_epfd < 0 ? -errno : 0;
}

int d_loop_add(struct d_ev *ev, uint32_t events)
{
	struct epoll_event e = { .events = events, .data.ptr = ev };

	return epoll_ctl(d_epfd, EPOLL_CTL_ADD, ev->fd, &e) < 0 ? -errno : 0;
}

int d_loop_mod(struct d_ev *ev, uint32_t events)
{
	struct epoll_event e = { .events = events, .data.ptr = ev };

	return epoll_ctl(d_epfd, EPOLL_CTL_MOD, ev->fd, &e) < 0 ? -errno : 0;
}


/*
 * A callback may free other d_evs of the same batch (a session cancelling
 * its losers): they are removed from epoll first, and their events of this
 * batch are skipped (d_loop_del clears them).
 */
static struct epoll_event d_batch[D_LOOP_EVENTS];
static int d_batch_n, d_batch_i;

/* Remove ev from epoll and from the rest of the batch being run. */
void d_loop_del(struct d_ev *ev)
{
	int i;

	if (ev->fd >= 0)
		(void)epoll_ctl(d_epfd, EPOLL_CTL_DEL, ev->fd, NULL);
	for (i = d_batch_i + 1; i < d_batch_n; i++)
		if (d_batch[i].data.ptr == ev)
			d_batch[i].data.ptr = NULL;
}

int d_loop_run_once(int timeout_ms)
{
	struct d_ev *ev;

	d_batch_n = epoll_wait(d_epfd, d_batch, D_LOOP_EVENTS, timeout_ms);
	if (d_batch_n < 0) {
		d_batch_n = 0;
		return errno == EINTR ? 0 : -errno;
	}
	for (d_batch_i = 0; d_batch_i < d_batch_n; d_batch_i++) {
		ev = d_batch[d_batch_i].data.ptr;
		if (ev && ev->cb)
			ev->cb(ev, d_batch[d_batch_i].events);
	}
	d_batch_n = 0;
	return 0;
}
