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

int resolve_ipv4(const char *host, uint16_t port, struct sockaddr_in *out, char *why,
		 size_t whylen)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	int rc;

	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0 || res == NULL || res->ai_addrlen < sizeof(*out)) {
		snprintf(why, whylen, "%s", rc == EAI_SYSTEM ? strerror(errno) :
			 rc ? gai_strerror(rc) : "no IPv4 address");
		if (res)
			freeaddrinfo(res);
		return gai_err(rc);
	}
	memcpy(out, res->ai_addr, sizeof(*out));
	out->sin_port = htons(port);
	freeaddrinfo(res);
	return 0;
}

int resolve_any(const char *host, uint16_t port, union addr_sa *out, char *why, size_t whylen)
{
	struct addrinfo hints = { .ai_family = AF_INET6, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	int rc, e;

	memset(out, 0, sizeof(*out));
	e = resolve_ipv4(host, port, &out->in, why, whylen);
	if (e != -ENOENT)
		return e;
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0 || res == NULL || res->ai_addrlen < sizeof(out->in6)) {
		/* (a name not known keeps the IPv4 lookup's words) */
		if (rc == 0)
			snprintf(why, whylen, "no IPv4 or IPv6 address");
		else if (!not_found(rc))
			snprintf(why, whylen, "%s", rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		if (res)
			freeaddrinfo(res);
		return gai_err(rc);
	}
	memset(out, 0, sizeof(*out));
	memcpy(&out->in6, res->ai_addr, sizeof(out->in6));
	out->in6.sin6_port = htons(port);
	freeaddrinfo(res);
	return 0;
}
