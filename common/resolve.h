/* SPDX-License-Identifier: MIT */
/*
 * Host names where an address is taken ("HOST[:PORT]": --server, --turn,
 * expose targets): a pure splitter that tells an IPv4 literal from a name,
 * and the resolution of a name to one address with getaddrinfo (files,
 * DNS: whatever nsswitch.conf says), done by the caller at start and again
 * whenever it reconnects.
 */
#ifndef STUNT_COMMON_RESOLVE_H
#define STUNT_COMMON_RESOLVE_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#define RESOLVE_NAME_MAX	253	/* a DNS name, dots included */

/*
 * "HOST" or "HOST:PORT" -> host (NUL-terminated) and *port (host order;
 * defport without a port, which may be 0; a given port must be 1-65535).
 * HOST is an IPv4 literal or a DNS name: 1-253 bytes of letters, digits,
 * '-' and '.', labels of 1-63 bytes, neither starting nor ending with '-'
 * (a trailing dot allowed). Pure. 0 or -EINVAL.
 */
int resolve_split(const char *s, uint16_t defport, char *host, size_t hostlen, uint16_t *port);

/*
 * host (a name or an IPv4 literal) and port -> out, the first IPv4 address
 * getaddrinfo gives. 0, or -ENOENT (no such name, no IPv4 address),
 * -EAGAIN (temporary failure: try again later) or -EIO, with getaddrinfo's
 * reason in why.
 */
int resolve_ipv4(const char *host, uint16_t port, struct sockaddr_in *out, char *why,
		 size_t whylen);

/*
 * The same, an IPv6 address when the name has no IPv4 one (IPv4 first: a
 * name that always meant its IPv4 address, "localhost" for a service that
 * listens on 127.0.0.1 only, keeps meaning it). Same returns.
 */
union addr_sa;
int resolve_any(const char *host, uint16_t port, union addr_sa *out, char *why, size_t whylen);

/*
 * A remote host (a stunt-server, a TURN server): the same, each family
 * only when this host has a non-loopback address of it (AI_ADDRCONFIG), so
 * that on an IPv6-only host a dual-stack name gives its IPv6 address; when
 * that finds nothing (a host with no address yet), resolve_any's answer.
 * Same returns.
 */
int resolve_remote(const char *host, uint16_t port, union addr_sa *out, char *why,
		   size_t whylen);

#endif
