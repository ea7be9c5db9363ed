// SPDX-License-Identifier: MIT
/* stuntd's TLS client: see daemon/tls.h. */
#include "daemon/tls.h"
#include "common/addr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

int d_tls_pin_parse(const char *hex, uint8_t pin[D_TLS_SHA256_LEN])
{
	uint8_t out[D_TLS_SHA256_LEN];
	size_t i;
	int hi, lo;

	for (i = 0; i < D_TLS_SHA256_LEN; i++) {
		if (i > 0 && *hex == ':')
			hex++;
		hi = hexval((unsigned char)hex[0]);
		lo = hi < 0 ? -1 : hexval((unsigned char)hex[1]);
		if (lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
		hex += 2;
	}
	if (*hex != '\0')
		return -EINVAL;
	memcpy(pin, out, sizeof(out));
	return 0;
}

/* SHA-256 of the DER SubjectPublicKeyInfo of x. */
static int spki_sha256(X509 *x, uint8_t out[D_TLS_SHA256_LEN])
{
	unsigned char *der = NULL;
	unsigned int mdlen = 0;
	int n, err = -EINVAL;

	n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	if (n <= 0)
		return -EINVAL;
	if (EVP_Digest(der, (size_t)n, out, &mdlen, EVP_sha256(), NULL) == 1 &&
	    mdlen == D_TLS_SHA256_LEN)
		err = 0;
	OPENSSL_free(der);
	return err;
}

int d_tls_cert_pin(const uint8_t *der, size_t len, uint8_t out[D_TLS_SHA256_LEN])
{
	const unsigned char *p = der;
	X509 *x;
	int err;

	if (len == 0 || len > 65536)
		return -EINVAL;
	x = d2i_X509(NULL, &p, (long)len);
	if (x == NULL)
		return -EINVAL;
	err = p == der + len ? spki_sha256(x, out) : -EINVAL;	/* nothing after it */
	X509_free(x);
	return err;
}

int d_tls_pin_match(const uint8_t *der, size_t len, const uint8_t pin[D_TLS_SHA256_LEN])
{
	uint8_t got[D_TLS_SHA256_LEN];

	if (d_tls_cert_pin(der, len, got) < 0)
		return -EINVAL;
	return CRYPTO_memcmp(got, pin, sizeof(got)) == 0;
}

struct ssl_ctx_st *d_tls_ctx_new(const char *ca_file, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL) {
		snprintf(err, errlen, "SSL_CTX_new failed");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* daemon/sig.c compacts its output buffer between partial writes */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	if (ca_file && ca_file[0]) {
		if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
			FILE *f = fopen(ca_file, "r");

			/* the system's reason when it cannot be opened, else OpenSSL's */
			snprintf(err, errlen, "tls-ca %s: %s", ca_file,
				 f == NULL ? strerror(errno) :
				 ERR_reason_error_string(ERR_peek_error()) ?:
				 "no PEM certificate OpenSSL could use in it");
			if (f)
				fclose(f);
			ERR_clear_error();
			SSL_CTX_free(ctx);
			return NULL;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	} else {
		/* the pin alone: checked in d_tls_handshake() before anything is sent */
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	}
	return ctx;
}

void d_tls_ctx_free(struct ssl_ctx_st *ctx)
{
	SSL_CTX_free(ctx);
}

struct ssl_st *d_tls_new(struct ssl_ctx_st *ctx, int fd, const char *name,
			 const union addr_sa *ip)
{
	X509_VERIFY_PARAM *vp;
	char a[INET6_ADDRSTRLEN];
	SSL *s = SSL_new(ctx);

	if (s == NULL)
		return NULL;
	vp = SSL_get0_param(s);
	if (SSL_set_fd(s, fd) != 1)
		goto fail;
	if (name && name[0]) {
		if (SSL_set_tlsext_host_name(s, name) != 1 ||
		    X509_VERIFY_PARAM_set1_host(vp, name, 0) != 1)
			goto fail;
	} else {
		if ((ip->sa.sa_family == AF_INET6 ?
		     inet_ntop(AF_INET6, &ip->in6.sin6_addr, a, sizeof(a)) :
		     inet_ntop(AF_INET, &ip->in.sin_addr, a, sizeof(a))) == NULL ||
		    X509_VERIFY_PARAM_set1_ip_asc(vp, a) != 1)
			goto fail;
	}
	SSL_set_connect_state(s);
	return s;
fail:
	SSL_free(s);
	return NULL;
}

void d_tls_free(struct ssl_st *s)
{
	SSL_free(s);
}

static void hex(const uint8_t *b, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static int check_pin(SSL *s, const uint8_t *pin, char *why, size_t whylen)
{
	uint8_t got[D_TLS_SHA256_LEN];
	char h[2 * D_TLS_SHA256_LEN + 1];
	X509 *x = SSL_get0_peer_certificate(s);

	if (x == NULL) {
		snprintf(why, whylen, "the server sent no certificate");
		return -EACCES;
	}
	if (spki_sha256(x, got) < 0) {
		snprintf(why, whylen, "cannot hash the server's public key");
		return -EACCES;
	}
	if (CRYPTO_memcmp(got, pin, sizeof(got)) != 0) {
		hex(got, sizeof(got), h);
		snprintf(why, whylen, "server key pin mismatch (its key is %s)", h);
		return -EACCES;
	}
	return 0;
}

int d_tls_handshake(struct ssl_st *s, const uint8_t *pin, bool *want_write, char *why,
		    size_t whylen)
{
	unsigned long e;
	long vr;
	int r;

	*want_write = false;
	ERR_clear_error();
	r = SSL_connect(s);
	if (r == 1) {
		if (pin && (r = check_pin(s, pin, why, whylen)) < 0)
			return r;
		return 1;
	}
	switch (SSL_get_error(s, r)) {
	case SSL_ERROR_WANT_READ:
		return 0;
	case SSL_ERROR_WANT_WRITE:
		*want_write = true;
		return 0;
	case SSL_ERROR_SYSCALL:
		snprintf(why, whylen, "TLS handshake: %s",
			 errno ? strerror(errno) : "the server closed the connection");
		return -EPROTO;
	default:
		vr = SSL_get_verify_result(s);
		if (vr != X509_V_OK) {
			snprintf(why, whylen, "server certificate verify failed: %s",
				 X509_verify_cert_error_string(vr));
			return -EACCES;
		}
		e = ERR_get_error();
		snprintf(why, whylen, "TLS handshake: %s",
			 e ? ERR_reason_error_string(e) ?: "error" : "error");
		return -EPROTO;
	}
}

void d_tls_describe(struct ssl_st *s, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s %s", SSL_get_version(s), SSL_get_cipher_name(s));
}

static ssize_t io_result(SSL *s, int r, bool *want_write)
{
	*want_write = false;
	switch (SSL_get_error(s, r)) {
	case SSL_ERROR_WANT_READ:
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		*want_write = true;
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	default:
		return -EIO;
	}
}

ssize_t d_tls_read(struct ssl_st *s, void *buf, size_t len, bool *want_write)
{
	size_t n = 0;
	int r;

	ERR_clear_error();
	r = SSL_read_ex(s, buf, len, &n);
	if (r == 1) {
		*want_write = false;
		return (ssize_t)n;
	}
	return io_result(s, r, want_write);
}

ssize_t d_tls_write(struct ssl_st *s, const void *buf, size_t len, bool *want_write)
{
	size_t n = 0;
	int r;

	ERR_clear_error();
	r = SSL_write_ex(s, buf, len, &n);
	if (r == 1) {
		*want_write = false;
		return (ssize_t)n;
	}
	r = (int)io_result(s, r, want_write);
	return r == 0 ? -EIO : r;	/* a write cannot see a clean close */
}
