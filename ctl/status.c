// SPDX-License-Identifier: MIT
/*
 * `stuntctl status` and `stuntctl peers`: one query to stuntd, its JSON answer
 * printed as is (--json) or in words: the NAT's mapping and filtering (with
 * RFC 3489's classic names), public endpoints, sessions, method counters; the
 * peers and whether they are online.
 */
#include "common/usage.h"
#include "ctl/cli.h"
#include "ctl/ctl.h"

#include "common/esc.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *mapping_words(const char *m)
{
	if (!strcmp(m, "EIM"))
		return "endpoint-independent mapping (EIM)";
	if (!strcmp(m, "ADM"))
		return "address-dependent mapping (ADM)";
	if (!strcmp(m, "APDM"))
		return "address-and-port-dependent mapping (APDM)";
	if (!strcmp(m, "none"))
		return "no translation";
	return m;
}

static const char *filtering_words(const char *f)
{
	if (!strcmp(f, "EIF"))
		return "endpoint-independent filtering (EIF)";
	if (!strcmp(f, "ADF"))
		return "address-dependent filtering (ADF)";
	if (!strcmp(f, "APDF"))
		return "address-and-port-dependent filtering (APDF)";
	return f;
}

/* RFC 3489's classic name for a mapping/filtering pair. */
static const char *classic_name(const char *m, const char *f)
{
	if (!strcmp(m, "none"))
		return !strcmp(f, "EIF") ? "open internet, no NAT" : "no NAT, but a firewall";
	if (!strcmp(m, "ADM") || !strcmp(m, "APDM"))
		return "symmetric NAT";
	if (!strcmp(m, "EIM")) {
		if (!strcmp(f, "EIF"))
			return "full cone NAT";
		if (!strcmp(f, "ADF"))
			return "restricted cone NAT";
		if (!strcmp(f, "APDF"))
			return "port-restricted cone NAT";
	}
	return NULL;
}

/* String at path in root, or dflt when missing, null or not a string. */
static const char *jstr(const struct cj_val *root, const char *path, char *buf, size_t size,
			const char *dflt)
{
	struct cj_val v;

	char raw[256];

	if (cj_path(root, path, &v) < 0 || v.type != CJ_STR || cj_str(&v, raw, sizeof(raw)) < 0)
		return dflt;
	/* printed on a terminal: nothing that could drive it */
	return esc_term(buf, size, raw);
}

static long long jint(const struct cj_val *root, const char *path, long long dflt)
{
	struct cj_val v;
	long long x;

	if (cj_path(root, path, &v) < 0 || cj_int(&v, &x) < 0)
		return dflt;
	return x;
}

/* A number's text as the daemon wrote it (digits, '.', '-' only), or dflt. */
static const char *jnumtext(const struct cj_val *root, const char *path, char *buf, size_t size,
			    const char *dflt)
{
	struct cj_val v;
	size_t i;

	if (cj_path(root, path, &v) < 0 || v.type != CJ_NUM || v.n == 0 || v.n >= size)
		return dflt;
	for (i = 0; i < v.n; i++)
		if (!((v.p[i] >= '0' && v.p[i] <= '9') || v.p[i] == '.' || v.p[i] == '-'))
			return dflt;
	memcpy(buf, v.p, v.n);
	buf[v.n] = '\0';
	return buf;
}

/* 1 true, 0 false, -1 null / missing. */
static int jtri(const struct cj_val *root, const char *path)
{
	struct cj_val v;
	bool b;

	if (cj_path(root, path, &v) < 0 || cj_bool(&v, &b) < 0)
		return -1;
	return b;
}

static const char *yesno(int t)
{
	return t < 0 ? "unknown" : t ? "yes" : "no";
}

/* "7 s", "3 min 12 s", "2 h 5 min", "4 d 3 h"; "?" when unknown (< 0). */
const char *ctl_duration(char *buf, size_t size, long long ms)
{
	long long sec = ms / 1000;

	if (ms < 0)
		snprintf(buf, size, "?");
	else if (sec < 60)
		snprintf(buf, size, "%lld s", sec);
	else if (sec < 3600)
		snprintf(buf, size, "%lld min %lld s", sec / 60, sec % 60);
	else if (sec < 86400)
		snprintf(buf, size, "%lld h %lld min", sec / 3600, sec / 60 % 60);
	else
		snprintf(buf, size, "%lld d %lld h", sec / 86400, sec / 3600 % 24);
	return buf;
}

