// SPDX-License-Identifier: MIT
/*
 * SIGHUP: a configuration re-read (daemon/main.c) applied to the running
 * stuntd. What can change live does: expose and allow, relay-servers, the
 * per-peer budgets and allow-forced-methods, syn-pacing, server6 (asked at
 * the next discovery), the server list (names
 * resolved again; a changed list adopted, daemon/sig.c d_sig_reload). A peer that may no longer use
 * a service is revoked at once: its sessions for it (responder side) fail
 * with "revoked", its hand-offs to it are closed (spliced connections, exec:
 * children, UDP forwarders), each logged and counted (security.revoked).
 * Anything else that changed needs a restart: logged, the running value kept.
 */
#include "daemon/session.h"

#include "common/log.h"

#include <stdio.h>
#include <string.h>

/* the settings that only a restart applies: changed? */
static void needs_restart(const struct d_config *o, const struct d_config *n)
{
	static const char *const fmt =
		"SIGHUP: '%s' changed: it needs a restart (the running value is kept)";

	if (strcmp(o->id, n->id))
		log_warnx(fmt, "id");
	if (strcmp(o->secret_file, n->secret_file))
		log_warnx(fmt, "secret-file");
	if (strcmp(o->control, n->control))
		log_warnx(fmt, "control");
	if (strcmp(o->control_group, n->control_group))
		log_warnx(fmt, "control-group");
	if (o->have_metrics != n->have_metrics ||
	    memcmp(&o->metrics, &n->metrics, sizeof(o->metrics)))
		log_warnx(fmt, "metrics");
	if (strcmp(o->state_dir, n->state_dir))
		log_warnx(fmt, "state-dir");
	if (o->connect_timeout_ms != n->connect_timeout_ms)
		log_warnx(fmt, "connect-timeout");
	if (o->tls != n->tls || strcmp(o->tls_ca, n->tls_ca) || o->have_pin != n->have_pin ||
	    memcmp(o->tls_pin, n->tls_pin, sizeof(o->tls_pin)) ||
	    strcmp(o->server_name, n->server_name))
		log_warnx(fmt, "tls / tls-ca / tls-pin / server-name");
	if (o->have_turn != n->have_turn || strcmp(o->turn_host, n->turn_host) ||
	    addr_sa_port(&o->turn) != addr_sa_port(&n->turn) ||
	    (!n->turn_host[0] && memcmp(&o->turn, &n->turn, sizeof(o->turn))) ||
	    strcmp(o->turn_user, n->turn_user) || strcmp(o->turn_pass, n->turn_pass))
		log_warnx(fmt, "turn / turn-user / turn-pass");
	if (o->privsep != n->privsep)
		log_warnx(fmt, "privsep");
	if (strcmp(o->user, n->user))
		log_warnx(fmt, "user");
	if (o->udp_first_ttl != n->udp_first_ttl || o->udp_test_delay_ms != n->udp_test_delay_ms ||
	    o->test_cand_ip != n->test_cand_ip || o->test_relay_ipv6 != n->test_relay_ipv6)
		log_warnx(fmt, "udp-first-ttl / udp-test-delay / test-candidate-ip / test-relay-ipv6");
}

/* May peer still use service under c (exposed and allowed)? */
bool d_reload_still_allowed(const struct d_config *c, const char *service, const char *peer)
{
	return d_config_find_expose(c, service) != NULL && d_config_allowed(c, service, peer);
}

void d_reload_apply(const struct d_config *n)
{
	struct d_config *c = &g_d->cfg;
	struct d_session *s;
	char why[SIG_ID_MAX * 3 + 64];
	size_t k;

	needs_restart(c, n);
	/* the server list (daemon/sig.c): adopted, unless the TLS settings it
	 * is checked with changed (those need a restart) */
	if (c->tls == n->tls && !strcmp(c->server_name, n->server_name))
		d_sig_reload(n);
	else
		log_warnx("SIGHUP: the server list is kept (the TLS settings changed)");
	memcpy(c->expose, n->expose, sizeof(c->expose));
	c->nexpose = n->nexpose;
	memcpy(c->allow, n->allow, sizeof(c->allow));
	c->nallow = n->nallow;
	memcpy(c->relay_servers, n->relay_servers, sizeof(c->relay_servers));
	c->nrelay_servers = n->nrelay_servers;
	memcpy(c->relay_servers6, n->relay_servers6, sizeof(c->relay_servers6));
	c->nrelay_servers6 = n->nrelay_servers6;
	c->max_peer_sessions = n->max_peer_sessions;
	c->max_sessions = n->max_sessions;
	c->max_peer_starts = n->max_peer_starts;
	c->max_session_packets = n->max_session_packets;
	c->allow_forced_methods = n->allow_forced_methods;
	c->syn_pacing = n->syn_pacing;
	/* server6: asked at the next discovery (start, public address change) */
	c->has_server6 = n->has_server6;
	c->server6 = n->server6;

	/* revoked peers: their sessions in negotiation or racing ... */
	for (s = g_d->sessions; s; s = s->next) {
		if (s->requester || sess_over(s) || d_reload_still_allowed(c, s->service, s->peer))
			continue;
		snprintf(why, sizeof(why), "revoked: peer %s may no longer use %s/%s", s->peer,
			 c->id, s->service);
		log_warnx("session %u: %s", s->id, why);
		g_d->revoked++;
		sess_fail(s, why, true);
	}
	/* ... and what was handed off to them */
	k = d_handoff_revoke(c);
	g_d->revoked += k;
	log_info("SIGHUP: %zu service(s) exposed, %zu allow line(s); %zu hand-off(s) revoked",
		 c->nexpose, c->nallow, k);
}
