// SPDX-License-Identifier: GPL-2.0
/* Reads the frame without checking data_end: the verifier must reject it. */
#include <fizz/classifier.h>

#include "fizz_msg.h"

FIZZ_MESSAGE(struct fizz_msg);

SEC("xdp")
int rejected_xdp(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	struct fizz_msg msg = { .kind = 0, .saddr = data[26] };

	fizz_count_packet();
	fizz_emit(&msg, sizeof(msg), msg.kind);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
