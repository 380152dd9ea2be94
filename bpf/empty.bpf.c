// SPDX-License-Identifier: GPL-2.0
/*
 * The floors for benchmarks: an XDP program that does nothing but pass the frame, and a tc program
 * that does nothing but hand the packet on. BPF_PROG_TEST_RUN builds an skb for every run of a tc
 * program (and an xdp_buff for an XDP one), so the two hooks' floors differ and each is measured.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include <fizz/shared.h>

SEC("xdp")
int fizz_empty(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("tc")
int fizz_empty_tc(struct __sk_buff *skb)
{
	return FIZZ_TCX_NEXT;
}

char LICENSE[] SEC("license") = "GPL";
