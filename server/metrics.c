// SPDX-License-Identifier: MIT
/* stunt-server's metrics: see server/metrics.h. */
#include "server/metrics.h"
#include "server/loop.h"
#include "common/log.h"
#include "common/promhttp.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>

#define P	"stunt_server_"

static struct promhttp ph;
/* what epoll reports: [0] the listener, [1 + i] client slot i */
static struct srv_fd fds[1 + PROMHTTP_CLIENTS];

static int watch(void *arg, enum promhttp_op op, int fd, int slot, uint32_t events)
{
	struct srv_state *st = arg;
	struct srv_fd *f = &fds[slot + 1];
	struct epoll_event ev = { .events = events, .data.ptr = f };

	f->kind = SRV_FD_METRICS;
	f->fd = fd;
	f->slot = slot;
	if (epoll_ctl(st->epfd, op == PROMHTTP_ADD ? EPOLL_CTL_ADD :
			op == PROMHTTP_MOD ? EPOLL_CTL_MOD : EPOLL_CTL_DEL, fd, &ev) < 0)
		return -errno;
	return 0;
}

static void fill(void *arg, struct prom_buf *b)
{
	const struct srv_state *st = arg;

	srv_metrics_fill(&st->stats, b);
	promhttp_self(&ph, b, "stunt_server");
}

void srv_metrics_open(struct srv_state *st, const struct srv_config *cfg)
{
	char why[128];

	if (cfg->metrics && promhttp_open(&ph, cfg->metrics, watch, fill, st, why, sizeof(why)) < 0)
		fatalx("%s", why);
}

void srv_metrics_event(struct srv_fd *f, uint32_t events, uint64_t now)
{
	promhttp_event(&ph, f->slot, events, now);
}

void srv_metrics_expire(uint64_t now)
{
	promhttp_expire(&ph, now);
}

void srv_metrics_close(void)
{
	promhttp_close(&ph);
}

/* One family of counters with one label, a sample per name of names[]. */
static void by_label(struct prom_buf *b, const char *name, const char *help, const char *label,
		     const uint64_t *v, unsigned n, const char *(*label_of)(unsigned))
{
	unsigned i;

	prom_family(b, name, PROM_COUNTER, help);
	for (i = 0; i < n; i++) {
		struct prom_label l = { label, label_of(i) };

		prom_sample(b, name, &l, 1, v[i]);
	}
}

static const char *stun_verdict(unsigned i) { return srv_verdict_name(i); }
static const char *rdv_verdict(unsigned i) { return rdv_verdict_name(i); }
static const char *stunt_verdict(unsigned i) { return stunt_verdict_name(i); }

/* as the JSON of --stats names them */
static const char *sec_verdict(unsigned i)
{
	static const char *const names[SIG_SEC_MAX] = {
		[SIG_SEC_OK] = "verified", [SIG_SEC_MISSING] = "missing",
		[SIG_SEC_BAD_MAC] = "bad_mac", [SIG_SEC_REPLAY] = "replay",
	};

	return i < SIG_SEC_MAX ? names[i] : "?";
}

static const char *sig_method(unsigned i)
{
	static const char *const names[] = { "register", "authenticate", "lookup", "exchange",
					     "schedule", "relay", "synack" };

	return i < sizeof(names) / sizeof(names[0]) ? names[i] : "?";
}

static const char *probe_result(unsigned i)
{
	static const char *const names[4] = { "drop", "rst", "icmp", "synack" };

	return names[i & 3];
}

