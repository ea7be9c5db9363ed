// SPDX-License-Identifier: MIT
/* Small helpers shared by stuntd's files. */
#include "daemon/stuntd.h"

#include "common/log.h"
#include "common/tcprto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

/* The one daemon instance (daemon/main.c sets it) and the signal flags. */
struct stuntd *g_d;
volatile sig_atomic_t d_sig_term, d_sig_chld, d_sig_hup;

void d_json_str(FILE *f, const char *s)
{
	if (s == NULL) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

const char *d_ip_str(uint32_t ip_be, char *buf)
{
	struct in_addr a = { .s_addr = ip_be };

	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN) ? buf : "?";
}

const char *d_ep_str(const struct sockaddr *sa, char *buf, size_t len)
{
	union addr_sa a;

	memset(&a, 0, sizeof(a));
	if (sa->sa_family == AF_INET6)
		memcpy(&a.in6, sa, sizeof(a.in6));
	else if (sa->sa_family == AF_INET)
		memcpy(&a.in, sa, sizeof(a.in));
	return addr_sa_str(&a, buf, len);
}

int d_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

void d_tcp_short_rto(int fd)
{
	int err = tcp_rto_cap(fd);

	if (err < 0)
		log_debug("TCP_RTO_MAX_MS: %s", strerror(-err));
}
