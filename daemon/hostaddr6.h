/* SPDX-License-Identifier: MIT */
/*
 * IPv6 candidates: this host's global IPv6 address, offered to a peer for
 * the simopen6 method (daemon/trav/simopen6.c), and the check of the one a
 * peer offers. Ours come from /proc/net/if_inet6 (it has the address
 * flags getifaddrs lacks): global scope, global unicast (2000::/3: no
 * link-local, loopback, multicast, unspecified, v4-mapped or ULA address),
 * not tentative, deprecated or failed duplicate address detection, on an
 * interface host-interfaces allows (daemon/config.h). The parsers and
 * classifiers are pure.
 */
#ifndef STUNT_DAEMON_HOSTADDR6_H
#define STUNT_DAEMON_HOSTADDR6_H

#include "daemon/config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define D_MAX_HOST6_ADDRS	4	/* of ours, looked at; one is offered */

/* Is ip global unicast (2000::/3)? */
bool d_hostaddr6_global(const uint8_t ip[16]);
/* One line of /proc/net/if_inet6 ("ADDR32HEX IFINDEX PLEN SCOPE FLAGS
 * IFNAME"): 1 and ip, ifname (at least IFNAMSIZ bytes) when it is an
 * address we may offer, 0 when it is not, -EINVAL when the line is not
 * one. */
int d_hostaddr6_parse_line(const char *line, uint8_t ip[16], char *ifname);
/* May the peer's candidate ip be connected to: global unicast and none of
 * our nown addresses own? */
bool d_hostaddr6_peer_ok(const uint8_t ip[16], const uint8_t (*own)[16], size_t nown);
/* Our addresses (c->ipv6 on), at most max, in the kernel's order: their
 * number (0 with ipv6 off or none), or -errno. */
int d_hostaddr6_gather(const struct d_config *c, uint8_t (*out)[16], size_t max);

#endif
