// SPDX-License-Identifier: GPL-2.0
/*
 * fibonacci-naive: v3 as it first shipped. For every packet it walks the Fibonacci sequence in 8-bit
 * arithmetic until it reaches the last octet of the source address. That costs up to 255 steps a
 * packet (the verifier needs the bound; 8-bit wrap-around means octets such as 255 never stop the
 * loop on their own), and it is subtly wrong: 0 is never found (the walk starts at 1).
 */
#include <fizz/classifier.h>

#include "fibonacci_naive_msg.h"

FIZZ_MESSAGE(struct fibonacci_naive_msg);

static __always_inline int naive_is_fibonacci(__u8 n)
{
	__u8 a = 0, b = 1, t;
	int i;

	for (i = 0; i < 255 && b < n; i++) {
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
