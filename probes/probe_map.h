/* SPDX-License-Identifier: MIT */
/*
 * "Map TCP port P for L seconds / unmap it" on the default gateway, with
 * the protocols that stunt-probe tests (probe_portmap.c): UPnP-IGD
 * AddPortMapping (libminiupnpc, SSDP search by hand), NAT-PMP (RFC 6886,
 * libnatpmp), PCP MAP (RFC 6887, by hand). Tried in that order, each only if
 * asked for in `protos`, the whole call bounded by a deadline.
 *
 * Both calls block (the libraries do): callers with an event loop run them
 * in a thread (daemon/trav/portmap.c). Nothing here logs or touches globals,
 * so one thread per mapping is safe.
 */
#ifndef STUNT_PROBES_PROBE_MAP_H
#define STUNT_PROBES_PROBE_MAP_H

#include <natpmp.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum probe_pmap_proto {
	PROBE_PMAP_NONE = 0,
	PROBE_PMAP_UPNP,
	PROBE_PMAP_NATPMP,
	PROBE_PMAP_PCP,
};

#define PROBE_PMAP_F_UPNP	0x01
#define PROBE_PMAP_F_NATPMP	0x02
#define PROBE_PMAP_F_PCP	0x04
#define PROBE_PMAP_F_ALL	0x07

#define PROBE_PCP_MAP_LEN	60

struct probe_pmap {
	enum probe_pmap_proto	proto;		/* NONE: not mapped */
	uint32_t		gw;		/* network order */
	uint16_t		int_port;
	uint32_t		ext_ip;		/* network order, 0 unknown */
	uint16_t		ext_port;
	uint32_t		lifetime_s;	/* granted (UPnP: as asked) */
	/* what unmapping needs */
	char			upnp_url[256];	/* control URL */
	char			upnp_svc[128];	/* service type */
	uint32_t		pcp_client;	/* our address towards the gateway */
	uint8_t			pcp_nonce[12];
	char			why[160];	/* each protocol's failure, for logs */
};

/*
 * Map TCP port (internal; the same external port is suggested) for
 * lifetime_s seconds, trying UPnP-IGD, NAT-PMP then PCP among protos, all
 * within timeout_ms. 0 with m->proto set, or -errno with m->why saying what
 * each protocol answered. Blocks.
 */
int probe_pmap_map(uint16_t port, uint32_t lifetime_s, unsigned protos, unsigned timeout_ms,
		   struct probe_pmap *m);
/* Remove the mapping m describes, within timeout_ms. 0 or -errno. Blocks. */
int probe_pmap_unmap(struct probe_pmap *m, unsigned timeout_ms);
const char *probe_pmap_name(enum probe_pmap_proto p);	/* "UPnP-IGD", ... */

/* probe_portmap.c's exchanges, for probe_map.c. The SSDP search takes
 * answers only from gw (network order) and a LOCATION on gw's address. */
int probe_pm_ssdp_igd(uint64_t deadline_ms, uint32_t gw, char *loc, size_t cap);
/* Does url point at gw (http://GW...)? Logs at debug when it does not. */
bool probe_pm_url_on_gw(const char *what, const char *url, uint32_t gw);
int probe_pm_natpmp_wait(uint64_t deadline_ms, natpmp_t *n, natpmpresp_t *resp);
int probe_pm_pcp_map(uint64_t deadline_ms, int fd, uint16_t port, uint32_t client,
		     const uint8_t nonce[12], uint32_t lifetime, uint8_t resp[PROBE_PCP_MAP_LEN]);

#endif
