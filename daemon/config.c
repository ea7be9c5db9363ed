// SPDX-License-Identifier: MIT
/* stuntd's configuration: see daemon/config.h. Pure: no I/O. */
#include "daemon/config.h"
#include "common/addr.h"
#include "common/conf.h"
#include "common/log.h"
#include "common/promhttp.h"
#include "common/resolve.h"

#include "daemon/tls.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

void d_config_init(struct d_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->control, sizeof(c->control), "%s", D_CONTROL_DEFAULT);
	snprintf(c->state_dir, sizeof(c->state_dir), "%s", D_STATE_DIR_DEFAULT);
	c->connect_timeout_ms = D_CONNECT_TIMEOUT_MS_DEFAULT;
	c->udp_first_ttl = -1;
	c->privsep = true;
	c->max_peer_sessions = D_PEER_SESSIONS_DEFAULT;
	c->max_sessions = D_SESSIONS_DEFAULT;
	c->max_peer_starts = D_PEER_STARTS_DEFAULT;
	c->max_session_packets = D_SESSION_PACKETS_DEFAULT;
	c->host_candidates = true;
	c->ipv6 = true;
	c->ipv6_hops = 0;	/* auto */
	c->syn_pacing = true;
	c->log_level = -1;
}

static int copy_str(char *dst, size_t cap, const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n >= cap)
		return -EINVAL;
	memcpy(dst, v, n + 1);
	return 0;
}

/*
 * "HOST[:PORT]" of either family: an IPv4 literal, an IPv6 one ("2001:db8::1",
 * "[2001:db8::1]:PORT") into addr (host ""), or a name into host with the
 * port in addr (AF_INET, address 0 until d_config_resolve, which takes
 * IPv4 first, else IPv6). 0 or -EINVAL.
 */
static int parse_host_any(const char *v, uint16_t defport, union addr_sa *addr, char *host,
			  size_t hostlen)
{
	uint16_t port;

	host[0] = '\0';
	if (addr_parse_any(v, defport, addr) == 0)
		return 0;
	if (resolve_split(v, defport, host, hostlen, &port) < 0)
		return -EINVAL;
	memset(addr, 0, sizeof(*addr));
	addr->in.sin_family = AF_INET;
	addr->in.sin_port = htons(port);
	return 0;
}

/* An expose target's "HOST:PORT" (parse_host_any): the port is needed. */
static int parse_target(const char *v, struct d_expose *e)
{
	if (parse_host_any(v, 0, &e->addr, e->host, sizeof(e->host)) < 0)
		return -EINVAL;
	return addr_sa_port(&e->addr) ? 0 : -EINVAL;
}

/*
 * A server's "HOST[:PORT]" (parse_host_any, port 3478 by default).
 * *port_given: a port was written. 0 or -EINVAL.
 */
static int parse_server(const char *v, union addr_sa *addr, char *host, size_t hostlen,
			bool *port_given)
{
	const char *colon = strchr(v, ':');

	/* "[ADDR]:PORT", or exactly one colon (an IPv6 literal has two or more) */
	*port_given = v[0] == '[' ? strstr(v, "]:") != NULL :
				    colon != NULL && strchr(colon + 1, ':') == NULL;
	return parse_host_any(v, D_SERVER_PORT_DEFAULT, addr, host, hostlen);
}

/* one more server, after those given before it (less preferred) */
static int add_server(struct d_config *c, const char *val, char *err, size_t errlen)
{
	struct d_server v;
	size_t i;

	memset(&v, 0, sizeof(v));
	if (parse_server(val, &v.addr, v.host, sizeof(v.host), &v.port_given) < 0 ||
	    copy_str(v.given, sizeof(v.given), val) < 0)
		return fail(err, errlen, "bad server '%s' (HOST[:PORT], HOST a name, an IPv4 "
			    "address or an IPv6 one: [2001:db8::1]:PORT)", val);
	for (i = 0; i < c->nservers; i++)
		if (!strcmp(c->servers[i].given, val))
			return fail(err, errlen, "server '%s' given twice", val);
	if (c->nservers >= D_MAX_SERVERS)
		return fail(err, errlen, "too many servers (at most %d)", D_MAX_SERVERS);
	c->servers[c->nservers++] = v;
	return 0;
}

