// SPDX-License-Identifier: MIT
/*
 * TLS for stunt-server's TCP control connections (OpenSSL): a separate
 * listener port (--tls-port, default 5349 as for STUN over TLS, RFC 8489
 * 6.2.3) on both addresses, so that plain TCP on 3478/3479 keeps working
 * and a client chooses by port. Non-blocking: the handshake and every
 * read and write return "again" instead of waiting, and the loop waits
 * for the direction OpenSSL asks for.
 */
#ifndef STUNT_SERVER_TLS_H
#define STUNT_SERVER_TLS_H

#include <stddef.h>
#include <sys/types.h>

#define SRV_TLS_PORT_DEFAULT	5349

/* SSL_CTX for a server with this certificate chain and key (PEM), TLS
 * 1.2 or newer; NULL with err filled. */
void *srv_tls_ctx_new(const char *cert, const char *key, char *err, size_t cap);
void srv_tls_ctx_free(void *ctx);

/* A new SSL for an accepted socket, or NULL. */
void *srv_tls_new(void *ctx, int fd);
void srv_tls_free(void *ssl);

enum srv_tls_io {
	SRV_TLS_DONE,		/* handshake: finished */
	SRV_TLS_WANT_READ,
	SRV_TLS_WANT_WRITE,
	SRV_TLS_FAIL,		/* not TLS, bad handshake, or closed */
};
enum srv_tls_io srv_tls_handshake(void *ssl);

/* As recv(2) / send(2): > 0 bytes, 0 closed (recv), -1 with errno EAGAIN
 * (*want_write set when OpenSSL needs the socket writable) or EIO. */
ssize_t srv_tls_recv(void *ssl, void *buf, size_t len, int *want_write);
ssize_t srv_tls_send(void *ssl, const void *buf, size_t len, int *want_read);

#endif
