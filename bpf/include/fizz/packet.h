/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The parsed packet view that fizz_parse_packet() (parse.h) fills: plain C, so a plugin's decoder,
 * the host and tests can read the very same layout a BPF program wrote.
 */
#ifndef FIZZ_PACKET_H
#define FIZZ_PACKET_H

#include <linux/types.h>

/* fizz_packet.flags */
#define FIZZ_PACKET_PORTS 0x01    /* sport/dport hold a TCP or UDP header's ports */
#define FIZZ_PACKET_FRAGMENT 0x02 /* an IPv4 fragment (MF set or offset != 0) */

/*
 * One IPv4 frame, as far as it could be read. Addresses and ports in host byte order. Ports are set
 * (FIZZ_PACKET_PORTS) only for TCP and UDP when the frame holds the whole L4 header (8 bytes for
 * UDP, the 20-byte minimum for TCP) and the packet is not a non-first fragment (those carry no L4
 * header); otherwise they are 0.
 */
struct fizz_packet {
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
	__u8 protocol;   /* IPPROTO_* of the IPv4 header */
	__u8 ttl;
	__u8 ihl_bytes;  /* IPv4 header length in bytes, options included (20..60) */
	__u8 vlan_tags;  /* 802.1Q / 802.1ad tags walked before the IPv4 header */
	__u8 flags;      /* FIZZ_PACKET_* */
	__u8 reserved[3];
};

#ifdef __cplusplus
static_assert(sizeof(struct fizz_packet) == 20, "struct fizz_packet is part of the SDK's ABI");
#else
_Static_assert(sizeof(struct fizz_packet) == 20, "struct fizz_packet is part of the SDK's ABI");
#endif

#endif /* FIZZ_PACKET_H */
