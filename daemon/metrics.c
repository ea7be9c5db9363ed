// SPDX-License-Identifier: MIT
/*
 * stuntd's metrics: `metrics ADDR:PORT` serves the counters the daemon
 * keeps for `stuntctl status` (the same fields: control.c's JSON and this
 * text read one set of numbers) in the Prometheus text format, on the
 * daemon's own loop through common/promhttp.c. The listener is opened by
 * the main process before it drops its privileges (a port below 1024
 * works), after the privileged process was forked: only the unprivileged
 * process ever holds it. The names and their meaning are in stuntd(8).
 */
#include "daemon/stuntd.h"
#include "daemon/nfq.h"
#include "daemon/priv_msg.h"
#include "daemon/session.h"

#include "common/clock.h"
#include "common/log.h"
#include "common/promhttp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>

#define P	"stuntd_"

static struct promhttp ph;
/* what the loop reports: [0] the listener, [1 + i] client slot i */
static struct d_ev evs[1 + PROMHTTP_CLIENTS];
static int slots[1 + PROMHTTP_CLIENTS];

static void on_event(struct d_ev *ev, uint32_t events)
{
	promhttp_event(&ph, *(int *)ev->arg, events, clock_ms());
}

static int watch(void *arg, enum promhttp_op op, int fd, int slot, uint32_t events)
{
	struct d_ev *ev = &evs[slot + 1];

	(void)arg;
	if (op == PROMHTTP_DEL) {
		d_loop_del(ev);
		ev->fd = -1;
		return 0;
	}
	slots[slot + 1] = slot;
	*ev = (struct d_ev){ .fd = fd, .cb = on_event, .arg = &slots[slot + 1] };
	return op == PROMHTTP_ADD ? d_loop_add(ev, events) : d_loop_mod(ev, events);
}

/* One counter per method of the status's "counters", all methods shown. */
static void per_method(struct prom_buf *b, const char *name, const char *help, size_t off)
{
	unsigned m;

	prom_family(b, name, PROM_COUNTER, help);
	for (m = 1; m <= SIG_M_MAX; m++) {
		struct prom_label l = { "method", sig_method_name(m) };

		prom_sample(b, name, &l, 1,
			    *(const unsigned long *)((const char *)&g_d->counters[m] + off));
	}
}

/*
 * The queue's counters, kept by whoever holds the engine: with privilege
 * separation one request to the privileged process (answered at once, as
 * every request to it is). Without a queue (no-rules) they are left out.
 */
static void nfq(struct prom_buf *b)
{
	static const char *const verdict[] = { "accept", "drop", "ttl", "replace" };
	static const char *const err[] = { "verdict", "netlink" };
	struct d_priv_stats s;
	uint64_t v[4];
	unsigned i;

	if (d_nfq_stats(&s) < 0)
		return;
	prom_one(b, P "nfq_packets_total", PROM_COUNTER,
		 "Packets the queue handled (traversals' and any TCP RST to a local socket)",
		 s.engine.packets);
	v[0] = s.engine.accepted;
	v[1] = s.engine.dropped;
	v[2] = s.engine.ttl_rewritten;
	v[3] = s.engine.replaced;
	prom_family(b, P "nfq_verdicts_total", PROM_COUNTER,
		    "Queue verdicts: accepted untouched, dropped, accepted with the TTL "
		    "rewritten, replaced");
	for (i = 0; i < 4; i++) {
		struct prom_label l = { "verdict", verdict[i] };

		prom_sample(b, P "nfq_verdicts_total", &l, 1, v[i]);
	}
	prom_one(b, P "nfq_parse_errors_total", PROM_COUNTER,
		 "Queued packets that did not parse (accepted untouched)", s.engine.parse_errors);
	prom_one(b, P "nfq_events_total", PROM_COUNTER, "Report events raised (first SYNs seen)",
		 s.engine.events);
	prom_one(b, P "nfq_events_lost_total", PROM_COUNTER, "Report events lost",
		 s.engine.events_lost);
	v[0] = s.engine.verdict_errors;
	v[1] = s.engine.netlink_errors;
	prom_family(b, P "nfq_errors_total", PROM_COUNTER, "Queue socket errors, by kind");
	for (i = 0; i < 2; i++) {
		struct prom_label l = { "kind", err[i] };

		prom_sample(b, P "nfq_errors_total", &l, 1, v[i]);
	}
	prom_one(b, P "nfq_injected_total", PROM_COUNTER, "SYN copies injected (syn-pacing)",
		 s.engine.injected);
	prom_one(b, P "nfq_inject_refused_total", PROM_COUNTER,
		 "Injections the privileged process refused", s.inject_refused);
	prom_one(b, P "nfq_mark_refused_total", PROM_COUNTER,
		 "Descriptors the privileged process refused to mark", s.mark_refused);
}

