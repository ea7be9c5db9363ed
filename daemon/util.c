// SPDX-License-Identifier: MIT
/* Small helpers shared by stuntd's files. */
#include "daemon/stuntd.h"

#include "common/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

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

int d_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

#ifndef TCP_RTO_MAX_MS
#define TCP_RTO_MAX_MS 44	/* linux/tcp.h since 6.15 */
#endif

/*
 * A lost segment of a new connection waits 200 ms, then 400, 800, 1600,
 * 3200 ms (RTO backoff): at 30 % loss on both WAN links (half the packets
 * lost end to end) the session header or its one-byte answer then missed
 * the 10 s deadline in a third of the connects whose SYNs had met (seen:
 * the answer sent again after 0.2, 2.9, 7.8 s). Linear timeouts
 * (TCP_THIN_LINEAR_TIMEOUTS) do not help there: the kernel applies them
 * only after the initial slow start, never on a fresh connection. A
 * capped RTO does: at most a second between two copies.
 */
void d_tcp_short_rto(int fd)
{
	int one = 1, ms = D_TCP_RTO_MAX_MS;

	if (setsockopt(fd, IPPROTO_TCP, TCP_THIN_LINEAR_TIMEOUTS, &one, sizeof(one)) < 0)
		log_debug("TCP_THIN_LINEAR_TIMEOUTS: %s", strerror(errno));
	if (setsockopt(fd, IPPROTO_TCP, TCP_RTO_MAX_MS, &ms, sizeof(ms)) < 0)
		log_debug("TCP_RTO_MAX_MS: %s", strerror(errno));
}
