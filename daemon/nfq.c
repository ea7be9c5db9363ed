// SPDX-License-Identifier: MIT
/* The queue facade: in this process, or requests to the privileged one. See daemon/nfq.h. */
#include "daemon/nfq.h"

#include "common/clock.h"
#include "common/fdpass.h"
#include "common/log.h"
#include "common/paths.h"
#include "daemon/stuntd.h"
#include "daemon/priv_msg.h"

#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- local: the engine in this process ---- */

void d_nfq_local_up(struct stuntd *d, nfq_event_cb cb)
{
	/* Injected SYN copies carry the traversal mark: a copy that opens a
	 * new conntrack entry (the old one closed by the peer NAT's RST to an
	 * earlier copy) gets our connmark from it, so the replies on that
	 * entry (the next RST) are queued and the flow's guard drops them
	 * (and, with stunt-rules' STUNT-PRE, before conntrack sees them:
	 * the mark then only keeps STUNT-IN's RST rule in play). Unmarked,
	 * that RST reached the socket still in SYN_SENT and aborted
	 * it (ECONNREFUSED). The copy passes the queue once more: its flow's
	 * TTL and report policies were spent on the first SYN. */
	struct nfq_engine_cfg ec = { .queue_num = D_QUEUE_DEFAULT, .event_cb = cb, .inject = 1,
				     .inject_mark = D_MARK_DEFAULT };
	static char tool[PATHS_MAX];
	int err;

	d->mark = D_MARK_DEFAULT;
	if (d->no_rules) {
		d->mark = 0;
		log_warnx("--no-rules: no TTL-limited SYNs and no RST suppression");
		return;
	}
	snprintf(d->rules_state, sizeof(d->rules_state), "%s/rules.state", d->cfg.state_dir);
	if (mkdir(d->cfg.state_dir, 0755) < 0 && errno != EEXIST)
		fatal("state dir %s", d->cfg.state_dir);
	d->rules = (struct nfq_rules_cfg){
		.tool = d->rules_tool ? d->rules_tool : paths_find_tool("stunt-rules", tool, sizeof(tool)),
		.state_path = d->rules_state, .queue = D_QUEUE_DEFAULT, .mark = D_MARK_DEFAULT,
		.queue_bypass = 1,
	};
	/* the queue first: with --queue-bypass nothing stalls while it is unbound */
	err = nfq_engine_open(&ec, &d->nfq);
	if (err < 0)
		fatalx("cannot bind NFQUEUE %u: %s%s", D_QUEUE_DEFAULT, strerror(-err),
		       err == -EPERM ? " (not root, or another stuntd holds it)" : "");
	err = nfq_rules_acquire(&d->rules);
	if (err == -EBUSY)
		fatalx("another running stuntd owns the rules (%s)", d->rules_state);
	if (err < 0)
		fatalx("cannot install the NFQUEUE rules (%s): %s", d->rules.tool, strerror(-err));
	d->rules_held = true;
	log_info("NFQUEUE rules installed by %s (state %s)", d->rules.tool, d->rules_state);
}

void d_nfq_local_down(struct stuntd *d)
{
	int err;

	if (d->rules_held) {
		err = nfq_rules_release(&d->rules);
		if (err < 0)
			log_warnx("removing the NFQUEUE rules: %s", strerror(-err));
		d->rules_held = false;
	}
	if (d->nfq) {
		nfq_engine_close(d->nfq);
		d->nfq = NULL;
	}
}

/* A bound, non-blocking TCP socket of sa's family (an IPv6 one v6-only). */
static int local_socket(uint32_t mark, struct sockaddr_storage *sa, socklen_t sl, uint16_t *bound)
{
	int fd, one = 1, err;

	fd = socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if ((mark && setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0) ||
	    (sa->ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)sa, sl) < 0 ||
	    getsockname(fd, (struct sockaddr *)sa, &sl) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	if (bound)
		*bound = ntohs(sa->ss_family == AF_INET6 ?
			       ((struct sockaddr_in6 *)(void *)sa)->sin6_port :
			       ((struct sockaddr_in *)(void *)sa)->sin_port);
	return fd;
}

int d_nfq_local_socket(uint32_t mark, uint16_t port, uint16_t *bound)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *a = (struct sockaddr_in *)(void *)&ss;

	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	return local_socket(mark, &ss, sizeof(*a), bound);
}

int d_nfq_local_socket6(uint32_t mark, const uint8_t ip[16], uint16_t port, uint16_t *bound)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in6 *a = (struct sockaddr_in6 *)(void *)&ss;

	a->sin6_family = AF_INET6;
	a->sin6_port = htons(port);
	memcpy(&a->sin6_addr, ip, 16);
	return local_socket(mark, &ss, sizeof(*a), bound);
}