void d_config_clear_servers(struct d_config *c)
{
	memset(c->servers, 0, sizeof(c->servers));
	c->nservers = 0;
}

/* "NAME TARGET" (file) or "NAME=TARGET" (flag): the caller splits. */
static int add_expose(struct d_config *c, const char *name, const char *target, char *err,
		      size_t errlen)
{
	struct d_expose e, *slot = NULL;
	size_t i;

	memset(&e, 0, sizeof(e));
	if (!sig_id_valid(name, strlen(name)))
		return fail(err, errlen, "bad service name '%s' (1-64 of [A-Za-z0-9._-])", name);
	snprintf(e.name, sizeof(e.name), "%s", name);
	if (!strncmp(target, "tcp:", 4) || !strncmp(target, "udp:", 4)) {
		e.kind = target[0] == 't' ? D_TARGET_TCP : D_TARGET_UDP;
		if (parse_target(target + 4, &e) < 0)
			return fail(err, errlen, "bad target '%s' (%.3s:HOST:PORT, HOST a name, an "
				    "IPv4 address or a bracketed IPv6 one)", target, target);
	} else if (!strncmp(target, "exec:", 5)) {
		e.kind = D_TARGET_EXEC;
		if (copy_str(e.cmd, sizeof(e.cmd), target + 5) < 0)
			return fail(err, errlen, "bad target '%s' (exec:COMMAND, at most %d bytes)",
				    target, D_CMD_MAX - 1);
	} else {
		return fail(err, errlen, "bad target '%s' (tcp:HOST:PORT, udp:HOST:PORT or exec:COMMAND)", target);
	}
	for (i = 0; i < c->nexpose; i++)
		if (!strcmp(c->expose[i].name, name))
			slot = &c->expose[i];	/* a later line (or a flag) replaces it */
	if (slot == NULL) {
		if (c->nexpose >= D_MAX_EXPOSE)
			return fail(err, errlen, "too many services (at most %d)", D_MAX_EXPOSE);
		slot = &c->expose[c->nexpose++];
	}
	*slot = e;
	return 0;
}

