/* Message of the ipv4-fields classifier, shared by ipv4_fields.bpf.c and decoder.cpp. */
#ifndef IPV4_FIELDS_MSG_H
#define IPV4_FIELDS_MSG_H

#include <fizz/shared.h>

/* Kinds: the transport the IPv4 header names. */
enum ipv4_fields_kind {
	IPV4_FIELDS_KIND_TCP = 0,
	IPV4_FIELDS_KIND_UDP = 1,
	IPV4_FIELDS_KIND_ICMP = 2,
	IPV4_FIELDS_KIND_OTHER = 3,
	IPV4_FIELDS_KIND_COUNT,
};

/* One message per IPv4 frame: what the SDK's parsed view (struct fizz_packet) says about it. */
struct ipv4_fields_msg {
	__u32 kind;      /* enum ipv4_fields_kind */
	__u32 saddr;     /* IPv4 source, host byte order */
	__u32 daddr;     /* IPv4 destination, host byte order */
	__u16 dport;     /* TCP/UDP destination port, host byte order; valid only with has_ports */
	__u8 ttl;
	__u8 protocol;   /* IPPROTO_* */
	__u8 has_ports;  /* 1: the frame held the whole TCP/UDP header */
	__u8 vlan_tags;  /* VLAN tags walked (0..2) */
	__u8 pad[2];
};
FIZZ_STATIC_ASSERT(sizeof(struct ipv4_fields_msg) == 20, "ipv4_fields_msg is 20 bytes on both sides");

#endif
