// SPDX-License-Identifier: MIT
/*
 * stuntctl genkey [--raw] [ID]: a 256-bit secret from getrandom(2), printed
 * as the line the server's secrets file takes and the content of the host's
 * secret file. Needs no daemon.
 */
#include "ctl/cli.h"
#include "ctl/ctl.h"

#include "common/usage.h"
#include "proto/sig.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

void ctl_key_hex(const uint8_t key[CTL_KEY_BYTES], char *hex)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < CTL_KEY_BYTES; i++) {
		hex[2 * i] = digits[key[i] >> 4];
		hex[2 * i + 1] = digits[key[i] & 15];
	}
	hex[CTL_KEY_HEX] = '\0';
}

int ctl_genkey_format(const uint8_t key[CTL_KEY_BYTES], const char *id, bool raw, char *out,
		      size_t size)
{
	char hex[CTL_KEY_HEX + 1];
	int w;

	if (id == NULL || !sig_id_valid(id, strlen(id)))
		return -EINVAL;
	ctl_key_hex(key, hex);
	if (raw)
		w = snprintf(out, size, "%s\n", hex);
	else
		w = snprintf(out, size,
			     "# a 256-bit secret for peer %s\n"
			     "#\n"
			     "# on the stunt-server host: this line in its --secrets file\n"
			     "# (e.g. /etc/stunt/secrets, mode 600, owned by the server's user):\n"
			     "%s %s\n"
			     "#\n"
			     "# on the host %s: this line alone in stuntd's --secret-file\n"
			     "# (e.g. /etc/stunt/secret, mode 600):\n"
			     "%s\n", id, id, hex, id, hex);
	explicit_bzero(hex, sizeof(hex));
	if (w < 0 || (size_t)w >= size)
		return -ENOSPC;
	return w;
}

/* this host's name up to the first dot, when it is a valid id */
static const char *host_id(char *buf, size_t size)
{
	if (gethostname(buf, size) < 0)
		return NULL;
	buf[size - 1] = '\0';
	buf[strcspn(buf, ".")] = '\0';
	return sig_id_valid(buf, strlen(buf)) ? buf : NULL;
}

int ctl_cmd_genkey(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "raw", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint8_t key[CTL_KEY_BYTES];
	char out[1024], host[256];
	const char *id;
	bool raw = false;
	ssize_t n;
	int c, w;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'r': raw = true; break;
		case 'h': ctl_usage(stdout); return EXIT_OK;
		default: return usage_err_getopt(PROG, c, argv);
		}
	}
	if (argc - optind > 1)
		return ctl_die_usage("genkey: unexpected argument '%s'", argv[optind + 1]);
	id = optind < argc ? argv[optind] : host_id(host, sizeof(host));
	if (id == NULL)
		return ctl_die_usage("genkey: %s", "this host's name is no valid id: give ID");
	if (!sig_id_valid(id, strlen(id)))
		return ctl_die_usage("genkey: '%s' is no valid id (1-64 of A-Z a-z 0-9 . _ -)", id);
	n = getrandom(key, sizeof(key), 0);
	if (n != (ssize_t)sizeof(key)) {
		fprintf(stderr, PROG ": genkey: getrandom: %s\n", n < 0 ? strerror(errno) : "short");
		return EXIT_FAILED;
	}
	w = ctl_genkey_format(key, id, raw, out, sizeof(out));
	explicit_bzero(key, sizeof(key));
	if (w < 0) {
		fprintf(stderr, PROG ": genkey: %s\n", strerror(-w));
		return EXIT_FAILED;
	}
	c = fwrite(out, 1, (size_t)w, stdout) == (size_t)w && fflush(stdout) == 0;
	explicit_bzero(out, sizeof(out));
	if (!c) {
		fprintf(stderr, PROG ": genkey: writing: %s\n", strerror(errno));
		return EXIT_FAILED;
	}
	return EXIT_OK;
}
