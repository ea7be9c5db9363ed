// SPDX-License-Identifier: MIT
/* stuntctl's command-line arguments: PEER/NAME, [ADDR:]PORT, method names;
 * addresses printed back. */
#include "ctl/ctl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ctl_parse_target(const char *arg, struct ctl_target *out)
{
	const char *slash;
	size_t plen, slen;

	if (!arg)
		return -EINVAL;
	slash = strchr(arg, '/');
	if (!slash || strchr(slash + 1, '/'))
		return -EINVAL;
	plen = (size_t)(slash - arg);
	slen = strlen(slash + 1);
	if (!sig_id_valid(arg, plen) || !sig_id_valid(slash + 1, slen))
		return -EINVAL;
	memcpy(out->peer, arg, plen);
	out->peer[plen] = '\0';
	memcpy(out->service, slash + 1, slen);
	out->service[slen] = '\0';
	return 0;
}

static int parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;
	size_t i;

	if (!*s || strlen(s) > 5)
		return -EINVAL;
	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int ctl_parse_listen(const char *arg, struct sockaddr_storage *ss, socklen_t *sslen)
{
	char host[64];
	const char *colon, *portstr;
	uint16_t port;
	size_t hlen;

	if (!arg)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (arg[0] == '[') {
		const char *end = strchr(arg, ']');
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		if (!end || end[1] != ':')
			return -EINVAL;
		hlen = (size_t)(end - arg - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, arg + 1, hlen);
		host[hlen] = '\0';
		if (parse_port(end + 2, &port) < 0 || inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			return -EINVAL;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*sslen = sizeof(*s6);
		return 0;
	}

	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	colon = strrchr(arg, ':');
	if (colon) {
		hlen = (size_t)(colon - arg);
		portstr = colon + 1;
		if (hlen == 0 || hlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, arg, hlen);
		host[hlen] = '\0';
	} else {
		strcpy(host, "127.0.0.1");
		portstr = arg;
	}
	if (parse_port(portstr, &port) < 0)
		return -EINVAL;
	if (strcmp(host, "*") == 0)
		strcpy(host, "0.0.0.0");
	else if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
		return -EINVAL;
	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	*sslen = sizeof(*s4);
	return 0;
}

void ctl_addr_str(const struct sockaddr_storage *ss, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, size, "[%s]:%u", ip, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(buf, size, "%s:%u", ip, ntohs(s4->sin_port));
	}
}

bool ctl_method_valid(const char *name)
{
	static const char *const methods[] = {
		"direct", "portmap", "reversal", "simopen", "stunt1", "stunt2",
		"synth", "predict", "shotgun", "udp", "relay", "host", "simopen6", "udp6",
	};
	size_t i;

	for (i = 0; name && i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(name, methods[i]) == 0)
			return true;
	return false;
}
