/* SPDX-License-Identifier: MIT */
/*
 * stuntd's configuration: a pure parser for the config file (no I/O), the
 * same setters for command-line flags (flags override the file), the secret
 * file's contents and the service access checks.
 *
 * Config file, one directive a line, '#' starts a comment:
 *
 *   id laptop
 *   server 192.0.2.1:3478     (or a host name: server stun.example.net:3478;
 *                              up to 4 server lines, in order of preference:
 *                              the first that answers is used, the others
 *                              are failovers, daemon/sig.c)
 *   secret-file /etc/stunt/secret
 *   expose vnc tcp:127.0.0.1:5900   (or tcp:localhost:5900)
 *   expose vnc-inetd exec:x11vnc -inetd -display :0
 *   allow vnc office-pc,laptop
 *   control /run/stunt/stuntd.sock
 *   control-group stunt
 *   state-dir /run/stunt
 *   connect-timeout 10000
 *   tls on
 *   tls-ca /etc/stunt/ca.pem
 *   tls-pin 5f0c...(64 hex digits, ':' between bytes allowed)
 *   server-name stunt.example.net
 *   expose dns udp:127.0.0.1:53
 *   udp-first-ttl 64          (test knob: TTL of the first punch packet;
 *                              default: the discovered first-SYN TTL)
 *   udp-test-delay 50         (test knob: this side punches 50 ms late)
 *   turn 192.0.2.1:3478       (or [2001:db8::1]:3478, or a name: IPv4 first)
 *   turn-user stunt
 *   turn-pass s3cret
 *   turn-pass-file /etc/stunt/turn-pass   (instead of turn-pass: the password
 *                              alone on the first line; mode 600)
 *   log-level info            (error, warning, info, debug; SIGHUP applies it)
 *   relay-servers 192.0.2.7,2001:db8::7   (TURN servers whose relayed
 *                              addresses a peer may name besides turn and
 *                              server; IPv4 or IPv6)
 *   max-sessions 256          (sessions at once, both roles: past it "busy")
 *   max-peer-sessions 8       (a peer's sessions at once, as the responder)
 *   max-peer-starts 30        (a peer's session starts a minute)
 *   max-session-packets 4000  (SYNs, primers, probes, punches of a session)
 *   allow-forced-methods off  (on: run a forced method the strategy rejects;
 *                              labs and benchmarks only)
 *   host-candidates on        (offer our interfaces' IPv4 addresses: the
 *                              host method, for a peer behind the same NAT)
 *   host-interfaces eth0,wlan0 (only these interfaces' addresses; default:
 *                              every interface but loopback)
 *   ipv6 on                   (offer our global IPv6 address and race the
 *                              simopen6 method: daemon/trav/simopen6.c)
 *   ipv6-hop-limit auto       (simopen6 and udp6: the first SYN's / PUNCH's
 *                              hop limit, 1-64: past our firewall, short of
 *                              the peer's; auto: as discovery measured it
 *                              against the server over IPv6, else 2)
 *   server6 [2001:db8::1]:3478 (the server's IPv6 address: discovery asks it
 *                              for our IPv6 address as the internet sees it,
 *                              and simopen6 offers that one behind an NPTv6
 *                              gateway; default: none, the host's own)
 *   syn-pacing on             (send an unanswered SYN again on the daemon's
 *                              own clock, daemon/trav/pace.h; off: the
 *                              kernel's retransmissions only)
 *   metrics 127.0.0.1:9478    (serve the counters in the Prometheus text
 *                              format, daemon/metrics.c; default: off)
 *
 * Errors name the line ("line 3: unknown directive 'foo'").
 */
#ifndef STUNT_DAEMON_CONFIG_H
#define STUNT_DAEMON_CONFIG_H

