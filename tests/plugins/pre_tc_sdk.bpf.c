// SPDX-License-Identifier: GPL-2.0
/*
 * What a classifier built against the SDK before the tc hook looks like to the host: the maps of
 * <fizz/classifier.h> as they were, a configuration section of four knobs (transport, ring slots,
 * emit off, shadow: no hook), and a parser that reads every context as XDP's. It runs on XDP; for
 * hook = "tc" the host must refuse it with the advice to rebuild, since on tc it would read an
 * __sk_buff as an xdp_md.
 */
#include <fizz/shared.h>
#include <fizz/parse.h>

#include "fizz_msg.h"

FIZZ_HOOK_XDP_ONLY();

struct pre_tc_prog_config {
	__u32 transport, ring_slots, emit_off, shadow;
};
_Static_assert(sizeof(struct pre_tc_prog_config) == FIZZ_PROG_CONFIG_SIZE_PRE_TC, "the SDK before the tc hook");
const volatile struct pre_tc_prog_config fizz_config SEC(".rodata.fizz") = {};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct fizz_region_header));
} fizz_regions SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} fizz_decision SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 1024);
	__type(value, struct fizz_msg);
} fizz_events SEC(".maps");

SEC("xdp")
int pre_tc_xdp(struct xdp_md *ctx)
{
	__u32 cpu = bpf_get_smp_processor_id(), saddr;
	struct fizz_region_header *r = bpf_map_lookup_elem(&fizz_regions, &cpu);
	struct fizz_msg msg;

	if (r)
		r->counters.packets++;
	if (fizz_parse_ipv4_saddr(ctx, &saddr) || saddr % 3)
		return XDP_PASS;
	msg.kind = FIZZ_KIND_FIZZ;
	msg.saddr = saddr;
	/* The queue transport only: enough to be a working classifier. */
	if (bpf_map_push_elem(&fizz_events, &msg, 0) == 0 && r) {
		r->counters.emitted++;
		r->counters.kinds[0]++;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