const char *ctl_bytes(char *buf, size_t size, unsigned long long n)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	unsigned i = 0;

	if (n < 1024) {
		snprintf(buf, size, "%llu B", n);
		return buf;
	}
	v /= 1024;
	while (v >= 1024 && i + 1 < sizeof(unit) / sizeof(unit[0])) {
		v /= 1024;
		i++;
	}
	snprintf(buf, size, "%.1f %s", v, unit[i]);
	return buf;
}

/* One line for the UDP or TCP behaviour of a NAT object. */
static void print_nat_proto(FILE *out, const struct cj_val *nat, const char *proto)
{
	char m[32], f[32], a[32], path[64];
	const char *ms, *fs, *as, *cl;
	long long delta;

	snprintf(path, sizeof(path), "%s.mapping", proto);
	ms = jstr(nat, path, m, sizeof(m), NULL);
	snprintf(path, sizeof(path), "%s.filtering", proto);
	fs = jstr(nat, path, f, sizeof(f), NULL);
	snprintf(path, sizeof(path), "%s.allocation", proto);
	as = jstr(nat, path, a, sizeof(a), NULL);
	snprintf(path, sizeof(path), "%s.delta", proto);
	delta = jint(nat, path, 0);
	if (!ms && !fs) {
		fprintf(out, "  %s: not measured\n", proto);
		return;
	}
	cl = ms && fs ? classic_name(ms, fs) : NULL;
	fprintf(out, "  %s: %s, %s", proto, ms ? mapping_words(ms) : "mapping not measured",
		fs ? filtering_words(fs) : "filtering not measured");
	if (cl)
		fprintf(out, "; classic name: %s", cl);
	if (as) {
		fprintf(out, "; ports %s", as);
		if (!strcmp(as, "sequential"))
			fprintf(out, " (delta %lld)", delta);
	}
	fputs("\n", out);
}

static void print_nat(FILE *out, const struct cj_val *root, const char *path)
{
	struct cj_val nat, v;
	char buf[64];
	long long hops;
	size_t i;

	if (cj_path(root, path, &nat) < 0 || nat.type != CJ_OBJ) {
		/* a server given as an IPv6 address ("[ADDR]:PORT"): an
		 * IPv6-only host, nothing of IPv4 to measure (stuntd(8)) */
		fprintf(out, "NAT: %s\n", jstr(root, "server", buf, sizeof(buf), "")[0] == '[' ?
			"none measured (the server is reached over IPv6: IPv6 methods only)" :
			"not measured yet");
		return;
	}
	fprintf(out, "NAT:\n");
	print_nat_proto(out, &nat, "tcp");
	print_nat_proto(out, &nat, "udp");
	/* a one-address server cannot tell everything (docs/probe.md) */
	if (cj_get(&nat, "not_measurable", &v) == 0 && v.type == CJ_OBJ) {
		struct cj_val k, e;
		char name[32], raw[256], why[ESC_BUF(256)], safe[ESC_BUF(32)];
		size_t it = 0;

		while (cj_member(&v, &it, &k, &e) == 1)
			if (cj_str(&k, name, sizeof(name)) >= 0 && e.type == CJ_STR &&
			    cj_str(&e, raw, sizeof(raw)) >= 0)
				fprintf(out, "  not measurable with this server: %s: %s\n",
					esc_term(safe, sizeof(safe), name),
					esc_term(why, sizeof(why), raw));
	}
	if (jstr(&nat, "tcp.unsolicited_syn", buf, sizeof(buf), NULL)) {
		fprintf(out, "  unsolicited inbound SYN: %s",
		       !strcmp(buf, "drop") ? "silently dropped" :
		       !strcmp(buf, "rst") ? "answered with RST" :
		       !strcmp(buf, "icmp") ? "answered with ICMP" : buf);
		hops = jint(&nat, "tcp.nat_hops", -1);
		if (hops >= 0)
			fprintf(out, "; %lld NAT hop%s", hops, hops == 1 ? "" : "s");
		if (jtri(&nat, "tcp.seq_rewrite") == 1)
			fputs("; rewrites TCP sequence numbers", out);
		fputs("\n", out);
	}
	fprintf(out, "  port mapping: UPnP-IGD %s, NAT-PMP %s, PCP %s",
		yesno(jtri(&nat, "port_mapping.upnp")), yesno(jtri(&nat, "port_mapping.natpmp")),
		yesno(jtri(&nat, "port_mapping.pcp")));
	if (jstr(&nat, "port_mapping.external_ip", buf, sizeof(buf), NULL))
		fprintf(out, " (external address %s)", buf);
	fputs("\n", out);
	if (cj_get(&nat, "methods", &v) == 0 && v.type == CJ_ARR) {
		struct cj_val m;

		fputs("  methods that can work:", out);
		for (i = 0; cj_index(&v, i, &m) == 0; i++)
			if (cj_str(&m, buf, sizeof(buf)) >= 0)
				fprintf(out, "%s %s", i ? "," : "", buf);
		fputs(i ? "\n" : " none known\n", out);
	}
}

