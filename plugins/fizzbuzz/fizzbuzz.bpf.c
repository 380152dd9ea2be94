// SPDX-License-Identifier: GPL-2.0
/* fizzbuzz v2: FizzBuzz if the source is divisible by 15, else Fizz by 3, else Buzz by 5. */
#include <fizz/classifier.h>
#include <fizz/divisible.h>

#include "fizzbuzz_msg.h"

FIZZ_MESSAGE(struct fizzbuzz_msg);

SEC("xdp")
int fizzbuzz_xdp(struct xdp_md *ctx)
{
	struct fizzbuzz_msg msg;
	struct fizz_region_header *region;
	struct fizz_packet pkt;
	__u32 saddr;
	int by3, by5;

	region = fizz_count_packet();
	if (fizz_parse_packet(ctx, &pkt))
		return XDP_PASS;
	saddr = pkt.saddr;
	by3 = fizz_divisible_odd(saddr, 3);
	by5 = fizz_divisible_odd(saddr, 5);
	if (by3 && by5)
		msg.kind = FIZZBUZZ_KIND_FIZZBUZZ;
	else if (by3)
		msg.kind = FIZZBUZZ_KIND_FIZZ;
	else if (by5)
		msg.kind = FIZZBUZZ_KIND_BUZZ;
	else
		return XDP_PASS;
	msg.saddr = saddr;
	fizz_emit_in(region, &msg, sizeof(msg), msg.kind);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
