// SPDX-License-Identifier: GPL-2.0
/*
 * The A/B dispatcher, owned by the host: sends each frame to the baseline or the candidate
 * classifier with a tail call, by a hash of its IPv4 source, so one source always meets the same
 * variant while the split is unchanged. Frames without an IPv4 source go to the baseline.
 *
 * The host swaps variants by updating fizz_variants (atomic per slot) and the split by updating
 * fizz_split; the dispatcher itself enters and leaves through bpf_link_update.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include <fizz/parse.h>
#include <fizz/shared.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, FIZZ_MAX_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} fizz_variants SEC(".maps");

/* Share of the 2^32 hash space that goes to the candidate, as a threshold: 0 = none, and
 * FIZZ_SPLIT_ALL = everyone (see fizz_split_threshold() in the host). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} fizz_split SEC(".maps");

/* murmur3's finaliser: cheap, and spreads consecutive addresses evenly. */
static __always_inline __u32 fizz_hash(__u32 x)
{
	x ^= x >> 16;
	x *= 0x85ebca6bU;
	x ^= x >> 13;
	x *= 0xc2b2ae35U;
	x ^= x >> 16;
	return x;
}

SEC("xdp")
int fizz_dispatch(struct xdp_md *ctx)
{
	__u32 key = 0, slot = FIZZ_SLOT_BASELINE, saddr;
	__u64 *threshold = bpf_map_lookup_elem(&fizz_split, &key);

	if (threshold && fizz_parse_ipv4_saddr(ctx, &saddr) == 0 && (__u64)fizz_hash(saddr) < *threshold)
		slot = FIZZ_SLOT_CANDIDATE;
	bpf_tail_call(ctx, &fizz_variants, slot);
	/* Only reached when the slot is empty, which the host never leaves it. */
	bpf_tail_call(ctx, &fizz_variants, FIZZ_SLOT_BASELINE);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