#include "common/addr.h"
#include "daemon/srvpick.h"
#include "proto/sig.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define D_MAX_EXPOSE		16
#define D_MAX_ALLOW		16
#define D_MAX_ALLOW_PEERS	16
#define D_PATH_MAX		256
#define D_CMD_MAX		512
#define D_SECRET_MAX		256
#define D_SERVER_PORT_DEFAULT	3478
#define D_SERVER_TLS_PORT_DEFAULT	5349
#define D_TLS_PIN_LEN		32	/* SHA-256 of the SubjectPublicKeyInfo */
#define D_NAME_MAX		253
#define D_TURN_CRED_MAX		128	/* TURN user and password, bytes */
#define D_TURN_PORT_DEFAULT	3478
#define D_CONNECT_TIMEOUT_MS_DEFAULT	10000
#define D_CONTROL_DEFAULT	"/run/stunt/stuntd.sock"
#define D_STATE_DIR_DEFAULT	"/run/stunt"
#define D_MAX_RELAY_SERVERS	8
#define D_MAX_HOST_IFACES	8
#define D_IFNAME_MAX		15	/* IFNAMSIZ - 1 */
/* per-peer budgets (docs/security.md): above what legitimate sessions use */
#define D_PEER_SESSIONS_DEFAULT	8	/* a peer's sessions at once (responder) */
#define D_SESSIONS_DEFAULT	256	/* every session at once, either role */
#define D_PEER_STARTS_DEFAULT	30	/* a peer's session starts a minute */
#define D_SESSION_PACKETS_DEFAULT 4000	/* shotgun's 3000 probes and the rest */
#define D_IPV6_HOPS_FALLBACK	2	/* simopen6's first SYN when not measured:
					 * one hop beyond the firewall of a host
					 * right behind its router */

/* udp: a UDP service: datagrams forwarded to HOST:PORT (UDP sessions only);
 * exec: takes either kind of session (the socket is stdin/stdout) */
enum d_target_kind { D_TARGET_TCP = 1, D_TARGET_EXEC, D_TARGET_UDP };

struct d_expose {
	char			name[SIG_ID_MAX + 1];
	enum d_target_kind	kind;
	union addr_sa		addr;		/* tcp: and udp:, IPv4 or IPv6 (resolved,
						   when host) */
	char			host[D_NAME_MAX + 1];	/* a name to resolve, or "" */
	char			cmd[D_CMD_MAX];	/* exec: run with /bin/sh -c */
};

struct d_allow {
	char	service[SIG_ID_MAX + 1];
	char	peers[D_MAX_ALLOW_PEERS][SIG_ID_MAX + 1];
	size_t	npeers;
};

/* one stunt-server of the list */
struct d_server {
	char			given[D_NAME_MAX + 8];	/* HOST[:PORT] as given: logs, status */
	/* the STUN address discovery probes and predict connects to (3478 with
	 * TLS, the TLS port being no STUN port); IPv4 or IPv6: over IPv6 (an
	 * IPv6-only host) the IPv4 methods are left out and discovery measures
	 * only our IPv6 address (daemon/discovery.c) */
	union addr_sa		addr;
	/* set by d_config_finish(): where signalling connects (TLS: PORT or 5349) */
	union addr_sa		sig;
	/* a host name: resolved by d_config_resolve() at start, on SIGHUP and
	 * before each connection to it (IPv4 first, else IPv6); "" for an
	 * address literal */
	char			host[D_NAME_MAX + 1];
	bool			port_given;		/* "HOST:PORT", not just HOST */
	/* TLS: the name its certificate must carry (server-name, else its host
	 * name); "": its IP. Set by d_config_finish(). */
	char			tls_name[D_NAME_MAX + 1];
};

struct d_config {
	char			id[SIG_ID_MAX + 1];
	/* server lines (--server flags), in order of preference */
	struct d_server		servers[D_MAX_SERVERS];
	size_t			nservers;
	char			secret_file[D_PATH_MAX];
	char			control[D_PATH_MAX];
	char			control_group[64];
	bool			have_metrics;	/* metrics ADDR:PORT, IPv4 or IPv6 */
	union addr_sa		metrics;
	char			state_dir[D_PATH_MAX];
	bool			control_set;	/* given: used as given */
	bool			state_dir_set;
	unsigned		connect_timeout_ms;
	struct d_expose		expose[D_MAX_EXPOSE];
	size_t			nexpose;
	struct d_allow		allow[D_MAX_ALLOW];
	size_t			nallow;

