/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Frame parsing for classifiers: find the IPv4 source address behind Ethernet and VLAN tags. */
#ifndef FIZZ_PARSE_H
#define FIZZ_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "dispatcher.h"

/* 802.1Q and 802.1ad (QinQ): at most this many stacked tags are skipped. */
#define FIZZ_MAX_VLAN_TAGS 2

struct fizz_vlan_hdr {
	__be16 tci;
	__be16 encapsulated_proto;
};

/*
 * When the A/B dispatcher ran before this program, takes the IPv4 source it parsed from the XDP
 * metadata (struct fizz_dispatch_meta), removes that record so it never travels up the stack with
 * the frame, and returns 0. Returns -1, changing nothing, when there is no such record: the program
 * runs without the dispatcher, or the metadata in front of the frame is someone else's.
 */
static __always_inline int fizz_take_dispatch_meta(struct xdp_md *ctx, __u32 *saddr)
{
	struct fizz_dispatch_meta *meta = (void *)(long)ctx->data_meta;

	/* data_meta > data where a driver has no metadata support: the bound check covers that too. */
	if ((void *)(meta + 1) > (void *)(long)ctx->data || meta->magic != FIZZ_DISPATCH_META_MAGIC)
		return -1;
	*saddr = meta->saddr;
	bpf_xdp_adjust_meta(ctx, (int)sizeof(*meta));
	return 0;
}

/*
 * The frame walk behind fizz_parse_ipv4_saddr, without looking at the metadata: stores the IPv4
 * source address in host byte order in *saddr and returns 0 when the frame is IPv4 over Ethernet
 * (optionally VLAN tagged) and holds a complete IPv4 header, options included. Returns -1 for
 * anything else: other ethertypes, truncated frames, IHL < 5, version != 4.
 */
static __always_inline int fizz_parse_frame_ipv4_saddr(struct xdp_md *ctx, __u32 *saddr)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph;
	__u16 proto;
	__u32 ihl_bytes;
	int i;

	if ((void *)(eth + 1) > data_end)
		return -1;
	proto = eth->h_proto;
	data = eth + 1;

#pragma unroll
	for (i = 0; i < FIZZ_MAX_VLAN_TAGS; i++) {
		struct fizz_vlan_hdr *vlan = data;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vlan + 1) > data_end)
			return -1;
		proto = vlan->encapsulated_proto;
		data = vlan + 1;
	}
	if (proto != bpf_htons(ETH_P_IP))
		return -1;

	iph = data;
	if ((void *)(iph + 1) > data_end)
		return -1;
	if (iph->version != 4 || iph->ihl < 5)
		return -1;
	/* The options must be there too: a header cut short is not a header. */
	ihl_bytes = iph->ihl * 4;
	if ((void *)iph + ihl_bytes > data_end)
		return -1;

	*saddr = bpf_ntohl(iph->saddr);
	return 0;
}

/*
 * Stores the IPv4 source address in host byte order in *saddr and returns 0 when the frame is
 * IPv4 over Ethernet (optionally VLAN tagged) and holds a complete IPv4 header, options included.
 * Returns -1 for anything else: other ethertypes, truncated frames, IHL < 5, version != 4.
 * Behind the A/B dispatcher the source comes from its metadata (same rules, parsed once).
 */
static __always_inline int fizz_parse_ipv4_saddr(struct xdp_md *ctx, __u32 *saddr)
{
	if (fizz_take_dispatch_meta(ctx, saddr) == 0)
		return 0;
	return fizz_parse_frame_ipv4_saddr(ctx, saddr);
}

#endif /* FIZZ_PARSE_H */
