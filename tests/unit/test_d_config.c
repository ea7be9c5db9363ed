// SPDX-License-Identifier: MIT
/* stuntd's config parser, secret file and access checks (daemon/config.c). */
#include "daemon/config.h"
#include "common/log.h"
#include "tests/unit/tap.h"

#include <arpa/inet.h>
#include <errno.h>

static void full_file(void)
{
	static const char f[] =
		"# stuntd.conf\n"
		"id laptop\n"
		"server 192.0.2.1:3479   \n"
		"\n"
		"  secret-file /etc/stunt/secret  # trailing comment\n"
		"expose vnc tcp:127.0.0.1:5900\n"
		"expose inetd exec:x11vnc -inetd -display :0 # kept: part of the command\n"
		"allow vnc office-pc,laptop\n"
		"control /run/stunt/s.sock\n"
		"control-group stunt\n"
		"state-dir /tmp/st\n"
		"connect-timeout 5000\n";
	struct d_config c;
	char err[128] = "";
	const struct d_expose *e;

	d_config_init(&c);
	CHECK_EQ(d_config_parse(f, sizeof(f) - 1, &c, err, sizeof(err)), 0);
	CHECK(!strcmp(c.id, "laptop"));
	CHECK_EQ(c.nservers, 1);
	CHECK_EQ(ntohs(c.servers[0].addr.in.sin_port), 3479);
	CHECK_EQ(c.servers[0].addr.in.sin_addr.s_addr, inet_addr("192.0.2.1"));
	CHECK(!strcmp(c.secret_file, "/etc/stunt/secret"));
	CHECK(!strcmp(c.control, "/run/stunt/s.sock"));
	CHECK(!strcmp(c.control_group, "stunt"));
	CHECK(!strcmp(c.state_dir, "/tmp/st"));
	CHECK_EQ(c.connect_timeout_ms, 5000);
	CHECK_EQ(c.nexpose, 2);
	e = d_config_find_expose(&c, "vnc");
	CHECK(e && e->kind == D_TARGET_TCP && addr_sa_port(&e->addr) == 5900);
	e = d_config_find_expose(&c, "inetd");
	CHECK(e && e->kind == D_TARGET_EXEC &&
	      !strcmp(e->cmd, "x11vnc -inetd -display :0 # kept: part of the command"));
	CHECK(d_config_allowed(&c, "vnc", "office-pc"));
	CHECK(d_config_allowed(&c, "vnc", "laptop"));
	CHECK(!d_config_allowed(&c, "vnc", "stranger"));
	CHECK(!d_config_allowed(&c, "inetd", "laptop"));	/* no allow line: nobody */
	CHECK_EQ(d_config_check(&c, err, sizeof(err)), 0);
}

static void defaults_and_port(void)
{
	struct d_config c;
	char err[128];

	d_config_init(&c);
	CHECK(!strcmp(c.control, D_CONTROL_DEFAULT));
	CHECK_EQ(c.connect_timeout_ms, D_CONNECT_TIMEOUT_MS_DEFAULT);
	CHECK_EQ(d_config_check(&c, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "id") != NULL);
	CHECK_EQ(d_config_set(&c, "server", "192.0.2.1", err, sizeof(err)), 0);
	CHECK_EQ(ntohs(c.servers[0].addr.in.sin_port), D_SERVER_PORT_DEFAULT);
}

