/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The frame generator's facts, shared by bpf/generator.bpf.c and the host (measure/live_generator.cpp):
 * names and the settings frozen at load. Plain C, compiled by clang -target bpf and by the C++ host.
 *
 * The generator is an XDP program run with BPF_PROG_TEST_RUN in live-frames mode
 * (BPF_F_TEST_XDP_LIVE_FRAMES, Linux 5.18+): the kernel runs it `repeat` times on copies of one
 * template frame and carries out its verdict for real. It gives each frame the next source address
 * of a range and redirects it out of one interface (a veth end), so the peer's native XDP receives
 * frames at the rate one CPU can make them, with no socket or skb on the sending side.
 */
#ifndef FIZZ_GENERATOR_H
#define FIZZ_GENERATOR_H

#include <linux/types.h>

#include "shared.h"

#define FIZZ_GENERATOR_PROG "fizz_generate"
/* The settings, frozen at load: struct fizz_gen_config in .rodata. */
#define FIZZ_GENERATOR_CONFIG_SECTION ".rodata"
/* The program's position in the range is its global `__u32 fizz_gen_next` (.bss), written by the
 * one thread that runs it. */
#define FIZZ_GENERATOR_STATE_SECTION ".bss"

/* The IPv4 header starts at most this far into the template frame (Ethernet + two VLAN tags). */
#define FIZZ_GEN_MAX_IP_OFFSET 22
/* The UDP/TCP checksum field lies at most this far into the template (TCP's, behind two tags). */
#define FIZZ_GEN_MAX_L4_CSUM_OFFSET 60

struct fizz_gen_config {
	__u32 first_src;      /* first source address, host order */
	__u32 src_count;      /* sources first_src .. first_src + src_count - 1, then from the start (>= 1) */
	__u32 ifindex;        /* the interface the frames leave by (bpf_redirect) */
	__u16 ip_offset;      /* offset of the IPv4 header in the template (<= FIZZ_GEN_MAX_IP_OFFSET) */
	__u16 l4_csum_offset; /* offset of the UDP or TCP checksum that covers the source; 0: none */
	__u32 l4_is_udp;      /* a UDP checksum of 0 means "none" and stays 0 */
};
FIZZ_STATIC_ASSERT(sizeof(struct fizz_gen_config) == 20, "fizz_gen_config is laid out as the host writes it");

#endif /* FIZZ_GENERATOR_H */
