/* SPDX-License-Identifier: MIT */
/* IPv4 and IPv6 endpoints on command lines and in config files. */
#ifndef STUNT_ADDR_H
#define STUNT_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* An endpoint of either family (sa.sa_family tells which). */
union addr_sa {
	struct sockaddr		sa;
	struct sockaddr_in	in;
	struct sockaddr_in6	in6;
};

/* The length of a's sockaddr for bind/connect/sendto: by its family. */
socklen_t addr_sa_len(const union addr_sa *a);
/* a's port, host order. */
uint16_t addr_sa_port(const union addr_sa *a);
/* Set a's port (host order), in a's family (IPv4 unless AF_INET6). */
void addr_sa_set_port(union addr_sa *a, uint16_t port);
/* Do a and b name the same IP address (same family)? Ports not compared. */
bool addr_sa_same_ip(const union addr_sa *a, const union addr_sa *b);

/*
 * "A.B.C.D" or "A.B.C.D:PORT" -> out (network order). Without a port, out
 * gets defport (which may be 0); a given port must be 1-65535.
 * Returns 0 or -EINVAL. Pure: no name resolution, no I/O.
 */
int addr_parse_ipv4(const char *s, uint16_t defport, struct sockaddr_in *out);

/*
 * "2001:db8::1", "[2001:db8::1]" or "[2001:db8::1]:PORT" -> out (network
 * order), the port as addr_parse_ipv4's; a port needs the brackets (RFC
 * 3986 3.2.2). No zone ("%eth0"), no dotted quad. Returns 0 or -EINVAL.
 * Pure.
 */
int addr_parse_ipv6(const char *s, uint16_t defport, struct sockaddr_in6 *out);

/* Either of the two above (IPv4 first) into out. 0 or -EINVAL. Pure. */
int addr_parse_any(const char *s, uint16_t defport, union addr_sa *out);

#endif
