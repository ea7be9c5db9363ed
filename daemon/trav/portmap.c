// SPDX-License-Identifier: MIT
/*
 * Port mapping: the side whose gateway can map a port (discovery saw
 * UPnP-IGD, NAT-PMP or PCP make a test mapping) asks it to map the port of
 * its portmap socket -- UPnP-IGD AddPortMapping, else NAT-PMP, else PCP
 * (probes/probe_map.c) -- advertises the external endpoint as a
 * SIG_CAND_PORTMAP candidate and listens; the other side connects to it.
 * No primer SYN: the gateway's mapping is explicit.
 *
 * The mapping has a lease (TRAV_PM_LIFETIME_S), so a crash cannot leave it
 * forever, and is removed when the session ends, won or lost (trav_close):
 * the established connection lives on in the gateway's connection tracking.
 *
 * The mapping libraries block (SSDP, HTTP/SOAP, UDP retries), so each
 * mapping and each removal runs in its own short-lived thread that touches
 * only its job; a pipe wakes the event loop when it is done, and only the
 * loop's thread reads the result, talks to the session or frees the job.
 * A job outlives its session when the session ends while the gateway is
 * still being asked: the mapping that comes back later is then removed.
 */
#include "daemon/trav/trav.h"

#include "common/clock.h"
#include "common/log.h"
#include "probes/probe_map.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define TRAV_PM_LIFETIME_S	3600	/* the lease: bounds what a crash leaves */
#define TRAV_PM_MAP_MS		2000	/* every protocol together */
#define TRAV_PM_UNMAP_MS	1000
#define TRAV_PM_SHUTDOWN_MS	3000	/* stuntd stopping: wait this long for threads */

struct trav_pm_job {
	struct d_ev		ev;		/* the pipe's read end: the thread is done */
	int			wfd;
	pthread_t		th;
	bool			running;
	bool			unmapping;
	uint16_t		port;
	unsigned		protos;
	struct probe_pmap	map;
	int			err;
	uint64_t		t_start;
	struct trav_attempt	*a;		/* NULL once the session let go */
	struct trav_pm_job	*next;
};

static struct trav_pm_job *pm_jobs;

static void *pm_thread(void *arg)
{
	struct trav_pm_job *j = arg;
	char b = 'x';

	if (j->unmapping)
		j->err = probe_pmap_unmap(&j->map, TRAV_PM_UNMAP_MS);
	else
		j->err = probe_pmap_map(j->port, TRAV_PM_LIFETIME_S, j->protos, TRAV_PM_MAP_MS,
					&j->map);
	if (write(j->wfd, &b, 1) < 0)
		j->err = j->err ? j->err : -errno;
	return NULL;
}

