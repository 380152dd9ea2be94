/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Frame parsing for classifiers: the IPv4 source address behind Ethernet and VLAN tags (the cheap
 * path, fizz_parse_ipv4_saddr), or the whole parsed view (fizz_parse_packet, struct fizz_packet).
 */
#ifndef FIZZ_PARSE_H
#define FIZZ_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "packet.h"

/* 802.1Q and 802.1ad (QinQ): at most this many stacked tags are skipped. */
#define FIZZ_MAX_VLAN_TAGS 2

struct fizz_vlan_hdr {
	__be16 tci;
	__be16 encapsulated_proto;
};

/*
 * Stores the IPv4 source address in host byte order in *saddr and returns 0 when the frame is
 * IPv4 over Ethernet (optionally VLAN tagged) and holds a complete IPv4 header, options included.
 * Returns -1 for anything else: other ethertypes, truncated frames, IHL < 5, version != 4.
 * It reads the frame alone, also behind the A/B dispatcher (which hands over nothing but the
 * frame), and leaves any XDP metadata in front of it as it is.
 */
static __always_inline int fizz_parse_ipv4_saddr(struct xdp_md *ctx, __u32 *saddr)
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

/* The first four bytes of a TCP or UDP header. */
struct fizz_l4_ports {
	__be16 source;
	__be16 dest;
};

/*
 * Fills *pkt (struct fizz_packet, packet.h) and returns 0 when the frame is IPv4 over Ethernet
 * (optionally VLAN tagged) with a complete IPv4 header, options included: the same frames
 * fizz_parse_ipv4_saddr() accepts. Returns -1 for anything else, with *pkt zeroed. Like
 * fizz_parse_ipv4_saddr() it reads the frame alone and leaves any XDP metadata as it is.
 */
static __always_inline int fizz_parse_packet(struct xdp_md *ctx, struct fizz_packet *pkt)
{
	void *data, *data_end;
	struct ethhdr *eth;
	struct iphdr *iph;
	__u32 ihl_bytes, l4_size;
	__u16 proto, frag;
	int i;

	__builtin_memset(pkt, 0, sizeof(*pkt));
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
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
			goto fail;
		proto = vlan->encapsulated_proto;
		data = vlan + 1;
		pkt->vlan_tags++;
	}
	if (proto != bpf_htons(ETH_P_IP))
		goto fail;

	iph = data;
	if ((void *)(iph + 1) > data_end)
		goto fail;
	if (iph->version != 4 || iph->ihl < 5)
		goto fail;
	ihl_bytes = iph->ihl * 4;
	if ((void *)iph + ihl_bytes > data_end)
		goto fail;

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
fail:
	pkt->vlan_tags = 0;
	return -1;
}

#endif /* FIZZ_PARSE_H */
