// SPDX-License-Identifier: GPL-2.0
/* fizz without fizz_count_packet(): emits, but counts no packet. The host must flag it. */
#include <fizz/classifier.h>

#include "fizz_msg.h"

FIZZ_MESSAGE(struct fizz_msg);

SEC("xdp")
int uncounted_xdp(struct xdp_md *ctx)
{
	struct fizz_msg msg;
	__u32 saddr;

	if (fizz_parse_ipv4_saddr(ctx, &saddr))
		return XDP_PASS;
	if (saddr % 3 == 0) {
		msg.kind = 0;
		msg.saddr = saddr;
		fizz_emit(&msg, sizeof(msg), msg.kind);
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