	/* signalling over TLS: the server is authenticated by a CA, a pin or both */
	bool			tls;
	char			tls_ca[D_PATH_MAX];
	bool			have_pin;
	uint8_t			tls_pin[D_TLS_PIN_LEN];
	/* server-name: checked instead of the IP, for every server */
	char			server_name[D_NAME_MAX + 1];
	/* udp test knobs: -1 = the discovered syn_ttl; 0 = not limited */
	int			udp_first_ttl;
	unsigned		udp_test_delay_ms;
	/* test knob (test-candidate-ip, config file only): a lying peer for the
	 * lab (tests/lab/t_stuntd_vouch.sh). Our EXCHANGE's server reflexive and
	 * predicted candidates name this IPv4 address (network order) instead of
	 * our public one, as a hostile peer's would, and so does a relay
	 * candidate instead of the relayed address; the other side must drop
	 * them (SIG-SENDER, no known TURN server). 0: off. Never set it outside
	 * a test. */
	uint32_t		test_cand_ip;
	/* test knob (test-candidate-ip6, config file only): the same for
	 * simopen6's IPv6 candidate (tests/lab/t_stuntd_v6.sh); our socket
	 * stays bound to our own address. */
	bool			has_test_cand_ip6;
	uint8_t			test_cand_ip6[16];
	/* test knob (test-v6-requester-first, config file only): simopen6 as
	 * an older stuntd runs it, neither setting nor echoing
	 * SIG_NAT_V6_FIRST (tests/lab/t_stuntd_v6.sh: both orders meet). */
	bool			test_v6_req_first;

	/* relay: a TURN server (RFC 8656 / 6062) and its long-term credentials */
	bool			have_turn;
	union addr_sa		turn;		/* IPv4 or IPv6 (a name: resolve_any) */
	char			turn_host[D_NAME_MAX + 1];
	char			turn_user[D_TURN_CRED_MAX + 1];
	char			turn_pass[D_TURN_CRED_MAX + 1];

	/* relay candidates: IPv4 addresses (network order) of TURN servers whose
	 * relayed addresses a peer may name, besides turn and server; and IPv6 ones */
	uint32_t		relay_servers[D_MAX_RELAY_SERVERS];
	size_t			nrelay_servers;
	uint8_t			relay_servers6[D_MAX_RELAY_SERVERS][16];
	size_t			nrelay_servers6;
	/* test knob (test-relay-ipv6, config file only): the allocating side
	 * asks for an IPv6 relayed address whenever the peer offered its IPv6
	 * address, as it does for a peer without an IPv4 one
	 * (daemon/trav/relay.c; tests/lab/t_stuntd_relay6.sh) */
	bool			test_relay_ipv6;
	/* test knob (test-relay-host-port, config file only): a hostile peer
	 * for the lab. Our allocating relay offers, instead of its relayed
	 * address, a host candidate on our own IPv6 address as the server sees
	 * it with this port, as a peer that signals over IPv6 could; the
	 * connecting side must not connect anywhere (t_stuntd_relay6
	 * hostile). 0: off. Never set it outside a test. */
	unsigned		test_relay_host_port;

	/* what a peer may make us do (daemon/budget.c, daemon/negotiate.c) */
	unsigned		max_peer_sessions;
	unsigned		max_sessions;
	unsigned		max_peer_starts;	/* a minute */
	unsigned		max_session_packets;
	bool			allow_forced_methods;	/* default off: labs only */
	/* turn-pass read from this file at start (main.c), not from argv */
	char			turn_pass_file[D_PATH_MAX];
	/* log-level: a common/log.h level, or -1 (INFO, or DEBUG with -v) */
	int			log_level;

