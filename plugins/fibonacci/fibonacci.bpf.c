// SPDX-License-Identifier: GPL-2.0
/*
 * fibonacci v3: Fibonacci if the last octet of the source is one of the 13 Fibonacci numbers below
 * 256, otherwise the fizzbuzz rules. Membership is one lookup in a 256-bit constant set, so every
 * octet costs the same: the per-packet sequence loop of the original v3 is what made it slow.
 */
#include <fizz/classifier.h>
#include <fizz/divisible.h>

#include "fibonacci_msg.h"

FIZZ_MESSAGE(struct fibonacci_msg);

/* Bit n of word n / 64 is set when n is in {0 1 2 3 5 8 13 21 34 55 89 144 233}. */
#define FIB_BIT(n) (1ULL << ((n) % 64))
static const volatile __u64 fib_set[4] = {
	FIB_BIT(0) | FIB_BIT(1) | FIB_BIT(2) | FIB_BIT(3) | FIB_BIT(5) | FIB_BIT(8) | FIB_BIT(13) |
		FIB_BIT(21) | FIB_BIT(34) | FIB_BIT(55),
	FIB_BIT(89),
	FIB_BIT(144),
	FIB_BIT(233),
};

static __always_inline int is_fibonacci_octet(__u32 octet)
{
	return (fib_set[(octet >> 6) & 3] >> (octet & 63)) & 1;
}

SEC("xdp")
int fibonacci_xdp(struct xdp_md *ctx)
{
	struct fibonacci_msg msg;
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
	if (is_fibonacci_octet(saddr & 0xff))
		msg.kind = FIBONACCI_KIND_FIBONACCI;
	else if (by3 && by5)
		msg.kind = FIBONACCI_KIND_FIZZBUZZ;
	else if (by3)
		msg.kind = FIBONACCI_KIND_FIZZ;
	else if (by5)
		msg.kind = FIBONACCI_KIND_BUZZ;
	else
		return XDP_PASS;
	msg.saddr = saddr;
	fizz_emit_in(region, &msg, sizeof(msg), msg.kind);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