/* The public endpoint of proto: stuntd's own ("public"), else the probe's. */
static const char *public_ep(const struct cj_val *root, const char *proto, char *buf, size_t size)
{
	char path[32];
	const char *s;

	snprintf(path, sizeof(path), "public.%s", proto);
	s = jstr(root, path, buf, size, NULL);
	if (s == NULL) {
		snprintf(path, sizeof(path), "nat.%s.public", proto);
		s = jstr(root, path, buf, size, NULL);
	}
	return s ? s : "unknown";
}

/*
 * With several servers (stuntd's --server list): which one is in use on the
 * "server:" line, then one line each, in order of preference:
 *   servers (in order of preference, 2 changes):
 *     1 192.0.2.1 (192.0.2.1:3478): down, 3 failures, next try in 4 s:
 *       server closed the connection
 *     2 rdv2.example.net (192.0.2.3:3478): in use for 12 s
 * With one, nothing more than before.
 */
static size_t nservers(const struct cj_val *root, struct cj_val *list)
{
	struct cj_val e;
	size_t n = 0;

	if (cj_get(root, "servers", list) < 0 || list->type != CJ_ARR)
		return 0;
	while (cj_index(list, n, &e) == 0)
		n++;
	return n;
}

static void print_servers(FILE *out, const struct cj_val *root)
{
	struct cj_val list, e;
	size_t i, n = nservers(root, &list);
	char name[272], addr[80], state[32], err[256], dur[48];
	long long x;

	if (n < 2)
		return;
	fprintf(out, "servers (in order of preference, %lld change(s)):\n",
		jint(root, "server_changes", 0));
	for (i = 0; cj_index(&list, i, &e) == 0; i++) {
		fprintf(out, "  %lld %s (%s): %s", jint(&e, "index", (long long)i + 1),
			jstr(&e, "name", name, sizeof(name), "?"),
			jstr(&e, "address", addr, sizeof(addr), "?"),
			jstr(&e, "state", state, sizeof(state), "?"));
		if (!strcmp(state, "in use") && (x = jint(&e, "since_ms", -1)) >= 0)
			fprintf(out, " for %s", ctl_duration(dur, sizeof(dur), x));
		if ((x = jint(&e, "failures", 0)) > 0)
			fprintf(out, ", %lld failure%s", x, x == 1 ? "" : "s");
		if ((x = jint(&e, "retry_ms", -1)) >= 0)
			fprintf(out, ", next try in %s", ctl_duration(dur, sizeof(dur), x));
		if (jstr(&e, "error", err, sizeof(err), NULL))
			fprintf(out, ":\n      %s", err);
		fputc('\n', out);
	}
}

/* "IPv6: ADDR (...)": the address simopen6 offers, and what server6 told
 * of it (NPTv6); nothing when stuntd offers none */
