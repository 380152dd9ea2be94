// SPDX-License-Identifier: GPL-2.0
/*
 * What a classifier built against the SDK before the per-CPU regions looks like to the host: its
 * message queue and configuration section, a host-shared counters map, and no fizz_regions.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "fizz_msg.h"

struct old_prog_config {
	__u32 transport, slot;
	__u64 ring_wakeup_bytes;
};
const volatile struct old_prog_config fizz_config SEC(".rodata.fizz") = {};

struct old_stats {
	__u64 packets, emitted, dropped, kinds[16];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct old_stats);
} fizz_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 1024);
	__type(value, struct fizz_msg);
} fizz_events SEC(".maps");

SEC("xdp")
int old_sdk_xdp(struct xdp_md *ctx)
{
	struct fizz_msg msg = {0, 3};
	__u32 slot = fizz_config.slot;
	struct old_stats *st = bpf_map_lookup_elem(&fizz_stats, &slot);

	if (st)
		st->packets++;
	bpf_map_push_elem(&fizz_events, &msg, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
