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
 * Shadow mode (fizz_dispatch_config.shadow, frozen at load): both variants run on every frame, each
 * called through its subprogram, and the dispatcher counts the pair of kinds they decided on (see
 * <fizz/dispatcher.h>); the split is not used and every frame gets XDP_PASS.
 *
 * Per-variant cost: 1 frame in fizz_dispatch_config.sample_period per CPU calls its variant through
 * a subprogram, timed (see <fizz/dispatcher.h>); the kernel's own run-time statistics cannot tell
 * the variants apart, since a tail-called program is accounted to the program on the hook.
 *
 * On tc (fizz_dispatch_config.hook, frozen at load) the same program is loaded as a tc program, with
 * tc instances of the variants: a variant's verdict is an XDP verdict (XDP_PASS = 2 reads as
 * TCX_DROP on tc), so no variant ever returns to the hook. Every variant is called through its
 * subprogram, and the dispatcher returns FIZZ_TCX_NEXT for every packet, whatever the variant said:
 * the programs after it on the hook, and then the stack, see every packet.
 *
 * Chaining on XDP (fizz_dispatch_config.chain): every variant is called through its subprogram too,
 * and the frame then goes by a tail call to the program in FIZZ_SLOT_NEXT, whose verdict is the
 * frame's. A frame meets that program exactly once, whichever dispatcher, split or mode it met:
 * each dispatcher ends in the same single tail call.
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

/* The variants and, when chaining, the next program (FIZZ_SLOT_NEXT). */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, FIZZ_PROG_SLOTS);
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
		     /* "memory": the called program writes maps (fizz_decision) the caller reads after. */
		     : "r0", "r1", "r2", "r3", "r4", "r5", "memory");
}

/* What a variant call returns when the slot is empty (the host never leaves one so). */
#define FIZZ_NO_VARIANT (-1)

/*
 * FIZZ_NO_VARIANT, hidden from the compiler and the verifier: a variant's verdict comes back in r0
 * from the subprogram's caller's point of view, but neither sees the tail call return. Seeing only
 * the fall-through's constant, clang would fold the callers' checks (noinline does not stop
 * interprocedural constant propagation), and the verifier, which follows the subprogram at each
 * call, would take the verdict as that constant and remove the code behind the check. A load from
 * writable global data is a value neither may assume; it runs only for an empty slot.
 */
volatile __s32 fizz_no_variant = FIZZ_NO_VARIANT;

/* Frozen at load (Dispatcher::load): the verifier sees the period, the mode and the hook as
 * constants and keeps only the code they choose. */
const volatile struct fizz_dispatch_config fizz_dispatch_config = {
	.sample_period = FIZZ_COST_SAMPLE_PERIOD,
	.hook = FIZZ_HOOK_XDP,
};

/* The hook <fizz/parse.h> reads the frame for, when a split or shadow mode parses the source. */
static __always_inline __u32 fizz_hook(void)
{
	return fizz_dispatch_config.hook;
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fizz_dispatch_stats);
} fizz_dispatch_stats SEC(".maps");

/* Shadow mode only; the host sizes nothing here, it reuses one decision map for all three objects. */
#include <fizz/decision.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fizz_shadow_table);
} fizz_shadow SEC(".maps");


/*
 * A variant called as a function: the subprogram tail-calls it, and the variant's exit returns to
 * the subprogram's caller with the variant's verdict (x86-64 JIT: a tail call from a subprogram
 * reuses the subprogram's frame; tests/bpf/test_dispatcher_cost.cpp checks the verdict comes back).
 * Static, so the verifier follows it at each call with the caller's registers: its context stays
 * the program's own, an xdp_md on XDP and an __sk_buff on tc (a global subprogram's context
 * argument is typed by BTF, and a struct xdp_md * argument is no context to a tc program). Its
 * fall-through value is hidden from both compiler and verifier (fizz_no_variant above).
 */
static __noinline int fizz_call_baseline(struct xdp_md *ctx)
{
	fizz_tail_call_static(ctx, &fizz_variants, FIZZ_VARIANT_BASELINE);
	return fizz_no_variant;
}

static __noinline int fizz_call_candidate(struct xdp_md *ctx)
{
	fizz_tail_call_static(ctx, &fizz_variants, FIZZ_VARIANT_CANDIDATE);
	return fizz_no_variant;
}

/* Runs `variant` as a function, untimed; returns its verdict. */
static __always_inline int fizz_call_variant(struct xdp_md *ctx, __u32 variant)
{
	return variant == FIZZ_VARIANT_CANDIDATE ? fizz_call_candidate(ctx) : fizz_call_baseline(ctx);
}

/* Runs `variant` as a function and adds the run's time to its cost on this CPU. */
static __always_inline int fizz_timed_call(struct xdp_md *ctx, struct fizz_dispatch_stats *st, __u32 variant)
{
	struct fizz_variant_cost *cost = &st->cost[variant == FIZZ_VARIANT_CANDIDATE];
	__u64 t0 = bpf_ktime_get_ns();
	int verdict = fizz_call_variant(ctx, variant);
	__u64 t1 = bpf_ktime_get_ns();

	if (verdict == FIZZ_NO_VARIANT)
		return XDP_PASS;
	cost->runs++;
	cost->ns += t1 - t0;
	return verdict;
}