static int add_allow(struct d_config *c, const char *service, const char *peers, char *err,
		     size_t errlen)
{
	struct d_allow a, *slot = NULL;
	const char *p = peers, *comma;
	size_t i, n;

	memset(&a, 0, sizeof(a));
	if (!sig_id_valid(service, strlen(service)))
		return fail(err, errlen, "bad service name '%s'", service);
	snprintf(a.service, sizeof(a.service), "%s", service);
	for (;;) {
		comma = strchr(p, ',');
		n = comma ? (size_t)(comma - p) : strlen(p);
		if (!sig_id_valid(p, n))
			return fail(err, errlen, "bad peer id in '%s'", peers);
		if (a.npeers >= D_MAX_ALLOW_PEERS)
			return fail(err, errlen, "too many peers for '%s' (at most %d)", service,
				    D_MAX_ALLOW_PEERS);
		memcpy(a.peers[a.npeers], p, n);
		a.peers[a.npeers++][n] = '\0';
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	for (i = 0; i < c->nallow; i++)
		if (!strcmp(c->allow[i].service, service))
			slot = &c->allow[i];
	if (slot == NULL) {
		if (c->nallow >= D_MAX_ALLOW)
			return fail(err, errlen, "too many allow lines (at most %d)", D_MAX_ALLOW);
		slot = &c->allow[c->nallow++];
	}
	*slot = a;
	return 0;
}

/* "IP[,IP...]", IPv4 or IPv6 addresses: replaces the list */
static int set_relay_servers(struct d_config *c, const char *val, char *err, size_t errlen)
{
	static const uint8_t zero6[16];
	char ip[INET6_ADDRSTRLEN];
	const char *p = val, *comma;
	struct in_addr ia;
	uint8_t ia6[16];
	size_t n;

	c->nrelay_servers = 0;
	c->nrelay_servers6 = 0;
	for (;;) {
		comma = strchr(p, ',');
		n = comma ? (size_t)(comma - p) : strlen(p);
		if (n == 0 || n >= sizeof(ip))
			return fail(err, errlen, "bad relay-servers '%s' (IP[,IP...])", val);
		memcpy(ip, p, n);
		ip[n] = '\0';
		if (inet_pton(AF_INET, ip, &ia) == 1 && ia.s_addr != 0) {
			if (c->nrelay_servers >= D_MAX_RELAY_SERVERS)
				return fail(err, errlen, "too many relay-servers (at most %d IPv4)",
					    D_MAX_RELAY_SERVERS);
			c->relay_servers[c->nrelay_servers++] = ia.s_addr;
		} else if (inet_pton(AF_INET6, ip, ia6) == 1 && memcmp(ia6, zero6, 16)) {
			if (c->nrelay_servers6 >= D_MAX_RELAY_SERVERS)
				return fail(err, errlen, "too many relay-servers (at most %d IPv6)",
					    D_MAX_RELAY_SERVERS);
			memcpy(c->relay_servers6[c->nrelay_servers6++], ia6, 16);
		} else {
			return fail(err, errlen, "bad relay-servers address '%s' (IPv4 or IPv6)", ip);
		}
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

/* "IFACE[,IFACE...]": replaces the list */
static int set_host_ifaces(struct d_config *c, const char *val, char *err, size_t errlen)
{
	const char *p = val, *comma;
	size_t n, i;

	c->nhost_ifaces = 0;
	for (;;) {
		comma = strchr(p, ',');
		n = comma ? (size_t)(comma - p) : strlen(p);
		if (n == 0 || n > D_IFNAME_MAX)
			return fail(err, errlen, "bad host-interfaces '%s' (NAME[,NAME...], "
				    "names of 1-%d characters)", val, D_IFNAME_MAX);
		for (i = 0; i < n; i++)
			if (p[i] == '/' || p[i] == ':' || (unsigned char)p[i] <= ' ' ||
			    (unsigned char)p[i] >= 0x7f)
				return fail(err, errlen, "bad host-interfaces '%s': not an "
					    "interface name", val);
		if (c->nhost_ifaces >= D_MAX_HOST_IFACES)
			return fail(err, errlen, "too many host-interfaces (at most %d)",
				    D_MAX_HOST_IFACES);
		memcpy(c->host_ifaces[c->nhost_ifaces], p, n);
		c->host_ifaces[c->nhost_ifaces++][n] = '\0';
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

/* an unsigned in [lo, hi] */
static int set_uint(unsigned *dst, const char *key, const char *val, unsigned long lo,
		    unsigned long hi, char *err, size_t errlen)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(val, &end, 10);
	if (errno || end == val || *end || val[0] == '-' || v < lo || v > hi)
		return fail(err, errlen, "bad %s '%s' (%lu-%lu)", key, val, lo, hi);
	*dst = (unsigned)v;
	return 0;
}

static int set_onoff(bool *dst, const char *key, const char *val, char *err, size_t errlen)
{
	if (!strcmp(val, "on"))
		*dst = true;
	else if (!strcmp(val, "off"))
		*dst = false;
	else
		return fail(err, errlen, "bad %s '%s' (on or off)", key, val);
	return 0;
}

/* Split "NAME<sep>REST" where sep is '=' (flags) or white space (file). */
static int split2(const char *val, char *name, size_t ncap, const char **rest)
{
	size_t n = strcspn(val, "= \t");

	if (n == 0 || n >= ncap || val[n] == '\0')
		return -EINVAL;
	memcpy(name, val, n);
	name[n] = '\0';
	val += n + 1;
	while (*val == ' ' || *val == '\t')
		val++;
	if (*val == '\0')
		return -EINVAL;
	*rest = val;
	return 0;
}

int d_config_set(struct d_config *c, const char *key, const char *val, char *err, size_t errlen)
{
	char name[SIG_ID_MAX + 2];
	const char *rest;
	unsigned long v;
	char *end;

	if (!strcmp(key, "id")) {
		if (!sig_id_valid(val, strlen(val)))
			return fail(err, errlen, "bad id '%s' (1-64 of [A-Za-z0-9._-])", val);
		snprintf(c->id, sizeof(c->id), "%s", val);
	} else if (!strcmp(key, "server")) {
		return add_server(c, val, err, errlen);
	} else if (!strcmp(key, "tls")) {
		return set_onoff(&c->tls, key, val, err, errlen);
	} else if (!strcmp(key, "tls-ca")) {
		if (copy_str(c->tls_ca, sizeof(c->tls_ca), val) < 0)
			return fail(err, errlen, "bad tls-ca path");
	} else if (!strcmp(key, "tls-pin")) {
		if (d_tls_pin_parse(val, c->tls_pin) < 0)
			return fail(err, errlen, "bad tls-pin '%s' (SHA-256 of the server's public "
				    "key: 64 hex digits, ':' between bytes allowed)", val);
		c->have_pin = true;
	} else if (!strcmp(key, "server-name")) {
		if (copy_str(c->server_name, sizeof(c->server_name), val) < 0 ||
		    strspn(val, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") !=
			    strlen(val))
			return fail(err, errlen, "bad server-name '%s' (a DNS name)", val);
	} else if (!strcmp(key, "turn")) {
		if (parse_host_any(val, D_TURN_PORT_DEFAULT, &c->turn, c->turn_host,
				   sizeof(c->turn_host)) < 0)
			return fail(err, errlen, "bad turn '%s' (HOST[:PORT], HOST a name, an IPv4 "
				    "address or an IPv6 one: [2001:db8::1]:PORT)", val);
		c->have_turn = true;
	} else if (!strcmp(key, "turn-user") || !strcmp(key, "turn-pass")) {
		char *dst = key[5] == 'u' ? c->turn_user : c->turn_pass;

		if (val[0] == '\0' || strlen(val) > D_TURN_CRED_MAX ||
		    strspn(val, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			   "0123456789!#$%&()*+,-./:;<=>?@[]^_{|}~") != strlen(val))
			return fail(err, errlen, "bad %s (1-%d printable ASCII characters, no "
				    "space, quote or backslash)", key, D_TURN_CRED_MAX);
		snprintf(dst, D_TURN_CRED_MAX + 1, "%s", val);
	} else if (!strcmp(key, "secret-file")) {
		if (copy_str(c->secret_file, sizeof(c->secret_file), val) < 0)
			return fail(err, errlen, "bad secret-file path");
	} else if (!strcmp(key, "control")) {
		if (copy_str(c->control, sizeof(c->control), val) < 0 || strlen(val) >= 108)
			return fail(err, errlen, "bad control socket path (at most 107 bytes)");
		c->control_set = true;
	} else if (!strcmp(key, "metrics")) {
		if (promhttp_parse_addr(val, &c->metrics) < 0)
			return fail(err, errlen, "bad metrics '%s' (ADDR:PORT, or [IPv6]:PORT)",
				    val);
		c->have_metrics = true;
	} else if (!strcmp(key, "control-group")) {
		if (copy_str(c->control_group, sizeof(c->control_group), val) < 0)
			return fail(err, errlen, "bad control-group");
	} else if (!strcmp(key, "user")) {
		if (copy_str(c->user, sizeof(c->user), val) < 0 || val[0] == '-' ||
		    strspn(val, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
			    strlen(val))
			return fail(err, errlen, "bad user '%s'", val);
	} else if (!strcmp(key, "privsep")) {
		return set_onoff(&c->privsep, key, val, err, errlen);
	} else if (!strcmp(key, "state-dir")) {
		if (copy_str(c->state_dir, sizeof(c->state_dir) - 32, val) < 0)
			return fail(err, errlen, "bad state-dir path");
		c->state_dir_set = true;
	} else if (!strcmp(key, "connect-timeout")) {
		errno = 0;
		v = strtoul(val, &end, 10);
		if (errno || *end || v < 1000 || v > 120000)
			return fail(err, errlen, "bad connect-timeout '%s' (1000-120000 ms)", val);
		c->connect_timeout_ms = (unsigned)v;
	} else if (!strcmp(key, "udp-first-ttl")) {
		errno = 0;
		v = strtoul(val, &end, 10);
		if (errno || *end || v > 255)
			return fail(err, errlen, "bad udp-first-ttl '%s' (0-255, 0: not limited)", val);
		c->udp_first_ttl = (int)v;
	} else if (!strcmp(key, "udp-test-delay")) {
		errno = 0;
		v = strtoul(val, &end, 10);
		if (errno || *end || v > 5000)
			return fail(err, errlen, "bad udp-test-delay '%s' (0-5000 ms)", val);
		c->udp_test_delay_ms = (unsigned)v;
	} else if (!strcmp(key, "test-candidate-ip")) {
		struct in_addr ia;

		if (inet_pton(AF_INET, val, &ia) != 1 || ia.s_addr == 0)
			return fail(err, errlen, "bad test-candidate-ip '%s' (IPv4)", val);
		c->test_cand_ip = ia.s_addr;
	} else if (!strcmp(key, "test-candidate-ip6")) {
		if (inet_pton(AF_INET6, val, c->test_cand_ip6) != 1)
			return fail(err, errlen, "bad test-candidate-ip6 '%s' (IPv6)", val);
		c->has_test_cand_ip6 = true;
	} else if (!strcmp(key, "test-v6-requester-first")) {
		return set_onoff(&c->test_v6_req_first, key, val, err, errlen);
	} else if (!strcmp(key, "test-relay-ipv6")) {
		return set_onoff(&c->test_relay_ipv6, key, val, err, errlen);
	} else if (!strcmp(key, "test-relay-host-port")) {
		return set_uint(&c->test_relay_host_port, key, val, 1, 65535, err, errlen);
	} else if (!strcmp(key, "relay-servers")) {
		return set_relay_servers(c, val, err, errlen);
	} else if (!strcmp(key, "max-sessions")) {
		return set_uint(&c->max_sessions, key, val, 1, 4096, err, errlen);
	} else if (!strcmp(key, "max-peer-sessions")) {
		return set_uint(&c->max_peer_sessions, key, val, 1, 1000, err, errlen);
	} else if (!strcmp(key, "max-peer-starts")) {
		return set_uint(&c->max_peer_starts, key, val, 1, 100000, err, errlen);
	} else if (!strcmp(key, "max-session-packets")) {
		return set_uint(&c->max_session_packets, key, val, 16, 1000000, err, errlen);
	} else if (!strcmp(key, "turn-pass-file")) {
		if (copy_str(c->turn_pass_file, sizeof(c->turn_pass_file), val) < 0)
			return fail(err, errlen, "bad turn-pass-file path");
	} else if (!strcmp(key, "log-level")) {
		c->log_level = log_level_parse(val);
		if (c->log_level < 0)
			return fail(err, errlen, "bad log-level '%s' (error, warning, info or debug)",
				    val);
	} else if (!strcmp(key, "allow-forced-methods")) {
		return set_onoff(&c->allow_forced_methods, key, val, err, errlen);
	} else if (!strcmp(key, "host-candidates")) {
		return set_onoff(&c->host_candidates, key, val, err, errlen);
	} else if (!strcmp(key, "ipv6")) {
		return set_onoff(&c->ipv6, key, val, err, errlen);
	} else if (!strcmp(key, "ipv6-hop-limit")) {
		if (!strcmp(val, "auto")) {
			c->ipv6_hops = 0;
			return 0;
		}
		return set_uint(&c->ipv6_hops, key, val, 1, 64, err, errlen);
	} else if (!strcmp(key, "server6")) {
		if (addr_parse_ipv6(val, D_SERVER_PORT_DEFAULT, &c->server6) < 0)
			return fail(err, errlen, "bad server6 '%s' (an IPv6 address, [ADDR] or "
				    "[ADDR]:PORT)", val);
		c->has_server6 = true;
	} else if (!strcmp(key, "syn-pacing")) {
		return set_onoff(&c->syn_pacing, key, val, err, errlen);
	} else if (!strcmp(key, "host-interfaces")) {
		return set_host_ifaces(c, val, err, errlen);
	} else if (!strcmp(key, "expose")) {
		if (split2(val, name, sizeof(name), &rest) < 0)
			return fail(err, errlen, "expose needs NAME TARGET");
		return add_expose(c, name, rest, err, errlen);
	} else if (!strcmp(key, "allow")) {
		if (split2(val, name, sizeof(name), &rest) < 0)
			return fail(err, errlen, "allow needs SERVICE PEER[,PEER...]");
		return add_allow(c, name, rest, err, errlen);
	} else {
		return fail(err, errlen, "unknown directive '%s'", key);
	}
	return 0;
}

static int set_one(void *arg, const char *key, const char *val, char *why, size_t whylen)
{
	return d_config_set(arg, key, val, why, whylen);
}

/* the shared lexer (common/conf.c); '#' stays in expose lines (exec: commands) */
int d_config_parse(const char *buf, size_t len, struct d_config *c, char *err, size_t errlen)
{
	return conf_parse(buf, len, "expose", set_one, c, err, errlen);
}

int d_secret_parse(const char *buf, size_t len, char *out, size_t outlen)
{
	const char *nl = memchr(buf, '\n', len);
	size_t n = nl ? (size_t)(nl - buf) : len;

	while (n && isspace((unsigned char)buf[n - 1]))
		n--;
	if (n == 0 || n >= outlen || memchr(buf, '\0', n))
		return -EINVAL;
	memcpy(out, buf, n);
	out[n] = '\0';
	return (int)n;
}

const struct d_expose *d_config_find_expose(const struct d_config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nexpose; i++)
		if (!strcmp(c->expose[i].name, name))
			return &c->expose[i];
	return NULL;
}

bool d_config_allowed(const struct d_config *c, const char *service, const char *peer)
{
	size_t i, j;

	for (i = 0; i < c->nallow; i++) {
		if (strcmp(c->allow[i].service, service))
			continue;
		for (j = 0; j < c->allow[i].npeers; j++)
			if (!strcmp(c->allow[i].peers[j], peer))
				return true;
	}
	return false;
}

bool d_config_relay_known(const struct d_config *c, uint32_t ip)
{
	size_t i;

	if (ip == 0)
		return false;
	if (c->have_turn && c->turn.sa.sa_family == AF_INET && c->turn.in.sin_addr.s_addr == ip)
		return true;
	for (i = 0; i < c->nservers; i++)
		if (c->servers[i].addr.sa.sa_family == AF_INET &&
		    c->servers[i].addr.in.sin_addr.s_addr == ip)
			return true;
	for (i = 0; i < c->nrelay_servers; i++)
		if (c->relay_servers[i] == ip)
			return true;
	return false;
}

bool d_config_relay_known6(const struct d_config *c, const uint8_t ip[16])
{
	size_t i;

	if (c->have_turn && c->turn.sa.sa_family == AF_INET6 &&
	    !memcmp(&c->turn.in6.sin6_addr, ip, 16))
		return true;
	if (c->has_server6 && !memcmp(&c->server6.sin6_addr, ip, 16))
		return true;
	for (i = 0; i < c->nservers; i++)
		if (c->servers[i].addr.sa.sa_family == AF_INET6 &&
		    !memcmp(&c->servers[i].addr.in6.sin6_addr, ip, 16))
			return true;
	for (i = 0; i < c->nrelay_servers6; i++)
		if (!memcmp(c->relay_servers6[i], ip, 16))
			return true;
	return false;
}

int d_config_check(const struct d_config *c, char *err, size_t errlen)
{
	if (c->id[0] == '\0')
		return fail(err, errlen, "no id (--id ID or 'id' in the config)");
	if (c->nservers == 0)
		return fail(err, errlen, "no server (--server HOST[:PORT] or 'server')");
	if (c->secret_file[0] == '\0')
		return fail(err, errlen, "no secret file (--secret-file FILE or 'secret-file')");
	return 0;
}

int d_config_finish(struct d_config *c, char *err, size_t errlen)
{
	int e = d_config_check(c, err, errlen);
	size_t i;

	if (e < 0)
		return e;
	if (c->turn_pass[0] && c->turn_pass_file[0])
		return fail(err, errlen, "turn-pass and turn-pass-file exclude each other");
	if (c->have_turn && (!c->turn_user[0] || (!c->turn_pass[0] && !c->turn_pass_file[0])))
		return fail(err, errlen, "turn needs turn-user and turn-pass-file or turn-pass "
			    "(--turn-user USER --turn-pass-file FILE)");
	if (!c->have_turn && (c->turn_user[0] || c->turn_pass[0] || c->turn_pass_file[0]))
		return fail(err, errlen, "turn-user or turn-pass without turn: "
			    "add --turn HOST:PORT ('turn'), or remove them");
	for (i = 0; i < c->nservers; i++) {
		c->servers[i].sig = c->servers[i].addr;
		c->servers[i].tls_name[0] = '\0';
	}
	if (!c->tls) {
		if (c->tls_ca[0] || c->have_pin || c->server_name[0])
			return fail(err, errlen, "tls-ca, tls-pin or server-name without TLS: "
				    "add --tls ('tls on'), or remove them");
		return 0;
	}
	if (c->tls_ca[0] == '\0' && !c->have_pin)
		return fail(err, errlen, "TLS needs --tls-ca FILE or --tls-pin SHA256 "
			    "('tls-ca', 'tls-pin'): no unauthenticated TLS");
	for (i = 0; i < c->nservers; i++) {
		struct d_server *v = &c->servers[i];
		size_t n = strlen(v->host);

		/* server-name for all; else a server given by name: its
		 * certificate must carry that name */
		if (c->server_name[0]) {
			memcpy(v->tls_name, c->server_name, strlen(c->server_name) + 1);
		} else if (n > 0) {
			if (v->host[n - 1] == '.')
				n--;	/* "example.net." names example.net */
			memcpy(v->tls_name, v->host, n);
			v->tls_name[n] = '\0';
		}
		if (!v->port_given)
			addr_sa_set_port(&v->sig, D_SERVER_TLS_PORT_DEFAULT);
		addr_sa_set_port(&v->addr, D_SERVER_PORT_DEFAULT);
	}
	return 0;
}

int d_config_netns_defaults(struct d_config *c, const char *run_dir)
{
	char sock[D_PATH_MAX];
	int w;

	w = snprintf(sock, sizeof(sock), "%s/stuntd.sock", run_dir);
	if (w < 0 || w >= 108 || strlen(run_dir) >= sizeof(c->state_dir) - 32)
		return -EINVAL;
	if (!c->control_set)
		memcpy(c->control, sock, (size_t)w + 1);
	if (!c->state_dir_set)
		memcpy(c->state_dir, run_dir, strlen(run_dir) + 1);
	return 0;
}
