// SPDX-License-Identifier: MIT
/*
 * Discovery inside stuntd: probe_run() against our server (blocking, at
 * most D_PROBE_TIMEOUT_MS, at start and when the public address changes),
 * summarised as the SIG-NAT-INFO that the peer's strategy reads. A run
 * that lost the probes of a TCP verdict (heavy loss) is followed by
 * another, up to D_DISCOVERY_TRIES, and what they measured is put together
 * (daemon/natmerge.h). With server6 the runs have an IPv6 part too
 * (probes/probe6.c), whose Bindings tell our IPv6 address as the internet
 * sees it (NPTv6, daemon/hostaddr6.h). A server reached over IPv6 (an
 * IPv6-only host) gets that IPv6 part alone: there is no IPv4 to measure.
 */
#include "daemon/stuntd.h"

#include "common/clock.h"
#include "common/log.h"
#include "daemon/natmerge.h"
#include "daemon/nfq.h"
#include "daemon/trav/predwin.h"
#include "daemon/trav/strategy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#define D_SYN_TTL_FALLBACK 2	/* one NAT in front of us: the common case */

static uint8_t map_code(enum probe_mapping m)
{
	switch (m) {
	case PROBE_MAP_EIM: return 1;
	case PROBE_MAP_ADM: return 2;
	case PROBE_MAP_APDM: return 3;
	default: return 0;
	}
}

void d_nat_from_probe(const struct probe_result *r, struct sig_nat_info *n, int *syn_ttl)
{
	const struct probe_proto *t = r->tcp.mapping != PROBE_MAP_UNKNOWN ? &r->tcp : &r->udp;

	memset(n, 0, sizeof(*n));
	n->udp_mapping = map_code(r->udp.mapping);
	n->udp_filtering = (uint8_t)r->udp.filtering;
	n->udp_alloc = (uint8_t)r->udp.allocation;
	n->udp_delta = r->udp.delta_known ? (int16_t)r->udp.delta : 0;
	/* TCP unmeasured (no STUNT server): the UDP behaviour is the best guess */
	n->tcp_mapping = map_code(t->mapping);
	n->tcp_filtering = (uint8_t)(r->tcp.filtering ? r->tcp.filtering : r->udp.filtering);
	n->tcp_alloc = (uint8_t)t->allocation;
	n->tcp_delta = t->delta_known ? (int16_t)t->delta : 0;
	n->unsolicited = (uint8_t)r->unsolicited_syn;
	n->nat_hops = r->nat_hops > 0 ? (uint8_t)r->nat_hops : 0;
	if (r->seq_rewrite == 1)
		n->flags |= SIG_NAT_SEQ_REWRITE;
	if (r->upnp.mapped == 1)
		n->flags |= SIG_NAT_UPNP;
	if (r->natpmp.mapped == 1)
		n->flags |= SIG_NAT_NATPMP;
	if (r->pcp.mapped == 1)
		n->flags |= SIG_NAT_PCP;
	if (t->mapping == PROBE_MAP_NONE || r->nat_hops == 0) {
		/* no NAT: everything is endpoint-independent */
		n->tcp_mapping = n->udp_mapping = TRAV_MAP_EIM;
		n->tcp_filtering = n->udp_filtering = TRAV_FILT_EIF;
		n->tcp_alloc = n->udp_alloc = SIG_ALLOC_PRESERVING;
		n->nat_hops = 0;
		*syn_ttl = 0;
		return;
	}
	if (r->syn_ttl > 0)
		*syn_ttl = r->syn_ttl;
	else if (r->nat_hops > 0)
		*syn_ttl = r->nat_hops + 1;
	else
		*syn_ttl = D_SYN_TTL_FALLBACK;
	if (n->nat_hops == 0)
		n->nat_hops = (uint8_t)(*syn_ttl - 1);
}

/* One probe_run() against srv into *out: 0 or -errno. capture: with the
 * privileged process's capture (which it opens once per 5 s: the first
 * run's hop count and sequence test stand for the runs after it).
 * fw_hops: the IPv6 firewall's distance too (probes/probe6_fw.c). */
