// SPDX-License-Identifier: GPL-2.0
/*
 * fibonacci-naive: the seed article's v3 as it first shipped. For every packet it walks the
 * Fibonacci sequence in 8-bit arithmetic until it reaches the last octet of the source address:
 *
 *	__u8 n = saddr & 0xff; __u8 a = 0, b = 1;
 *	while (b < n) { __u8 t = a + b; a = b; b = t; }
 *
 * Fibonacci if b == n, else the fizzbuzz rules on the whole address.
 *
 * This is the seed's loop exactly. The verifier needs a bound, and NAIVE_MAX_STEPS is one the loop
 * never reaches: in 8-bit arithmetic the sequence wraps after 233 (377 -> 121, ...) and stays at or
 * below 253 for the first 380 steps, so octets 254 and 255 take the longest, 381 steps, and every
 * other octet stops within 112. The wrap-around makes it wrong: octets 241, 245, 247, 253 and 255
 * meet a wrapped value and are reported as Fibonacci (255 at step 381), and 0 is never found (b
 * starts at 1). The fibonacci plugin (v3.0.0) replaced the loop with a constant-time set lookup.
 */
#include <fizz/classifier.h>

#include "fibonacci_naive_msg.h"

FIZZ_MESSAGE(struct fibonacci_naive_msg);

/* Above the 381 steps the longest walk takes: the bound never changes a result. */
#define NAIVE_MAX_STEPS 384

static __always_inline int naive_is_fibonacci(__u8 n)
{
	__u8 a = 0, b = 1, t;
	int i;

	for (i = 0; i < NAIVE_MAX_STEPS && b < n; i++) {
		t = a + b;
		a = b;
		b = t;
	}
	return b == n;
}

SEC("xdp")
int fibonacci_naive_xdp(struct xdp_md *ctx)
{
	struct fibonacci_naive_msg msg;
	__u32 saddr;

	fizz_count_packet();
	if (fizz_parse_ipv4_saddr(ctx, &saddr))
		return XDP_PASS;
	if (naive_is_fibonacci(saddr & 0xff))
		msg.kind = FIBONACCI_NAIVE_KIND_FIBONACCI;
	else if (saddr % 15 == 0)
		msg.kind = FIBONACCI_NAIVE_KIND_FIZZBUZZ;
	else if (saddr % 3 == 0)
		msg.kind = FIBONACCI_NAIVE_KIND_FIZZ;
	else if (saddr % 5 == 0)
		msg.kind = FIBONACCI_NAIVE_KIND_BUZZ;
	else
		return XDP_PASS;
	msg.saddr = saddr;
	fizz_emit(&msg, sizeof(msg), msg.kind);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