/* what the first refusal of each kind said; the rest are counted */
static unsigned long mark_refused, inject_refused[D_INJ_MAX];

int d_nfq_mark_fd(int fd, uint32_t mark)
{
	int dom = -1, type = -1, proto = -1;
	socklen_t l = sizeof(int);
	const char *why = NULL;
	struct stat st;
	int err = 0;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		why = "not a socket";
		err = -ENOTSOCK;
	} else {
		(void)getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &l);
		l = sizeof(int);
		(void)getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l);
		l = sizeof(int);
		(void)getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &l);
		if (dom != AF_INET && dom != AF_INET6) {
			why = "not an AF_INET or AF_INET6 socket";
			err = -EAFNOSUPPORT;
		} else if (type != SOCK_STREAM || proto != IPPROTO_TCP) {
			why = "not a TCP socket";
			err = -EPROTOTYPE;
		} else if (mark == 0) {
			return -ENOTCONN;	/* no rules, nothing to mark for */
		} else if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0) {
			return -errno;
		}
	}
	if (err < 0 && mark_refused++ == 0)
		log_warnx("priv: refused to mark a descriptor: %s (family %d, type %d, protocol %d)"
			  "; further refusals are counted", why, dom, type, proto);
	return err;
}

unsigned long d_nfq_mark_refused(void)
{
	return mark_refused;
}

int d_nfq_local_addrs(struct d_nfq_local *out)
{
	struct ifaddrs *ifa, *i;

	out->n4 = out->n6 = 0;
	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (i = ifa; i; i = i->ifa_next) {
		if (i->ifa_addr == NULL)
			continue;
		if (i->ifa_addr->sa_family == AF_INET && out->n4 < D_NFQ_LOCAL_ADDRS_MAX)
			out->v4[out->n4++] =
				((const struct sockaddr_in *)(const void *)i->ifa_addr)->sin_addr.s_addr;
		else if (i->ifa_addr->sa_family == AF_INET6 && out->n6 < D_NFQ_LOCAL_ADDRS_MAX)
			memcpy(out->v6[out->n6++],
			       &((const struct sockaddr_in6 *)(const void *)i->ifa_addr)->sin6_addr, 16);
	}
	freeifaddrs(ifa);
	return 0;
}

int d_nfq_inject_checked(struct nfq_engine *e, const uint8_t *p, size_t len)
{
	struct d_nfq_local local;
	enum d_priv_inject_why why = D_INJ_OK;
	int r;

	if (e == NULL)
		return -ENOTCONN;
	r = d_nfq_local_addrs(&local);
	if (r < 0)
		return r;
	r = d_priv_inject_check(p, len, nfq_engine_policies(e), clock_ms(), local.v4, local.n4,
				(const uint8_t (*)[16])local.v6, local.n6, &why);
	if (r < 0) {
		if (inject_refused[why]++ == 0)
			log_warnx("refused to inject a datagram of %zu bytes: %s; further refusals "
				  "are counted", len, d_priv_inject_why_str(why));
		return r;
	}
	return nfq_engine_inject(e, p, len);
}

unsigned long d_nfq_inject_refused(void)
{
	unsigned long n = 0;
	int i;

	for (i = 0; i < D_INJ_MAX; i++)
		n += inject_refused[i];
	return n;
}

/* ---- remote: the privileged process ---- */

static struct {
	bool		on;
	bool		lost;
	bool		in_loop;
	int		req;
	struct d_ev	ev;
	pid_t		pid;
	uint32_t	seq;
} R = { .req = -1, .ev.fd = -1 };

static uint8_t txbuf[D_PRIV_MSG_MAX];
static struct d_priv_stats stats_reply;	/* call(): the last STATS_REPLY */

pid_t d_nfq_priv_pid(void)
{
	return R.on ? R.pid : 0;
}

bool d_nfq_remote_lost(void)
{
	return R.lost;
}

static void remote_lost(const char *why)
{
	if (R.lost)
		return;
	R.lost = true;
	log_warnx("privileged process: %s: stopping", why);
	d_sig_term = SIGTERM;
}

static void on_event_fd(struct d_ev *ev, uint32_t events)
{
	uint8_t buf[sizeof(struct d_priv_hdr) + sizeof(struct d_priv_event) + 16];
	struct d_priv_msg m;
	ssize_t n;
	int i;

	(void)events;
	for (i = 0; i < 64; i++) {
		n = recv(ev->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n == 0) {
			d_loop_del(ev);
			R.in_loop = false;
			remote_lost("gone");
			return;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				d_loop_del(ev);
				R.in_loop = false;
				remote_lost(strerror(errno));
			}
			return;
		}
		if ((size_t)n > sizeof(buf) || d_priv_decode(buf, (size_t)n, &m) < 0 ||
		    m.hdr.type != D_PRIV_EVENT) {
			log_warnx("privileged process: a bad event message (%zd bytes)", n);
			continue;
		}
		d_session_on_nfq_event(&m.u.event.ev);
	}
}

