/* SPDX-License-Identifier: MIT */
/* IPv4 endpoints on command lines and in config files. */
#ifndef STUNT_ADDR_H
#define STUNT_ADDR_H

#include <netinet/in.h>
#include <stdint.h>

/*
 * "A.B.C.D" or "A.B.C.D:PORT" -> out (network order). Without a port, out
 * gets defport (which may be 0); a given port must be 1-65535.
 * Returns 0 or -EINVAL. Pure: no name resolution, no I/O.
 */
int addr_parse_ipv4(const char *s, uint16_t defport, struct sockaddr_in *out);

#endif
