// SPDX-License-Identifier: MIT
/*
 * Shotgun (birthday) traversal for a NAT that maps randomly (address-and-
 * port-dependent mapping, random ports) facing one whose public port is
 * known (endpoint-independent mapping, port preserved). Neither side can
 * predict the random side's next public port, so both sides make many and
 * hope two meet:
 *
 *   hard side (random)  TRAV_SHOTGUN_SOCKETS sockets on fresh local ports,
 *                       each connected to the easy side's public endpoint,
 *                       every SYN TTL-limited: each creates one random
 *                       mapping (conntrack SYN_SENT) in its NAT and dies
 *                       before the peer's NAT, which so has nothing to
 *                       answer. Inbound RST / ICMP errors of these flows are
 *                       dropped, outbound RSTs too.
 *   easy side (EIM)     TRAV_SHOTGUN_LEAD_MS later, TRAV_SHOTGUN_PROBES
 *                       sockets, all bound to its one port (so its NAT maps
 *                       them all to the same public port), connected to the
 *                       hard side's public address at distinct random ports
 *                       of the range (TRAV_SHOTGUN_PORT_MIN..65535),
 *                       TRAV_SHOTGUN_RATE_PER_MS at most, each closed (still
 *                       in SYN_SENT: nothing is sent) TRAV_SHOTGUN_PROBE_MS
 *                       after its SYN, before its first retransmission.
 *
 * A probe that reaches a port the hard side's NAT holds is a SYN in the
 * reply direction of a SYN_SENT entry: the NAT treats it as a simultaneous
 * open and passes it to the hard side's socket, which answers SYN-ACK with
 * the sequence number of its own SYN (so the entry accepts it); the easy
 * side's NAT lets the SYN-ACK in as the answer to that probe: established
 * on both sides. A probe that misses is answered by the hard side's NAT
 * (RST, ICMP) or dropped; an answer only ends that one probe (its own
 * conntrack entry, its own socket), so it is not suppressed.
 *
 * The odds: with N mappings among R possible ports and M distinct guesses,
 * P(hit) = 1 - C(R-N, M) / C(R, M) ~ 1 - (1 - N/R)^M. The lab's random NAT
 * (nftables "masquerade fully-random") uses R = 64512 ports (1024..65535,
 * measured: 2000 mappings, min 1024, max 65514): N = 256, M = 1000 gives
 * 98.1 %, and the easy side goes on (up to TRAV_SHOTGUN_MAX_PROBES, 99.96 %
 * at 2000) until the session's deadline.
 *
 * Two random sides cannot do this: each probe of one takes a new random
 * public port too, so a probe can only meet a socket of the other that was
 * aimed at that very port (P ~ N/R per attempt, 0.4 %); the strategy lists
 * no method and says a relay is needed. A sequential side facing a random
 * one is the same case (its probes take ports last + delta * i, one each).
 */
#include "daemon/trav/trav.h"

#include "common/clock.h"
#include "common/log.h"
#include "daemon/nfq.h"
#include "daemon/trav/strategy.h"
#include "nfq/nfq_policy.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define SG_PORTS	(65536 - TRAV_SHOTGUN_PORT_MIN)

struct sg_sock {
	struct d_ev		ev;
	struct trav_shotgun	*sg;
	uint16_t		lport, rport;
	uint32_t		seq;		/* probe number, 1-based */
	uint64_t		t_close;	/* easy side: closed then */
};

struct trav_shotgun {
	struct trav_attempt	*a;
	bool			hard;
	size_t			n, cap;		/* sockets made / room */
	size_t			nopen;
	struct sg_sock		*v;
	size_t			closed_upto;	/* easy: v[0..closed_upto) closed */
	uint64_t		t_first;	/* first SYN / probe */
	size_t			refused;
	size_t			hit;		/* probe number (easy) or socket (hard), 1-based */
	bool			in_start;	/* tick() from start(): it reports a failure */
	uint8_t			used[SG_PORTS / 8 + 1];	/* easy: ports guessed */
};

/* Room for the sockets: raise the soft RLIMIT_NOFILE (never above the
 * hard limit, never above TRAV_SHOTGUN_NOFILE). */
static void raise_nofile(size_t need)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)need + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	if (want > TRAV_SHOTGUN_NOFILE)
		want = TRAV_SHOTGUN_NOFILE;
	if (rl.rlim_max != RLIM_INFINITY && want > rl.rlim_max)
		want = rl.rlim_max;
	if (want <= rl.rlim_cur)
		return;
	rl.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		log_warn("shotgun: cannot raise the descriptor limit to %llu",
			 (unsigned long long)want);
}