static void fill(void *arg, struct prom_buf *b)
{
	static const char *const sec_reason[SIG_SEC_MAX] = {
		[SIG_SEC_MISSING] = "missing", [SIG_SEC_BAD_MAC] = "bad_mac",
		[SIG_SEC_REPLAY] = "replay",
	};
	const struct stuntd *d = g_d;
	/* status: security.* and control.refused */
	const struct { const char *name, *help; unsigned long v; } sec[] = {
		{ P "security_peers_refused_total",
		  "Sessions refused: peer not allowed, or no such service", d->peers_refused },
		{ P "security_candidates_refused_total",
		  "Peer candidates dropped: not on the peer's address, or no known TURN server",
		  d->candidates_refused },
		{ P "security_methods_refused_total", "Forced methods the strategy rejects",
		  d->methods_refused },
		{ P "security_conns_unproven_total",
		  "Connections dropped: they did not prove to be the peer", d->conns_unproven },
		{ P "security_sessions_busy_total",
		  "Sessions refused: max-sessions or max-peer-sessions reached", d->sessions_busy },
		{ P "security_starts_busy_total", "Sessions refused: max-peer-starts reached",
		  d->starts_busy },
		{ P "security_packets_capped_total", "Sessions that hit max-session-packets",
		  d->packets_capped },
		{ P "security_revoked_total",
		  "Sessions and hand-offs closed by a SIGHUP that revoked their peer", d->revoked },
		{ P "control_refused_total",
		  "Control socket clients neither root nor in the control group",
		  d->control_refused },
	};
	const struct d_session *s;
	uint64_t now = clock_ms(), from = 0, to = 0, n = 0;
	unsigned i;

	(void)arg;
	prom_one(b, P "registered", PROM_GAUGE, "1 while registered with a server, else 0",
		 d_sig_up());
	prom_one(b, P "server_changes_total", PROM_COUNTER,
		 "Changes of the server in use since the first registration", d->srv_changes);
	for (s = d->sessions; s; s = s->next)
		n++;
	prom_one(b, P "sessions", PROM_GAUGE, "Sessions now, both roles", n);
	per_method(b, P "method_tried_total", "Attempts of each method",
		   offsetof(struct d_counter, tried));
	per_method(b, P "method_won_total", "Sessions each method won",
		   offsetof(struct d_counter, won));
	per_method(b, P "method_failed_total", "Attempts of each method that failed",
		   offsetof(struct d_counter, failed));
	per_method(b, P "method_syns_again_total",
		   "SYN copies the daemon's own clock sent (syn-pacing)",
		   offsetof(struct d_counter, syns_again));
	prom_one(b, P "handoffs", PROM_GAUGE, "Hand-offs running (spliced tcp:, exec:)",
		 d_handoff_count());
	prom_one(b, P "udp_forwards", PROM_GAUGE, "UDP forwarders running (udp: services)",
		 d_udpfwd_count());
	prom_one(b, P "relays", PROM_GAUGE, "TURN relays running", trav_relay_count());
	d_peer_bytes_total(&from, &to);
	prom_one(b, P "bytes_from_peers_total", PROM_COUNTER,
		 "Bytes tcp: hand-offs copied from peers to services", from);
	prom_one(b, P "bytes_to_peers_total", PROM_COUNTER,
		 "Bytes tcp: hand-offs copied from services to peers", to);
	prom_one(b, P "security_tls_refused_total", PROM_COUNTER,
		 "Servers that failed TLS authentication", d->tls_refused);
	prom_family(b, P "security_sig_refused_total", PROM_COUNTER,
		    "Signalling messages refused by per-message integrity, by reason");
	for (i = SIG_SEC_MISSING; i < SIG_SEC_MAX; i++) {
		struct prom_label l = { "reason", sec_reason[i] };

		prom_sample(b, P "security_sig_refused_total", &l, 1, d->sec_refused[i]);
	}
	for (i = 0; i < sizeof(sec) / sizeof(sec[0]); i++)
		prom_one(b, sec[i].name, PROM_COUNTER, sec[i].help, sec[i].v);
	nfq(b);
	prom_one(b, P "uptime_seconds", PROM_GAUGE, "Seconds since the daemon started",
		 (now - d->start_ms) / 1000);
	promhttp_self(&ph, b, "stuntd");
}

int d_metrics_open(char *why, size_t cap)
{
	const struct d_config *c = &g_d->cfg;

	return c->have_metrics ? promhttp_open(&ph, &c->metrics, watch, fill, NULL, why, cap) : 0;
}

void d_metrics_tick(uint64_t now)
{
	promhttp_expire(&ph, now);
}

void d_metrics_close(void)
{
	promhttp_close(&ph);
}
