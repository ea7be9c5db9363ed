// SPDX-License-Identifier: MIT
/*
 * probe_run(): start every test, run the one loop, turn what was seen into
 * verdicts. The port-mapping protocols run in threads beside the loop (their
 * libraries block); everything else is in the loop.
 */
#include "probes/probe_int.h"
#include "common/clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROBE_PACE_TIMEOUT_MS	1000	/* each of the pace's two Bindings, at most */

void probe_cfg_init(struct probe_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->server_port = 3478;
	cfg->what = PROBE_F_ALL;
	cfg->timeout_ms = PROBE_TIMEOUT_MS_DEFAULT;
	cfg->capture_fd = cfg->icmp_fd = -1;
}

void probe_result_init(struct probe_result *r)
{
	int i;

	memset(r, 0, sizeof(*r));
	r->udp.hairpin = r->tcp.hairpin = -1;
	r->udp.same_map_ports = r->tcp.same_map_ports = -1;
	r->udp.other_port_passed = r->tcp.other_port_passed = -1;
	r->nat_hops = r->syn_ttl = r->seq_rewrite = r->stunt = r->dest_hop = -1;
	r->upnp.present = r->natpmp.present = r->pcp.present = -1;
	r->upnp.mapped = r->natpmp.mapped = r->pcp.mapped = -1;
	r->upnp.removed = r->natpmp.removed = r->pcp.removed = -1;
	r->ipv6.translated = r->ipv6.port_changed = r->ipv6.tcp_translated = -1;
	r->ipv6.dest_hop = r->ipv6.syn_hop_limit = -1;
	for (i = 0; i <= PROBE6_FW_MAX; i++)
		r->ipv6.fw_res[i] = -1;
}