static void close_sock(struct sg_sock *k)
{
	if (k->ev.fd < 0)
		return;
	d_loop_del(&k->ev);
	close(k->ev.fd);	/* SYN_SENT: nothing is sent */
	k->ev.fd = -1;
	k->sg->nopen--;
}

static void sg_fail(struct trav_attempt *a, const char *why)
{
	snprintf(a->why, sizeof(a->why), "%s", why);
	trav_report_failed(a);
}

static void finished_probing(struct trav_shotgun *sg)
{
	struct trav_attempt *a = sg->a;
	char why[128];

	if (a->state != TA_RUNNING || sg->nopen > 0 ||
	    (!sg->hard && sg->n < sg->cap))
		return;
	if (sg->hard)
		snprintf(why, sizeof(why), "shotgun: all %zu sockets failed", sg->n);
	else
		snprintf(why, sizeof(why), "shotgun: %zu probes, none met a mapping (%zu refused)",
			 sg->n, sg->refused);
	sg_fail(a, why);
}

static void on_sock_ev(struct d_ev *ev, uint32_t events)
{
	struct sg_sock *k = ev->arg;
	struct trav_shotgun *sg = k->sg;
	struct trav_attempt *a = sg->a;
	struct tcp_info ti;
	socklen_t el = sizeof(int), tl = sizeof(ti);
	char ip[INET_ADDRSTRLEN];
	int err = 0, fd;
	uint64_t ms;
	size_t i;

	(void)events;
	if (a->state == TA_CONNECTED && sg->hard) {
		/* kept for next_conn(): not watched any more */
		d_loop_del(ev);
		return;
	}
	if (a->state != TA_RUNNING) {
		close_sock(k);
		return;
	}
	if (getsockopt(ev->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
		err = errno;
	if (err) {
		sg->refused++;
		close_sock(k);
		finished_probing(sg);
		return;
	}
	if (getsockopt(ev->fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) < 0 ||
	    ti.tcpi_state != TCP_ESTABLISHED)
		return;
	/* the hit: this socket is the attempt's connection */
	d_loop_del(ev);
	fd = ev->fd;
	ev->fd = -1;
	sg->nopen--;
	a->lport = k->lport;
	a->rport = k->rport;
	sg->hit = k->seq;
	/* The easy side closes its other probes now: one still in SYN_SENT
	 * sends nothing, one that a second hit established sends FIN. The
	 * hard side keeps its other sockets until the session ends: when two
	 * probes met two of them, the peer may have kept the other pair, and
	 * next_conn() switches to it. */
	for (i = 0; i < sg->n && !sg->hard; i++)
		close_sock(&sg->v[i]);
	ms = clock_ms() - sg->t_first;
	if (sg->hard)
		log_info("shotgun: socket %zu of %zu (port %u) met a probe from %s:%u, %llu ms after the first SYN",
			 sg->hit, sg->n, a->lport, d_ip_str(a->raddr, ip), a->rport,
			 (unsigned long long)ms);
	else
		log_info("shotgun: hit after %zu probes (probe %zu of %zu sent, port %u), %llu ms after the first probe",
			 sg->hit, sg->hit, sg->n, a->rport, (unsigned long long)ms);
	trav_connected(a, fd);
}

/* A fresh random port of the range, not guessed before (at most
 * TRAV_SHOTGUN_MAX_PROBES of SG_PORTS are taken: a redraw is rare). */
static uint16_t guess(struct trav_shotgun *sg)
{
	uint32_t r;
	unsigned p, tries;

	for (tries = 0; tries < 64; tries++) {
		if (RAND_bytes((uint8_t *)&r, sizeof(r)) != 1)
			r = (uint32_t)random();
		p = r % SG_PORTS;
		if (!(sg->used[p / 8] & (1u << (p % 8))))
			break;
	}
	sg->used[p / 8] |= (uint8_t)(1u << (p % 8));
	return (uint16_t)(TRAV_SHOTGUN_PORT_MIN + p);
}

/* One more socket of the attempt: bound to lport (0: fresh), connected to
 * a->raddr:rport. 0, or -errno when no socket could be made. */
static int add_sock(struct trav_shotgun *sg, uint16_t lport, uint16_t rport, uint64_t now)
{
	struct trav_attempt *a = sg->a;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(rport),
				  .sin_addr.s_addr = a->raddr };
	struct sg_sock *k;
	int fd;

	if (sg->n >= sg->cap)
		return -ENOSPC;
	if (trav_budget_take(a, 1) < 0)
		return -EDQUOT;
	fd = trav_sock_marked(lport, &lport);
	if (fd < 0)
		return fd;
	k = &sg->v[sg->n++];
	k->sg = sg;
	k->lport = lport;
	k->rport = rport;
	k->seq = (uint32_t)sg->n;
	k->t_close = now + TRAV_SHOTGUN_PROBE_MS;
	k->ev = (struct d_ev){ .fd = fd, .cb = on_sock_ev, .arg = k };
	sg->nopen++;
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0 && errno != EINPROGRESS) {
		log_debug("shotgun: connect %u -> %u: %s", lport, rport, strerror(errno));
		close(fd);
		k->ev.fd = -1;
		sg->nopen--;
		return 0;
	}
	if (d_loop_add(&k->ev, EPOLLOUT) < 0) {
		close(fd);
		k->ev.fd = -1;
		sg->nopen--;
	}
	return 0;
}

