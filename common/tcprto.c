// SPDX-License-Identifier: MIT
/* A thin stream's retransmissions: see tcprto.h. */
#include "common/tcprto.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#ifndef TCP_RTO_MAX_MS
#define TCP_RTO_MAX_MS 44	/* linux/tcp.h since 6.15 */
#endif

int tcp_rto_cap(int fd)
{
	int one = 1, ms = TCP_RTO_CAP_MS;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_THIN_LINEAR_TIMEOUTS, &one, sizeof(one));
	if (setsockopt(fd, IPPROTO_TCP, TCP_RTO_MAX_MS, &ms, sizeof(ms)) < 0)
		return -errno;
	return 0;
}
