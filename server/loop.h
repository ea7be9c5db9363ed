// SPDX-License-Identifier: MIT
/*
 * stunt-server's one event loop: four UDP sockets and four TCP listeners
 * (primary/alternate IP x port/alt-port), as many again on the IPv6
 * addresses of --primary6/--alternate6, two TLS listeners (--tls-port on
 * both addresses) -- half of each without --alternate -- the TCP clients,
 * the libpcap capture handle, the STUNT timers (captures, probes, delayed
 * packets), the --metrics listener and its clients (server/metrics.c), the
 * two Redis links of --redis (server/cluster.c) and the signal flags, all
 * on one epoll set. Packets are sent through one raw socket.
 */
#ifndef STUNT_SERVER_LOOP_H
#define STUNT_SERVER_LOOP_H

#include "server/rdv.h"
#include "server/secrets.h"
#include "server/stunt.h"
#include "proto/stun_attr.h"

#include <netinet/in.h>
#include <stdbool.h>

#define SRV_PORT_DEFAULT		3478
#define SRV_ALT_PORT_DEFAULT		3479
#define SRV_IDLE_S_DEFAULT		30
#define SRV_MAX_CLIENTS_DEFAULT		4096
#define SRV_STATUS_S_DEFAULT		300
#define SRV_UDP_RATE_DEFAULT		50	/* answers per second per source IP */
#define SRV_UDP_BURST_DEFAULT		100
#define SRV_UDP_RATE_SLOTS		65536	/* sources tracked at once */

struct srv_config {
	struct stun_addr	 addr[2][2];	/* [primary, alternate][port, alt-port];
						 * one_addr: row 1 repeats row 0 */
	struct stun_addr	 pub[2][2];	/* the same as told to clients: the
						 * --external-ip address of a row, else addr */
	bool			 one_addr;	/* no --alternate: row 0 only */
	/* --primary6 / --alternate6: a second family's rows beside an IPv4
	 * --primary, answering STUN only; addresses are their own public ones */
	bool			 have6;
	struct stun_addr	 addr6[2][2];	/* as addr; one_addr6: row 1 repeats row 0 */
	bool			 one_addr6;	/* no --alternate6 */
	bool			 no_spoof;	/* --no-spoof: no STUNT #1 (spoofed sources) */
	const char		*software;	/* NULL: no SOFTWARE attribute */
	bool			 stats;		/* --stats: JSON on stdout at exit / SIGUSR1 */
	unsigned		 idle_s;	/* TCP idle timeout */
	unsigned		 max_clients;	/* TCP clients at once */
	unsigned		 status_s;	/* status line period, 0: never */
	const char		*secrets_path;	/* NULL: none */
	struct srv_secrets	 secrets;
	unsigned		 udp_rate;	/* per source IP, 0: unlimited */
	unsigned		 udp_burst;
	const char		*tls_cert;	/* NULL: no TLS listener */
	const char		*tls_key;
	uint16_t		 tls_port;
	bool			 no_stunt;	/* --no-stunt: no raw socket, no capture */
	const char		*capture_if;	/* NULL: the primary address's interface */
	struct srv_stunt_cfg	 stunt;		/* rates, require_auth */
	unsigned		 sig_rate;	/* relayed signalling per id per second, 0: unlimited */
	unsigned		 sig_burst;
	const union addr_sa *metrics;	/* --metrics ADDR:PORT; NULL: off */
	/* the cluster (server/cluster.h): redis_host NULL without --redis */
	const char		*redis_host;
	uint16_t		 redis_port;
	const char		*redis_user;	/* NULL: AUTH with the password alone */
	const char		*redis_pass;	/* NULL: no AUTH */
	unsigned		 redis_ttl_s;
	char			 server_name[65];	/* --server-name, or the primary ip:port */
};

/* Open the sockets; fatal() if one cannot be opened (start-up). */
void srv_loop_open(const struct srv_config *cfg);
/* Run until SIGTERM / SIGINT. Returns the exit status. */
int srv_loop_run(struct srv_config *cfg);

#endif