/* Are we the side that holds the sockets (the random one)? The same answer
 * on both sides (the requester on a pair the strategy would not pick). */
static bool trav_shotgun_hard(const struct sig_nat_info *own, const struct sig_nat_info *peer,
			      bool requester)
{
	bool o = trav_predictable(own), p = trav_predictable(peer);

	if (o != p)
		return !o;
	return requester;	/* forced on a pair the strategy would not pick */
}

/* One marked socket (the easy side probes from its port) and the state. */
static int prepare(struct trav_attempt *a)
{
	struct trav_shotgun *sg = calloc(1, sizeof(*sg));
	int err;

	if (sg == NULL)
		return -ENOMEM;
	sg->a = a;
	a->priv = sg;
	err = trav_sock_prepare(a);
	if (err < 0) {
		free(sg);
		a->priv = NULL;
	}
	return err;
}

/* The random side's SYNs die before the peer's NAT, the probes of the
 * other must reach ours. */
static void arm(struct trav_attempt *a, const struct trav_peer *p, int syn_ttl)
{
	struct trav_shotgun *sg = a->priv;

	sg->hard = trav_shotgun_hard(&g_d->nat, p->nat, a->requester);
	a->ttl = sg->hard ? syn_ttl : 0;
	if (!sg->hard)
		a->rport = 0;	/* every port of the peer's address */
}

static void tick(struct trav_attempt *a, uint64_t now);

static int start(struct trav_attempt *a, uint64_t now)
{
	struct trav_shotgun *sg = a->priv;
	struct nfq_flow f = { .proto = PKT_PROTO_TCP, .raddr = a->raddr };
	struct nfq_policy_spec sp;
	uint32_t tmo = trav_left_ms(a, now);
	uint32_t id;

	sg->cap = sg->hard ? TRAV_SHOTGUN_SOCKETS : TRAV_SHOTGUN_MAX_PROBES;
	sg->v = calloc(sg->cap, sizeof(*sg->v));
	if (sg->v == NULL)
		return -ENOMEM;
	raise_nofile(sg->hard ? sg->cap :
		     TRAV_SHOTGUN_RATE_PER_MS * TRAV_SHOTGUN_PROBE_MS + TRAV_SHOTGUN_TICK_MAX);
	/* the flows: hard side every local port to the peer's endpoint, easy
	 * side our port to every port of the peer's address */
	if (sg->hard)
		f.rport = a->rport;
	else
		f.lport = a->lport;
	/* a closed loser never sends an RST that could end a mapping: this
	 * guard is not the winner's to remove, it expires */
	nfq_spec_drop_outbound_rst(&sp, &f, D_RST_GUARD_MS);
	if (d_nfq_policy_add(&sp, &id) < 0)
		log_warnx("shotgun: cannot add the RST guard");
	if (sg->hard) {
		if (a->ttl > 0) {
			/* every SYN, retransmissions too: the peer's NAT must never
			 * see one (its RST would end our mapping) */
			nfq_spec_syn_ttl(&sp, &f, 1, (uint8_t)a->ttl, tmo);
			sp.count = 0;
			trav_sock_policy(a, &sp);
		}
		nfq_spec_drop_inbound_errors(&sp, &f, tmo);
		trav_sock_policy(a, &sp);
		sg->t_first = now;
	} else {
		sg->t_first = now + TRAV_SHOTGUN_LEAD_MS;
	}
	log_info("shotgun: %s side: %s", sg->hard ? "random" : "predictable",
		 sg->hard ? "opening sockets towards the peer's port" :
		 "probing the peer's ports after the lead");
	sg->in_start = true;
	tick(a, now);
	sg->in_start = false;
	return a->state == TA_RUNNING ? 0 : -ENOTCONN;
}