void srv_metrics_fill(const struct srv_stats *s, struct prom_buf *b)
{
	static const char *const closed[] = { "client", "idle", "bad_frame" };
	const uint64_t closed_v[] = { s->tcp_closed, s->tcp_idle, s->tcp_bad_frame };
	const uint64_t tls_v[] = { s->tls_accepted, s->tls_fail };
	unsigned i;

	prom_one(b, P "registered", PROM_GAUGE, "Peers registered (authenticated) now",
		 s->rdv_registered);
	prom_one(b, P "tcp_clients", PROM_GAUGE, "TCP and TLS clients connected now",
		 s->tcp_clients);
	prom_one(b, P "udp_received_total", PROM_COUNTER, "UDP datagrams received", s->udp_rx);
	prom_one(b, P "udp_answers_total", PROM_COUNTER, "UDP answers sent", s->udp_tx);
	prom_one(b, P "udp_send_errors_total", PROM_COUNTER, "UDP answers that could not be sent",
		 s->udp_tx_err);
	prom_one(b, P "udp_rate_limited_total", PROM_COUNTER,
		 "UDP answers not sent: the source over --udp-rate", s->udp_rate_limited);
	prom_family(b, P "stun_requests_total", PROM_COUNTER,
		    "STUN messages by transport and verdict (answered or dropped)");
	for (i = 0; i < 2 * SRV_V_MAX; i++) {
		struct prom_label l[2] = { { "transport", i < SRV_V_MAX ? "udp" : "tcp" },
					   { "verdict", stun_verdict(i % SRV_V_MAX) } };

		prom_sample(b, P "stun_requests_total", l, 2,
			    i < SRV_V_MAX ? s->udp_verdict[i] : s->tcp_verdict[i - SRV_V_MAX]);
	}
	prom_one(b, P "tcp_accepted_total", PROM_COUNTER, "TCP connections accepted",
		 s->tcp_accepted);
	prom_one(b, P "tcp_refused_total", PROM_COUNTER,
		 "TCP connections refused or evicted over --max-clients", s->tcp_refused);
	prom_family(b, P "tcp_closed_total", PROM_COUNTER, "TCP connections closed, by reason");
	for (i = 0; i < 3; i++) {
		struct prom_label l = { "reason", closed[i] };

		prom_sample(b, P "tcp_closed_total", &l, 1, closed_v[i]);
	}
	prom_one(b, P "tcp_backpressure_total", PROM_COUNTER,
		 "Times reading a client paused: it does not read its answers", s->tcp_backpressure);
	prom_family(b, P "tls_handshakes_total", PROM_COUNTER, "TLS handshakes, by result");
	for (i = 0; i < 2; i++) {
		struct prom_label l = { "result", i ? "fail" : "ok" };

		prom_sample(b, P "tls_handshakes_total", &l, 1, tls_v[i]);
	}
	by_label(b, P "signalling_requests_total", "Signalling requests by method", "method",
		 s->rdv_method, SIG_METHOD_LAST - SIG_METHOD_REGISTER + 1, sig_method);
	by_label(b, P "signalling_results_total",
		 "Signalling requests by outcome (signal_limited: over --signal-rate)", "outcome",
		 s->rdv, RDV_V_MAX, rdv_verdict);
	prom_one(b, P "signalling_relayed_total", PROM_COUNTER,
		 "Indications relayed to a registered peer", s->rdv_fwd);
	prom_one(b, P "signalling_peer_full_total", PROM_COUNTER,
		 "Indications not relayed: the peer does not read", s->rdv_fwd_full);
	prom_one(b, P "registrations_revoked_total", PROM_COUNTER,
		 "Registrations closed at SIGHUP (id removed or secret changed)", s->rdv_revoked);
	prom_one(b, P "stunt1_synacks_total", PROM_COUNTER, "STUNT #1 SYN-ACKs sent",
		 s->rdv_synack);
	prom_one(b, P "stunt1_share_reused_total", PROM_COUNTER,
		 "STUNT #1 sessions that replaced their id's oldest", s->rdv_share_reused);
	by_label(b, P "stunt_requests_total",
		 "STUNT requests by outcome (rate, busy, share: budget drops)", "outcome", s->stunt,
		 STUNT_V_MAX, stunt_verdict);
	prom_one(b, P "stunt_packets_sent_total", PROM_COUNTER, "STUNT raw packets sent",
		 s->stunt_sent);
	prom_one(b, P "stunt_send_errors_total", PROM_COUNTER,
		 "STUNT raw packets that could not be sent", s->stunt_send_err);
	prom_one(b, P "stunt_reports_total", PROM_COUNTER, "SYN reports with a captured SYN",
		 s->stunt_reports);
	prom_one(b, P "stunt_timeouts_total", PROM_COUNTER, "SYN reports 408: nothing captured",
		 s->stunt_timeouts);
	prom_one(b, P "stunt_lost_total", PROM_COUNTER,
		 "STUNT reports or answers not queued: the client gone or full", s->stunt_lost);
	by_label(b, P "stunt_probes_total", "Unsolicited-SYN probes by result", "result",
		 s->stunt_probe, 4, probe_result);
	by_label(b, P "integrity_total",
		 "Signalling on authenticated connections by per-message integrity verdict",
		 "verdict", s->sec, SIG_SEC_MAX, sec_verdict);
	prom_one(b, P "seal_failures_total", PROM_COUNTER,
		 "Messages to a client dropped: they could not be sealed", s->sec_seal_fail);
	prom_one(b, P "refused_total", PROM_COUNTER,
		 "Everything refused or dropped (the status line's first number)",
		 srv_stats_refused(s));
	if (s->redis_link == SRV_REDIS_OFF)
		return;		/* no --redis: no cluster */
	prom_one(b, P "redis_up", PROM_GAUGE, "1 while the link to Redis is up, else 0 (--redis)",
		 s->redis_link == SRV_REDIS_UP);
	prom_one(b, P "cluster_remote_peers", PROM_GAUGE, "Peers of other servers known now",
		 s->cluster_remote);
	prom_one(b, P "cluster_sent_total", PROM_COUNTER,
		 "Indications sent to a peer on another server (cross-server sessions)",
		 s->cluster_fwd_out);
	prom_one(b, P "cluster_received_total", PROM_COUNTER,
		 "Indications received from another server for a peer here", s->cluster_fwd_in);
	prom_one(b, P "cluster_lost_total", PROM_COUNTER,
		 "Indications received for a peer gone or not reading", s->cluster_fwd_lost);
	prom_one(b, P "cluster_unreached_total", PROM_COUNTER,
		 "Indications not sent: Redis down, or no server received them", s->cluster_unreached);
	prom_one(b, P "cluster_bad_total", PROM_COUNTER, "Records and messages from Redis refused",
		 s->cluster_bad);
}
