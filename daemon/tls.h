/* SPDX-License-Identifier: MIT */
/*
 * stuntd's TLS client for the signalling connection (OpenSSL). The server
 * is authenticated before anything is sent to it, by either or both of:
 *
 *   - a CA bundle (tls-ca): the chain verified, and the certificate's name
 *     (server-name) or else its IP address (the address we connect to);
 *   - a pin (tls-pin): the SHA-256 of the certificate's SubjectPublicKeyInfo,
 *     as printed by
 *       openssl x509 -in cert.pem -pubkey -noout |
 *       openssl pkey -pubin -outform der | openssl dgst -sha256
 *
 * The handshake is non-blocking: d_tls_handshake() is called again whenever
 * the socket is ready, as it asks. The pin parser and the pin computation
 * are pure (no I/O) for the unit tests.
 */
#ifndef STUNT_DAEMON_TLS_H
#define STUNT_DAEMON_TLS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define D_TLS_SHA256_LEN	32

struct ssl_ctx_st;
struct ssl_st;

/* 64 hex digits, optionally with ':' between the bytes (as openssl dgst -c
 * prints them), into pin[32]. 0 or -EINVAL. */
int d_tls_pin_parse(const char *hex, uint8_t pin[D_TLS_SHA256_LEN]);

/* SHA-256 of the SubjectPublicKeyInfo of a DER certificate. 0 or -EINVAL. */
int d_tls_cert_pin(const uint8_t *der, size_t len, uint8_t out[D_TLS_SHA256_LEN]);

/* Does the DER certificate's key match pin? 1 yes, 0 no, -EINVAL not a
 * certificate. The comparison takes the same time whatever matches. */
int d_tls_pin_match(const uint8_t *der, size_t len, const uint8_t pin[D_TLS_SHA256_LEN]);

/* A client context: TLS 1.2 or newer, the chain verified against ca_file
 * when given (NULL: the pin alone authenticates). NULL with err set. */
struct ssl_ctx_st *d_tls_ctx_new(const char *ca_file, char *err, size_t errlen);
void d_tls_ctx_free(struct ssl_ctx_st *ctx);

/* A connection over the connected socket fd, the certificate checked for
 * name (a DNS name) when given, else for the IP address of ip (IPv4 or
 * IPv6). NULL on error. */
union addr_sa;
struct ssl_st *d_tls_new(struct ssl_ctx_st *ctx, int fd, const char *name,
			 const union addr_sa *ip);
void d_tls_free(struct ssl_st *s);

/*
 * Drive the handshake: 1 done and the server authenticated (and its key
 * matching pin when pin is not NULL), 0 not yet (wait for readable, or also
 * writable when *want_write), -EACCES the server is not who it must be,
 * -EPROTO any other failure; why says what in both cases.
 */
int d_tls_handshake(struct ssl_st *s, const uint8_t *pin, bool *want_write, char *why,
		    size_t whylen);

/* Protocol and cipher of an established connection, for the log. */
void d_tls_describe(struct ssl_st *s, char *out, size_t outlen);

/* Like recv()/send() on a non-blocking socket: bytes moved, 0 (read) the
 * server closed, -EAGAIN try again when ready (also writable when
 * *want_write), -EIO the connection is broken. */
ssize_t d_tls_read(struct ssl_st *s, void *buf, size_t len, bool *want_write);
ssize_t d_tls_write(struct ssl_st *s, const void *buf, size_t len, bool *want_write);

#endif
