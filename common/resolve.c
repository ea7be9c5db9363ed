// SPDX-License-Identifier: MIT
/* Host names to IPv4 addresses. See common/resolve.h. */
#include "common/resolve.h"
#include "common/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static int is_alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

/* a DNS name (or an IPv4 literal, which is one syntactically) of len bytes */
static int name_valid(const char *s, size_t len)
{
	size_t i, label = 0;

	if (len == 0 || len > RESOLVE_NAME_MAX)
		return 0;
	if (s[len - 1] == '.')
		len--;		/* the root: "host.example." */
	if (len == 0)
		return 0;
	for (i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!is_alnum(s[i]) && !(s[i] == '-' && label > 0))
			return 0;
		label++;
	}
	return 1;
}

/* a last label of digits only: an IPv4 literal (300.1.1.1 is neither) */
static int literal_or_name(const char *s, size_t len)
{
	char buf[INET_ADDRSTRLEN];
	struct in_addr a;
	size_t i = len;

	if (s[len - 1] == '.')
		return 1;
	while (i > 0 && s[i - 1] != '.') {
		if (s[i - 1] < '0' || s[i - 1] > '9')
			return 1;
		i--;
	}
	if (len >= sizeof(buf))
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(AF_INET, buf, &a) == 1;
}

int resolve_split(const char *s, uint16_t defport, char *host, size_t hostlen, uint16_t *port)
{
	const char *colon;
	unsigned long v;
	size_t hlen;
	char *end;

	if (s == NULL || host == NULL || hostlen == 0)
		return -EINVAL;
	colon = strchr(s, ':');
	hlen = colon ? (size_t)(colon - s) : strlen(s);
	if (!name_valid(s, hlen) || hlen >= hostlen || !literal_or_name(s, hlen))
		return -EINVAL;
	if (colon) {
		if (colon[1] < '0' || colon[1] > '9')
			return -EINVAL;
		errno = 0;
		v = strtoul(colon + 1, &end, 10);
		if (errno || *end || v == 0 || v > 65535)
			return -EINVAL;
		*port = (uint16_t)v;
	} else {
		*port = defport;
	}
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	return 0;
}

/* getaddrinfo's answer rc (0: it gave nothing usable) names no address */
static bool not_found(int rc)
{
	return rc == 0 || rc == EAI_NONAME || rc == EAI_NODATA || rc == EAI_ADDRFAMILY;
}

/* rc as this file's -errno */
static int gai_err(int rc)
{
	return rc == EAI_AGAIN ? -EAGAIN : not_found(rc) ? -ENOENT : -EIO;
}

/* The first address of family af getaddrinfo gives for host (flags: its
 * ai_flags) into out with port; why and the return as resolve_ipv4's. */
static int lookup(const char *host, uint16_t port, int af, int flags, union addr_sa *out,
		  char *why, size_t whylen)
{
	struct addrinfo hints = { .ai_family = af, .ai_socktype = SOCK_STREAM, .ai_flags = flags };
	struct addrinfo *res = NULL;
	socklen_t want = af == AF_INET6 ? sizeof(out->in6) : sizeof(out->in);
	int rc;

	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0 || res == NULL || res->ai_addrlen < want) {
		snprintf(why, whylen, "%s", rc == EAI_SYSTEM ? strerror(errno) :
			 rc ? gai_strerror(rc) : af == AF_INET6 ? "no IPv6 address" :
			 "no IPv4 address");
		if (res)
			freeaddrinfo(res);
		return gai_err(rc);
	}
	memset(out, 0, sizeof(*out));
	memcpy(out, res->ai_addr, want);
	addr_sa_set_port(out, port);
	freeaddrinfo(res);
	return 0;
}

int resolve_ipv4(const char *host, uint16_t port, struct sockaddr_in *out, char *why,
		 size_t whylen)
{
	union addr_sa a;
	int e = lookup(host, port, AF_INET, 0, &a, why, whylen);

	if (e == 0)
		*out = a.in;
	return e;
}

/* IPv4 first, else IPv6; why keeps the IPv4 lookup's words when neither
 * is found (flags: getaddrinfo's, for both) */
static int v4_then_v6(const char *host, uint16_t port, int flags, union addr_sa *out,
		      char *why, size_t whylen)
{
	char why6[128];
	int e;

	e = lookup(host, port, AF_INET, flags, out, why, whylen);
	if (e != -ENOENT)
		return e;
	e = lookup(host, port, AF_INET6, flags, out, why6, sizeof(why6));
	if (e < 0 && e != -ENOENT)
		snprintf(why, whylen, "%s", why6);
	return e;
}

int resolve_any(const char *host, uint16_t port, union addr_sa *out, char *why, size_t whylen)
{
	return v4_then_v6(host, port, 0, out, why, whylen);
}

int resolve_remote(const char *host, uint16_t port, union addr_sa *out, char *why,
		   size_t whylen)
{
	int e = v4_then_v6(host, port, AI_ADDRCONFIG, out, why, whylen);

	/* a host with no address yet (early at boot): as resolve_any, so that
	 * a name that resolved before AI_ADDRCONFIG was asked still does */
	return e == -ENOENT ? v4_then_v6(host, port, 0, out, why, whylen) : e;
}
