// SPDX-License-Identifier: GPL-2.0
/*
 * A stage of `fizzhost bench --breakdown`: what every classifier pays before it classifies -- count
 * the packet and parse the frame with the SDK's helpers -- and nothing more.
 */
#include <fizz/classifier.h>

SEC("xdp")
int fizz_parse_count(struct xdp_md *ctx)
{
	__u32 saddr = 0;

	fizz_count_packet();
	if (fizz_parse_ipv4_saddr(ctx, &saddr))
		return XDP_PASS;
	/* Keep the address live: without a use the compiler may drop the parse altogether. */
	asm volatile("" : : "r"(saddr));
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
