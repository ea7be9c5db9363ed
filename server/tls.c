// SPDX-License-Identifier: MIT
/* TLS control connections: see server/tls.h. */
#include "server/tls.h"

#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>

/* why OPTION's file could not be used: the system's reason when it cannot
 * be opened, else OpenSSL's (never "(null)") */
static void file_err(char *err, size_t cap, const char *opt, const char *path)
{
	unsigned long e = ERR_peek_error();	/* the first: the cause */
	const char *r = e ? ERR_reason_error_string(e) : NULL;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		snprintf(err, cap, "%s %s: %s", opt, path, strerror(errno));
	else
		snprintf(err, cap, "%s %s: %s", opt, path,
			 r ? r : "no PEM data OpenSSL could use in it");
	if (f)
		fclose(f);
	ERR_clear_error();
}

void *srv_tls_ctx_new(const char *cert, const char *key, char *err, size_t cap)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx) {
		snprintf(err, cap, "SSL_CTX_new failed");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* the output buffer is compacted between partial writes */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		file_err(err, cap, "--tls-cert", cert);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		file_err(err, cap, "--tls-key", key);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, cap, "--tls-key %s does not match the certificate of --tls-cert %s",
			 key, cert);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

void srv_tls_ctx_free(void *ctx)
{
	SSL_CTX_free(ctx);
}

void *srv_tls_new(void *ctx, int fd)
{
	SSL *s = SSL_new(ctx);

	if (!s)
		return NULL;
	if (SSL_set_fd(s, fd) != 1) {
		SSL_free(s);
		return NULL;
	}
	SSL_set_accept_state(s);
	return s;
}

void srv_tls_free(void *ssl)
{
	SSL_free(ssl);
	ERR_clear_error();
}

enum srv_tls_io srv_tls_handshake(void *ssl)
{
	int r = SSL_do_handshake(ssl);

	if (r == 1)
		return SRV_TLS_DONE;
	switch (SSL_get_error(ssl, r)) {
	case SSL_ERROR_WANT_READ:
		return SRV_TLS_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return SRV_TLS_WANT_WRITE;
	default:
		ERR_clear_error();
		return SRV_TLS_FAIL;
	}
}

static ssize_t io_result(void *ssl, int r, int *want_other, int other)
{
	int e = SSL_get_error(ssl, r);

	*want_other = 0;
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		*want_other = e == other;
		errno = EAGAIN;
		return -1;
	}
	if (e == SSL_ERROR_ZERO_RETURN)
		return 0;
	ERR_clear_error();
	errno = EIO;
	return -1;
}

ssize_t srv_tls_recv(void *ssl, void *buf, size_t len, int *want_write)
{
	int r = SSL_read(ssl, buf, len > INT_MAX ? INT_MAX : (int)len);

	*want_write = 0;
	return r > 0 ? r : io_result(ssl, r, want_write, SSL_ERROR_WANT_WRITE);
}

ssize_t srv_tls_send(void *ssl, const void *buf, size_t len, int *want_read)
{
	int r = SSL_write(ssl, buf, len > INT_MAX ? INT_MAX : (int)len);

	*want_read = 0;
	if (r > 0)
		return r;
	r = (int)io_result(ssl, r, want_read, SSL_ERROR_WANT_READ);
	/* SSL_write never returns a clean 0 for a live peer */
	if (r == 0)
		errno = EPIPE;
	return -1;
}