static void pm_free(struct trav_pm_job *j)
{
	struct trav_pm_job **pp;

	for (pp = &pm_jobs; *pp; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	if (j->ev.fd >= 0) {
		d_loop_del(&j->ev);
		close(j->ev.fd);
	}
	if (j->wfd >= 0)
		close(j->wfd);
	free(j);
}

static const char *pm_endpoint(const struct trav_pm_job *j, char *buf, size_t len)
{
	char ip[INET_ADDRSTRLEN];

	snprintf(buf, len, "%s %s:%u -> port %u", probe_pmap_name(j->map.proto),
		 d_ip_str(j->map.ext_ip, ip), j->map.ext_port, j->map.int_port);
	return buf;
}

static int pm_run(struct trav_pm_job *j, bool unmapping)
{
	j->unmapping = unmapping;
	j->t_start = clock_ms();
	j->running = pthread_create(&j->th, NULL, pm_thread, j) == 0;
	return j->running ? 0 : -EAGAIN;
}

/* The session is gone: remove the mapping, then forget the job. */
static void pm_unmap_or_free(struct trav_pm_job *j)
{
	char ep[96];

	if (j->map.proto == PROBE_PMAP_NONE) {
		pm_free(j);
		return;
	}
	if (pm_run(j, true) < 0) {
		log_warnx("portmap: cannot start a thread to remove %s (it expires in %u s)",
			  pm_endpoint(j, ep, sizeof(ep)), j->map.lifetime_s);
		pm_free(j);
	}
}

static void on_pm_done(struct d_ev *ev, uint32_t events)
{
	struct trav_pm_job *j = ev->arg;
	struct trav_attempt *a = j->a;
	char b[8], ep[96], ip[INET_ADDRSTRLEN];
	uint64_t ms;
	int err;

	(void)events;
	if (read(ev->fd, b, sizeof(b)) <= 0 || !j->running)
		return;
	pthread_join(j->th, NULL);
	j->running = false;
	ms = clock_ms() - j->t_start;
	if (j->unmapping) {
		if (j->err == 0)
			log_info("portmap: removed the mapping of port %u (%llu ms)", j->map.int_port,
				 (unsigned long long)ms);
		else
			log_warnx("portmap: could not remove %s: %s (it expires in %u s)",
				  pm_endpoint(j, ep, sizeof(ep)), strerror(-j->err), j->map.lifetime_s);
		pm_free(j);
		return;
	}
	if (a == NULL) {		/* the session ended while we asked */
		pm_unmap_or_free(j);
		return;
	}
	if (j->err == 0) {
		if (j->map.ext_ip == 0)
			j->map.ext_ip = g_d->public_ip;
		if (probe_ip_is_private(j->map.ext_ip)) {
			/* another NAT outside the gateway: nobody can reach the mapping */
			snprintf(a->why, sizeof(a->why),
				 "the gateway's external address %s is private (another NAT outside it)",
				 d_ip_str(j->map.ext_ip, ip));
			j->err = -EADDRNOTAVAIL;
		} else {
			log_info("portmap: %s mapped for %u s in %llu ms", pm_endpoint(j, ep, sizeof(ep)),
				 j->map.lifetime_s, (unsigned long long)ms);
		}
	} else {
		log_info("portmap: no mapping of port %u after %llu ms: %s", j->port,
			 (unsigned long long)ms, j->map.why);
		snprintf(a->why, sizeof(a->why), "no mapping: %.110s", j->map.why);
	}
	err = j->err;
	if (err < 0) {
		a->priv = NULL;
		j->a = NULL;
		pm_unmap_or_free(j);	/* j may be gone */
	}
	if (err == 0) {
		log_info("session %u: portmap: port %u mapped on the gateway", a->sid, a->lport);
	} else if (a->requester) {
		/* offer to connect instead: the peer may be able to map */
		log_info("session %u: portmap: %s; offering to connect instead", a->sid, a->why);
		a->role = TRAV_CONNECT;
		err = 0;
	}
	a->events->ready(a, err);
}

/* Map a->lport on the gateway in a thread; forced: with whatever protocol
 * answers, else only those discovery saw. 0 or -errno (a->why). */
static int map(struct trav_attempt *a, bool forced)
{
	struct trav_pm_job *j;
	int p[2];

	if (a->priv)
		return -EALREADY;
	j = calloc(1, sizeof(*j));
	if (j == NULL)
		return -ENOMEM;
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
		free(j);
		return -errno;
	}
	j->ev = (struct d_ev){ .fd = p[0], .cb = on_pm_done, .arg = j };
	j->wfd = p[1];
	j->port = a->lport;
	j->a = a;
	/* the protocols discovery saw working; forced: whatever answers */
	if (g_d->nat.flags & SIG_NAT_UPNP)
		j->protos |= PROBE_PMAP_F_UPNP;
	if (g_d->nat.flags & SIG_NAT_NATPMP)
		j->protos |= PROBE_PMAP_F_NATPMP;
	if (g_d->nat.flags & SIG_NAT_PCP)
		j->protos |= PROBE_PMAP_F_PCP;
	if (j->protos == 0 && forced)
		j->protos = PROBE_PMAP_F_ALL;
	j->next = pm_jobs;
	pm_jobs = j;
	if (j->protos == 0) {
		snprintf(a->why, sizeof(a->why), "discovery found no port mapping protocol");
		pm_free(j);
		return -ENOTSUP;
	}
	if (d_loop_add(&j->ev, EPOLLIN) < 0 || pm_run(j, false) < 0) {
		snprintf(a->why, sizeof(a->why), "cannot start the mapping");
		pm_free(j);
		return -EAGAIN;
	}
	a->priv = j;
	return 0;
}

