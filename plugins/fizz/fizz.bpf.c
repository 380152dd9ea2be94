// SPDX-License-Identifier: GPL-2.0
/* fizz v1: reports sources whose IPv4 address is divisible by 3. Observes only: always XDP_PASS. */
#include <fizz/classifier.h>
#include <fizz/divisible.h>

#include "fizz_msg.h"

FIZZ_MESSAGE(struct fizz_msg);

SEC("xdp")
int fizz_xdp(struct xdp_md *ctx)
{
	struct fizz_msg msg;
	struct fizz_region_header *region;
	struct fizz_packet pkt;
	__u32 saddr;

	region = fizz_count_packet();
	if (fizz_parse_packet(ctx, &pkt))
		return XDP_PASS;
	saddr = pkt.saddr;
	if (fizz_divisible_odd(saddr, 3)) {
		msg.kind = FIZZ_KIND_FIZZ;
		msg.saddr = saddr;
		fizz_emit_in(region, &msg, sizeof(msg), msg.kind);
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
