// SPDX-License-Identifier: GPL-2.0
/*
 * Someone else's program on tc ingress, as a datapath would write it (its own parsing, tcx
 * verdicts, no fizzhost SDK): it counts every packet and drops UDP to one port. Tests load it
 * beside fizzhost's tc dispatcher and check that both see every packet and that its verdicts hold.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include <fizz/shared.h>

/* The UDP destination port it drops (host order), set by the test before load. */
const volatile __u16 foreign_drop_port = 0;

struct foreign_tc_counts {
	__u64 packets; /* every packet it ran on */
	__u64 dropped; /* packets it dropped */
};
struct foreign_tc_counts foreign_tc_counts;

SEC("tc")
int foreign_tc(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct udphdr *udp;

	__sync_fetch_and_add(&foreign_tc_counts.packets, 1);
	if ((void *)(iph + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || iph->ihl != 5 ||
	    iph->protocol != IPPROTO_UDP)
		return FIZZ_TCX_NEXT;
	udp = (void *)(iph + 1);
	if ((void *)(udp + 1) > data_end || udp->dest != bpf_htons(foreign_drop_port))
		return FIZZ_TCX_NEXT;
	__sync_fetch_and_add(&foreign_tc_counts.dropped, 1);
	return FIZZ_TCX_DROP;
}

char LICENSE[] SEC("license") = "GPL";
