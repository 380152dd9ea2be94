// SPDX-License-Identifier: GPL-2.0
/*
 * ipv4-fields: reports every IPv4 frame with what its headers say. The SDK's parsed view
 * (fizz_parse_packet, <fizz/parse.h>) walks Ethernet and up to two VLAN tags, checks the IPv4
 * header (options included) and, for TCP and UDP, reads the ports with the L4 bounds checked; this
 * program only copies what it needs into the message. The kind is the transport: TCP, UDP, ICMP or
 * Other. Frames that are not IPv4 emit nothing.
 */
#include <fizz/classifier.h>

#include "ipv4_fields_msg.h"

FIZZ_MESSAGE(struct ipv4_fields_msg);

SEC("xdp")
int ipv4_fields_xdp(struct xdp_md *ctx)
{
	struct ipv4_fields_msg msg = {};
	struct fizz_packet pkt;

	fizz_count_packet();
	if (fizz_parse_packet(ctx, &pkt))
		return XDP_PASS;
	switch (pkt.protocol) {
	case IPPROTO_TCP:
		msg.kind = IPV4_FIELDS_KIND_TCP;
		break;
	case IPPROTO_UDP:
		msg.kind = IPV4_FIELDS_KIND_UDP;
		break;
	case IPPROTO_ICMP:
		msg.kind = IPV4_FIELDS_KIND_ICMP;
		break;
	default:
		msg.kind = IPV4_FIELDS_KIND_OTHER;
	}
	msg.saddr = pkt.saddr;
	msg.daddr = pkt.daddr;
	msg.ttl = pkt.ttl;
	msg.protocol = pkt.protocol;
	msg.vlan_tags = pkt.vlan_tags;
	if (pkt.flags & FIZZ_PACKET_PORTS) {
		msg.has_ports = 1;
		msg.dport = pkt.dport;
	}
	fizz_emit(&msg, sizeof(msg), msg.kind);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
