// SPDX-License-Identifier: MIT
#include "common/addr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The PORT after a ':': 1-65535, digits only. */
static int parse_port(const char *s, unsigned long *port)
{
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	*port = strtoul(s, &end, 10);
	if (errno || *end || *port == 0 || *port > 65535)
		return -EINVAL;
	return 0;
}

int addr_parse_ipv4(const char *s, uint16_t defport, struct sockaddr_in *out)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = strchr(s, ':');
	size_t hl = colon ? (size_t)(colon - s) : strlen(s);
	unsigned long port = defport;

	if (hl == 0 || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (colon && parse_port(colon + 1, &port) < 0)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	out->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &out->sin_addr) != 1)
		return -EINVAL;
	return 0;
}

int addr_parse_ipv6(const char *s, uint16_t defport, struct sockaddr_in6 *out)
{
	char host[INET6_ADDRSTRLEN];
	const char *h = s, *close = NULL;
	unsigned long port = defport;
	size_t hl;

	if (s[0] == '[') {
		/* the brackets set a port apart from the address's own colons */
		if (!(close = strchr(s, ']')) || (close[1] && close[1] != ':'))
			return -EINVAL;
		h = s + 1;
		hl = (size_t)(close - h);
		if (close[1] && parse_port(close + 2, &port) < 0)
			return -EINVAL;
	} else {
		hl = strlen(s);
	}
	if (hl == 0 || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	memset(out, 0, sizeof(*out));
	out->sin6_family = AF_INET6;
	out->sin6_port = htons((uint16_t)port);
	/* inet_pton refuses a zone ("%eth0") and IPv4 dotted quads */
	if (inet_pton(AF_INET6, host, &out->sin6_addr) != 1)
		return -EINVAL;
	return 0;
}

socklen_t addr_sa_len(const union addr_sa *a)
{
	return a->sa.sa_family == AF_INET6 ? sizeof(a->in6) : sizeof(a->in);
}

uint16_t addr_sa_port(const union addr_sa *a)
{
	return ntohs(a->sa.sa_family == AF_INET6 ? a->in6.sin6_port : a->in.sin_port);
}

void addr_sa_set_port(union addr_sa *a, uint16_t port)
{
	if (a->sa.sa_family == AF_INET6)
		a->in6.sin6_port = htons(port);
	else
		a->in.sin_port = htons(port);
}

bool addr_sa_same_ip(const union addr_sa *a, const union addr_sa *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	if (a->sa.sa_family == AF_INET6)
		return !memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, 16);
	return a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
}

int addr_parse_any(const char *s, uint16_t defport, union addr_sa *out)
{
	memset(out, 0, sizeof(*out));
	if (addr_parse_ipv4(s, defport, &out->in) == 0)
		return 0;
	memset(out, 0, sizeof(*out));
	return addr_parse_ipv6(s, defport, &out->in6);
}
