/* SPDX-License-Identifier: MIT */
/*
 * Descriptors passed beside one datagram on an AF_UNIX socket (SCM_RIGHTS):
 * stuntd's two processes (daemon/priv.c, daemon/nfq.c), its control socket
 * (daemon/control.c) and the test drivers that speak to them.
 */
#ifndef STUNT_FDPASS_H
#define STUNT_FDPASS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define FDPASS_MAX	4	/* descriptors one message may carry */

/* sendmsg of len bytes with nfds (0..FDPASS_MAX) descriptors, MSG_NOSIGNAL:
 * the bytes sent, or -1 with errno (EINVAL for a bad nfds). */
ssize_t fdpass_send(int sock, const void *buf, size_t len, const int *fds, int nfds);

/*
 * recvmsg into buf (cap bytes), flags as recvmsg's (MSG_CMSG_CLOEXEC is
 * added): the bytes received (0: the other side is gone), or -1 with errno.
 * Up to max descriptors land in fds[], *nfds says how many; any beyond max
 * are closed here. *trunc is set when the datagram or its descriptors were
 * cut short.
 */
ssize_t fdpass_recv(int sock, void *buf, size_t cap, int flags, int *fds, int max, int *nfds,
		    bool *trunc);

#endif
