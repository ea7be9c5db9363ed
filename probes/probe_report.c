// SPDX-License-Identifier: MIT
/*
 * stunt-probe's two outputs: one JSON object (the command-line contract,
 * documented in docs/probe.md; null for what was not measured)
 * and plain words for people, with the RFC term beside each verdict.
 */
#include "probes/probe.h"
#include "proto/stunt.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

const char *probe_mapping_name(enum probe_mapping m)
{
	static const char *const n[] = { NULL, "none", "EIM", "ADM", "APDM" };

	return (unsigned)m < sizeof(n) / sizeof(n[0]) ? n[m] : NULL;
}

const char *probe_filtering_name(enum probe_filtering f)
{
	static const char *const n[] = { NULL, "EIF", "ADF", "APDF" };

	return (unsigned)f < sizeof(n) / sizeof(n[0]) ? n[f] : NULL;
}

const char *probe_alloc_name(enum probe_alloc a)
{
	static const char *const n[] = { NULL, "preserving", "sequential", "random" };

	return (unsigned)a < sizeof(n) / sizeof(n[0]) ? n[a] : NULL;
}

const char *probe_syn_name(enum probe_syn s)
{
	static const char *const n[] = { NULL, "drop", "rst", "icmp" };

	return (unsigned)s < sizeof(n) / sizeof(n[0]) ? n[s] : NULL;
}

const char *probe_method_name(enum probe_method m)
{
	static const char *const n[] = { "direct", "portmap", "reversal", "simopen", "stunt1",
					 "stunt2", "synth", "predict", "shotgun", "udp", "relay" };

	return (unsigned)m < sizeof(n) / sizeof(n[0]) ? n[m] : "?";
}

const char *probe_verdict_name(enum probe_verdict v)
{
	static const char *const n[] = { "udp.mapping", "udp.filtering", "udp.allocation", "udp.hairpin",
					 "tcp.mapping", "tcp.filtering", "tcp.allocation",
					 "tcp.unsolicited_syn", "tcp.nat_hops", "tcp.seq_rewrite" };

	return (unsigned)v < sizeof(n) / sizeof(n[0]) ? n[v] : "?";
}

const char *probe6_direct_name(enum probe6_direct d)
{
	static const char *const n[] = { NULL, "yes", "simopen", "relay" };

	return (unsigned)d < sizeof(n) / sizeof(n[0]) ? n[d] : NULL;
}

/* "A.B.C.D:PORT" or "[IPv6]:PORT" */
static const char *ep_str(const struct probe_ep *e, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];

	if (e->v6) {
		inet_ntop(AF_INET6, e->ip6, ip, sizeof(ip));
		snprintf(buf, cap, "[%s]:%u", ip, e->port);
	} else {
		inet_ntop(AF_INET, &e->ip, ip, sizeof(ip));
		snprintf(buf, cap, "%s:%u", ip, e->port);
	}
	return buf;
}

/* ---- JSON ---- */