static int discovery_once(const struct d_server *srv, struct probe_result *out, bool capture,
			  bool fw_hops)
{
	struct probe_cfg pc;
	int err;

	probe_cfg_init(&pc);
	pc.timeout_ms = D_PROBE_TIMEOUT_MS;
	if (srv->addr.sa.sa_family == AF_INET6) {
		/* the IPv6 part alone, its two Bindings to the server */
		pc.ipv6_only = true;
		pc.server6_set = true;
		pc.server6 = srv->addr.in6;
		pc.server6_addr_only = true;
		pc.server6_fw_hops = fw_hops;	/* simopen6's first SYN */
		return probe_run(&pc, out);
	}
	pc.server_ip = srv->addr.in.sin_addr.s_addr;
	pc.server_port = ntohs(srv->addr.in.sin_port);
	if (g_d->cfg.has_server6 && g_d->cfg.ipv6) {
		pc.server6_set = true;
		pc.server6 = g_d->cfg.server6;
		pc.server6_addr_only = true;	/* the address, and */
		pc.server6_fw_hops = fw_hops;	/* the firewall's distance: simopen6 */
	}
	/* unprivileged: the privileged process opens the capture for us (hop
	 * count, sequence rewriting); without it those tests are skipped */
	if (capture && d_nfq_priv_pid() > 0 &&
	    (err = d_nfq_probe_fds(&pc.capture_fd, &pc.icmp_fd)) < 0)
		log_warnx("discovery: no capture from the privileged process: %s", strerror(-err));
	err = probe_run(&pc, out);
	if (pc.capture_fd >= 0)
		close(pc.capture_fd);
	if (pc.icmp_fd >= 0)
		close(pc.icmp_fd);
	return err;
}

/* The IPv6 firewall's distance (measured now: fresh; else an earlier
 * discovery's, or none), and the first SYN's hop limit that follows
 * (d_hostaddr6_hops). Not measured and not configured: a warning, since 2
 * fails behind a firewall further away. */
static void v6hops_log(const struct stuntd *d, bool fresh)
{
	const char *from, *why = d->v6hops.why[0] ? d->v6hops.why : "no answer";
	unsigned h = d_hostaddr6_hops(&d->cfg, &d->v6hops, &from);

	if (d->v6hops.value > 0)
		log_info("discovery: the IPv6 firewall lets the server's SYN in after a SYN with hop "
			 "limit %d%s: the first SYN's hop limit is %u (%s)", d->v6hops.value,
			 fresh ? "" : " (an earlier discovery's measure)", h, from);
	else if (d->cfg.ipv6_hops)
		log_info("discovery: the IPv6 firewall's distance not measured (%s): the first "
			 "SYN's hop limit is %u (%s)", why, h, from);
	else
		log_warnx("discovery: the IPv6 firewall's distance not measured (%s): the first "
			  "SYN's hop limit is %u (%s); set ipv6-hop-limit if this host's firewall is "
			  "more than one hop away", why, h, from);
}

/* What the IPv6 part told of our address (server6, or the server itself
 * when we reach it over IPv6: v6srv). */
static void v6pub_log(const struct stuntd *d, bool v6srv, bool fresh_hops)
{
	char l[INET6_ADDRSTRLEN], m[INET6_ADDRSTRLEN];

	if ((!d->cfg.has_server6 && !v6srv) || !d->cfg.ipv6)
		return;
	if (!d->v6pub.known) {
		log_warnx("discovery: %s answered no Binding over IPv6: simopen6 offers the "
			  "host's own address", v6srv ? "the server" : "server6");
		return;
	}
	inet_ntop(AF_INET6, d->v6pub.local, l, sizeof(l));
	inet_ntop(AF_INET6, d->v6pub.mapped, m, sizeof(m));
	if (!d->v6pub.translated)
		log_info("discovery: IPv6 [%s] is not translated (%s Binding)", l,
			 d->v6pub.tcp ? "TCP" : "UDP");
	else if (d->v6pub.port_kept)
		log_info("discovery: IPv6 [%s] is translated to [%s], ports kept (NPTv6, %s "
			 "Binding): simopen6 offers [%s]", l, m, d->v6pub.tcp ? "TCP" : "UDP", m);
	else
		log_warnx("discovery: IPv6 [%s] is translated to [%s] and its port changed (NAT66, "
			  "%s Binding): simopen6 cannot aim a peer at our port and offers [%s]",
			  l, m, d->v6pub.tcp ? "TCP" : "UDP", l);
	v6hops_log(d, fresh_hops);
}

/* The server is IPv6 (an IPv6-only host): no NAT to measure, simopen6's
 * address learnt as with server6; the IPv4 methods are left out
 * (daemon/negotiate.c), so the NAT info stays unknown. */
static int discovery_v6only(struct stuntd *d, const struct d_server *srv)
{
	bool fresh;
	int err;

	d->have_probe = false;
	memset(&d->nat, 0, sizeof(d->nat));
	d->syn_ttl = D_SYN_TTL_FALLBACK;
	err = discovery_once(srv, &d->probe, false, true);
	if (err < 0) {
		log_warnx("discovery: the server answered no Binding over IPv6: %s",
			  strerror(-err));
		return err;
	}
	d_hostaddr6_learn(&d->probe.ipv6, &d->v6pub);
	fresh = d_hostaddr6_learn_hops(&d->probe.ipv6, &d->v6hops);
	log_info("discovery: the server is reached over IPv6: no IPv4 to measure, IPv6 "
		 "methods only (%llu ms)", (unsigned long long)d->probe.elapsed_ms);
	v6pub_log(d, true, fresh);
	return 0;
}

