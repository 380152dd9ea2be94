// SPDX-License-Identifier: GPL-2.0
/*
 * XDP programs for chaining tests: what a node's own XDP datapath might be behind fizzhost's
 * dispatcher (then = its pin). chain_drop_port counts every frame and drops UDP to one port, its
 * verdict deciding the frame; chain_drop_port_frags is the same loaded with frags support, which
 * the kernel refuses to tail-call from a dispatcher without; chain_budget counts how many tail
 * calls a frame still has when it arrives, by calling itself until the kernel refuses.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* The UDP destination port it drops (host order), set by the test before load. */
const volatile __u16 chain_udp_port = 0;

struct chain_counts {
	__u64 frames;  /* every frame it ran on */
	__u64 dropped; /* frames it dropped */
	__u64 depth;   /* chain_budget: runs since the test reset it */
};
struct chain_counts chain_counts;

static __always_inline int chain_verdict(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct udphdr *udp;

	__sync_fetch_and_add(&chain_counts.frames, 1);
	if ((void *)(iph + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || iph->ihl != 5 ||
	    iph->protocol != IPPROTO_UDP)
		return XDP_PASS;
	udp = (void *)(iph + 1);
	if ((void *)(udp + 1) > data_end || udp->dest != bpf_htons(chain_udp_port))
		return XDP_PASS;
	__sync_fetch_and_add(&chain_counts.dropped, 1);
	return XDP_DROP;
}

SEC("xdp")
int chain_drop_port(struct xdp_md *ctx)
{
	return chain_verdict(ctx);
}

SEC("xdp.frags")
int chain_drop_port_frags(struct xdp_md *ctx)
{
	return chain_verdict(ctx);
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} chain_budget_self SEC(".maps");

SEC("xdp")
int chain_budget(struct xdp_md *ctx)
{
	chain_counts.depth++;
	bpf_tail_call(ctx, &chain_budget_self, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
