/* SPDX-License-Identifier: MIT */
/*
 * The metrics endpoint's listener and connections (--metrics ADDR:PORT of
 * stunt-server and stuntd), for a program's own epoll loop: this file never
 * waits; it tells the loop what to watch (watch()) and handles what the
 * loop reports (promhttp_event, promhttp_expire).
 *
 * One request per connection (common/httpmini.h): GET /metrics gets the
 * text the program's fill() writes (common/prom.h), anything else an error
 * status; then the connection is shut down for writing, what the client
 * still sends is read and thrown away (so that closing does not reset the
 * answer away) and it is closed. What a client can cost is bounded: at most
 * PROMHTTP_CLIENTS connections (a new one beyond closes the oldest still
 * reading its request), HTTPMINI_HEAD_MAX bytes of request, PROMHTTP_DRAIN_MAX
 * bytes drained, PROMHTTP_TIMEOUT_MS for the whole exchange.
 */
#ifndef STUNT_COMMON_PROMHTTP_H
#define STUNT_COMMON_PROMHTTP_H

#include "common/httpmini.h"
#include "common/prom.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROMHTTP_CLIENTS	8
#define PROMHTTP_TIMEOUT_MS	5000
#define PROMHTTP_BODY_MAX	65536
#define PROMHTTP_DRAIN_MAX	65536
#define PROMHTTP_PATH		"/metrics"

enum promhttp_op { PROMHTTP_ADD, PROMHTTP_MOD, PROMHTTP_DEL };

/* Watch fd for events (EPOLLIN / EPOLLOUT) in the program's loop; slot -1
 * is the listener, 0..PROMHTTP_CLIENTS-1 a client, to be passed back to
 * promhttp_event. 0 or -errno. */
typedef int (*promhttp_watch_fn)(void *arg, enum promhttp_op op, int fd, int slot,
				 uint32_t events);
/* The metrics, into b. */
typedef void (*promhttp_fill_fn)(void *arg, struct prom_buf *b);

struct promhttp_conn {
	int		 fd;		/* -1: free */
	enum { PROMHTTP_READ, PROMHTTP_WRITE, PROMHTTP_DRAIN } state;
	uint64_t	 start_ms;
	size_t		 in_len, drained;
	char		 in[HTTPMINI_HEAD_MAX];
	char		*out;		/* malloc'd: the answer, head and body */
	size_t		 out_off, out_len;
};

struct promhttp {
	bool			 open;		/* promhttp_open succeeded (a zeroed struct: not) */
	int			 fd;		/* the listener */
	promhttp_watch_fn	 watch;
	promhttp_fill_fn	 fill;
	void			*arg;
	unsigned long		 answered[2];	/* 200, and errors */
	unsigned long		 evicted;	/* closed for a new one, or timed out */
	struct promhttp_conn	 c[PROMHTTP_CLIENTS];
};

/* Listen on a (non-blocking), watch the listener and log where. 0, or
 * -errno with "bind metrics ADDR:PORT: REASON" in why (the caller exits). */
union addr_sa;
int promhttp_open(struct promhttp *m, const union addr_sa *a, promhttp_watch_fn watch,
		  promhttp_fill_fn fill, void *arg, char *why, size_t cap);
/* The loop saw events on slot (-1: the listener). The three calls below do
 * nothing on a struct that was never opened. */
void promhttp_event(struct promhttp *m, int slot, uint32_t events, uint64_t now);
/* Close what has run longer than PROMHTTP_TIMEOUT_MS. */
void promhttp_expire(struct promhttp *m, uint64_t now);
/* Close everything (stopping). */
void promhttp_close(struct promhttp *m);
/* The endpoint's own counters as PREFIX_metrics_requests_total{status="ok"|"error"}
 * and PREFIX_metrics_clients_dropped_total (over the limit, or too slow). */
void promhttp_self(const struct promhttp *m, struct prom_buf *b, const char *prefix);
/* "ADDR:PORT" (IPv4) or "[ADDR]:PORT" (IPv6), a port required: 0 or
 * -EINVAL. */
int promhttp_parse_addr(const char *s, union addr_sa *out);

#endif