	/* host candidates (daemon/hostaddr.c, daemon/trav/host.c) */
	bool			host_candidates;	/* default on */
	char			host_ifaces[D_MAX_HOST_IFACES][D_IFNAME_MAX + 1];
	size_t			nhost_ifaces;		/* 0: every interface */
	bool			syn_pacing;		/* default on (daemon/trav/pace.h) */
	bool			ipv6;			/* default on: simopen6 (daemon/hostaddr6.c) */
	unsigned		ipv6_hops;		/* its first SYN's hop limit; 0 auto */
	/* server6: discovery's IPv6 part (probes/probe6.c) against it, our
	 * public IPv6 address (daemon/hostaddr6.h, d_hostaddr6_learn) */
	bool			has_server6;
	struct sockaddr_in6	server6;

	/* privilege separation: the unprivileged process's user ("": stunt or nobody) */
	bool			privsep;	/* default on */
	char			user[64];
};

void d_config_init(struct d_config *c);

/*
 * Parse a whole config file's bytes (need not be NUL-terminated) into c,
 * on top of what c holds. 0, or -EINVAL with "line N: why" in err.
 */
int d_config_parse(const char *buf, size_t len, struct d_config *c, char *err, size_t errlen);

/* One directive ("id", "server", "expose", ...) and its value; the file
 * parser and the flags both use it. 0 or -EINVAL with the reason in err.
 * "server" adds to the list (at most D_MAX_SERVERS). */
int d_config_set(struct d_config *c, const char *key, const char *val, char *err, size_t errlen);

/* The server list emptied: the first --server flag replaces the file's
 * server lines (flags override the file), the later ones add to it. */
void d_config_clear_servers(struct d_config *c);

/* The secret file's bytes: the secret alone on the first line, trailing
 * white space ignored. Returns its length (> 0) or -EINVAL. */
int d_secret_parse(const char *buf, size_t len, char *out, size_t outlen);

const struct d_expose *d_config_find_expose(const struct d_config *c, const char *name);
/* Is peer allowed to reach service? Without an allow line for the
 * service, nobody is. */
bool d_config_allowed(const struct d_config *c, const char *service, const char *peer);

/* May a peer name ip (network order) as its relay candidate's address: our
 * turn server's or one of our stunt-servers' IPs, or one of relay-servers? */
bool d_config_relay_known(const struct d_config *c, uint32_t ip);
/* The same for an IPv6 address: turn's, server6's, an IPv6 stunt-server's,
 * or one of relay-servers'. */
bool d_config_relay_known6(const struct d_config *c, const uint8_t ip[16]);

/* Missing required settings (id, server, secret-file): 0 or -EINVAL. */
int d_config_check(const struct d_config *c, char *err, size_t errlen);

/* d_config_check(), the TLS settings checked together (TLS needs a CA or a
 * pin: no unauthenticated TLS; a CA or pin without TLS is a mistake), the
 * TURN settings together (turn needs turn-user and turn-pass and they need
 * turn), then each server's sig address and tls_name set. 0 or -EINVAL with
 * the reason in err. */
int d_config_finish(struct d_config *c, char *err, size_t errlen);

/*
 * The defaults of the per-network-namespace state (common/paths.h): a control
 * socket and state-dir not given become run_dir/stuntd.sock and run_dir
 * (/run/stunt in the host's namespace, /run/stunt/net-INODE in another); given
 * ones stay as given. 0, or -EINVAL when run_dir is too long.
 */
int d_config_netns_defaults(struct d_config *c, const char *run_dir);

/* What d_config_resolve() resolves. */
#define D_RESOLVE_SERVER	1u	/* the servers (addr and sig) */
#define D_RESOLVE_TURN		2u
#define D_RESOLVE_EXPOSE	4u	/* tcp: and udp: targets */
#define D_RESOLVE_ALL		7u

/*
 * daemon/resolve.c: the host names of c (the servers', turn_host, the expose
 * targets' host) resolved to IPv4 addresses with getaddrinfo, the ports kept.
 * 0, or the first failure's -errno (common/resolve.h) with "server 'NAME':
 * REASON" in err; what resolved before it is updated.
 */
int d_config_resolve(struct d_config *c, unsigned what, char *err, size_t errlen);

/* Server i's name alone resolved again (before each connection to it):
 * 0, or -errno with "server 'NAME': REASON" in err. */
int d_config_resolve_server(struct d_config *c, size_t i, char *err, size_t errlen);

#endif
