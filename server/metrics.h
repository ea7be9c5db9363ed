/* SPDX-License-Identifier: MIT */
/*
 * stunt-server's --metrics ADDR:PORT: the counters it keeps (server/stats.h)
 * in the Prometheus text format, served on the server's own epoll loop by
 * common/promhttp.c. Nothing is counted here; the names and their meaning
 * are listed in stunt-server(8).
 */
#ifndef STUNT_SERVER_METRICS_H
#define STUNT_SERVER_METRICS_H

#include "server/server.h"
#include "common/prom.h"

/* Listen on cfg->metrics (when set); fatal() if it cannot be bound (start-up). */
void srv_metrics_open(struct srv_state *st, const struct srv_config *cfg);
/* The loop saw events on one of its descriptors (SRV_FD_METRICS). */
void srv_metrics_event(struct srv_fd *f, uint32_t events, uint64_t now);
/* Close what has run too long. */
void srv_metrics_expire(uint64_t now);
void srv_metrics_close(void);

/* The counters s into b, under the prefix stunt_server_ (pure). */
void srv_metrics_fill(const struct srv_stats *s, struct prom_buf *b);

#endif
