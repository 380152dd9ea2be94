// SPDX-License-Identifier: GPL-2.0
/* The floor for benchmarks: an XDP program that does nothing but pass the frame. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int fizz_empty(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