static void print_ipv6(FILE *out, const struct cj_val *root)
{
	char a[INET6_ADDRSTRLEN + 8], l[INET6_ADDRSTRLEN + 8], m[INET6_ADDRSTRLEN + 8];

	if (!jstr(root, "ipv6", a, sizeof(a), NULL))
		return;
	fprintf(out, "IPv6: %s", a);
	if (!jstr(root, "ipv6_learnt.mapped", m, sizeof(m), NULL))
		fputs(" (the host's own; not checked against a server)\n", out);
	else if (jtri(root, "ipv6_learnt.translated") != 1)
		fputs(" (not translated, as the server sees it)\n", out);
	else if (jtri(root, "ipv6_learnt.port_kept") == 1)
		fprintf(out, " (translated from %s, ports kept: NPTv6)\n",
			jstr(root, "ipv6_learnt.local", l, sizeof(l), "?"));
	else
		fprintf(out, " (the server sees it as %s with another port: NAT66, "
			"simopen6 cannot work)\n", m);
	if (jint(root, "ipv6_hop_limit.value", -1) > 0)
		fprintf(out, "IPv6 first SYN's hop limit: %lld (%s)\n",
			jint(root, "ipv6_hop_limit.value", -1),
			jstr(root, "ipv6_hop_limit.from", l, sizeof(l), "?"));
}

void ctl_show_status(FILE *out, const struct cj_val *root)
{
	char id[80], server[80], tcp[64], udp[64], dur[48];
	struct cj_val v, e, k;
	size_t i, it;
	int reg = jtri(root, "registered");
	long long x;

	fprintf(out, "stuntd %s, up %s\n", jstr(root, "id", id, sizeof(id), "(no id)"),
		ctl_duration(dur, sizeof(dur), jint(root, "uptime_ms", -1)));
	fprintf(out, "server: %s", jstr(root, "server", server, sizeof(server), "(none)"));
	if ((it = nservers(root, &v)) > 1 && (x = jint(root, "server_index", 0)) > 0 &&
	    cj_index(&v, (size_t)x - 1, &e) == 0) {
		char name[272];

		fprintf(out, " (%s, %lld of %zu)", jstr(&e, "name", name, sizeof(name), "?"), x, it);
	}
	fprintf(out, ", %s\n",
		reg == 1 ? "registered" : reg == 0 ? "NOT registered" : "registration unknown");
	print_servers(out, root);
	fprintf(out, "public endpoints: tcp %s, udp %s\n", public_ep(root, "tcp", tcp, sizeof(tcp)),
		public_ep(root, "udp", udp, sizeof(udp)));
	print_ipv6(out, root);
	print_nat(out, root, "nat");
	if (cj_get(root, "busy_nat", &e) == 0 && e.type == CJ_OBJ) {
		char pace[24];

		fprintf(out, "busy NAT: others take %s ports/s of its counter (measured %s ago); "
			"predict's last window %lld, lead %lld ms\n",
			jnumtext(&e, "pace_per_s", pace, sizeof(pace), "?"),
			ctl_duration(dur, sizeof(dur), jint(&e, "measured_ms_ago", -1)),
			jint(&e, "last_window", 0), jint(&e, "lead_ms", 0));
	}

	if (cj_get(root, "sessions", &v) == 0 && v.type == CJ_ARR) {
		for (i = 0; cj_index(&v, i, &e) == 0; i++)
			;
		fprintf(out, "sessions: %zu\n", i);
		for (i = 0; cj_index(&v, i, &e) == 0; i++) {
			char peer[80], svc[80], meth[32], state[32];

			fprintf(out, "  %s/%s  %s  %s  %s\n", jstr(&e, "peer", peer, sizeof(peer), "?"),
				jstr(&e, "service", svc, sizeof(svc), "?"),
				jstr(&e, "method", meth, sizeof(meth), "-"),
				jstr(&e, "state", state, sizeof(state), "?"),
				ctl_duration(dur, sizeof(dur), jint(&e, "since_ms", -1)));
		}
	}
	if (cj_get(root, "counters", &v) == 0 && v.type == CJ_OBJ) {
		bool any = false;

		it = 0;
		while (cj_member(&v, &it, &k, &e) == 1) {
			char name[32];

			if (cj_str(&k, name, sizeof(name)) < 0)
				continue;
			if (!any)
				fprintf(out, "methods:   %-10s %6s %6s %6s %11s\n", "", "tried", "won",
					"failed", "SYNs again");
			any = true;
			fprintf(out, "           %-10s %6lld %6lld %6lld %11lld\n", name,
				jint(&e, "tried", 0), jint(&e, "won", 0), jint(&e, "failed", 0),
				jint(&e, "syns_again", 0));
		}
		if (!any)
			fprintf(out, "methods: nothing tried yet\n");
	}
}

/*
 * One block a peer, as `wg show` does:
 *   office-pc: online, endpoint 198.51.100.7:40001
 *     allow list: yes; last session 12 s ago, connected by simopen (3 sessions, 2 connected)
 */