int d_discovery_run(void)
{
	struct stuntd *d = g_d;
	const struct d_server *srv;
	struct sig_nat_info acc, n;
	char desc[64];
	unsigned i, tries = 0, ok = 0;
	uint64_t ms = 0;
	int err = 0, ttl, acc_ttl = 0;
	bool ttl_measured = false, fresh_hops = false;

	/* the server in use, else the most preferred one */
	srv = d_sig_server();
	d->probe_srv = (size_t)(srv - d->cfg.servers);
	memset(&acc, 0, sizeof(acc));
	/* the address is learnt again; the firewall's distance an earlier
	 * discovery measured (d->v6hops) stays until a run measures it again */
	memset(&d->v6pub, 0, sizeof(d->v6pub));
	d->v6hops.why[0] = '\0';
	if (srv->addr.sa.sa_family == AF_INET6)
		return discovery_v6only(d, srv);
	do {
		tries++;
		if ((err = discovery_once(srv, &d->probe, tries == 1, !fresh_hops)) < 0) {
			log_warnx("discovery: %s", strerror(-err));
			continue;
		}
		ok++;
		ms += d->probe.elapsed_ms;
		if (!d->v6pub.known)
			d_hostaddr6_learn(&d->probe.ipv6, &d->v6pub);
		if (!fresh_hops)
			fresh_hops = d_hostaddr6_learn_hops(&d->probe.ipv6, &d->v6hops);
		ttl = 0;
		d_nat_from_probe(&d->probe, &n, &ttl);
		d_nat_merge(&acc, &n);
		/* the first measured TTL (SYN TTL or hops), else the guess */
		if (!ttl_measured) {
			acc_ttl = ttl;
			ttl_measured = d->probe.syn_ttl > 0 || d->probe.nat_hops >= 0;
		}
		if (!d_nat_incomplete(&d->probe))
			break;
		if (tries < D_DISCOVERY_TRIES) {
			trav_nat_describe(&acc, desc, sizeof(desc));
			log_info("discovery: probes lost (TCP %s so far): run %u of %u", desc,
				 tries + 1, D_DISCOVERY_TRIES);
		}
	} while (tries < D_DISCOVERY_TRIES);
	if (!ok) {
		d->have_probe = false;
		memset(&d->nat, 0, sizeof(d->nat));
		d->syn_ttl = D_SYN_TTL_FALLBACK;
		return err;
	}
	d->have_probe = true;
	d->nat = acc;
	d->syn_ttl = acc_ttl;
	trav_nat_describe(&d->nat, desc, sizeof(desc));
	log_info("discovery: TCP %s, unsolicited SYN %s, first SYN TTL %d (%llu ms, %u of %u runs)",
		 desc,
		 probe_syn_name(d->probe.unsolicited_syn) ? probe_syn_name(d->probe.unsolicited_syn) : "?",
		 d->syn_ttl, (unsigned long long)ms, ok, tries);
	v6pub_log(d, false, fresh_hops);
	/* a one-address server: what it could not tell (the strategy races
	 * the methods that may work, daemon/trav/strategy.h) */
	for (i = 0; i < PROBE_V_MAX; i++)
		if (d->probe.unmeasurable[i][0])
			log_info("discovery: not measurable with this server: %s: %s",
				 probe_verdict_name((enum probe_verdict)i), d->probe.unmeasurable[i]);
	/* a sequential NAT's pace: predict's first window starts from it */
	if (d->probe.tcp.pace_known) {
		uint32_t ports = d->probe.tcp.pace_ports;

		d->busy.pace_at_ms = clock_ms();
		trav_predwin_pace_add(&d->busy.pace, ports, d->probe.tcp.pace_ms, d->busy.pace_at_ms);
		d->busy.pace_tenths = trav_predwin_pace_tenths(&d->busy.pace);
		log_info("discovery: others take %u.%u ports/s of the sequential NAT's counter "
			 "(%u in %u ms; predict's estimate %u.%u)", d->probe.tcp.pace_tenths / 10,
			 d->probe.tcp.pace_tenths % 10, ports, d->probe.tcp.pace_ms,
			 d->busy.pace_tenths / 10, d->busy.pace_tenths % 10);
	}
	return 0;
}
