// SPDX-License-Identifier: MIT
/* stunt-probe's two outputs (probes/probe_report.c): the JSON carries every
 * field of the command-line contract (docs/probe.md), null for what was not measured, the
 * "uncertain" list, and is valid JSON (checked by a small parser here);
 * the human output says it in plain words with the RFC terms beside them
 * and marks an uncertain verdict. */
#include "probes/probe.h"
#include "proto/stunt.h"
#include "tests/unit/tap.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>

/* ---- a minimal JSON syntax checker (RFC 8259), enough to reject
 * unbalanced structure, bare words, trailing commas and bad escapes ---- */

static const char *ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static const char *jvalue(const char *p, int depth);

static const char *jstring(const char *p)
{
	if (*p++ != '"')
		return NULL;
	while (*p && *p != '"') {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p == '\\') {
			p++;
			if (*p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!isxdigit((unsigned char)p[i]))
						return NULL;
				p += 4;
			} else if (!strchr("\"\\/bfnrt", *p) || !*p) {
				return NULL;
			}
		}
		p++;
	}
	return *p == '"' ? p + 1 : NULL;
}

static const char *jnumber(const char *p)
{
	const char *s;

	if (*p == '-')
		p++;
	s = p;
	while (isdigit((unsigned char)*p))
		p++;
	return p > s ? p : NULL;
}