void d_nfq_remote(int req_fd, int ev_fd, pid_t pid)
{
	R.on = true;
	R.req = req_fd;
	R.pid = pid;
	R.ev = (struct d_ev){ .fd = ev_fd, .cb = on_event_fd };
	if (d_loop_add(&R.ev, EPOLLIN) < 0)
		fatal("epoll");
	R.in_loop = true;
}

/* Send a request of n bytes from txbuf (with descriptor sendfd unless it
 * is -1) and wait for its reply (and up to nfds descriptors, -1 for those
 * that did not come). */
static int call(int n, int sendfd, struct d_priv_reply *rep, int *fds, int nfds)
{
	uint8_t buf[sizeof(struct d_priv_hdr) + sizeof(struct d_priv_event) + 16];
	uint64_t deadline = clock_ms() + D_PRIV_REPLY_MS, now;
	uint32_t seq = R.seq;
	struct d_priv_msg m;
	int got[FDPASS_MAX], ngot, i, r;
	bool trunc;
	ssize_t k;

	for (i = 0; i < nfds; i++)
		fds[i] = -1;
	if (n < 0)
		return n;
	if (R.lost || R.req < 0)
		return -EPIPE;
	if (fdpass_send(R.req, txbuf, (size_t)n, &sendfd, sendfd >= 0 ? 1 : 0) != n) {
		remote_lost(strerror(errno));
		return -EPIPE;
	}
	for (;;) {
		struct pollfd pf = { .fd = R.req, .events = POLLIN };

		now = clock_ms();
		if (now >= deadline) {
			remote_lost("no answer");
			return -EPIPE;
		}
		r = poll(&pf, 1, (int)(deadline - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			continue;
		k = fdpass_recv(R.req, buf, sizeof(buf), 0, got, FDPASS_MAX, &ngot, &trunc);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			remote_lost(k == 0 ? "gone" : strerror(errno));
			return -EPIPE;
		}
		if (trunc || d_priv_decode(buf, (size_t)k, &m) < 0 ||
		    (m.hdr.type != D_PRIV_REPLY && m.hdr.type != D_PRIV_STATS_REPLY) ||
		    m.hdr.seq != seq) {
			/* a stale answer (its request timed out) or garbage */
			for (i = 0; i < ngot; i++)
				close(got[i]);
			continue;
		}
		for (i = 0; i < ngot; i++) {
			if (i < nfds)
				fds[i] = got[i];
			else
				close(got[i]);
		}
		if (m.hdr.type == D_PRIV_STATS_REPLY) {
			stats_reply = m.u.stats;
			*rep = (struct d_priv_reply){ .result = 0 };
		} else {
			*rep = m.u.reply;
		}
		return 0;
	}
}

static uint32_t next_seq(void)
{
	return ++R.seq;
}

void d_nfq_down(struct stuntd *d)
{
	uint64_t until = clock_ms() + D_PRIV_EXIT_WAIT_MS;
	pid_t p;
	int st;

	if (!R.on) {
		d_nfq_local_down(d);
		return;
	}
	if (R.ev.fd >= 0) {
		if (R.in_loop)
			d_loop_del(&R.ev);
		R.in_loop = false;
		close(R.ev.fd);
		R.ev.fd = -1;
	}
	if (R.req >= 0) {
		close(R.req);	/* the privileged process releases the rules and exits */
		R.req = -1;
	}
	while (R.pid > 0) {
		p = waitpid(R.pid, &st, WNOHANG);
		if (p == R.pid || (p < 0 && errno == ECHILD))
			break;
		if (clock_ms() >= until) {
			log_warnx("privileged process %d still running", (int)R.pid);
			break;
		}
		usleep(20000);
	}
}

bool d_nfq_on(void)
{
	if (R.on)
		return !R.lost && g_d->mark != 0;
	return g_d->nfq != NULL;
}

int d_nfq_policy_add(const struct nfq_policy_spec *s, uint32_t *id)
{
	struct d_priv_reply rep;
	int r;

	if (!R.on) {
		if (g_d->nfq == NULL)
			return -ENOTCONN;
		return nfq_policy_add(nfq_engine_policies(g_d->nfq), s, clock_ms(), id);
	}
	if (!d_nfq_on())
		return -ENOTCONN;
	r = call(d_priv_enc_policy_add(txbuf, sizeof(txbuf), next_seq(), s), -1, &rep, NULL, 0);
	if (r < 0)
		return r;
	if (rep.result == 0 && id)
		*id = rep.value;
	return rep.result;
}

int d_nfq_policy_remove(uint32_t id)
{
	struct d_priv_reply rep;
	int r;

	if (!R.on)
		return g_d->nfq ? nfq_policy_remove(nfq_engine_policies(g_d->nfq), id) : -ENOTCONN;
	if (!d_nfq_on())
		return -ENOTCONN;
	r = call(d_priv_enc_policy_remove(txbuf, sizeof(txbuf), next_seq(), id), -1, &rep, NULL, 0);
	return r < 0 ? r : rep.result;
}

int d_nfq_policy_remove_flow(const struct nfq_flow *f)
{
	struct d_priv_reply rep;
	int r;

	if (!R.on)
		return g_d->nfq ? nfq_policy_remove_flow(nfq_engine_policies(g_d->nfq), f) :
				  -ENOTCONN;
	if (!d_nfq_on())
		return -ENOTCONN;
	r = call(d_priv_enc_policy_remove_flow(txbuf, sizeof(txbuf), next_seq(), f), -1, &rep,
		 NULL, 0);
	return r < 0 ? r : rep.result;
}

/* fd (ours, unmarked) marked by the privileged process: fd, or -errno (closed) */
static int remote_mark(int fd)
{
	struct d_priv_reply rep;
	int r;

	if (fd < 0)
		return fd;
	r = call(d_priv_enc_mark(txbuf, sizeof(txbuf), next_seq()), fd, &rep, NULL, 0);
	if (r == 0)
		r = rep.result;
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

int d_nfq_marked_socket(uint16_t port, uint16_t *bound)
{
	if (!R.on || g_d->mark == 0)
		return d_nfq_local_socket(g_d->mark, port, bound);
	/* ours, bound as our uid: only the mark is the privileged process's */
	return remote_mark(d_nfq_local_socket(0, port, bound));
}

int d_nfq_marked_socket6(const uint8_t ip[16], uint16_t *bound)
{
	if (!R.on || g_d->mark == 0)
		return d_nfq_local_socket6(g_d->mark, ip, 0, bound);
	return remote_mark(d_nfq_local_socket6(0, ip, 0, bound));
}

int d_nfq_inject(const uint8_t *p, size_t len)
{
	struct d_priv_reply rep;
	int r;

	if (!R.on)
		return d_nfq_inject_checked(g_d->nfq, p, len);
	if (!d_nfq_on())
		return -ENOTCONN;
	r = call(d_priv_enc_inject(txbuf, sizeof(txbuf), next_seq(), p, len), -1, &rep, NULL, 0);
	return r < 0 ? r : rep.result;
}

void d_nfq_tick(uint64_t now)
{
	if (!R.on && g_d->nfq)
		(void)nfq_policy_expire(nfq_engine_policies(g_d->nfq), now);
}

void d_nfq_local_stats(struct d_priv_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (g_d->nfq)
		nfq_engine_get_stats(g_d->nfq, &out->engine);
	out->mark_refused = d_nfq_mark_refused();
	out->inject_refused = d_nfq_inject_refused();
}

int d_nfq_stats(struct d_priv_stats *out)
{
	struct d_priv_reply rep;
	int r;

	if (!d_nfq_on())
		return -ENOTCONN;
	if (!R.on) {
		d_nfq_local_stats(out);
		return 0;
	}
	r = call(d_priv_enc_stats(txbuf, sizeof(txbuf), next_seq()), -1, &rep, NULL, 0);
	if (r < 0)
		return r;
	if (rep.result < 0)
		return rep.result;
	*out = stats_reply;
	return 0;
}

int d_nfq_probe_fds(int *capture_fd, int *icmp_fd)
{
	struct d_priv_reply rep;
	int fds[2], r;

	*capture_fd = *icmp_fd = -1;
	if (!R.on)
		return -ENOTSUP;	/* root probes by itself */
	r = call(d_priv_enc_probe_fds(txbuf, sizeof(txbuf), next_seq()), -1, &rep, fds, 2);
	if (r < 0)
		return r;
	if (rep.result < 0 || fds[0] < 0 || fds[1] < 0) {
		if (fds[0] >= 0)
			close(fds[0]);
		if (fds[1] >= 0)
			close(fds[1]);
		return rep.result < 0 ? rep.result : -EPROTO;
	}
	*capture_fd = fds[0];
	*icmp_fd = fds[1];
	return 0;
}