static void errors_name_the_line(void)
{
	struct d_config c;
	char err[128] = "";

	d_config_init(&c);
	CHECK_EQ(d_config_parse("id a\nfrobnicate 1\n", 20, &c, err, sizeof(err)), -EINVAL);
	CHECK(!strcmp(err, "line 2: unknown directive 'frobnicate'"));
	CHECK_EQ(d_config_parse("\n\nserver 300.1.1.1\n", 19, &c, err, sizeof(err)), -EINVAL);
	CHECK(!strncmp(err, "line 3: bad server", 18));
	CHECK_EQ(d_config_parse("id\n", 3, &c, err, sizeof(err)), -EINVAL);
	CHECK(!strncmp(err, "line 1: 'id' needs a value", 26));
	CHECK_EQ(d_config_parse("expose vnc sctp:1.2.3.4:5\n", 26, &c, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "line 1: bad target") != NULL);
	CHECK_EQ(d_config_parse("allow vnc a,,b\n", 15, &c, err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_parse("id bad/id\n", 10, &c, err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_parse("server 1.2.3.4:0\n", 17, &c, err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_parse("server 1.2.3.4:70000\n", 21, &c, err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_parse("connect-timeout 5\n", 18, &c, err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_parse("expose dns udp:1.2.3.4:0\n", 25, &c, err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_parse("udp-first-ttl 256\n", 18, &c, err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_parse("udp-test-delay x\n", 17, &c, err, sizeof(err)), -EINVAL);
	d_config_init(&c);
	CHECK_EQ(c.udp_first_ttl, -1);
	CHECK_EQ(d_config_parse("expose dns udp:127.0.0.1:53\nudp-first-ttl 0\nudp-test-delay 50\n", 62,
				&c, err, sizeof(err)), 0);
	CHECK_EQ(c.expose[0].kind, D_TARGET_UDP);
	CHECK_EQ(addr_sa_port(&c.expose[0].addr), 53);
	CHECK_EQ(c.udp_first_ttl, 0);
	CHECK_EQ(c.udp_test_delay_ms, 50);
	CHECK_EQ(c.test_cand_ip, 0);
	CHECK_EQ(d_config_parse("test-candidate-ip 198.51.100.10\n", 32, &c, err, sizeof(err)), 0);
	CHECK_EQ(c.test_cand_ip, htonl(0xc633640a));
	CHECK_EQ(d_config_parse("test-candidate-ip 198.51.100\n", 29, &c, err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_parse("test-candidate-ip 0.0.0.0\n", 26, &c, err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_parse("id a\0b\n", 7, &c, err, sizeof(err)), -EINVAL);
}

static void flags_override(void)
{
	struct d_config c;
	char err[128];

	d_config_init(&c);
	CHECK_EQ(d_config_parse("expose vnc tcp:127.0.0.1:5900\nallow vnc a\n", 42, &c, err,
				sizeof(err)), 0);
	/* flags use NAME=VALUE and replace a service of the same name */
	CHECK_EQ(d_config_set(&c, "expose", "vnc=tcp:127.0.0.1:5901", err, sizeof(err)), 0);
	CHECK_EQ(d_config_set(&c, "allow", "vnc=b,c", err, sizeof(err)), 0);
	CHECK_EQ(c.nexpose, 1);
	CHECK_EQ(addr_sa_port(&c.expose[0].addr), 5901);
	CHECK(!d_config_allowed(&c, "vnc", "a"));
	CHECK(d_config_allowed(&c, "vnc", "c"));
	CHECK_EQ(d_config_set(&c, "expose", "x=exec:", err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_set(&c, "expose", "novalue", err, sizeof(err)), -EINVAL);
}

static void secret(void)
{
	char s[64];

	CHECK_EQ(d_secret_parse("s3cret  \t\r\nignored\n", 19, s, sizeof(s)), 6);
	CHECK(!strcmp(s, "s3cret"));
	CHECK_EQ(d_secret_parse("with space inside\n", 18, s, sizeof(s)), 17);
	CHECK_EQ(d_secret_parse("nonl", 4, s, sizeof(s)), 4);
	CHECK_EQ(d_secret_parse("\nsecond line\n", 13, s, sizeof(s)), -EINVAL);
	CHECK_EQ(d_secret_parse("   \n", 4, s, sizeof(s)), -EINVAL);
	CHECK_EQ(d_secret_parse("", 0, s, sizeof(s)), -EINVAL);
	CHECK_EQ(d_secret_parse("0123456789", 10, s, 8), -EINVAL);
}

#define PIN "4a87a4cb93d9aead8085966813bcbd8b3ee40e35d675bdea20e621b8942fe003"

/* The required settings, so that d_config_finish() looks only at TLS. */
static void base(struct d_config *c)
{
	char err[128];

	d_config_init(c);
	CHECK_EQ(d_config_set(c, "id", "laptop", err, sizeof(err)), 0);
	CHECK_EQ(d_config_set(c, "secret-file", "/etc/stunt/secret", err, sizeof(err)), 0);
}

/* several server lines: a list in order of preference, at most
 * D_MAX_SERVERS, no repeats; with TLS each gets its port and name */
static void server_list(void)
{
	struct d_config c;
	char err[128] = "";
	const char *f = "id a\nsecret-file /s\nserver 192.0.2.1\nserver stun2.example.net:5000\n"
			"server 198.51.100.7:3479\n";

	d_config_init(&c);
	CHECK_EQ(d_config_parse(f, strlen(f), &c, err, sizeof(err)), 0);
	CHECK_EQ(c.nservers, 3);
	CHECK(!strcmp(c.servers[0].given, "192.0.2.1"));
	CHECK(!strcmp(c.servers[1].given, "stun2.example.net:5000"));
	CHECK(!strcmp(c.servers[1].host, "stun2.example.net"));
	CHECK_EQ(c.servers[2].addr.in.sin_addr.s_addr, inet_addr("198.51.100.7"));
	CHECK(d_config_relay_known(&c, inet_addr("198.51.100.7")));	/* any of ours */
	CHECK(!d_config_relay_known(&c, inet_addr("198.51.100.8")));
	CHECK_EQ(d_config_set(&c, "server", "192.0.2.1", err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "given twice") != NULL);
	CHECK_EQ(d_config_set(&c, "server", "192.0.2.9", err, sizeof(err)), 0);
	CHECK_EQ(d_config_set(&c, "server", "192.0.2.10", err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "too many servers (at most 4)") != NULL);
	CHECK_EQ(d_config_set(&c, "tls", "on", err, sizeof(err)), 0);
	CHECK_EQ(d_config_set(&c, "tls-pin", PIN, err, sizeof(err)), 0);
	CHECK_EQ(d_config_finish(&c, err, sizeof(err)), 0);
	CHECK_EQ(ntohs(c.servers[0].sig.in.sin_port), D_SERVER_TLS_PORT_DEFAULT);
	CHECK(!strcmp(c.servers[0].tls_name, ""));	/* an IP: checked for the IP */
	CHECK_EQ(ntohs(c.servers[1].sig.in.sin_port), 5000);
	CHECK(!strcmp(c.servers[1].tls_name, "stun2.example.net"));
	CHECK_EQ(ntohs(c.servers[2].sig.in.sin_port), 3479);
	CHECK_EQ(ntohs(c.servers[2].addr.in.sin_port), D_SERVER_PORT_DEFAULT);
	/* server-name: for every server */
	CHECK_EQ(d_config_set(&c, "server-name", "rdv.example.org", err, sizeof(err)), 0);
	CHECK_EQ(d_config_finish(&c, err, sizeof(err)), 0);
	CHECK(!strcmp(c.servers[0].tls_name, "rdv.example.org"));
	CHECK(!strcmp(c.servers[1].tls_name, "rdv.example.org"));
	/* emptied (the first --server flag): the list starts again */
	d_config_clear_servers(&c);
	CHECK_EQ(c.nservers, 0);
	CHECK_EQ(d_config_check(&c, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "no server") != NULL);
}

static void tls_keys(void)
{
	static const char f[] =
		"id laptop\n"
		"server 192.0.2.1\n"
		"secret-file /etc/stunt/secret\n"
		"tls on\n"
		"tls-ca /etc/stunt/ca.pem\n"
		"tls-pin 4A:87:A4:CB:93:D9:AE:AD:80:85:96:68:13:BC:BD:8B:3E:E4:0E:35:D6:75:BD:EA:20:E6:21:B8:94:2F:E0:03\n"
		"server-name stunt.example.net\n";
	struct d_config c;
	char err[128] = "";

	d_config_init(&c);
	CHECK_EQ(d_config_parse(f, sizeof(f) - 1, &c, err, sizeof(err)), 0);
	CHECK(c.tls);
	CHECK(!strcmp(c.tls_ca, "/etc/stunt/ca.pem"));
	CHECK(c.have_pin);
	CHECK_EQ(c.tls_pin[0], 0x4a);
	CHECK_EQ(c.tls_pin[31], 0x03);
	CHECK(!strcmp(c.server_name, "stunt.example.net"));
	CHECK_EQ(d_config_finish(&c, err, sizeof(err)), 0);
	/* no port given: signalling on 5349, discovery's STUN on 3478 */
	CHECK_EQ(ntohs(c.servers[0].sig.in.sin_port), D_SERVER_TLS_PORT_DEFAULT);
	CHECK_EQ(c.servers[0].sig.in.sin_addr.s_addr, inet_addr("192.0.2.1"));
	CHECK_EQ(ntohs(c.servers[0].addr.in.sin_port), D_SERVER_PORT_DEFAULT);
	/* the flag form and "off" */
	CHECK_EQ(d_config_set(&c, "tls", "off", err, sizeof(err)), 0);
	CHECK(!c.tls);
	CHECK_EQ(d_config_set(&c, "tls", "yes", err, sizeof(err)), -EINVAL);
	CHECK(!strncmp(err, "bad tls 'yes'", 13));
}

static void tls_ports(void)
{
	struct d_config c;
	char err[128];

	/* TLS with a port: that is the TLS port */
	base(&c);
	CHECK_EQ(d_config_set(&c, "server", "192.0.2.1:15349", err, sizeof(err)), 0);
	CHECK_EQ(d_config_set(&c, "tls", "on", err, sizeof(err)), 0);
	CHECK_EQ(d_config_set(&c, "tls-pin", PIN, err, sizeof(err)), 0);
	CHECK_EQ(d_config_finish(&c, err, sizeof(err)), 0);
	CHECK_EQ(ntohs(c.servers[0].sig.in.sin_port), 15349);
	CHECK_EQ(ntohs(c.servers[0].addr.in.sin_port), 3478);
	/* without TLS nothing changes: both where --server says */
	base(&c);
	CHECK_EQ(d_config_set(&c, "server", "192.0.2.1:3479", err, sizeof(err)), 0);
	CHECK_EQ(d_config_finish(&c, err, sizeof(err)), 0);
	CHECK_EQ(ntohs(c.servers[0].sig.in.sin_port), 3479);
	CHECK_EQ(ntohs(c.servers[0].addr.in.sin_port), 3479);
	base(&c);
	CHECK_EQ(d_config_set(&c, "server", "192.0.2.1", err, sizeof(err)), 0);
	CHECK_EQ(d_config_finish(&c, err, sizeof(err)), 0);
	CHECK_EQ(ntohs(c.servers[0].sig.in.sin_port), 3478);
	/* a flag without the port after a file line with one (the flags'
	 * list replaces the file's): the default again */
	base(&c);
	CHECK_EQ(d_config_set(&c, "server", "192.0.2.1:443", err, sizeof(err)), 0);
	d_config_clear_servers(&c);
	CHECK_EQ(d_config_set(&c, "server", "192.0.2.1", err, sizeof(err)), 0);
	CHECK_EQ(c.nservers, 1);
	CHECK_EQ(d_config_set(&c, "tls", "on", err, sizeof(err)), 0);
	CHECK_EQ(d_config_set(&c, "tls-ca", "ca.pem", err, sizeof(err)), 0);
	CHECK_EQ(d_config_finish(&c, err, sizeof(err)), 0);
	CHECK_EQ(ntohs(c.servers[0].sig.in.sin_port), 5349);
}

/* IPv6 servers (an IPv6-only host): literals bare or bracketed, a port only
 * with brackets; TLS's default port applied in their family */
static void server_ipv6(void)
{
	struct d_config c;
	struct in6_addr want;
	char err[160];

	inet_pton(AF_INET6, "2001:db8::1", &want);
	base(&c);
	d_config_clear_servers(&c);
	CHECK_EQ(d_config_set(&c, "server", "2001:db8::1", err, sizeof(err)), 0);
	CHECK_EQ(d_config_set(&c, "server", "[2001:db8::2]", err, sizeof(err)), 0);
	CHECK_EQ(d_config_set(&c, "server", "[2001:db8::3]:3479", err, sizeof(err)), 0);
	CHECK_EQ(c.nservers, 3);
	CHECK_EQ(c.servers[0].addr.sa.sa_family, AF_INET6);
	CHECK(!memcmp(&c.servers[0].addr.in6.sin6_addr, &want, 16));
	CHECK_EQ(ntohs(c.servers[0].addr.in6.sin6_port), D_SERVER_PORT_DEFAULT);
	CHECK(!c.servers[0].port_given);	/* its colons are the address's */
	CHECK(!c.servers[1].port_given);
	CHECK(c.servers[2].port_given);
	CHECK_EQ(ntohs(c.servers[2].addr.in6.sin6_port), 3479);
	CHECK(!c.servers[0].host[0]);		/* a literal: nothing to resolve */
	CHECK_EQ(d_config_set(&c, "tls", "on", err, sizeof(err)), 0);
	CHECK_EQ(d_config_set(&c, "tls-pin", PIN, err, sizeof(err)), 0);
	CHECK_EQ(d_config_finish(&c, err, sizeof(err)), 0);
	CHECK_EQ(c.servers[0].sig.sa.sa_family, AF_INET6);
	CHECK_EQ(ntohs(c.servers[0].sig.in6.sin6_port), D_SERVER_TLS_PORT_DEFAULT);
	CHECK_EQ(ntohs(c.servers[0].addr.in6.sin6_port), D_SERVER_PORT_DEFAULT);
	CHECK_EQ(ntohs(c.servers[2].sig.in6.sin6_port), 3479);
	CHECK_EQ(ntohs(c.servers[2].addr.in6.sin6_port), D_SERVER_PORT_DEFAULT);
	/* an IPv6 server is never a TURN server a relay candidate may name */
	CHECK(!d_config_relay_known(&c, 0x01000000));
	/* a port without brackets, a zone: refused with the forms it takes */
	CHECK_EQ(d_config_set(&c, "server", "2001:db8::4:3479:", err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "[2001:db8::1]:PORT") != NULL);
	CHECK_EQ(d_config_set(&c, "server", "[fe80::1%eth0]", err, sizeof(err)), -EINVAL);
	/* a name with a port: the port is given, the family found later */
	CHECK_EQ(d_config_set(&c, "server", "rdv.example.net:4000", err, sizeof(err)), 0);
	CHECK(c.servers[3].port_given);
	CHECK(!strcmp(c.servers[3].host, "rdv.example.net"));
}

static void tls_refusals(void)
{
	struct d_config c;
	char err[160];

	/* TLS without a CA or a pin: no unauthenticated TLS */
	base(&c);
	CHECK_EQ(d_config_set(&c, "server", "192.0.2.1", err, sizeof(err)), 0);
	CHECK_EQ(d_config_set(&c, "tls", "on", err, sizeof(err)), 0);
	CHECK_EQ(d_config_finish(&c, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "no unauthenticated TLS") != NULL);
	/* server-name alone authenticates nothing either */
	CHECK_EQ(d_config_set(&c, "server-name", "stunt.example.net", err, sizeof(err)), 0);
	CHECK_EQ(d_config_finish(&c, err, sizeof(err)), -EINVAL);
	/* a pin or a CA without TLS: a mistake, not plain text silently */
	base(&c);
	CHECK_EQ(d_config_set(&c, "server", "192.0.2.1", err, sizeof(err)), 0);
	CHECK_EQ(d_config_set(&c, "tls-pin", PIN, err, sizeof(err)), 0);
	CHECK_EQ(d_config_finish(&c, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "without TLS") != NULL);
	/* bad values name themselves, with the line in a file */
	CHECK_EQ(d_config_set(&c, "tls-pin", "abcd", err, sizeof(err)), -EINVAL);
	CHECK(!strncmp(err, "bad tls-pin 'abcd'", 18));
	CHECK_EQ(d_config_set(&c, "tls-pin", PIN "00", err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_set(&c, "server-name", "bad name", err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_set(&c, "server-name", "a/b", err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_parse("id x\ntls maybe\n", 16, &c, err, sizeof(err)), -EINVAL);
	CHECK(!strncmp(err, "line 2: bad tls", 15));
}

static void turn_keys(void)
{
	static const char f[] =
		"id laptop\n"
		"server 192.0.2.1\n"
		"secret-file /etc/stunt/secret\n"
		"turn 192.0.2.2:3490\n"
		"turn-user stunt\n"
		"turn-pass s3cret!\n";
	struct d_config c;
	char err[160] = "";

	d_config_init(&c);
	CHECK(!c.have_turn);
	CHECK_EQ(d_config_parse(f, sizeof(f) - 1, &c, err, sizeof(err)), 0);
	CHECK(c.have_turn);
	CHECK_EQ(c.turn.sa.sa_family, AF_INET);
	CHECK_EQ(c.turn.in.sin_addr.s_addr, inet_addr("192.0.2.2"));
	CHECK_EQ(ntohs(c.turn.in.sin_port), 3490);
	CHECK(!strcmp(c.turn_user, "stunt"));
	CHECK(!strcmp(c.turn_pass, "s3cret!"));
	CHECK_EQ(d_config_finish(&c, err, sizeof(err)), 0);
	/* no port: 3478 */
	CHECK_EQ(d_config_set(&c, "turn", "192.0.2.2", err, sizeof(err)), 0);
	CHECK_EQ(ntohs(c.turn.in.sin_port), D_TURN_PORT_DEFAULT);
	/* IPv6 literals: bare (the default port) and bracketed with a port */
	CHECK_EQ(d_config_set(&c, "turn", "2001:db8::1", err, sizeof(err)), 0);
	CHECK_EQ(c.turn.sa.sa_family, AF_INET6);
	CHECK_EQ(ntohs(c.turn.in6.sin6_port), D_TURN_PORT_DEFAULT);
	CHECK(!strcmp(c.turn_host, ""));
	CHECK_EQ(d_config_set(&c, "turn", "[2001:db8::1]:3490", err, sizeof(err)), 0);
	CHECK_EQ(c.turn.sa.sa_family, AF_INET6);
	CHECK_EQ(ntohs(c.turn.in6.sin6_port), 3490);
	CHECK_EQ(c.turn.in6.sin6_addr.s6_addr[0], 0x20);
	CHECK_EQ(c.turn.in6.sin6_addr.s6_addr[15], 1);
	CHECK_EQ(d_config_set(&c, "turn", "2001:db8::1:3490", err, sizeof(err)), 0);
	CHECK_EQ(ntohs(c.turn.in6.sin6_port), D_TURN_PORT_DEFAULT);	/* an address, no port */
	CHECK_EQ(d_config_set(&c, "turn", "[2001:db8::1]:0", err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_set(&c, "turn", "[fe80::1%eth0]:3490", err, sizeof(err)), -EINVAL);
	/* bad values */
	CHECK_EQ(d_config_set(&c, "turn", "turn_example.net", err, sizeof(err)), -EINVAL);
	CHECK(!strncmp(err, "bad turn", 8));
	/* a host name: kept for resolution, the port set */
	CHECK_EQ(d_config_set(&c, "turn", "turn.example.net:3490", err, sizeof(err)), 0);
	CHECK(!strcmp(c.turn_host, "turn.example.net"));
	CHECK_EQ(ntohs(c.turn.in.sin_port), 3490);
	CHECK_EQ(c.turn.in.sin_addr.s_addr, 0);
	CHECK_EQ(d_config_set(&c, "turn", "192.0.2.2", err, sizeof(err)), 0);
	CHECK(!strcmp(c.turn_host, ""));
	CHECK_EQ(d_config_set(&c, "turn-pass", "two words", err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_set(&c, "turn-user", "", err, sizeof(err)), -EINVAL);
	/* turn without credentials, credentials without turn: refused */
	base(&c);
	CHECK_EQ(d_config_set(&c, "server", "192.0.2.1", err, sizeof(err)), 0);
	CHECK_EQ(d_config_set(&c, "turn", "192.0.2.2", err, sizeof(err)), 0);
	CHECK_EQ(d_config_set(&c, "turn-user", "stunt", err, sizeof(err)), 0);
	CHECK_EQ(d_config_finish(&c, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "turn-pass") != NULL);
	base(&c);
	CHECK_EQ(d_config_set(&c, "server", "192.0.2.1", err, sizeof(err)), 0);
	CHECK_EQ(d_config_set(&c, "turn-pass", "x", err, sizeof(err)), 0);
	CHECK_EQ(d_config_finish(&c, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "without turn") != NULL);
}

static void privsep_keys(void)
{
	struct d_config c;
	char err[128] = "";

	d_config_init(&c);
	CHECK(c.privsep);	/* on unless turned off */
	CHECK_EQ(c.user[0], '\0');
	CHECK_EQ(d_config_set(&c, "user", "stunt-d_1", err, sizeof(err)), 0);
	CHECK(!strcmp(c.user, "stunt-d_1"));
	CHECK_EQ(d_config_set(&c, "user", "-x", err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_set(&c, "user", "a b", err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_set(&c, "user", "a/b", err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_set(&c, "privsep", "off", err, sizeof(err)), 0);
	CHECK(!c.privsep);
	CHECK_EQ(d_config_set(&c, "privsep", "on", err, sizeof(err)), 0);
	CHECK(c.privsep);
	CHECK_EQ(d_config_set(&c, "privsep", "yes", err, sizeof(err)), -EINVAL);
}

/* metrics ADDR:PORT: off by default, an IPv4 address and a port */
static void metrics_key(void)
{
	struct d_config c;
	char err[128] = "";

	d_config_init(&c);
	CHECK(!c.have_metrics);
	CHECK_EQ(d_config_set(&c, "metrics", "127.0.0.1", err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "bad metrics '127.0.0.1' (ADDR:PORT") != NULL);
	CHECK_EQ(d_config_set(&c, "metrics", "localhost:9478", err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_set(&c, "metrics", "127.0.0.1:0", err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_set(&c, "metrics", "127.0.0.1:70000", err, sizeof(err)), -EINVAL);
	CHECK(!c.have_metrics);
	CHECK_EQ(d_config_set(&c, "metrics", "10.1.2.3:9478", err, sizeof(err)), 0);
	CHECK(c.have_metrics && ntohs(c.metrics.in.sin_port) == 9478 &&
	      c.metrics.in.sin_addr.s_addr == htonl(0x0a010203));
	/* IPv6 (an IPv6-only host): bracketed, a port required */
	CHECK_EQ(d_config_set(&c, "metrics", "[::1]:9479", err, sizeof(err)), 0);
	CHECK(c.metrics.sa.sa_family == AF_INET6 && ntohs(c.metrics.in6.sin6_port) == 9479 &&
	      IN6_IS_ADDR_LOOPBACK(&c.metrics.in6.sin6_addr));
	CHECK_EQ(d_config_set(&c, "metrics", "[::1]", err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_set(&c, "metrics", "::1", err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "or [IPv6]:PORT") != NULL);
}

/* IPv6 TURN servers a relay candidate may name: turn, server6, relay-servers */
static void relay_servers6(struct d_config *c)
{
	uint8_t a[16], b[16], t[16], v4m[16];
	char err[160] = "";

	inet_pton(AF_INET6, "2001:db8:7::7", a);
	inet_pton(AF_INET6, "2001:db8:7::8", b);
	inet_pton(AF_INET6, "2001:db8:9::1", t);
	inet_pton(AF_INET6, "::ffff:203.0.113.5", v4m);
	CHECK_EQ(d_config_set(c, "relay-servers", "203.0.113.5,2001:db8:7::7", err, sizeof(err)), 0);
	CHECK_EQ(c->nrelay_servers, 1);
	CHECK_EQ(c->nrelay_servers6, 1);
	CHECK(d_config_relay_known(c, inet_addr("203.0.113.5")));
	CHECK(d_config_relay_known6(c, a));
	CHECK(!d_config_relay_known6(c, b));
	CHECK(!d_config_relay_known6(c, v4m));	/* an IPv4 entry names no IPv6 address */
	CHECK(!d_config_relay_known6(c, t));
	CHECK_EQ(d_config_set(c, "turn", "[2001:db8:9::1]:3490", err, sizeof(err)), 0);
	CHECK(d_config_relay_known6(c, t));	/* our turn's IPv6 address */
	CHECK(!d_config_relay_known(c, inet_addr("192.0.2.9")));	/* no longer IPv4 */
	c->has_server6 = true;
	memcpy(&c->server6.sin6_addr, b, 16);
	CHECK(d_config_relay_known6(c, b));	/* server6 */
	c->has_server6 = false;
	CHECK(!d_config_relay_known6(c, b));
	CHECK_EQ(d_config_set(c, "server", "[2001:db8:7::8]:3478", err, sizeof(err)), 0);
	CHECK(d_config_relay_known6(c, b));	/* a stunt-server's IPv6 address */
	CHECK_EQ(d_config_set(c, "relay-servers", "::", err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_set(c, "relay-servers", "2001:db8::1%eth0", err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_set(c, "relay-servers",
			      "::1,::2,::3,::4,::5,::6,::7,::8,::9", err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "at most 8 IPv6") != NULL);
	/* a later line replaces both lists */
	CHECK_EQ(d_config_set(c, "relay-servers", "198.51.100.1", err, sizeof(err)), 0);
	CHECK_EQ(c->nrelay_servers6, 0);
	CHECK(!d_config_relay_known6(c, a));
	CHECK_EQ(d_config_set(c, "test-relay-ipv6", "on", err, sizeof(err)), 0);
	CHECK(c->test_relay_ipv6);
}

/* hostile peers: budgets, forced methods, TURN servers a relay candidate may name */
static void peer_policy_keys(void)
{
	static const char f[] =
		"id a\nserver 192.0.2.1\nsecret-file /s\nturn 192.0.2.9:3479\n"
		"turn-user u\nturn-pass p\n"
		"relay-servers 203.0.113.5,203.0.113.6\nmax-peer-sessions 3\n"
		"max-peer-starts 12\nmax-session-packets 100\nallow-forced-methods on\n";
	struct d_config c;
	char err[160] = "";

	d_config_init(&c);
	CHECK_EQ(c.max_peer_sessions, 8);
	CHECK_EQ(c.max_peer_starts, 30);
	CHECK_EQ(c.max_session_packets, 4000);
	CHECK(!c.allow_forced_methods);
	CHECK_EQ(c.nrelay_servers, 0);
	CHECK_EQ(d_config_parse(f, sizeof(f) - 1, &c, err, sizeof(err)), 0);
	CHECK_EQ(d_config_finish(&c, err, sizeof(err)), 0);
	CHECK_EQ(c.max_peer_sessions, 3);
	CHECK_EQ(c.max_peer_starts, 12);
	CHECK_EQ(c.max_session_packets, 100);
	CHECK(c.allow_forced_methods);
	CHECK_EQ(c.nrelay_servers, 2);
	/* a relay candidate may name: relay-servers, our turn, our server */
	CHECK(d_config_relay_known(&c, inet_addr("203.0.113.5")));
	CHECK(d_config_relay_known(&c, inet_addr("203.0.113.6")));
	CHECK(d_config_relay_known(&c, inet_addr("192.0.2.9")));
	CHECK(d_config_relay_known(&c, inet_addr("192.0.2.1")));
	CHECK(!d_config_relay_known(&c, inet_addr("198.51.100.10")));
	CHECK(!d_config_relay_known(&c, 0));
	/* a later line replaces the list */
	CHECK_EQ(d_config_set(&c, "relay-servers", "198.51.100.1", err, sizeof(err)), 0);
	CHECK_EQ(c.nrelay_servers, 1);
	CHECK(!d_config_relay_known(&c, inet_addr("203.0.113.5")));
	/* errors */
	CHECK_EQ(d_config_set(&c, "relay-servers", "198.51.100.1,", err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_set(&c, "relay-servers", "host.example", err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "host.example") != NULL);
	CHECK_EQ(d_config_set(&c, "relay-servers", "0.0.0.0", err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_set(&c, "relay-servers",
			      "1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,1.1.1.7,1.1.1.8,1.1.1.9",
			      err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "at most 8") != NULL);
	relay_servers6(&c);
	CHECK_EQ(d_config_set(&c, "max-peer-sessions", "0", err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "1-1000") != NULL);
	CHECK_EQ(d_config_set(&c, "max-peer-sessions", "-1", err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_set(&c, "max-peer-starts", "x", err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_set(&c, "max-session-packets", "15", err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_set(&c, "max-session-packets", "", err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_set(&c, "allow-forced-methods", "yes", err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_set(&c, "allow-forced-methods", "off", err, sizeof(err)), 0);
	CHECK(!c.allow_forced_methods);
	CHECK_EQ(c.max_peer_sessions, 3);	/* failed sets changed nothing */
}

/* host candidates and IPv6: on by default, every interface unless limited */
static void host_keys(void)
{
	static const char f[] = "id a\nserver 192.0.2.1\nsecret-file /s\n"
				"host-candidates off\nhost-interfaces eth0,wlan0\nipv6 off\n";
	struct d_config c;
	char err[160] = "";

	d_config_init(&c);
	CHECK(c.host_candidates);
	CHECK(c.ipv6);
	CHECK_EQ(c.ipv6_hops, 0u);	/* auto: measured, else D_IPV6_HOPS_FALLBACK */
	CHECK_EQ(c.nhost_ifaces, 0);
	CHECK_EQ(d_config_parse(f, sizeof(f) - 1, &c, err, sizeof(err)), 0);
	CHECK(!c.host_candidates);
	CHECK(!c.ipv6);
	CHECK_EQ(d_config_set(&c, "ipv6", "maybe", err, sizeof(err)), -EINVAL);
	CHECK(!c.has_test_cand_ip6);
	CHECK_EQ(d_config_set(&c, "test-candidate-ip6", "2001:db8:6::10", err, sizeof(err)), 0);
	CHECK(c.has_test_cand_ip6 && c.test_cand_ip6[0] == 0x20 && c.test_cand_ip6[15] == 0x10);
	CHECK_EQ(d_config_set(&c, "test-candidate-ip6", "198.51.100.1", err, sizeof(err)), -EINVAL);
	CHECK(!c.test_v6_req_first);
	CHECK_EQ(d_config_set(&c, "test-v6-requester-first", "on", err, sizeof(err)), 0);
	CHECK(c.test_v6_req_first);
	CHECK_EQ(d_config_set(&c, "test-v6-requester-first", "yes", err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_set(&c, "ipv6-hop-limit", "4", err, sizeof(err)), 0);
	CHECK_EQ(c.ipv6_hops, 4u);
	CHECK_EQ(d_config_set(&c, "ipv6-hop-limit", "0", err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_set(&c, "ipv6-hop-limit", "65", err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_set(&c, "ipv6-hop-limit", "autox", err, sizeof(err)), -EINVAL);
	CHECK_EQ(c.ipv6_hops, 4u);
	CHECK_EQ(d_config_set(&c, "ipv6-hop-limit", "auto", err, sizeof(err)), 0);
	CHECK_EQ(c.ipv6_hops, 0u);
	/* server6: an IPv6 address, port 3478 unless given */
	CHECK(!c.has_server6);
	CHECK_EQ(d_config_set(&c, "server6", "2001:db8:5::1", err, sizeof(err)), 0);
	CHECK(c.has_server6 && c.server6.sin6_family == AF_INET6 &&
	      ntohs(c.server6.sin6_port) == 3478 && c.server6.sin6_addr.s6_addr[15] == 1);
	CHECK_EQ(d_config_set(&c, "server6", "[2001:db8:5::2]:3479", err, sizeof(err)), 0);
	CHECK(ntohs(c.server6.sin6_port) == 3479 && c.server6.sin6_addr.s6_addr[15] == 2);
	CHECK_EQ(d_config_set(&c, "server6", "192.0.2.1", err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "bad server6") != NULL);
	CHECK_EQ(d_config_set(&c, "server6", "2001:db8:5::1:3478", err, sizeof(err)), 0);
	CHECK_EQ(d_config_set(&c, "server6", "[2001:db8:5::1]:0", err, sizeof(err)), -EINVAL);
	CHECK_EQ(c.nhost_ifaces, 2);
	CHECK(!strcmp(c.host_ifaces[0], "eth0") && !strcmp(c.host_ifaces[1], "wlan0"));
	CHECK_EQ(d_config_set(&c, "host-candidates", "on", err, sizeof(err)), 0);
	CHECK(c.host_candidates);
	CHECK_EQ(d_config_set(&c, "host-candidates", "yes", err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "on or off") != NULL);
	/* a later line replaces the list */
	CHECK_EQ(d_config_set(&c, "host-interfaces", "br-lan", err, sizeof(err)), 0);
	CHECK_EQ(c.nhost_ifaces, 1);
	CHECK(!strcmp(c.host_ifaces[0], "br-lan"));
	CHECK_EQ(d_config_set(&c, "host-interfaces", "eth0,", err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_set(&c, "host-interfaces", "", err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_set(&c, "host-interfaces", "a-name-that-is-too-long", err,
			      sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_set(&c, "host-interfaces", "../x", err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_set(&c, "host-interfaces", "a,b,c,d,e,f,g,h,i", err, sizeof(err)),
		 -EINVAL);
	CHECK(strstr(err, "at most 8") != NULL);
}

static void host_names(void)
{
	const struct d_expose *e;
	struct d_config c;
	char err[128] = "";
	const char *f = "id a\nsecret-file /s\nserver stun.example.net\n"
			"expose vnc tcp:localhost:5900\nexpose dns udp:resolver.lan:53\n"
			"expose raw tcp:127.0.0.1:22\n";

	d_config_init(&c);
	CHECK_EQ(d_config_parse(f, strlen(f), &c, err, sizeof(err)), 0);
	CHECK(!strcmp(c.servers[0].host, "stun.example.net"));
	CHECK_EQ(ntohs(c.servers[0].addr.in.sin_port), D_SERVER_PORT_DEFAULT);
	CHECK_EQ(c.nexpose, 3);
	CHECK(!strcmp(c.expose[0].host, "localhost"));
	CHECK_EQ(addr_sa_port(&c.expose[0].addr), 5900);
	CHECK_EQ(c.expose[1].kind, D_TARGET_UDP);
	CHECK(!strcmp(c.expose[1].host, "resolver.lan"));
	CHECK(!strcmp(c.expose[2].host, ""));
	CHECK_EQ(c.expose[2].addr.in.sin_addr.s_addr, htonl(0x7f000001));
	CHECK_EQ(d_config_finish(&c, err, sizeof(err)), 0);
	CHECK_EQ(ntohs(c.servers[0].sig.in.sin_port), D_SERVER_PORT_DEFAULT);
	/* a target name still needs its port; bad names are refused with the line */
	CHECK_EQ(d_config_set(&c, "expose", "x=tcp:localhost", err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "HOST a name, an IPv4 address or a bracketed IPv6 one") != NULL);
	/* IPv6 targets: a literal needs its brackets and its port */
	CHECK_EQ(d_config_set(&c, "expose", "v6=tcp:[::1]:5900", err, sizeof(err)), 0);
	e = d_config_find_expose(&c, "v6");
	CHECK(e && e->addr.sa.sa_family == AF_INET6 && addr_sa_port(&e->addr) == 5900 && !e->host[0] &&
	      IN6_IS_ADDR_LOOPBACK(&e->addr.in6.sin6_addr));
	CHECK_EQ(d_config_set(&c, "expose", "v6u=udp:[2001:db8::53]:53", err, sizeof(err)), 0);
	e = d_config_find_expose(&c, "v6u");
	CHECK(e && e->kind == D_TARGET_UDP && e->addr.sa.sa_family == AF_INET6);
	CHECK_EQ(d_config_set(&c, "expose", "x=tcp:[::1]", err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_set(&c, "expose", "x=tcp:::1:5900", err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_set(&c, "expose", "x=tcp:[::1]:0", err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_set(&c, "expose", "x=tcp:[fe80::1%eth0]:22", err, sizeof(err)), -EINVAL);
	CHECK_EQ(d_config_parse("server bad_name\n", 16, &c, err, sizeof(err)), -EINVAL);
	CHECK(!strncmp(err, "line 1: bad server", 18));
	/* TLS to a server given by name: the certificate must carry that name */
	d_config_init(&c);
	f = "id a\nsecret-file /s\nserver stun.example.net.:5000\ntls on\ntls-pin "
	    "0000000000000000000000000000000000000000000000000000000000000000\n";
	CHECK_EQ(d_config_parse(f, strlen(f), &c, err, sizeof(err)), 0);
	CHECK_EQ(d_config_finish(&c, err, sizeof(err)), 0);
	CHECK(!strcmp(c.servers[0].tls_name, "stun.example.net"));
	CHECK_EQ(ntohs(c.servers[0].sig.in.sin_port), 5000);
	CHECK_EQ(ntohs(c.servers[0].addr.in.sin_port), D_SERVER_PORT_DEFAULT);
	/* resolving a literal-free config is a no-op; a literal target stays */
	d_config_init(&c);
	f = "id a\nsecret-file /s\nserver 192.0.2.1\nexpose raw tcp:127.0.0.1:22\n";
	CHECK_EQ(d_config_parse(f, strlen(f), &c, err, sizeof(err)), 0);
	CHECK_EQ(d_config_finish(&c, err, sizeof(err)), 0);
	CHECK_EQ(d_config_resolve(&c, D_RESOLVE_ALL, err, sizeof(err)), 0);
	CHECK_EQ(c.servers[0].addr.in.sin_addr.s_addr, htonl(0xc0000201));
}

static void turn_pass_file_and_log_level(void)
{
	struct d_config c;
	char err[160] = "";
	const char *f = "id a\nsecret-file /s\nserver 192.0.2.1\nturn 192.0.2.9\nturn-user u\n"
			"turn-pass-file /etc/stunt/turn-pass\nlog-level debug\n";

	d_config_init(&c);
	CHECK_EQ(c.log_level, -1);
	CHECK_EQ(d_config_parse(f, strlen(f), &c, err, sizeof(err)), 0);
	CHECK(!strcmp(c.turn_pass_file, "/etc/stunt/turn-pass"));
	CHECK_EQ(c.log_level, LOG_LVL_DEBUG);
	/* a pass file stands for the password until main.c reads it */
	CHECK_EQ(d_config_finish(&c, err, sizeof(err)), 0);
	/* both: refused */
	CHECK_EQ(d_config_set(&c, "turn-pass", "p", err, sizeof(err)), 0);
	CHECK_EQ(d_config_finish(&c, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "exclude each other") != NULL);
	/* a pass file without turn */
	d_config_init(&c);
	f = "id a\nsecret-file /s\nserver 192.0.2.1\nturn-pass-file /x\n";
	CHECK_EQ(d_config_parse(f, strlen(f), &c, err, sizeof(err)), 0);
	CHECK_EQ(d_config_finish(&c, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "without turn") != NULL);
	CHECK_EQ(d_config_set(&c, "log-level", "loud", err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "bad log-level 'loud'") != NULL);
	CHECK_EQ(d_config_set(&c, "log-level", "warning", err, sizeof(err)), 0);
	CHECK_EQ(c.log_level, LOG_LVL_WARN);
}

static void netns_defaults(void)
{
	struct d_config c;
	char err[128];

	/* not given: in the namespace's run directory */
	d_config_init(&c);
	CHECK_EQ(d_config_netns_defaults(&c, "/run/stunt/net-4026532289"), 0);
	CHECK(!strcmp(c.control, "/run/stunt/net-4026532289/stuntd.sock"));
	CHECK(!strcmp(c.state_dir, "/run/stunt/net-4026532289"));
	/* the host's namespace: the documented defaults */
	d_config_init(&c);
	CHECK_EQ(d_config_netns_defaults(&c, "/run/stunt"), 0);
	CHECK(!strcmp(c.control, D_CONTROL_DEFAULT));
	CHECK(!strcmp(c.state_dir, D_STATE_DIR_DEFAULT));
	/* given (file or flag): as given, even when equal to the default */
	d_config_init(&c);
	CHECK_EQ(d_config_set(&c, "control", "/run/stunt/stuntd.sock", err, sizeof(err)), 0);
	CHECK_EQ(d_config_set(&c, "state-dir", "/var/lib/x", err, sizeof(err)), 0);
	CHECK_EQ(d_config_netns_defaults(&c, "/run/stunt/net-7"), 0);
	CHECK(!strcmp(c.control, "/run/stunt/stuntd.sock"));
	CHECK(!strcmp(c.state_dir, "/var/lib/x"));
	/* a run directory too long for a socket path: refused, nothing changed */
	d_config_init(&c);
	char longdir[120];
	memset(longdir, 'a', sizeof(longdir));
	longdir[0] = '/';
	longdir[sizeof(longdir) - 1] = '\0';
	CHECK_EQ(d_config_netns_defaults(&c, longdir), -EINVAL);
	CHECK(!strcmp(c.control, D_CONTROL_DEFAULT));
}

int main(void)
{
	RUN(host_keys);
	RUN(netns_defaults);
	RUN(host_names);
	RUN(turn_pass_file_and_log_level);
	RUN(peer_policy_keys);
	RUN(turn_keys);
	RUN(full_file);
	RUN(defaults_and_port);
	RUN(errors_name_the_line);
	RUN(flags_override);
	RUN(secret);
	RUN(tls_keys);
	RUN(tls_ports);
	RUN(server_ipv6);
	RUN(server_list);
	RUN(tls_refusals);
	RUN(privsep_keys);
	RUN(metrics_key);
	return TAP_DONE();
}