static void tick(struct trav_attempt *a, uint64_t now)
{
	struct trav_shotgun *sg = a->priv;
	size_t due, k = 0;
	int err;

	if (sg == NULL || sg->v == NULL || a->state != TA_RUNNING || now < sg->t_first)
		return;
	if (!sg->hard) {
		/* probes past their life: closed before they retransmit */
		while (sg->closed_upto < sg->n && sg->v[sg->closed_upto].t_close <= now)
			close_sock(&sg->v[sg->closed_upto++]);
		due = (size_t)(now - sg->t_first + 1) * TRAV_SHOTGUN_RATE_PER_MS;
	} else {
		due = sg->cap;
	}
	if (due > sg->cap)
		due = sg->cap;
	while (sg->n < due && k++ < TRAV_SHOTGUN_TICK_MAX) {
		err = sg->hard ? add_sock(sg, 0, a->rport, now) : add_sock(sg, a->lport, guess(sg), now);
		if (err == -EDQUOT) {
			/* the session's packet budget: no more probes (a->why) */
			if (sg->in_start) {
				a->state = TA_FAILED;	/* start() fails: its caller reports */
				a->t_end = now;
			} else {
				trav_report_failed(a);
			}
			return;
		}
		if (err < 0) {
			if (sg->n == 0 && sg->hard) {
				snprintf(a->why, sizeof(a->why), "shotgun: socket: %s", strerror(-err));
				a->state = TA_FAILED;
				a->t_end = now;
				return;
			}
			log_debug("shotgun: socket: %s (%zu open)", strerror(-err), sg->nopen);
			break;	/* out of descriptors: next tick */
		}
		if (sg->n == 1 && sg->hard)
			log_info("shotgun: %zu sockets towards port %u", sg->cap, a->rport);
	}
	if (!sg->hard && sg->n == sg->cap && sg->nopen == 0)
		finished_probing(sg);
}

/* The hard side's connection was closed by the peer (it kept another pair
 * after two hits): make another established socket a->conn. Only on the
 * peer's close: an established socket here carries no data first. */
static int next_conn(struct trav_attempt *a, bool data_only)
{
	struct trav_shotgun *sg = a->priv;
	struct tcp_info ti;
	socklen_t tl;
	size_t i;

	if (data_only || sg == NULL || !sg->hard || a->state != TA_CONNECTED)
		return -ENOENT;
	for (i = 0; i < sg->n; i++) {
		struct sg_sock *k = &sg->v[i];

		tl = sizeof(ti);
		if (k->ev.fd < 0 || getsockopt(k->ev.fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) < 0 ||
		    ti.tcpi_state != TCP_ESTABLISHED)
			continue;
		if (a->conn >= 0)
			close(a->conn);	/* the peer closed it: FIN */
		d_loop_del(&k->ev);
		a->conn = k->ev.fd;
		k->ev.fd = -1;
		sg->nopen--;
		a->lport = k->lport;
		a->rport = k->rport;
		log_info("shotgun: the peer closed the connection of socket %zu; socket %zu (port %u) is established too: switching to it",
			 sg->hit, i + 1, a->lport);
		sg->hit = k->seq;
		return 0;
	}
	return -ENOENT;
}

/* Close every socket but a->conn and free the state. */
static void close_shotgun(struct trav_attempt *a, bool keep_conn)
{
	struct trav_shotgun *sg = a->priv;
	size_t i;

	(void)keep_conn;
	if (sg == NULL)
		return;
	for (i = 0; i < sg->n; i++)
		close_sock(&sg->v[i]);
	if (sg->v && (a->state == TA_CANCELLED || a->state == TA_FAILED))
		log_info("shotgun: %s: %zu %s, %zu refused, no hit", trav_state_name(a->state),
			 sg->n, sg->hard ? "sockets" : "probes", sg->refused);
	free(sg->v);
	free(sg);
	a->priv = NULL;
}

const struct trav_ops trav_shotgun_ops = {
	.method = SIG_M_SHOTGUN, .flags = TRAV_F_OWN_GUARD, .role = trav_role_connect,
	.prepare = prepare, .arm = arm, .start = start, .tick = tick, .next_conn = next_conn,
	.close = close_shotgun,
};
