// SPDX-License-Identifier: GPL-2.0
/*
 * The least any tail-call dispatcher can cost: a program that does nothing but tail-call slot
 * FIZZ_VARIANT_BASELINE of its program array with a constant index (the direct jump the JIT patches
 * in, as bpf/dispatcher.bpf.c does), measured by bench/dispatcher_cost.cpp against the classifier
 * alone: what the A/B dispatcher adds can never drop below this.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include <fizz/dispatcher.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, FIZZ_VARIANTS);
	__type(key, __u32);
	__type(value, __u32);
} fizz_variants SEC(".maps");

SEC("xdp")
int fizz_tail_call_only(struct xdp_md *ctx)
{
	/* Written as the dispatcher writes it, so the index is a constant the JIT sees. */
	asm volatile("r1 = %[ctx]\n\t"
		     "r2 = %[map]\n\t"
		     "r3 = %[index]\n\t"
		     "call 12\n\t" /* BPF_FUNC_tail_call */
		     :
		     : [ctx] "r"(ctx), [map] "r"(&fizz_variants), [index] "i"(FIZZ_VARIANT_BASELINE)
		     : "r0", "r1", "r2", "r3", "r4", "r5", "memory");
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