static const char *jlist(const char *p, char close, int depth, bool object)
{
	p = ws(p + 1);
	if (*p == close)
		return p + 1;
	for (;;) {
		if (object) {
			if (!(p = jstring(ws(p))))
				return NULL;
			p = ws(p);
			if (*p++ != ':')
				return NULL;
		}
		if (!(p = jvalue(p, depth + 1)))
			return NULL;
		p = ws(p);
		if (*p == close)
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
}

static const char *jvalue(const char *p, int depth)
{
	if (depth > 16)
		return NULL;
	p = ws(p);
	switch (*p) {
	case '{': return jlist(p, '}', depth, true);
	case '[': return jlist(p, ']', depth, false);
	case '"': return jstring(p);
	case 't': return strncmp(p, "true", 4) ? NULL : p + 4;
	case 'f': return strncmp(p, "false", 5) ? NULL : p + 5;
	case 'n': return strncmp(p, "null", 4) ? NULL : p + 4;
	default: return jnumber(p);
	}
}

static bool json_valid(const char *s)
{
	const char *e = jvalue(s, 0);

	return e && *ws(e) == '\0';
}

/* ---- helpers ---- */

static char *render(const struct probe_result *r, bool json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	if (json)
		probe_report_json(f, r);
	else
		probe_report_human(f, r);
	fclose(f);
	return buf;
}

static bool has(const char *hay, const char *needle)
{
	if (hay && strstr(hay, needle))
		return true;
	fprintf(stderr, "missing: %s\n", needle);
	return false;
}

/* The line of out that starts with prefix (after indentation), or NULL. */
static const char *line_of(const char *out, const char *prefix, char *line, size_t cap)
{
	const char *p = strstr(out, prefix), *e;

	if (!p)
		return NULL;
	e = strchr(p, '\n');
	if (!e || (size_t)(e - p) >= cap)
		return NULL;
	memcpy(line, p, (size_t)(e - p));
	line[e - p] = '\0';
	return line;
}

static uint32_t ip(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

/* A port-restricted cone (EIM, APDF, preserving) behind a sequential TCP
 * mapping, RST to unsolicited SYNs, one NAT hop, UPnP working, and two
 * verdicts that rest on missing answers. */
static void fixed(struct probe_result *r)
{
	probe_result_init(r);
	r->server_reached = true;
	r->server_ip = ip("192.0.2.1");
	r->server_port = 3478;
	r->udp.measured = true;
	r->udp.mapped[PROBE_EP_A1P1] = (struct probe_ep){ .known = true, .ip = ip("198.18.1.2"), .port = 40000 };
	r->udp.local = (struct probe_ep){ .known = true, .ip = ip("10.1.0.10"), .port = 40000 };
	r->udp.mapping = PROBE_MAP_EIM;
	r->udp.filtering = PROBE_FILT_APDF;
	r->udp.allocation = PROBE_ALLOC_PRESERVING;
	r->udp.hairpin = 0;
	r->tcp.measured = true;
	r->tcp.mapping = PROBE_MAP_APDM;
	r->tcp.filtering = PROBE_FILT_APDF;
	r->tcp.allocation = PROBE_ALLOC_SEQUENTIAL;
	r->tcp.delta_known = true;
	r->tcp.delta = 2;
	r->tcp.delta_hits = 4;
	r->tcp.nsamples = 2;
	r->tcp.sample_local[0] = 50000;
	r->tcp.sample_mapped[0] = 20000;
	r->tcp.sample_local[1] = 50001;
	r->tcp.sample_mapped[1] = 20002;
	r->unsolicited_syn = PROBE_SYN_RST;
	r->nat_hops = 1;
	r->syn_ttl = 2;
	r->seq_rewrite = 0;
	r->stunt = 1;
	r->hop_addr[1] = ip("10.1.0.1");
	r->hop_addr[2] = ip("198.18.1.1");
	r->dest_hop = 3;
	r->upnp.present = 1;
	r->upnp.mapped = 1;
	r->upnp.removed = 1;
	r->upnp.ext_port = 43997;
	strcpy(r->upnp.external_ip, "11.0.2.2");
	r->natpmp.present = 0;
	r->pcp.present = 0;
	r->methods[0] = PROBE_M_PORTMAP;
	r->methods[1] = PROBE_M_REVERSAL;
	r->methods[2] = PROBE_M_RELAY;
	r->nmethods = 3;
	r->uncertain = PROBE_UNSURE(PROBE_V_UDP_FILTERING) | PROBE_UNSURE(PROBE_V_TCP_UNSOLICITED_SYN);
	r->elapsed_ms = 436;
}

/* ---- cases ---- */

static void json_parser_self_test(void)
{
	CHECK(json_valid("{ \"a\": [1, -2, \"x\\\"y\"], \"b\": { \"c\": null, \"d\": true } }"));
	CHECK(!json_valid("{ \"a\": [1, 2 }"));
	CHECK(!json_valid("{ \"a\": 1, }"));
	CHECK(!json_valid("{ \"a\": nul }"));
	CHECK(!json_valid("{ \"a\": \"\\q\" }"));
	CHECK(!json_valid("{ \"a\": 1 } x"));
}

/* Nothing measured: every contract field is there, and null. */
static void json_unknown_is_null(void)
{
	struct probe_result r;
	char *out;

	probe_result_init(&r);
	out = render(&r, true);
	CHECK(out != NULL);
	CHECK(json_valid(out));
	CHECK(has(out, "{ \"udp\": { \"mapping\": null, \"filtering\": null, \"allocation\": null, "
		       "\"delta\": null"));
	CHECK(has(out, "\"tcp\": { \"mapping\": null, \"filtering\": null, \"allocation\": null, "
		       "\"delta\": null"));
	CHECK(has(out, "\"unsolicited_syn\": null, \"nat_hops\": null, \"syn_ttl\": null, "
		       "\"seq_rewrite\": null"));
	CHECK(has(out, "\"hairpin\": null, \"classic\": null"));
	CHECK(has(out, "\"port_mapping\": { \"upnp\": null, \"natpmp\": null, \"pcp\": null, "
		       "\"external_ip\": null"));
	CHECK(has(out, "\"methods\": [],"));
	CHECK(has(out, "\"uncertain\": [],"));
	CHECK(has(out, "\"server_reached\": false"));
	CHECK(has(out, "\"elapsed_ms\": 0 }\n"));
	free(out);
}

/* A fixed result: exact strings for every contract field. */
static void json_fixed_result(void)
{
	struct probe_result r;
	char *out;

	fixed(&r);
	out = render(&r, true);
	CHECK(out != NULL);
	CHECK(json_valid(out));
	CHECK(has(out, "{ \"udp\": { \"mapping\": \"EIM\", \"filtering\": \"APDF\", "
		       "\"allocation\": \"preserving\", \"delta\": null, \"delta_hits\": null, "
		       "\"samples\": [], \"public\": \"198.18.1.2:40000\", \"local\": \"10.1.0.10:40000\", "
		       "\"hairpin\": false, \"classic\": \"port-restricted cone\" },\n"));
	CHECK(has(out, "\"tcp\": { \"mapping\": \"APDM\", \"filtering\": \"APDF\", "
		       "\"allocation\": \"sequential\", \"delta\": 2, \"delta_hits\": 4, "
		       "\"samples\": [[50000, 20000], [50001, 20002]]"));
	CHECK(has(out, "\"unsolicited_syn\": \"rst\", \"nat_hops\": 1, \"syn_ttl\": 2, "
		       "\"seq_rewrite\": false, \"stunt\": true, \"hops\": [\"10.1.0.1\", \"198.18.1.1\"] },\n"));
	CHECK(has(out, "\"port_mapping\": { \"upnp\": true, \"natpmp\": false, \"pcp\": false, "
		       "\"external_ip\": \"11.0.2.2\""));
	CHECK(has(out, "\"upnp_test\": { \"external_ip\": \"11.0.2.2\", \"mapped\": true, "
		       "\"removed\": true, \"external_port\": 43997 }"));
	CHECK(has(out, "\"methods\": [ \"portmap\", \"reversal\", \"relay\" ],\n"));
	CHECK(has(out, "\"uncertain\": [ \"udp.filtering\", \"tcp.unsolicited_syn\" ],\n"));
	CHECK(has(out, "\"server\": \"192.0.2.1:3478\", \"server_reached\": true"));
	CHECK(has(out, "\"elapsed_ms\": 436 }\n"));
	free(out);
}

static void set6(struct probe_ep *e, const char *a, uint16_t port)
{
	e->known = e->v6 = true;
	inet_pton(AF_INET6, a, e->ip6);
	e->port = port;
}

/* --server6: an "ipv6" object after "tcp" and an IPv6 block in words;
 * without it, neither. */
static void ipv6_part(void)
{
	struct probe_result r;
	char *out;

	fixed(&r);
	out = render(&r, true);
	CHECK(out && !strstr(out, "\"ipv6\":") && strstr(out, "\"ipv6_only\": false"));
	free(out);
	out = render(&r, false);
	CHECK(out && !strstr(out, "IPv6"));
	free(out);

	r.ipv6.asked = r.ipv6.reached = true;
	set6(&r.ipv6.server, "2001:db8:2::5", 3478);
	set6(&r.ipv6.other, "2001:db8:2::6", 3479);
	set6(&r.ipv6.local, "2001:db8:1::10", 40000);
	set6(&r.ipv6.mapped[PROBE_EP_A1P1], "2001:db8:2::1", 40000);
	r.ipv6.translated = 1;
	r.ipv6.port_changed = 0;
	r.ipv6.udp_mapping = PROBE_MAP_EIM;
	r.ipv6.udp_filtering = PROBE_FILT_APDF;
	r.ipv6.direct = PROBE6_D_SIMOPEN;
	snprintf(r.ipv6.unmeasurable[PROBE_V_TCP_FILTERING], PROBE_NOTE_LEN, "needs STUNT");
	snprintf(r.ipv6.unmeasurable[PROBE_V_TCP_UNSOLICITED_SYN], PROBE_NOTE_LEN, "needs STUNT");
	out = render(&r, true);
	CHECK(out != NULL);
	CHECK(json_valid(out));
	CHECK(has(out, "\"hops\": [\"10.1.0.1\", \"198.18.1.1\"] },\n"
		       "  \"ipv6\": { \"server\": \"[2001:db8:2::5]:3478\", \"reached\": true,\n"
		       "    \"local\": \"[2001:db8:1::10]:40000\", \"mapped\": \"[2001:db8:2::1]:40000\", "
		       "\"translated\": true, \"port_changed\": false, \"other_address\": \"2001:db8:2::6\",\n"
		       "    \"udp\": { \"mapping\": \"EIM\", \"filtering\": \"APDF\" },\n"
		       "    \"tcp\": { \"local\": null, \"mapped\": null, \"translated\": null, "
		       "\"filtering\": null, \"unsolicited_syn\": null, \"unsolicited_icmp\": null },\n"
		       "    \"hops\": [], \"dest_hop\": null,\n"
		       "    \"syn_hop_limit\": null, \"syn_hop_limit_tests\": [null, null, null, null], "
		       "\"syn_hop_limit_why\": null,\n"
		       "    \"not_measurable\": {\n      \"tcp.filtering\": \"needs STUNT\",\n"
		       "      \"tcp.unsolicited_syn\": \"needs STUNT\"\n    },\n"
		       "    \"direct\": \"simopen\" },\n  \"port_mapping\""));
	free(out);
	out = render(&r, false);
	CHECK(out != NULL);
	CHECK(has(out, "IPv6 (server [2001:db8:2::5]:3478):\n"
		       "  UDP: local [2001:db8:1::10]:40000, seen by the server as [2001:db8:2::1]:40000\n"
		       "  Translation: yes, NPTv6 or NAT66 (address rewritten, port kept)\n"));
	CHECK(has(out, "  Not measurable over IPv6: tcp.filtering: needs STUNT\n"
		       "  Not measurable over IPv6: tcp.unsolicited_syn: needs STUNT\n"
		       "  Direct IPv6 connections: only by simultaneous open"));
	CHECK(!strstr(out, "  TCP filtering:"));	/* no TCP over IPv6: no TCP lines */
	CHECK(has(out, "simultaneous open (both sides send first: the firewall lets in only answers).\n"
		       "Port mapping on the gateway:"));
	free(out);
	/* TCP over IPv6 measured: its filtering and the SYN's ICMPv6 answer */
	memset(r.ipv6.unmeasurable, 0, sizeof(r.ipv6.unmeasurable));
	set6(&r.ipv6.tcp_local, "2001:db8:1::10", 40001);
	set6(&r.ipv6.tcp_mapped, "2001:db8:2::1", 40001);
	r.ipv6.tcp_translated = 1;
	r.ipv6.tcp_filtering = PROBE_FILT_APDF;
	r.ipv6.unsolicited_syn = PROBE_SYN_ICMP;
	r.ipv6.unsolicited_icmp[0] = 1;
	r.ipv6.unsolicited_icmp[1] = 1;
	out = render(&r, true);
	CHECK(out && json_valid(out));
	CHECK(has(out, "\"filtering\": \"APDF\", \"unsolicited_syn\": \"icmp\", "
		       "\"unsolicited_icmp\": { \"type\": 1, \"code\": 1 } },\n"
		       "    \"hops\": [], \"dest_hop\": null,\n"
		       "    \"syn_hop_limit\": null, \"syn_hop_limit_tests\": [null, null, null, null], "
		       "\"syn_hop_limit_why\": null,\n"
		       "    \"not_measurable\": {},\n"));
	free(out);
	out = render(&r, false);
	CHECK(out && has(out, "  TCP filtering: only the exact address and port you sent to may answer "
			       "(address-and-port-dependent, APDF)\n"
			       "  Unsolicited incoming SYN: answered with ICMPv6 destination unreachable, "
			       "administratively prohibited (icmp)\n"));
	free(out);
	r.ipv6.unsolicited_icmp[0] = 4;	/* parameter problem: named by number */
	r.ipv6.unsolicited_icmp[1] = 0;
	out = render(&r, false);
	CHECK(out && has(out, "  Unsolicited incoming SYN: answered with ICMPv6 type 4 code 0 (icmp)\n"));
	free(out);
	/* hops: the routers before the server's hop, a silent one null */
	r.ipv6.dest_hop = 3;
	r.ipv6.hop_known[1] = true;
	memcpy(r.ipv6.hop_addr[1], r.ipv6.local.ip6, 16);
	r.ipv6.hop_addr[1][15] = 1;
	r.ipv6.hop_known[5] = true;	/* beyond the server: not listed */
	memcpy(r.ipv6.hop_addr[5], r.ipv6.hop_addr[1], 16);
	out = render(&r, true);
	CHECK(out && json_valid(out) &&
	      has(out, "    \"hops\": [\"2001:db8:1::1\", null], \"dest_hop\": 3,\n"));
	free(out);
	out = render(&r, false);
	CHECK(out && has(out, "  Hops to the server: 3; the routers before it: 1 2001:db8:1::1, 2 silent\n"));
	free(out);
	r.ipv6.dest_hop = -1;	/* not reached: up to the last that answered */
	out = render(&r, false);
	CHECK(out && has(out, "  Hops to the server: not reached within 8; routers: 1 2001:db8:1::1, 2 silent, "
			       "3 silent, 4 silent, 5 2001:db8:1::1\n"));
	free(out);
	/* the firewall's distance (probe6_fw.c): the per-hop results, the
	 * hop limit, or why it is unknown */
	r.ipv6.fw_res[1] = STUNT_PROBE_DROP;
	r.ipv6.fw_res[2] = STUNT_PROBE_SYNACK;
	r.ipv6.fw_res[3] = STUNT_PROBE_RST;
	r.ipv6.syn_hop_limit = 2;
	out = render(&r, true);
	CHECK(out && json_valid(out) &&
	      has(out, "    \"syn_hop_limit\": 2, \"syn_hop_limit_tests\": [\"drop\", \"synack\", "
		       "\"rst\", null], \"syn_hop_limit_why\": null,\n"));
	free(out);
	out = render(&r, false);
	CHECK(out && has(out, "  Firewall: at hop 1; a first SYN needs hop limit 2 to open it for the "
			       "peer's (simopen6)\n"));
	free(out);
	r.ipv6.syn_hop_limit = 1;
	out = render(&r, false);
	CHECK(out && has(out, "  Firewall: none beyond this host stops an incoming SYN"));
	free(out);
	r.ipv6.syn_hop_limit = -1;
	snprintf(r.ipv6.syn_hop_limit_why, PROBE_NOTE_LEN, "the path rewrites TCP ports");
	out = render(&r, true);
	CHECK(out && json_valid(out) &&
	      has(out, "\"syn_hop_limit\": null, \"syn_hop_limit_tests\": [\"drop\", \"synack\", "
		       "\"rst\", null], \"syn_hop_limit_why\": \"the path rewrites TCP ports\",\n"));
	free(out);
	out = render(&r, false);
	CHECK(out && has(out, "  Firewall's distance: not measured: the path rewrites TCP ports\n"));
	free(out);
	r.ipv6.unsolicited_syn = PROBE_SYN_RST;
	out = render(&r, true);
	CHECK(out && has(out, "\"unsolicited_syn\": \"rst\", \"unsolicited_icmp\": null }"));
	free(out);
	CHECK(strcmp(probe6_direct_name(PROBE6_D_YES), "yes") == 0);
	CHECK(probe6_direct_name(PROBE6_D_UNKNOWN) == NULL);
	CHECK(has(probe6_direct_sentence(PROBE6_D_RELAY), "no,"));
	/* IPv6 only (--server6 alone, an IPv6 --server): the IPv6 part is the
	 * report, nothing is said of IPv4 but that it was not measured */
	r.ipv6_only = true;
	r.server_reached = false;
	out = render(&r, false);
	CHECK(out && has(out, "IPv4: not measured (the server was given as an IPv6 address: IPv6 "
			       "only)\nIPv6 (server [2001:db8:2::5]:3478):\n"));
	CHECK(out && !strstr(out, "direct connections:") && !strstr(out, "Port mapping") &&
	      !strstr(out, "could not be reached"));
	free(out);
	out = render(&r, true);
	CHECK(out && json_valid(out) && has(out, "\"server_reached\": false, \"ipv6_only\": true"));
	free(out);
}

/* Every verdict name, in order; all of them uncertain is still valid. */
static void json_every_uncertain(void)
{
	struct probe_result r;
	char *out;

	fixed(&r);
	r.uncertain = (1u << PROBE_V_MAX) - 1;
	out = render(&r, true);
	CHECK(json_valid(out));
	CHECK(has(out, "\"uncertain\": [ \"udp.mapping\", \"udp.filtering\", \"udp.allocation\", "
		       "\"udp.hairpin\", \"tcp.mapping\", \"tcp.filtering\", \"tcp.allocation\", "
		       "\"tcp.unsolicited_syn\", \"tcp.nat_hops\", \"tcp.seq_rewrite\" ]"));
	CHECK(!strcmp(probe_verdict_name(PROBE_V_MAX), "?"));
	free(out);
}

/* Notes carry text from the run: quotes, backslashes and control bytes
 * are escaped. */
static void json_notes_escaped(void)
{
	struct probe_result r;
	char *out;

	fixed(&r);
	probe_note(&r, "a \"quoted\" word, a back\\slash, a tab\there");
	probe_note(&r, "second");
	out = render(&r, true);
	CHECK(json_valid(out));
	CHECK(has(out, "\"a \\\"quoted\\\" word, a back\\\\slash, a tab\\u0009here\""));
	free(out);
}

/* Plain words with the RFC term beside them; uncertain lines say so. */
static void human_words(void)
{
	struct probe_result r;
	char *out, line[256];

	fixed(&r);
	out = render(&r, false);
	CHECK(out != NULL);
	CHECK(has(out, "UDP:\n  Public address: 198.18.1.2:40000\n"));
	CHECK(has(out, "  Mapping: same public port for every destination (endpoint-independent, EIM)\n"));
	CHECK(has(out, "only the exact address and port you sent to may answer "
		       "(address-and-port-dependent, APDF)"));
	CHECK(has(out, "  Port choice: keeps your local port (port preserving)\n"));
	CHECK(has(out, "  Classic name (RFC 3489): port-restricted cone\n"));
	CHECK(has(out, "a new public port for each destination address and port "
		       "(address-and-port-dependent, APDM)"));
	CHECK(has(out, "each new mapping is the previous one +2 (sequential, delta 2; 4 of 1 steps)"));
	CHECK(has(out, "  Outermost NAT: 1 hop(s) away; a SYN with TTL 2 crosses it and dies beyond\n"));
	CHECK(has(out, "  Sequence numbers rewritten by the NAT: no\n"));
	CHECK(has(out, "  UPnP-IGD: answers, external address 11.0.2.2; test mapping of port 43997 made and removed\n"));
	CHECK(has(out, "Methods that can work from here, in order: portmap reversal relay\n"));
	/* the two uncertain verdicts, and only they, are marked */
	CHECK(line_of(out, "  Filtering: only the exact", line, sizeof(line)) &&
	      has(line, "(uncertain: answers missing, possible packet loss)"));
	CHECK(line_of(out, "  Unsolicited incoming SYN:", line, sizeof(line)) &&
	      has(line, "answered with a reset (rst) (uncertain: answers missing, possible packet loss)"));
	CHECK(line_of(out, "  Mapping: same public port", line, sizeof(line)) && !strstr(line, "uncertain"));
	{
		const char *p = out;
		int n = 0;

		while ((p = strstr(p, "(uncertain:"))) {
			n++;
			p++;
		}
		CHECK_EQ(n, 2);
	}
	free(out);
}

/* The first line: a verdict from the methods; then a sentence per method. */
static void human_verdict(void)
{
	struct probe_result r;
	char *out;
	unsigned i;

	fixed(&r);	/* portmap reversal relay */
	CHECK(!strcmp(probe_verdict_line(&r), "direct connections: likely (peers can connect in to this host)"));
	out = render(&r, false);
	CHECK(out && !strncmp(out, "direct connections: likely", 26));
	CHECK(has(out, "\n  portmap: your gateway opens a port on request"));
	CHECK(has(out, "\n  reversal: when the other side accepts direct connections"));
	CHECK(has(out, "\n  relay: the traffic goes through a relay"));
	free(out);
	r.nmethods = 0;
	r.methods[r.nmethods++] = PROBE_M_REVERSAL;
	r.methods[r.nmethods++] = PROBE_M_SIMOPEN;
	r.methods[r.nmethods++] = PROBE_M_RELAY;
	CHECK(!strcmp(probe_verdict_line(&r), "direct connections: need help (hole punching through the server)"));
	r.methods[1] = PROBE_M_RELAY;
	r.nmethods = 2;
	CHECK(!strcmp(probe_verdict_line(&r),
		      "direct connections: relay only (unless the other side accepts direct connections)"));
	/* every method has its sentence */
	r.nmethods = 0;
	for (i = 0; i < PROBE_M_MAX; i++)
		r.methods[r.nmethods++] = (enum probe_method)i;
	out = render(&r, false);
	for (i = 0; i < PROBE_M_MAX; i++) {
		char want[64];

		snprintf(want, sizeof(want), "\n  %s: ", probe_method_name((enum probe_method)i));
		CHECK(has(out, want));
	}
	free(out);
	probe_result_init(&r);
	CHECK(!strcmp(probe_verdict_line(&r), "direct connections: unknown (the server could not be reached)"));
	snprintf(r.unreachable, sizeof(r.unreachable), "server 192.0.2.1:3478 unreachable: TCP: connection refused; gave up after 3 ms");
	out = render(&r, false);
	CHECK(has(out, "The server 192.0.2.1:3478 unreachable: TCP: connection refused; gave up after 3 ms. "
		       "Nothing could be measured.\n"));
	free(out);
}

static void human_unknown(void)
{
	struct probe_result r;
	char *out;

	probe_result_init(&r);
	out = render(&r, false);
	CHECK(has(out, "The server did not answer: nothing could be measured.\n"));
	CHECK(has(out, "  UPnP-IGD: not tried\n"));
	free(out);
	r.server_reached = true;
	r.uncertain = PROBE_UNSURE(PROBE_V_TCP_FILTERING);
	out = render(&r, false);
	CHECK(has(out, "  Mapping: not measured\n"));
	CHECK(has(out, "  Filtering: not measured (uncertain: answers missing, possible packet loss)\n"));
	CHECK(has(out, "  Outermost NAT: hop count not measured\n"));
	free(out);
}

static void progress_line(void)
{
	char b[160];

	CHECK(probe_progress_line(b, sizeof(b), 1250, 3000, 4) > 0);
	CHECK(strcmp(b, "stunt-probe: measuring, 1.2 s of at most 3.0 s; 4 answers still awaited") == 0);
	probe_progress_line(b, sizeof(b), 20999, 20000, 1);
	CHECK(strcmp(b, "stunt-probe: measuring, 20.9 s of at most 20.0 s; 1 answer still awaited") == 0);
	/* cut to the buffer, never past it */
	CHECK(probe_progress_line(b, 10, 1000, 3000, 2) >= 10);
	CHECK(strcmp(b, "stunt-pro") == 0);
}

/* A one-address server: the JSON names what it could not measure and why,
 * the human report says it in words and keeps what the two ports told. */
static void one_address_unmeasurable(void)
{
	struct probe_result r;
	char *out;

	fixed(&r);
	out = render(&r, true);
	CHECK(has(out, "\"not_measurable\": {},\n  \"server_one_address\": false,"));
	free(out);
	r.one_addr = true;
	r.udp.mapping = PROBE_MAP_UNKNOWN;
	r.udp.same_map_ports = 1;
	r.tcp.filtering = PROBE_FILT_UNKNOWN;
	r.tcp.other_port_passed = 1;
	probe_unmeasurable(&r, PROBE_V_UDP_MAPPING, "one \"address\"");
	probe_unmeasurable(&r, PROBE_V_UDP_MAPPING, "kept once");
	probe_unmeasurable(&r, PROBE_V_TCP_FILTERING, "second");
	out = render(&r, true);
	CHECK(json_valid(out));
	CHECK(has(out, "\"not_measurable\": {\n    \"udp.mapping\": \"one \\\"address\\\"\",\n"
		       "    \"tcp.filtering\": \"second\"\n  },\n  \"server_one_address\": true,\n"));
	free(out);
	out = render(&r, false);
	CHECK(has(out, "  Mapping: the same public port for both ports of the server (EIM or ADM"));
	CHECK(has(out, "  Filtering: the server's other port may answer (EIF or ADF"));
	CHECK(has(out, "Not measurable with this server: udp.mapping: one \"address\"\n"));
	CHECK(has(out, "Not measurable with this server: tcp.filtering: second\n"));
	free(out);
}

int main(void)
{
	RUN(json_parser_self_test);
	RUN(json_unknown_is_null);
	RUN(json_fixed_result);
	RUN(json_every_uncertain);
	RUN(json_notes_escaped);
	RUN(human_words);
	RUN(human_unknown);
	RUN(human_verdict);
	RUN(progress_line);
	RUN(one_address_unmeasurable);
	RUN(ipv6_part);
	return TAP_DONE();
}
