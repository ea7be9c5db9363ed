// SPDX-License-Identifier: MIT
/* The relayed session's framing (proto/hcframe.h): a pure parser. */
#include "proto/hcframe.h"

#include <errno.h>

static bool valid(uint8_t type, size_t len)
{
	if (type == HCF_DATA)
		return len >= 1 && len <= HCF_MAX_DATA;
	return (type == HCF_EOF || type == HCF_CLOSE) && len == 0;
}

int hcf_parse(const uint8_t *buf, size_t len, struct hcf_frame *f)
{
	size_t plen;

	if (len < 1)
		return 0;
	/* the type is known after one byte: a stranger's stream fails at once */
	if (buf[0] != HCF_DATA && buf[0] != HCF_EOF && buf[0] != HCF_CLOSE)
		return -EBADMSG;
	if (len < HCF_HDR_LEN)
		return 0;
	plen = (size_t)buf[1] << 8 | buf[2];
	if (!valid(buf[0], plen))
		return -EBADMSG;
	if (len - HCF_HDR_LEN < plen)
		return 0;
	f->type = buf[0];
	f->len = plen;
	f->data = plen ? buf + HCF_HDR_LEN : NULL;
	f->size = HCF_HDR_LEN + plen;
	return 1;
}

int hcf_put_hdr(uint8_t *out, uint8_t type, size_t len)
{
	if (!valid(type, len))
		return -EINVAL;
	out[0] = type;
	out[1] = (uint8_t)(len >> 8);
	out[2] = (uint8_t)len;
	return 0;
}

int hcf_order_next(struct hcf_order *o, uint8_t type)
{
	if (o->close)
		return -EPROTO;
	switch (type) {
	case HCF_DATA:
		return o->eof ? -EPROTO : 0;
	case HCF_EOF:
		if (o->eof)
			return -EPROTO;
		o->eof = true;
		return 0;
	case HCF_CLOSE:
		if (!o->eof)
			return -EPROTO;
		o->close = true;
		return 0;
	default:
		return -EPROTO;
	}
}
