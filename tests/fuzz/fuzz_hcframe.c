// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for a relayed session's framing (proto/hcframe.c): the
 * input is what a hostile peer sends on the relay connection, read as
 * daemon/relayhc.c reads it -- frames one after another, in order, until
 * the first error or an incomplete one. A parsed frame must lie inside the
 * input and build back to the same header.
 */
#include "proto/hcframe.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hcf_order o = { 0 };
	struct hcf_frame f;
	uint8_t hdr[HCF_HDR_LEN];
	size_t off = 0;
	int r;

	while ((r = hcf_parse(data + off, size - off, &f)) == 1) {
		if (f.size != HCF_HDR_LEN + f.len || f.size > size - off || f.len > HCF_MAX_DATA ||
		    (f.len && f.data != data + off + HCF_HDR_LEN))
			abort();
		if (hcf_put_hdr(hdr, f.type, f.len) != 0 || memcmp(hdr, data + off, HCF_HDR_LEN))
			abort();
		if (hcf_order_next(&o, f.type) < 0)
			break;
		off += f.size;
	}
	return 0;
}