/*
 * The accepting side (the session negotiated the roles: the requester
 * accepts if its gateway can map, the responder if the requester did not
 * advertise a mapping) maps its port before its EXCHANGE; events->ready
 * when it is mapped (0) or not. A requester that cannot map offers to
 * connect instead: the peer may be able to.
 */
static int gather(struct trav_attempt *a)
{
	int err;

	if (a->role != TRAV_ACCEPT)
		return 1;
	err = map(a, a->forced);
	if (err < 0 && a->requester) {
		log_info("session %u: portmap: %s", a->sid, a->why);
		a->role = TRAV_CONNECT;
		return 1;
	}
	return err;
}

/* Mapped: the candidate is the gateway's external endpoint. */
static void offer(const struct trav_attempt *a, struct sig_candidate *c, struct sig_exchange *x)
{
	const struct trav_pm_job *j = a->priv;

	(void)x;
	if (j == NULL || j->running || j->unmapping || j->map.proto == PROBE_PMAP_NONE)
		return;
	c->kind = SIG_CAND_PORTMAP;
	c->addr.family = STUN_FAMILY_IPV4;
	c->addr.port = j->map.ext_port;
	memcpy(c->addr.ip, &j->map.ext_ip, 4);
}

/* The gateway's mapping is explicit: no primer, no TTL limit; the
 * connecting side goes to the peer gateway's mapping (trav_arm). */
static void arm(struct trav_attempt *a, const struct trav_peer *p, int syn_ttl)
{
	(void)p;
	(void)syn_ttl;
	a->ttl = 0;
}

/* Session over: remove the mapping (in a thread; the job outlives a). */
static void release(struct trav_attempt *a, bool keep_conn)
{
	struct trav_pm_job *j = a->priv;

	(void)keep_conn;
	a->priv = NULL;
	if (j == NULL)
		return;
	j->a = NULL;
	if (!j->running)
		pm_unmap_or_free(j);
	/* else on_pm_done() removes what comes back */
}

/* stuntd stops: wait (bounded) for mappings in flight and remove all. */
static void pm_shutdown(void)
{
	struct timespec until;
	char ep[96];
	int err;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += TRAV_PM_SHUTDOWN_MS / 1000;
	while (pm_jobs) {
		struct trav_pm_job *j = pm_jobs;

		if (j->running) {
			if (pthread_timedjoin_np(j->th, NULL, &until) != 0) {
				log_warnx("portmap: the gateway did not answer in time; a mapping of port %u may stay until its lease ends (%u s)",
					  j->port, TRAV_PM_LIFETIME_S);
				pm_jobs = j->next;	/* the thread still uses it: leave it */
				continue;
			}
			j->running = false;
		}
		if (j->map.proto != PROBE_PMAP_NONE) {
			pm_endpoint(j, ep, sizeof(ep));
			err = probe_pmap_unmap(&j->map, TRAV_PM_UNMAP_MS);
			if (err == 0)
				log_info("portmap: removed %s", ep);
			else
				log_warnx("portmap: could not remove %s: %s (it expires in %u s)", ep,
					  strerror(-err), j->map.lifetime_s);
		}
		pm_free(j);
	}
}

/* the roles until negotiate.c settles them: as for direct */
const struct trav_ops trav_portmap_ops = {
	.method = SIG_M_PORTMAP, .flags = TRAV_F_EARLY | TRAV_F_OWN_ENDPOINT, .role = trav_role_responder_accepts,
	.gather = gather, .offer = offer, .arm = arm, .close = release, .shutdown = pm_shutdown,
};