/* Runs `variant` as a function, timed when `st` is given; returns what it decided (FIZZ_DECISION_*). */
static __always_inline __u32 fizz_shadow_call(struct xdp_md *ctx, struct fizz_dispatch_stats *st, __u32 variant,
					      __u32 *decision)
{
	__u32 d;

	*(volatile __u32 *)decision = FIZZ_DECISION_NONE;
	if (st)
		fizz_timed_call(ctx, st, variant);
	else
		fizz_call_variant(ctx, variant);
	d = *(volatile __u32 *)decision;
	return d < FIZZ_DECISIONS ? d : FIZZ_DECISION_OTHER;
}

/* Both variants on the frame, in turn; their decisions counted as one pair. */
static __always_inline void fizz_dispatch_shadow(struct xdp_md *ctx, struct fizz_dispatch_stats *st)
{
	struct fizz_shadow_table *table;
	__u32 zero = 0, *decision, b, c, saddr;
	__u64 n;

	decision = bpf_map_lookup_elem(&fizz_decision, &zero);
	table = bpf_map_lookup_elem(&fizz_shadow, &zero);
	if (!decision || !table)
		return;
	if (!fizz_dispatch_config.sample_period ||
	    (st && (++st->frames & (fizz_dispatch_config.sample_period - 1)) != 0))
		st = NULL; /* not a timed frame */
	b = fizz_shadow_call(ctx, st, FIZZ_VARIANT_BASELINE, decision);
	c = fizz_shadow_call(ctx, st, FIZZ_VARIANT_CANDIDATE, decision);
	n = table->frames[b][c]++;
	/* Only the first few frames of a pair per CPU pay for a parse. */
	if (n < FIZZ_SHADOW_EXAMPLES && fizz_parse_ipv4_saddr(ctx, &saddr) == 0)
		table->examples[b][c][n] = saddr;
}

/*
 * Where a frame goes once the variants (called through their subprograms) are done with it: on tc,
 * to the next program on the hook, whatever they returned; when chaining, to the next XDP program,
 * whose verdict becomes the frame's.
 */
static __always_inline int fizz_dispatch_exit(struct xdp_md *ctx)
{
	if (fizz_hook() == FIZZ_HOOK_TC)
		return FIZZ_TCX_NEXT;
	fizz_tail_call_static(ctx, &fizz_variants, FIZZ_SLOT_NEXT);
	/* Only reached when the next slot is empty, which the host never leaves it: the frame is
	 * classified and passes, as without a chain. */
	return XDP_PASS;
}

SEC("xdp")
int fizz_dispatch(struct xdp_md *ctx)
{
	/* On tc, or with a program chained behind, every variant returns here. */
	const int returning = fizz_hook() == FIZZ_HOOK_TC || fizz_dispatch_config.chain;
	struct fizz_dispatch_stats *st;
	__u32 saddr, zero = 0, variant = FIZZ_VARIANT_BASELINE;
	__u64 threshold;
	int verdict;

	if (fizz_dispatch_config.shadow) {
		fizz_dispatch_shadow(ctx, bpf_map_lookup_elem(&fizz_dispatch_stats, &zero));
		return returning ? fizz_dispatch_exit(ctx) : XDP_PASS;
	}

	/* Read once per frame: the host may rewrite it at any moment. */
	threshold = *(volatile __u64 *)&fizz_split;
	if (threshold >= FIZZ_SPLIT_ALL)
		variant = FIZZ_VARIANT_CANDIDATE;
	else if (threshold && fizz_parse_ipv4_saddr(ctx, &saddr) == 0)
		variant = fizz_dispatch_variant(saddr, threshold);

	/* 1 frame in sample_period per CPU is timed; the others go by the direct tail call (or, when
	 * returning, the untimed subprogram call). Period 0 (benchmarks: the dispatcher without
	 * timing) leaves this to the verifier to prune. */
	if (fizz_dispatch_config.sample_period) {
		st = bpf_map_lookup_elem(&fizz_dispatch_stats, &zero);
		if (st && (++st->frames & (fizz_dispatch_config.sample_period - 1)) == 0) {
			verdict = fizz_timed_call(ctx, st, variant);
			return returning ? fizz_dispatch_exit(ctx) : verdict;
		}
	}

	if (returning) {
		fizz_call_variant(ctx, variant);
		return fizz_dispatch_exit(ctx);
	}
	if (variant == FIZZ_VARIANT_CANDIDATE)
		fizz_tail_call_static(ctx, &fizz_variants, FIZZ_VARIANT_CANDIDATE);
	fizz_tail_call_static(ctx, &fizz_variants, FIZZ_VARIANT_BASELINE);
	/* Only reached when the slot is empty, which the host never leaves it. */
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
