/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Frame parsing for classifiers: the IPv4 source address behind Ethernet and VLAN tags (the cheap
 * path, fizz_parse_ipv4_saddr), or the whole parsed view (fizz_parse_packet, struct fizz_packet).
 * Both read the frame on either hook (<fizz/hook.h>): the same source runs on XDP and on tc.
 */
#ifndef FIZZ_PARSE_H
#define FIZZ_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "hook.h"
#include "packet.h"

/* 802.1Q and 802.1ad (QinQ): at most this many stacked tags are skipped. */
#define FIZZ_MAX_VLAN_TAGS 2

struct fizz_vlan_hdr {
	__be16 tci;
	__be16 encapsulated_proto;
};

/*
 * The frame walk both parsers share: returns the IPv4 header when the frame is IPv4 over Ethernet
 * (at most FIZZ_MAX_VLAN_TAGS 802.1Q/802.1ad tags, counting those the stack already took out of the
 * frame) and holds the complete header, options included; NULL for anything else: other ethertypes,
 * truncated frames, IHL < 5, version != 4. *vlan_tags counts the tags it stepped over and the
 * stripped ones.
 */
static __always_inline struct iphdr *fizz_walk_ipv4(void *data, void *data_end, __u32 stripped, __u32 *vlan_tags)
{
	struct iphdr *iph;
	__u16 proto;
	__u8 version_ihl;
	int i;

	*vlan_tags = stripped;
	/* Every frame accepted holds an Ethernet header and at least a minimal IPv4 header right
	 * behind it or behind its tags, so a shorter frame is refused at once. For the untagged frame
	 * this one check is all: the ethertype and the IPv4 header need no check of their own. */
	if (data + sizeof(struct ethhdr) + sizeof(struct iphdr) > data_end)
		return NULL;
	/* One 16-bit load: struct ethhdr is packed, so eth->h_proto would be read a byte at a time.
	 * (Unaligned packet loads are fine where XDP runs: the verifier asks for alignment only on
	 * CPUs without efficient unaligned access, or when a loader demands it.) */
	proto = *(__be16 *)(data + __builtin_offsetof(struct ethhdr, h_proto));
	iph = data + sizeof(struct ethhdr);

#pragma unroll
	for (i = 0; i < FIZZ_MAX_VLAN_TAGS; i++) {
		struct fizz_vlan_hdr *vlan = (void *)iph;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		/* The tag and, behind it, a minimal IPv4 header (as above). */
		if ((void *)(vlan + 1) + sizeof(struct iphdr) > data_end)
			return NULL;
		proto = vlan->encapsulated_proto;
		iph = (void *)(vlan + 1);
		(*vlan_tags)++;
	}
	if (proto != bpf_htons(ETH_P_IP))
		return NULL;
	/* A tag the stack stripped and two more in the frame are one more than XDP would accept. */
	if (stripped && *vlan_tags > FIZZ_MAX_VLAN_TAGS)
		return NULL;

	/* Version 4 and IHL >= 5: the first byte is 0x45..0x4f. 0x45, no options, is nearly every
	 * frame, and the check above already covered its header: one compare. */
	version_ihl = *(__u8 *)iph;
	if (version_ihl != 0x45) {
		if ((__u32)version_ihl - 0x46 > 0x4f - 0x46)
			return NULL;
		/* The options must be there too: a header cut short is not a header. */
		if ((void *)iph + (version_ihl & 0x0f) * 4 > data_end)
			return NULL;
	}
	return iph;
}

/*
 * fizz_walk_ipv4() of the packet this program runs on; *data_end receives the frame's end. Each
 * hook gets a walk of its own, so the XDP one is compiled with no tag stripped (a constant) and
 * stays the walk it was before tc existed; the verifier drops the other.
 */
static __always_inline struct iphdr *fizz_find_ipv4(struct xdp_md *ctx, __u32 *vlan_tags, void **data_end)
{
	struct fizz_frame f;

	if (fizz_hook() == FIZZ_HOOK_TC) {
		f = fizz_tc_frame(ctx);
		*data_end = f.data_end;
		return fizz_walk_ipv4(f.data, f.data_end, f.vlan_stripped, vlan_tags);
	}
	f = fizz_xdp_frame(ctx);
	*data_end = f.data_end;
	return fizz_walk_ipv4(f.data, f.data_end, 0, vlan_tags);
}

/*
 * Stores the IPv4 source address in host byte order in *saddr and returns 0 when the frame is
 * IPv4 over Ethernet (optionally VLAN tagged) and holds a complete IPv4 header, options included.
 * Returns -1 for anything else (see fizz_walk_ipv4). It reads the frame alone, also behind the A/B
 * dispatcher (which hands over nothing but the frame), and leaves any XDP metadata as it is. On tc
 * (fizz_hook() == FIZZ_HOOK_TC) `ctx` is the struct __sk_buff the kernel passes.
 */
static __always_inline int fizz_parse_ipv4_saddr(struct xdp_md *ctx, __u32 *saddr)
{
	__u32 vlan_tags;
	void *data_end;
	struct iphdr *iph = fizz_find_ipv4(ctx, &vlan_tags, &data_end);

	if (!iph)
		return -1;
	*saddr = bpf_ntohl(iph->saddr);
	return 0;
}

/* The first four bytes of a TCP or UDP header. */
struct fizz_l4_ports {
	__be16 source;
	__be16 dest;
};

/*
 * Fills *pkt (struct fizz_packet, packet.h) and returns 0 when the frame is IPv4 over Ethernet
 * (optionally VLAN tagged) with a complete IPv4 header, options included: the same frames
 * fizz_parse_ipv4_saddr() accepts. Returns -1 for anything else, with *pkt zeroed. Like
 * fizz_parse_ipv4_saddr() it reads the frame alone, leaves any XDP metadata as it is and works on
 * either hook; on tc, vlan_tags includes the tag the stack stripped (skb->vlan_tci).
 */
static __always_inline int fizz_parse_packet(struct xdp_md *ctx, struct fizz_packet *pkt)
{
	void *data, *data_end;
	struct iphdr *iph;
	__u32 ihl_bytes, l4_size, vlan_tags;
	__u16 frag;

	__builtin_memset(pkt, 0, sizeof(*pkt));
	iph = fizz_find_ipv4(ctx, &vlan_tags, &data_end);
	if (!iph)
		return -1;
	ihl_bytes = iph->ihl * 4;
	pkt->vlan_tags = vlan_tags;
	pkt->saddr = bpf_ntohl(iph->saddr);
	pkt->daddr = bpf_ntohl(iph->daddr);
	pkt->protocol = iph->protocol;
	pkt->ttl = iph->ttl;
	pkt->ihl_bytes = ihl_bytes;
	frag = bpf_ntohs(iph->frag_off);
	if (frag & 0x3fff) /* IP_MF | IP_OFFSET */
		pkt->flags |= FIZZ_PACKET_FRAGMENT;
	/* Only the first fragment (offset 0) carries the L4 header. */
	if (frag & 0x1fff)
		return 0;
	if (iph->protocol == IPPROTO_UDP)
		l4_size = 8;
	else if (iph->protocol == IPPROTO_TCP)
		l4_size = 20;
	else
		return 0;
	data = (void *)iph + ihl_bytes;
	if (data + l4_size > data_end)
		return 0;
	{
		struct fizz_l4_ports *ports = data;

		pkt->sport = bpf_ntohs(ports->source);
		pkt->dport = bpf_ntohs(ports->dest);
		pkt->flags |= FIZZ_PACKET_PORTS;
	}
	return 0;
}

#endif /* FIZZ_PARSE_H */