void probe_note(struct probe_result *r, const char *fmt, ...)
{
	va_list ap;

	if (r->nnotes >= PROBE_NOTES_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(r->notes[r->nnotes++], PROBE_NOTE_LEN, fmt, ap);
	va_end(ap);
}

void probe_unmeasurable(struct probe_result *r, enum probe_verdict v, const char *why)
{
	if ((unsigned)v < PROBE_V_MAX && !r->unmeasurable[v][0])
		snprintf(r->unmeasurable[v], PROBE_NOTE_LEN, "%s", why);
}

/* One address: what its two ports could not tell, and why. */
static void one_addr_limits(struct probe_result *r, const struct probe_proto *p,
			    enum probe_verdict map, enum probe_verdict filt, bool filt_asked)
{
	if (!p->measured)
		return;
	if (p->mapping == PROBE_MAP_UNKNOWN)
		probe_unmeasurable(r, map, p->same_map_ports == 1 ?
			"the server has one address: both of its ports got the same mapping "
			"(EIM or ADM); telling them apart needs a second address" :
			"the server has one address and its second port (--port + 1) did "
			"not answer: no mapping to compare");
	if (p->filtering == PROBE_FILT_UNKNOWN && filt_asked)
		probe_unmeasurable(r, filt, p->other_port_passed == 1 ?
			"the server has one address: an answer from its other port got in "
			"(EIF or ADF); telling them apart needs a second address" :
			"the server has one address: no answer from another address possible, "
			"and the other port's answer did not come");
}

int probe_default_route(char ifname[16], uint32_t *gw)
{
	FILE *f = fopen("/proc/net/route", "r");
	char line[256], name[16];
	unsigned long dst, g, mask;
	unsigned flags;
	int ret = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%15s %lx %lx %x %*d %*d %*d %lx", name, &dst, &g, &flags, &mask) != 5)
			continue;
		if (dst == 0 && mask == 0 && (flags & 0x1)) {
			if (ifname)
				memcpy(ifname, name, 16);
			if (gw)
				*gw = (uint32_t)g;	/* already network order, as the kernel prints it */
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

static const char *unreach_words(int e)
{
	switch (e) {
	case ECONNREFUSED: return "port unreachable";
	case EHOSTUNREACH: return "host unreachable";
	case ENETUNREACH: return "network unreachable";
	default: return NULL;
	}
}

/* Why the run gave up at once, in r->unreachable and a note. */
static void unreach_note(struct probe_ctx *c)
{
	const struct probe_loop *L = &c->L;
	const char *u = unreach_words(L->unreach_udp), *t = unreach_words(L->unreach_tcp);
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &c->srv.sin_addr, ip, sizeof(ip));
	snprintf(c->r->unreachable, sizeof(c->r->unreachable),
		 "server %s:%u unreachable: %s%s%s%s%s%s; gave up after %llu ms", ip,
		 ntohs(c->srv.sin_port), u ? "UDP: " : "", u ? u : "", u ? " (ICMP)" : "",
		 u && t ? ", " : "", t ? "TCP: " : "",
		 t ? (L->unreach_tcp == ECONNREFUSED ? "connection refused" : t) : "",
		 (unsigned long long)(clock_ms() - L->start_ms));
	probe_note(c->r, "%s", c->r->unreachable);
}

/*
 * A sequential NAT's pace: how many ports others take from its counter per
 * second. After the run (while it runs our own tests take ports too), two
 * Bindings on fresh connections back to back: the ports between their
 * mappings went to others, in about the first one's time. A second or so at
 * most, and only for a sequential NAT.
 */
static void measure_pace(struct probe_ctx *c)
{
	struct probe_proto *p = &c->r->tcp;
	uint16_t first = 0, last = 0;
	uint64_t t0, t1;
	char why[128];

	t0 = clock_ms();
	if (probe_tcp_binding(&c->srv, PROBE_PACE_TIMEOUT_MS, &first, why, sizeof(why)) < 0)
		goto fail;
	t1 = clock_ms();
	if (probe_tcp_binding(&c->srv, PROBE_PACE_TIMEOUT_MS, &last, why, sizeof(why)) < 0)
		goto fail;
	p->pace_ms = (uint32_t)(t1 - t0);
	p->pace_ports = probe_classify_foreign(first, last, p->delta_known ? p->delta : 1);
	p->pace_tenths = probe_classify_pace(first, last, p->delta_known ? p->delta : 1, p->pace_ms);
	p->pace_known = true;
	return;
fail:
	probe_note(c->r, "TCP: the sequential NAT's pace not measured: %s", why);
}

/* The IPv4 server is unreachable and the loop ended early, with the IPv6
 * part's transactions in it: that part again, alone, in a loop of its own
 * (an IPv6-only host still gets its IPv6 report). */
static void run6_alone(struct probe_ctx *c)
{
	struct probe_loop L6;

	probe_loop_init(&L6, c->cfg->timeout_ms);
	L6.verbose = c->cfg->verbose;
	if (probe6_start(c, &L6) == 0) {
		probe_loop_run(&L6);
		probe6_finish(c);
	}
	probe_loop_free(&L6);
}

/* cfg->ipv6_only: the IPv6 part in the run's loop, nothing of IPv4 */
static int run_ipv6_only(struct probe_ctx *c, uint64_t t0)
{
	struct probe_result *r = c->r;
	int ret = 0;

	r->ipv6_only = true;
	probe_loop_server(&c->L, &c->srv, false, false);
	if (!c->cfg->server6_set)
		ret = -EINVAL;
	else if ((ret = probe6_start(c, &c->L)) == 0)
		probe_loop_run(&c->L);
	probe6_finish(c);
	probe_loop_free(&c->L);
	free(c);
	r->elapsed_ms = clock_ms() - t0;
	if (ret < 0)
		return ret;
	return r->ipv6.reached ? 0 : -EHOSTUNREACH;
}

int probe_run(const struct probe_cfg *cfg, struct probe_result *r)
{
	struct probe_ctx *c;
	uint64_t t0 = clock_ms();
	int ret = 0;

	probe_result_init(r);
	r->server_ip = cfg->server_ip;
	r->server_port = cfg->server_port;
	if (!(c = calloc(1, sizeof(*c))))
		return -ENOMEM;
	c->cfg = cfg;
	c->r = r;
	/* root, or a helper's capture and raw ICMP sockets: the same tests */
	c->root = geteuid() == 0 || (cfg->capture_fd >= 0 && cfg->icmp_fd >= 0);
	probe_sin(&c->srv, cfg->server_ip, cfg->server_port);
	probe_loop_init(&c->L, cfg->timeout_ms);
	c->L.verbose = cfg->verbose;
	c->L.progress = cfg->progress;
	probe_loop_server(&c->L, &c->srv, cfg->what & PROBE_F_UDP, cfg->what & PROBE_F_TCP);
	r->udp_only = !(cfg->what & PROBE_F_TCP);

	if (cfg->ipv6_only)
		return run_ipv6_only(c, t0);
	/* capture first, so it sees every packet; then the tests whose
	 * packets must leave back to back (allocation bursts) */
	if (cfg->pcap_file || ((cfg->what & PROBE_F_TCP) && c->root))
		probe_pcap_start(c);
	if (cfg->what & PROBE_F_PORTMAP)
		probe_pm_start(c);
	if ((cfg->what & PROBE_F_UDP) && (ret = probe_udp_start(c)) < 0)
		probe_note(r, "UDP tests could not start: %s", strerror(-ret));
	if ((cfg->what & PROBE_F_TCP) && (ret = probe_tcp_start(c)) < 0)
		probe_note(r, "TCP tests could not start: %s", strerror(-ret));
	if ((cfg->what & PROBE_F_TTL) && (ret = probe_ttl_start(c)) < 0)
		probe_note(r, "hop count test could not start: %s", strerror(-ret));
	if (cfg->server6_set && (ret = probe6_start(c, &c->L)) < 0)
		probe_note(r, "IPv6 tests could not start: %s", strerror(-ret));

	probe_loop_run(&c->L);
	if (c->L.gave_up) {
		probe_pm_abort(c);
		unreach_note(c);
		if (cfg->server6_set)
			run6_alone(c);
	}

	probe_pcap_finish(c);	/* drains the capture: the TCP verdicts read it */
	probe_udp_finish(c);
	probe_tcp_finish(c);
	probe_ttl_finish(c);
	probe_pm_finish(c);
	/* a host with its public address has no NAT hop, whatever its
	 * router's address looks like */
	if (r->udp.mapping == PROBE_MAP_NONE || r->tcp.mapping == PROBE_MAP_NONE) {
		r->nat_hops = 0;
		r->syn_ttl = -1;
		r->uncertain &= ~PROBE_UNSURE(PROBE_V_TCP_NAT_HOPS);
	}
	if (r->one_addr) {
		one_addr_limits(r, &r->udp, PROBE_V_UDP_MAPPING, PROBE_V_UDP_FILTERING, true);
		one_addr_limits(r, &r->tcp, PROBE_V_TCP_MAPPING, PROBE_V_TCP_FILTERING,
				r->stunt == 1);
	}
	if ((cfg->what & PROBE_F_TCP) && r->tcp.allocation == PROBE_ALLOC_SEQUENTIAL && !c->L.gave_up)
		measure_pace(c);
	probe6_finish(c);
	probe_choose_methods(r);
	probe_loop_free(&c->L);
	free(c);
	r->elapsed_ms = clock_ms() - t0;
	return r->server_reached ? 0 : -EHOSTUNREACH;
}
