// SPDX-License-Identifier: GPL-2.0
/*
 * The A/B dispatcher, owned by the host: sends each frame to the baseline or the candidate
 * classifier with a tail call, by a hash of its IPv4 source, so one source always meets the same
 * variant while the split is unchanged. Frames without an IPv4 source go to the baseline.
 *
 * It parses the frame only at a split, to hash the source (fizz_parse_ipv4_saddr); at 0% and 100%
 * no hash is needed and every frame, IPv4 or not, goes to that one variant unparsed. The tail call
 * hands over the frame alone: the variant parses it again itself. Handing the parsed source over
 * in the XDP metadata was measured (bench/dispatcher_cost.cpp, one run) and dropped: growing and
 * shrinking the metadata is two bpf_xdp_adjust_meta() helper calls, which cost more than walking
 * a header that is already in cache (+4.1..4.6 ns over the classifier alone at a split, against
 * +2.4..2.9 ns for re-parsing); the check for it cost every classifier without a dispatcher
 * +0.5..0.9 ns; and a classifier that never called the parse helper would have let the record
 * travel up the stack. XDP metadata someone else put in front of the frame passes through as it is.
 *
 * The host swaps variants by updating fizz_variants (atomic per slot) and the split by writing
 * fizz_split (one 8-byte value in the .bss map); the dispatcher itself enters and leaves through
 * bpf_link_update. Names, indices, the hash and the threshold are in <fizz/dispatcher.h>, shared
 * with the host.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include <fizz/dispatcher.h>
#include <fizz/parse.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, FIZZ_VARIANTS);
	__type(key, __u32);
	__type(value, __u32);
} fizz_variants SEC(".maps");

/* fizz_split_threshold() of the rollout's percent: 0 = nobody, FIZZ_SPLIT_ALL = everyone. */
__u64 fizz_split;

/*
 * A tail call whose index the JIT sees as a constant: it patches a direct jump into the site
 * instead of an indirect one (a retpoline where those are on). Written in assembly because clang
 * merges two bpf_tail_call()s that differ only in the index into one call with a variable index.
 */
static __always_inline void fizz_tail_call_static(struct xdp_md *ctx, void *map, const __u32 index)
{
	asm volatile("r1 = %[ctx]\n\t"
		     "r2 = %[map]\n\t"
		     "r3 = %[index]\n\t"
		     "call 12\n\t" /* BPF_FUNC_tail_call */
		     :
		     : [ctx] "r"(ctx), [map] "r"(map), [index] "i"(index)
		     : "r0", "r1", "r2", "r3", "r4", "r5");
}

SEC("xdp")
int fizz_dispatch(struct xdp_md *ctx)
{
	__u32 saddr;
	/* Read once per frame: the host may rewrite it at any moment. */
	__u64 threshold = *(volatile __u64 *)&fizz_split;

	if (threshold >= FIZZ_SPLIT_ALL) {
		fizz_tail_call_static(ctx, &fizz_variants, FIZZ_VARIANT_CANDIDATE);
	} else if (threshold && fizz_parse_ipv4_saddr(ctx, &saddr) == 0 &&
		   fizz_dispatch_variant(saddr, threshold) == FIZZ_VARIANT_CANDIDATE) {
		fizz_tail_call_static(ctx, &fizz_variants, FIZZ_VARIANT_CANDIDATE);
	}
	fizz_tail_call_static(ctx, &fizz_variants, FIZZ_VARIANT_BASELINE);
	/* Only reached when the slot is empty, which the host never leaves it. */
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
