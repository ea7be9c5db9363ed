// SPDX-License-Identifier: MIT
#include "proto/stunt_codes.h"

bool stunt_attr_is_known(uint16_t type)
{
	if (type >= STUNT_ATTR_CAPTURE_ID && type <= STUNT_ATTR_PROBE_RESULT)
		return true;
	if (type >= SIG_ATTR_PEER_ID && type <= SIG_ATTR_SYN)
		return true;
	return type == SIG_ATTR_NAT_INFO || type == SIG_ATTR_SESSION_KEY ||
	       type == SIG_ATTR_ROUND || type == SIG_ATTR_SENDER ||
	       type == SIG_ATTR_SEQ;
}

size_t stunt_text_max(uint16_t type)
{
	switch (type) {
	case SIG_ATTR_PEER_ID:
	case SIG_ATTR_SERVICE:
		return 64;
	default:
		return 0xFFFF;
	}
}

bool stunt_method_is_ours(uint16_t method)
{
	return method >= 0x0A0 && method <= 0x0BF;
}