static void json_str(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void json_tri(FILE *f, int v)
{
	fputs(v < 0 ? "null" : v ? "true" : "false", f);
}

static void json_int(FILE *f, bool known, long v)
{
	if (known)
		fprintf(f, "%ld", v);
	else
		fputs("null", f);
}

static void json_ep(FILE *f, const struct probe_ep *e)
{
	char s[INET6_ADDRSTRLEN + 8];

	if (!e->known) {
		fputs("null", f);
		return;
	}
	fprintf(f, "\"%s\"", ep_str(e, s, sizeof(s)));
}

static void json_ep_ip(FILE *f, const struct probe_ep *e)
{
	char ip[INET6_ADDRSTRLEN];

	if (!e->known) {
		fputs("null", f);
		return;
	}
	fprintf(f, "\"%s\"", inet_ntop(e->v6 ? AF_INET6 : AF_INET, e->v6 ? (const void *)e->ip6 :
					  (const void *)&e->ip, ip, sizeof(ip)));
}

/* "not_measurable": { verdict: why, ... } at indent ind, a line each */
static void json_unmeasurable(FILE *f, const char (*um)[PROBE_NOTE_LEN], const char *ind)
{
	unsigned i;
	int t;

	fprintf(f, "%s\"not_measurable\": {", ind);
	for (i = 0, t = 0; i < PROBE_V_MAX; i++)
		if (um[i][0]) {
			fprintf(f, "%s%s  \"%s\": ", t++ ? ",\n" : "\n", ind,
				probe_verdict_name((enum probe_verdict)i));
			json_str(f, um[i]);
		}
	if (t)
		fprintf(f, "\n%s},\n", ind);
	else
		fputs("},\n", f);
}

/* How many IPv6 hops the report lists: those before the server's, or up
 * to the last that answered when no SYN reached it. */
static int hops6_last(const struct probe6_result *v)
{
	int t, last = v->dest_hop > 0 ? v->dest_hop - 1 : 0;

	for (t = last + 1; v->dest_hop < 0 && t <= PROBE_TTL_MAX; t++)
		if (v->hop_known[t])
			last = t;
	return last;
}

static const char *ip6_str(const uint8_t a[16], char *buf, size_t cap)
{
	return inet_ntop(AF_INET6, a, buf, (socklen_t)cap) ? buf : "?";
}

/* A PROBE-UNSOLICITED result, as the server said it. */
static const char *fw6_res_name(int res)
{
	switch (res) {
	case STUNT_PROBE_DROP: return "drop";
	case STUNT_PROBE_RST: return "rst";
	case STUNT_PROBE_ICMP: return "icmp";
	case STUNT_PROBE_SYNACK: return "synack";
	default: return "unknown";
	}
}

/* The IPv6 part (--server6), beside the IPv4 transports. */
static void json_ipv6(FILE *f, const struct probe6_result *v)
{
	char a[INET6_ADDRSTRLEN];
	int t;

	fputs("  \"ipv6\": { \"server\": ", f);
	json_ep(f, &v->server);
	fputs(", \"reached\": ", f);
	fputs(v->reached ? "true" : "false", f);
	fputs(",\n    \"local\": ", f);
	json_ep(f, &v->local);
	fputs(", \"mapped\": ", f);
	json_ep(f, &v->mapped[PROBE_EP_A1P1]);
	fputs(", \"translated\": ", f);
	json_tri(f, v->translated);
	fputs(", \"port_changed\": ", f);
	json_tri(f, v->port_changed);
	fputs(", \"other_address\": ", f);
	json_ep_ip(f, &v->other);
	fputs(",\n    \"udp\": { \"mapping\": ", f);
	json_str(f, probe_mapping_name(v->udp_mapping));
	fputs(", \"filtering\": ", f);
	json_str(f, probe_filtering_name(v->udp_filtering));
	fputs(" },\n    \"tcp\": { \"local\": ", f);
	json_ep(f, &v->tcp_local);
	fputs(", \"mapped\": ", f);
	json_ep(f, &v->tcp_mapped);
	fputs(", \"translated\": ", f);
	json_tri(f, v->tcp_translated);
	fputs(", \"filtering\": ", f);
	json_str(f, probe_filtering_name(v->tcp_filtering));
	fputs(", \"unsolicited_syn\": ", f);
	json_str(f, probe_syn_name(v->unsolicited_syn));
	fputs(", \"unsolicited_icmp\": ", f);
	if (v->unsolicited_syn == PROBE_SYN_ICMP)
		fprintf(f, "{ \"type\": %u, \"code\": %u }", v->unsolicited_icmp[0], v->unsolicited_icmp[1]);
	else
		fputs("null", f);
	fputs(" },\n    \"hops\": [", f);
	for (t = 1; t <= hops6_last(v); t++) {
		fputs(t > 1 ? ", " : "", f);
		if (v->hop_known[t])
			fprintf(f, "\"%s\"", ip6_str(v->hop_addr[t], a, sizeof(a)));
		else
			fputs("null", f);
	}
	fputs("], \"dest_hop\": ", f);
	json_int(f, v->dest_hop > 0, v->dest_hop);
	fputs(",\n    \"syn_hop_limit\": ", f);
	json_int(f, v->syn_hop_limit > 0, v->syn_hop_limit);
	fputs(", \"syn_hop_limit_tests\": [", f);
	for (t = 1; t <= PROBE6_FW_MAX; t++) {
		fputs(t > 1 ? ", " : "", f);
		if (v->fw_res[t] >= 0)
			json_str(f, fw6_res_name(v->fw_res[t]));
		else
			fputs("null", f);
	}
	fputs("], \"syn_hop_limit_why\": ", f);
	if (v->syn_hop_limit_why[0])
		json_str(f, v->syn_hop_limit_why);
	else
		fputs("null", f);
	fputs(",\n", f);
	json_unmeasurable(f, v->unmeasurable, "    ");
	fputs("    \"direct\": ", f);
	json_str(f, probe6_direct_name(v->direct));
	fputs(" },\n", f);
}

static void json_ip(FILE *f, uint32_t ip_be)
{
	char ip[INET_ADDRSTRLEN];

	if (!ip_be) {
		fputs("null", f);
		return;
	}
	inet_ntop(AF_INET, &ip_be, ip, sizeof(ip));
	fprintf(f, "\"%s\"", ip);
}

static void json_proto_common(FILE *f, const struct probe_proto *p)
{
	unsigned i;

	fputs("\"mapping\": ", f);
	json_str(f, probe_mapping_name(p->mapping));
	fputs(", \"filtering\": ", f);
	json_str(f, probe_filtering_name(p->filtering));
	fputs(", \"allocation\": ", f);
	json_str(f, probe_alloc_name(p->allocation));
	fputs(", \"delta\": ", f);
	json_int(f, p->delta_known, p->delta);
	fputs(", \"delta_hits\": ", f);
	json_int(f, p->delta_known, p->delta_hits);
	fputs(", \"samples\": [", f);
	for (i = 0; i < p->nsamples; i++)
		fprintf(f, "%s[%u, %u]", i ? ", " : "", p->sample_local[i], p->sample_mapped[i]);
	fputs("], \"public\": ", f);
	json_ep(f, &p->mapped[PROBE_EP_A1P1]);
	fputs(", \"local\": ", f);
	json_ep(f, &p->local);
}

void probe_report_json(FILE *f, const struct probe_result *r)
{
	const struct probe_portmap_one *pm[3] = { &r->upnp, &r->natpmp, &r->pcp };
	static const char *const pmn[3] = { "upnp", "natpmp", "pcp" };
	const char *ext = NULL;
	unsigned i;
	int t, last;

	fputs("{ \"udp\": { ", f);
	json_proto_common(f, &r->udp);
	fputs(", \"hairpin\": ", f);
	json_tri(f, r->udp.hairpin);
	fputs(", \"classic\": ", f);
	json_str(f, probe_classic_name(r->udp.mapping, r->udp.filtering));
	fputs(" },\n  \"tcp\": { ", f);
	json_proto_common(f, &r->tcp);
	fputs(", \"pace_per_s\": ", f);
	if (r->tcp.pace_known)
		fprintf(f, "%u.%u", r->tcp.pace_tenths / 10, r->tcp.pace_tenths % 10);
	else
		fputs("null", f);
	fputs(", \"unsolicited_syn\": ", f);
	json_str(f, probe_syn_name(r->unsolicited_syn));
	fputs(", \"nat_hops\": ", f);
	json_int(f, r->nat_hops >= 0, r->nat_hops);
	fputs(", \"syn_ttl\": ", f);
	json_int(f, r->syn_ttl > 0, r->syn_ttl);
	fputs(", \"seq_rewrite\": ", f);
	json_tri(f, r->seq_rewrite);
	fputs(", \"stunt\": ", f);
	json_tri(f, r->stunt);
	fputs(", \"hops\": [", f);
	last = r->dest_hop > 0 ? r->dest_hop - 1 : 0;
	for (t = 1; t <= PROBE_TTL_MAX; t++)
		if (r->hop_addr[t] && t > last && (r->dest_hop < 0 || t < r->dest_hop))
			last = t;
	for (t = 1; t <= last; t++) {
		fputs(t > 1 ? ", " : "", f);
		json_ip(f, r->hop_addr[t]);
	}
	fputs("] },\n", f);
	if (r->ipv6.asked)
		json_ipv6(f, &r->ipv6);
	fputs("  \"port_mapping\": { ", f);
	for (i = 0; i < 3; i++) {
		fprintf(f, "\"%s\": ", pmn[i]);
		json_tri(f, pm[i]->present);
		fputs(", ", f);
		if (!ext && pm[i]->external_ip[0])
			ext = pm[i]->external_ip;
	}
	fputs("\"external_ip\": ", f);
	json_str(f, ext);
	for (i = 0; i < 3; i++) {
		fprintf(f, ",\n    \"%s_test\": { \"external_ip\": ", pmn[i]);
		json_str(f, pm[i]->external_ip[0] ? pm[i]->external_ip : NULL);
		fputs(", \"mapped\": ", f);
		json_tri(f, pm[i]->mapped);
		fputs(", \"removed\": ", f);
		json_tri(f, pm[i]->removed);
		fputs(", \"external_port\": ", f);
		json_int(f, pm[i]->mapped == 1, pm[i]->ext_port);
		fputs(" }", f);
	}
	fputs(" },\n  \"methods\": [", f);
	for (i = 0; i < r->nmethods; i++)
		fprintf(f, "%s\"%s\"", i ? ", " : " ", probe_method_name(r->methods[i]));
	fputs(r->nmethods ? " ],\n" : "],\n", f);
	fputs("  \"uncertain\": [", f);
	for (i = 0, t = 0; i < PROBE_V_MAX; i++)
		if (r->uncertain & PROBE_UNSURE(i))
			fprintf(f, "%s\"%s\"", t++ ? ", " : " ", probe_verdict_name((enum probe_verdict)i));
	fputs(t ? " ],\n" : "],\n", f);
	/* what this server cannot measure (one address), and why */
	json_unmeasurable(f, r->unmeasurable, "  ");
	fprintf(f, "  \"server_one_address\": %s,\n", r->one_addr ? "true" : "false");
	fputs("  \"server\": ", f);
	if (r->server_ip) {
		char ip[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &r->server_ip, ip, sizeof(ip));
		fprintf(f, "\"%s:%u\"", ip, r->server_port);
	} else {
		fputs("null", f);
	}
	fprintf(f, ", \"server_reached\": %s, \"ipv6_only\": %s,\n  \"notes\": [",
		r->server_reached ? "true" : "false", r->ipv6_only ? "true" : "false");
	for (i = 0; i < r->nnotes; i++) {
		fputs(i ? ",\n    " : "\n    ", f);
		json_str(f, r->notes[i]);
	}
	fprintf(f, "%s],\n  \"elapsed_ms\": %llu }\n", r->nnotes ? "\n  " : "",
		(unsigned long long)r->elapsed_ms);
}

/* ---- plain words ---- */

static const char *mapping_words(enum probe_mapping m)
{
	switch (m) {
	case PROBE_MAP_NONE: return "no translation: your address is public (no NAT)";
	case PROBE_MAP_EIM: return "same public port for every destination (endpoint-independent, EIM)";
	case PROBE_MAP_ADM: return "a new public port for each destination address (address-dependent, ADM)";
	case PROBE_MAP_APDM: return "a new public port for each destination address and port (address-and-port-dependent, APDM)";
	default: return "not measured";
	}
}

static const char *filtering_words(enum probe_filtering f)
{
	switch (f) {
	case PROBE_FILT_EIF: return "anyone may answer once you sent out (endpoint-independent, EIF)";
	case PROBE_FILT_ADF: return "only addresses you sent to may answer, from any port (address-dependent, ADF)";
	case PROBE_FILT_APDF: return "only the exact address and port you sent to may answer (address-and-port-dependent, APDF)";
	default: return "not measured";
	}
}

#define UNSURE_WORDS	" (uncertain: answers missing, possible packet loss)"

/* The end of a verdict's line: says so when it rests on missing answers. */
static void eol(FILE *f, const struct probe_result *r, enum probe_verdict v)
{
	fputs(r->uncertain & PROBE_UNSURE(v) ? UNSURE_WORDS "\n" : "\n", f);
}

static void human_alloc(FILE *f, const struct probe_proto *p)
{
	fputs("  Port choice: ", f);
	switch (p->allocation) {
	case PROBE_ALLOC_PRESERVING:
		fputs("keeps your local port (port preserving)", f);
		break;
	case PROBE_ALLOC_SEQUENTIAL:
		fprintf(f, "each new mapping is the previous one %+d (sequential, delta %d; %u of %u steps)",
			p->delta, p->delta, p->delta_hits, p->nsamples ? p->nsamples - 1 : 0);
		break;
	case PROBE_ALLOC_RANDOM:
		fputs("unpredictable (random)", f);
		break;
	default:
		fputs("not measured", f);
	}
}

/* v0: the transport's first verdict (mapping, filtering, allocation follow) */
static void human_proto(FILE *f, const char *name, const struct probe_proto *p,
			const struct probe_result *r, enum probe_verdict v0)
{
	char ip[INET_ADDRSTRLEN];

	fprintf(f, "%s:\n", name);
	if (p->mapped[PROBE_EP_A1P1].known) {
		inet_ntop(AF_INET, &p->mapped[PROBE_EP_A1P1].ip, ip, sizeof(ip));
		fprintf(f, "  Public address: %s:%u\n", ip, p->mapped[PROBE_EP_A1P1].port);
	}
	fprintf(f, "  Mapping: %s", !p->mapping && p->same_map_ports == 1 ?
		"the same public port for both ports of the server (EIM or ADM; one server address "
		"cannot tell which)" : mapping_words(p->mapping));
	eol(f, r, v0);
	fprintf(f, "  Filtering: %s", !p->filtering && p->other_port_passed == 1 ?
		"the server's other port may answer (EIF or ADF; one server address cannot tell "
		"which)" : filtering_words(p->filtering));
	eol(f, r, (enum probe_verdict)(v0 + 1));
	human_alloc(f, p);
	eol(f, r, (enum probe_verdict)(v0 + 2));
	if (p->pace_known)
		fprintf(f, "  Others' pace: the counter moved %u.%u ports/s besides ours (two Bindings "
			"%u ms apart)%s\n", p->pace_tenths / 10, p->pace_tenths % 10, p->pace_ms,
			p->pace_tenths >= 300 ? ": busy, port prediction needs a wide window" : "");
}

/* One sentence per method: what it does and why it is on the list. */
static const char *method_sentence(enum probe_method m)
{
	switch (m) {
	case PROBE_M_DIRECT: return "peers connect straight to your public address: your NAT lets them in";
	case PROBE_M_PORTMAP: return "your gateway opens a port on request (UPnP-IGD, NAT-PMP or PCP) and peers connect to it";
	case PROBE_M_REVERSAL: return "when the other side accepts direct connections, this host connects out to it instead";
	case PROBE_M_SIMOPEN: return "both sides connect to each other at the same moment (TCP simultaneous open): each outgoing SYN opens the way for the other's";
	case PROBE_M_STUNT1: return "each side's low-TTL SYN opens its NAT and dies before the other's; the server completes the connection with a spoofed SYN-ACK (STUNT #1)";
	case PROBE_M_STUNT2: return "one side's low-TTL SYN opens its NAT, then the other side's SYN comes in through that hole (STUNT #2)";
	case PROBE_M_SYNTH: return "both sides open their NATs with low-TTL SYNs and, once both have left, send the same SYN again: a simultaneous open without waiting for the other";
	case PROBE_M_PREDICT: return "your NAT picks public ports in sequence: the other side aims at the ports it will pick next";
	case PROBE_M_SHOTGUN: return "your NAT picks public ports at random: many attempts at once until one pair of ports meets";
	case PROBE_M_UDP: return "a UDP path punched through both NATs carries the connection";
	case PROBE_M_RELAY: return "the traffic goes through a relay (TURN or the server): always works, adds a detour";
	default: return "";
	}
}

const char *probe6_direct_sentence(enum probe6_direct d)
{
	switch (d) {
	case PROBE6_D_YES: return "Direct IPv6 connections: yes, peers can connect straight to this address.";
	case PROBE6_D_SIMOPEN: return "Direct IPv6 connections: only by simultaneous open (both sides send first: the firewall lets in only answers).";
	case PROBE6_D_RELAY: return "Direct IPv6 connections: no, the translation changes with each destination: relay.";
	default: return "Direct IPv6 connections: unknown (nothing measured over IPv6).";
	}
}

/* How an unsolicited SYN was answered, in words; icmp (type, code) names
 * the ICMPv6 error when v6 (ICMP's own numbers are not kept for IPv4). */
static const char *syn_words(enum probe_syn s, const uint8_t *icmp, bool v6)
{
	static char buf[96];
	/* ICMPv6 destination unreachable codes (RFC 4443 3.1) */
	static const char *const unreach[] = { "no route", "administratively prohibited",
					       "beyond the scope of the source address",
					       "address unreachable", "port unreachable",
					       "source address failed ingress/egress policy",
					       "reject route" };

	switch (s) {
	case PROBE_SYN_DROP: return "silently dropped (drop)";
	case PROBE_SYN_RST: return "answered with a reset (rst)";
	case PROBE_SYN_ICMP:
		if (!v6 || !icmp)
			return "answered with an ICMP error (icmp)";
		if (icmp[0] == 1 && icmp[1] < sizeof(unreach) / sizeof(unreach[0]))
			snprintf(buf, sizeof(buf), "answered with ICMPv6 destination unreachable, %s (icmp)",
				 unreach[icmp[1]]);
		else
			snprintf(buf, sizeof(buf), "answered with ICMPv6 type %u code %u (icmp)", icmp[0], icmp[1]);
		return buf;
	default: return "not measured";
	}
}

static void human_ipv6(FILE *f, const struct probe6_result *v)
{
	char a[INET6_ADDRSTRLEN + 8], b[INET6_ADDRSTRLEN + 8];
	unsigned i;

	fprintf(f, "IPv6 (server %s):\n", ep_str(&v->server, a, sizeof(a)));
	if (!v->reached) {
		fputs("  The server did not answer over IPv6.\n", f);
	} else {
		if (v->mapped[PROBE_EP_A1P1].known)
			fprintf(f, "  UDP: local %s, seen by the server as %s\n",
				v->local.known ? ep_str(&v->local, a, sizeof(a)) : "unknown",
				ep_str(&v->mapped[PROBE_EP_A1P1], b, sizeof(b)));
		if (v->tcp_mapped.known)
			fprintf(f, "  TCP: local %s, seen by the server as %s\n",
				v->tcp_local.known ? ep_str(&v->tcp_local, a, sizeof(a)) : "unknown",
				ep_str(&v->tcp_mapped, b, sizeof(b)));
		fprintf(f, "  Translation: %s\n", v->translated < 0 ? "not measured" :
			!v->translated ? "none (the server sees your own address)" :
			v->port_changed == 1 ? "yes, NAT66 (address and port rewritten)" :
			"yes, NPTv6 or NAT66 (address rewritten, port kept)");
		fprintf(f, "  UDP mapping: %s\n", mapping_words(v->udp_mapping));
		fprintf(f, "  UDP filtering: %s\n", filtering_words(v->udp_filtering));
		if (v->tcp_mapped.known) {
			fprintf(f, "  TCP filtering: %s\n", filtering_words(v->tcp_filtering));
			fprintf(f, "  Unsolicited incoming SYN: %s\n",
				syn_words(v->unsolicited_syn, v->unsolicited_icmp, true));
		}
		if (v->dest_hop > 0 || hops6_last(v) > 0) {
			char h[INET6_ADDRSTRLEN];
			int t;

			if (v->dest_hop > 0)
				fprintf(f, "  Hops to the server: %d; the routers before it:", v->dest_hop);
			else
				fprintf(f, "  Hops to the server: not reached within %d; routers:", PROBE_TTL_MAX);
			for (t = 1; t <= hops6_last(v); t++)
				fprintf(f, "%s %d %s", t > 1 ? "," : "", t,
					v->hop_known[t] ? ip6_str(v->hop_addr[t], h, sizeof(h)) : "silent");
			fputc('\n', f);
		}
		if (v->syn_hop_limit == 1)
			fputs("  Firewall: none beyond this host stops an incoming SYN (the server's got in "
			      "after a SYN with hop limit 1)\n", f);
		else if (v->syn_hop_limit > 1)
			fprintf(f, "  Firewall: at hop %d; a first SYN needs hop limit %d to open it for the "
				"peer's (simopen6)\n", v->syn_hop_limit - 1, v->syn_hop_limit);
		else if (v->syn_hop_limit_why[0])
			fprintf(f, "  Firewall's distance: not measured: %s\n", v->syn_hop_limit_why);
		for (i = 0; i < PROBE_V_MAX; i++)
			if (v->unmeasurable[i][0])
				fprintf(f, "  Not measurable over IPv6: %s: %s\n",
					probe_verdict_name((enum probe_verdict)i), v->unmeasurable[i]);
	}
	fprintf(f, "  %s\n", probe6_direct_sentence(v->direct));
}

const char *probe_verdict_line(const struct probe_result *r)
{
	unsigned i;
	bool punch = false;

	if (!r->server_reached)
		return "direct connections: unknown (the server could not be reached)";
	for (i = 0; i < r->nmethods; i++) {
		if (r->methods[i] == PROBE_M_DIRECT || r->methods[i] == PROBE_M_PORTMAP)
			return "direct connections: likely (peers can connect in to this host)";
		if (r->methods[i] != PROBE_M_REVERSAL && r->methods[i] != PROBE_M_RELAY)
			punch = true;
	}
	if (punch)
		return "direct connections: need help (hole punching through the server)";
	return "direct connections: relay only (unless the other side accepts direct connections)";
}

int probe_progress_line(char *buf, size_t cap, uint64_t elapsed_ms, uint64_t bound_ms,
			unsigned waiting)
{
	return snprintf(buf, cap, "stunt-probe: measuring, %llu.%llu s of at most %llu.%llu s; "
			"%u answer%s still awaited",
			(unsigned long long)(elapsed_ms / 1000), (unsigned long long)(elapsed_ms % 1000 / 100),
			(unsigned long long)(bound_ms / 1000), (unsigned long long)(bound_ms % 1000 / 100),
			waiting, waiting == 1 ? "" : "s");
}

void probe_report_human(FILE *f, const struct probe_result *r)
{
	const struct probe_portmap_one *pm[3] = { &r->upnp, &r->natpmp, &r->pcp };
	static const char *const pmn[3] = { "UPnP-IGD", "NAT-PMP", "PCP" };
	const char *classic;
	unsigned i;

	if (r->ipv6_only) {
		/* --server6 alone, or an IPv6 --server: the IPv6 part is the report */
		fputs("IPv4: not measured (the server was given as an IPv6 address: IPv6 only)\n", f);
		human_ipv6(f, &r->ipv6);
		return;
	}
	fprintf(f, "%s\n", probe_verdict_line(r));
	if (!r->server_reached) {
		if (r->unreachable[0])
			fprintf(f, "The %s. Nothing could be measured.\n", r->unreachable);
		else
			fputs("The server did not answer: nothing could be measured.\n", f);
	} else {
		human_proto(f, "UDP", &r->udp, r, PROBE_V_UDP_MAPPING);
		if (r->udp.hairpin >= 0) {
			fprintf(f, "  Hairpinning (reaching your own public address from inside): %s",
				r->udp.hairpin ? "yes" : "no");
			eol(f, r, PROBE_V_UDP_HAIRPIN);
		}
		classic = probe_classic_name(r->udp.mapping, r->udp.filtering);
		if (classic)
			fprintf(f, "  Classic name (RFC 3489): %s\n", classic);
		human_proto(f, "TCP", &r->tcp, r, PROBE_V_TCP_MAPPING);
		fprintf(f, "  Unsolicited incoming SYN: %s", syn_words(r->unsolicited_syn, NULL, false));
		eol(f, r, PROBE_V_TCP_UNSOLICITED_SYN);
		if (r->nat_hops > 0)
			fprintf(f, "  Outermost NAT: %d hop(s) away; a SYN with TTL %d crosses it and dies beyond",
				r->nat_hops, r->syn_ttl);
		else if (r->nat_hops == 0)
			fputs("  Outermost NAT: none (no NAT hop)", f);
		else
			fputs("  Outermost NAT: hop count not measured", f);
		eol(f, r, PROBE_V_TCP_NAT_HOPS);
		fprintf(f, "  Sequence numbers rewritten by the NAT: %s",
			r->seq_rewrite < 0 ? "not measured" : r->seq_rewrite ? "yes" : "no");
		eol(f, r, PROBE_V_TCP_SEQ_REWRITE);
	}
	for (i = 0; i < PROBE_V_MAX; i++)
		if (r->unmeasurable[i][0])
			fprintf(f, "Not measurable with this server: %s: %s\n",
				probe_verdict_name((enum probe_verdict)i), r->unmeasurable[i]);
	if (r->ipv6.asked)
		human_ipv6(f, &r->ipv6);
	fputs("Port mapping on the gateway:\n", f);
	for (i = 0; i < 3; i++) {
		fprintf(f, "  %s: ", pmn[i]);
		if (pm[i]->present < 0) {
			fputs("not tried\n", f);
			continue;
		}
		if (!pm[i]->present) {
			fputs("no answer\n", f);
			continue;
		}
		fprintf(f, "answers, external address %s", pm[i]->external_ip[0] ? pm[i]->external_ip : "unknown");
		if (pm[i]->mapped == 1)
			fprintf(f, "; test mapping of port %u made and %s\n", pm[i]->ext_port,
				pm[i]->removed == 1 ? "removed" : "NOT removed");
		else
			fputs("; test mapping refused\n", f);
	}
	fputs("Methods that can work from here, in order:", f);
	for (i = 0; i < r->nmethods; i++)
		fprintf(f, " %s", probe_method_name(r->methods[i]));
	fputc('\n', f);
	for (i = 0; i < r->nmethods; i++)
		fprintf(f, "  %s: %s.\n", probe_method_name(r->methods[i]),
			method_sentence(r->methods[i]));
	for (i = 0; i < r->nnotes; i++)
		fprintf(f, "Note: %s\n", r->notes[i]);
	fprintf(f, "Done in %llu ms.\n", (unsigned long long)r->elapsed_ms);
}
