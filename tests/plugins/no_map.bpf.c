// SPDX-License-Identifier: GPL-2.0
/* Counts packets but has no FIZZ_MESSAGE queue. */
#include <fizz/classifier.h>

SEC("xdp")
int no_map_xdp(struct xdp_md *ctx)
{
	fizz_count_packet();
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
