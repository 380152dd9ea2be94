// SPDX-License-Identifier: GPL-2.0
/*
 * What a classifier built against the SDK before shadow mode looks like to the host: the
 * configuration section, the per-CPU regions and the message queue of <fizz/classifier.h> as they
 * were, and no fizz_decision map. It runs as a baseline or a split-mode candidate; a shadow-mode
 * rollout must refuse it, since the dispatcher could never learn its decisions.
 */
#include <fizz/shared.h>
#include <fizz/parse.h>

#include "fizz_msg.h"

const volatile struct fizz_prog_config fizz_config SEC(".rodata.fizz") = {};

static __always_inline __u32 fizz_hook(void)
{
	return fizz_config.hook;
}

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct fizz_region_header));
} fizz_regions SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 1024);
	__type(value, struct fizz_msg);
} fizz_events SEC(".maps");

SEC("xdp")
int pre_shadow_xdp(struct xdp_md *ctx)
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
