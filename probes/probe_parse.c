// SPDX-License-Identifier: MIT
/*
 * The probe's parsers of what the network sends it, outside STUN (which is
 * proto/): PCP MAP responses, ICMP time-exceeded quotes, SSDP answers and
 * the address in a UPnP URL.
 * Pure: no I/O, no globals, every read bounded by the length; the fuzzer
 * (tests/fuzz/fuzz_probe.c) and the unit tests call them directly.
 */
#include "probes/probe_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#define ICMP_TIME_EXCEEDED_TYPE	11
#define ICMP6_TIME_EXCEEDED_TYPE	3	/* RFC 4443 3.3 */
#define PCP_OP_MAP		1
#define PCP_MAP_RESP_LEN	60

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * PCP MAP response, RFC 6887 7.2 and 11.1:
 *
 *  0 version=2 | R=1, opcode=1 | reserved (8) | result code (8)
 *  4 lifetime (32)
 *  8 epoch time (32)
 * 12 reserved (96)
 * 24 mapping nonce (96)
 * 36 protocol (8) | reserved (24)
 * 40 internal port (16) | assigned external port (16)
 * 44 assigned external IP address (128, IPv4-mapped)
 */
int probe_pcp_parse_map(const uint8_t *buf, size_t len, const uint8_t nonce[12],
			struct probe_pcp_map *out)
{
	static const uint8_t v4map[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(out, 0, sizeof(*out));
	/* RFC 6887 8.3: a response (R set) to our opcode; an error may come
	 * without the opcode part, a success must carry our nonce */
	if (len < 24 || buf[1] != (0x80 | PCP_OP_MAP))
		return -EINVAL;
	out->result = buf[3];
	out->lifetime = rd32(buf + 4);
	if (out->result != 0)
		return 0;
	if (len < PCP_MAP_RESP_LEN || memcmp(buf + 24, nonce, 12) != 0)
		return -EINVAL;
	out->ext_port = (uint16_t)(buf[42] << 8 | buf[43]);
	if (memcmp(buf + 44, v4map, sizeof(v4map)) == 0)
		memcpy(&out->ext_ip, buf + 56, 4);
	return 0;
}

/*
 * ICMP time-exceeded on a raw socket: outer IP header (ihl), ICMP header
 * (8: type 11, code, checksum, unused), the quoted IP header (its own ihl)
 * and at least the first 8 bytes of our TCP header (RFC 792): we need its
 * source port, and the quoted destination must be the server.
 */
int probe_icmp_parse_te(const uint8_t *buf, size_t len, uint32_t srv_ip, uint32_t *router,
			uint16_t *sport)
{
	const uint8_t *in;
	size_t ihl, iihl;

	if (len < 20)
		return -EINVAL;
	ihl = (size_t)(buf[0] & 0x0f) * 4;
	if (ihl < 20 || len < ihl + 8 + 20 || buf[ihl] != ICMP_TIME_EXCEEDED_TYPE)
		return -EINVAL;
	in = buf + ihl + 8;
	iihl = (size_t)(in[0] & 0x0f) * 4;
	if (iihl < 20 || len < ihl + 8 + iihl + 4 || in[9] != IPPROTO_TCP ||
	    memcmp(in + 16, &srv_ip, 4) != 0)
		return -EINVAL;
	*sport = (uint16_t)(in[iihl] << 8 | in[iihl + 1]);
	memcpy(router, buf + 12, 4);
	return 0;
}

/*
 * ICMPv6 time exceeded (RFC 4443 3.3) as a raw ICMPv6 socket hands it over:
 * type 3, code, checksum, 4 unused bytes, then the invoking packet: its
 * 40-byte IPv6 header (next header TCP, destination the server) and at
 * least the TCP source port.
 */
int probe_icmp6_parse_te(const uint8_t *buf, size_t len, const uint8_t srv6[16], uint16_t *sport)
{
	const uint8_t *in;

	if (!buf || !srv6 || !sport || len < 8 + 40 + 2 || buf[0] != ICMP6_TIME_EXCEEDED_TYPE)
		return -EINVAL;
	in = buf + 8;
	if (in[0] >> 4 != 6 || in[6] != IPPROTO_TCP || memcmp(in + 24, srv6, 16) != 0)
		return -EINVAL;
	*sport = (uint16_t)(in[40] << 8 | in[41]);
	return 0;
}

/* HTTP-style header lines, CRLF-separated; the name case-insensitive; the
 * value a URL without spaces or control bytes. */
int probe_ssdp_location(const char *buf, size_t len, char *loc, size_t cap)
{
	size_t i = 0, e, v;

	while (i < len) {
		for (e = i; e + 1 < len && !(buf[e] == '\r' && buf[e + 1] == '\n'); e++)
			;
		if (e + 1 >= len)
			return -ENOENT;		/* a header line ends in CRLF */
		if (e - i >= 9 && strncasecmp(buf + i, "location:", 9) == 0) {
			for (v = i + 9; v < e && buf[v] == ' '; v++)
				;
			if (e - v >= cap || v == e)
				return -ENOENT;
			/* a URL: printable ASCII only (a NUL would cut it short) */
			for (size_t k = v; k < e; k++)
				if ((unsigned char)buf[k] < 0x21 || (unsigned char)buf[k] > 0x7e)
					return -ENOENT;
			memcpy(loc, buf + v, e - v);
			loc[e - v] = '\0';
			return 0;
		}
		i = e + 2;
	}
	return -ENOENT;
}

int probe_url_ipv4(const char *url, uint32_t *ip)
{
	char host[INET_ADDRSTRLEN];
	size_t n;

	if (!url || strncasecmp(url, "http://", 7))
		return -EINVAL;
	url += 7;
	n = strcspn(url, ":/");
	if (n == 0 || n >= sizeof(host) || (url[n] == ':' && !url[n + 1]))
		return -EINVAL;
	memcpy(host, url, n);
	host[n] = '\0';
	/* inet_pton takes only the four dotted decimals, no shorter forms */
	return inet_pton(AF_INET, host, ip) == 1 ? 0 : -EINVAL;
}