void ctl_show_peers(FILE *out, const struct cj_val *root)
{
	struct cj_val v, e, nat;
	size_t i;

	if (cj_get(root, "peers", &v) < 0 || v.type != CJ_ARR) {
		fprintf(out, "no peers\n");
		return;
	}
	for (i = 0; cj_index(&v, i, &e) == 0; i++) {
		char id[80], m[32], f[32], ep[64], res[16], meth[32], dur[48], b1[24], b2[24];
		long long from = jint(&e, "bytes_from_peer", 0), to = jint(&e, "bytes_to_peer", 0);
		const char *ms = NULL, *fs = NULL, *cl = NULL;
		int online = jtri(&e, "online"), allowed = jtri(&e, "allowed");
		long long seen = jint(&e, "last_seen_ms", -1);

		if (cj_get(&e, "nat", &nat) == 0 && nat.type == CJ_OBJ) {
			ms = jstr(&nat, "tcp.mapping", m, sizeof(m), NULL);
			fs = jstr(&nat, "tcp.filtering", f, sizeof(f), NULL);
			cl = ms && fs ? classic_name(ms, fs) : NULL;
		}
		fprintf(out, "%s: %s", jstr(&e, "id", id, sizeof(id), "?"),
			online == 1 ? "online" : online == 0 ? "offline" : "online unknown");
		if (jstr(&e, "endpoint", ep, sizeof(ep), NULL))
			fprintf(out, ", endpoint %s", ep);
		if (ms && fs)
			fprintf(out, ", %s (%s/%s)", cl ? cl : "NAT", ms, fs);
		fprintf(out, "\n  allow list: %s; ", yesno(allowed));
		if (seen < 0) {
			fprintf(out, "no session since stuntd started\n");
			continue;
		}
		fprintf(out, "last session %s ago, ", ctl_duration(dur, sizeof(dur), seen));
		if (!strcmp(jstr(&e, "last_result", res, sizeof(res), "?"), "connected"))
			fprintf(out, "connected by %s", jstr(&e, "last_method", meth, sizeof(meth), "?"));
		else
			fputs(res, out);
		fprintf(out, " (%lld session%s, %lld connected)\n", jint(&e, "sessions", 0),
			jint(&e, "sessions", 0) == 1 ? "" : "s", jint(&e, "connected", 0));
		/* only what this stuntd copied: the tcp: services it exposes */
		if (from > 0 || to > 0)
			fprintf(out, "  copied for its services: %s from it, %s to it\n",
				ctl_bytes(b1, sizeof(b1), (unsigned long long)from),
				ctl_bytes(b2, sizeof(b2), (unsigned long long)to));
	}
	if (i == 0)
		fprintf(out, "no peers\n");
}

int ctl_cmd_query(int argc, char **argv, const char *cmd)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char req[64], msg[512];
	struct ctl_rx rx;
	struct cj_val root, v;
	bool json = false;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'h': ctl_usage(stdout); return EXIT_OK;
		default: return usage_err_getopt(PROG, c, argv);
		}
	}
	if (optind != argc)
		return ctl_die_usage("%s: unexpected argument", argv[optind]);
	ctl_build_simple(cmd, req, sizeof(req));
	r = ctl_query(ctl_control_path, req, &rx, CTL_QUERY_TIMEOUT_MS);
	if (r < 0)
		return ctl_fail(r);
	if (cj_parse(rx.line, rx.len, &root) < 0 || root.type != CJ_OBJ) {
		fprintf(stderr, PROG ": stuntd's %s answer is not a JSON object\n", cmd);
		return EXIT_FAILED;
	}
	/* {"ok":false,"error":"..."}: the daemon refused */
	if (cj_get(&root, "ok", &v) == 0 && v.type == CJ_BOOL && v.p[0] == 'f') {
		fprintf(stderr, PROG ": %s: %s\n", cmd, jstr(&root, "error", msg, sizeof(msg), "refused"));
		if (json)
			printf("%s\n", rx.line);
		return EXIT_FAILED;
	}
	if (json)
		printf("%s\n", rx.line);
	else if (!strcmp(cmd, "status"))
		ctl_show_status(stdout, &root);
	else
		ctl_show_peers(stdout, &root);
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAILED;
}
