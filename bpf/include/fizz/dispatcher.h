/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The A/B dispatcher's facts, shared by bpf/dispatcher.bpf.c and the host (runtime/rollout/dispatcher.cpp):
 * names, variant indices, the hash that splits sources and the split threshold. Nothing passes from
 * the dispatcher to the variant it tail-calls but the frame itself (see dispatcher.bpf.c for why).
 * Plain C, compiled by clang -target bpf and by the C++ host alike (after xdp-tools'
 * prog_dispatcher.h).
 */
#ifndef FIZZ_DISPATCHER_H
#define FIZZ_DISPATCHER_H

#include <linux/types.h>

#include "shared.h"

/* Names in the dispatcher's object. */
#define FIZZ_DISPATCHER_PROG "fizz_dispatch"
#define FIZZ_MAP_VARIANTS "fizz_variants" /* PROG_ARRAY: one XDP program per variant */
#define FIZZ_MAP_DISPATCH_STATS "fizz_dispatch_stats" /* PERCPU_ARRAY, 1 entry: struct fizz_dispatch_stats */
#define FIZZ_MAP_SHADOW "fizz_shadow" /* PERCPU_ARRAY, 1 entry: struct fizz_shadow_table (shadow mode) */
/* The dispatcher's FIZZ_MAP_DECISION (<fizz/shared.h>) is the one its variants write: the host
 * creates it and hands the same fd to all three objects. */
/* The dispatcher's settings, frozen at load: struct fizz_dispatch_config in .rodata. */
#define FIZZ_DISPATCHER_CONFIG_SECTION ".rodata"
/* The split threshold is the dispatcher's global `__u64 fizz_split` (a plain load, no map lookup),
 * so the host writes it through the object's .bss map: key 0, value the whole section. */
#define FIZZ_DISPATCHER_SPLIT_SECTION ".bss"

/* Index of each variant in FIZZ_MAP_VARIANTS. */
#define FIZZ_VARIANT_BASELINE 0
#define FIZZ_VARIANT_CANDIDATE 1
#define FIZZ_VARIANTS 2
/*
 * Chaining on XDP (fizz_dispatch_config.chain): the program every frame is handed to once the
 * variants have classified it, by a tail call whose verdict (DROP, TX, REDIRECT, PASS) is the
 * frame's. It shares the variants' program array, so the kernel holds it to the same rule: alike in
 * type, JIT, frags support and expected attach type to the dispatcher (an insert of any other
 * program fails with EINVAL).
 */
#define FIZZ_SLOT_NEXT 2
#define FIZZ_PROG_SLOTS 3 /* entries of FIZZ_MAP_VARIANTS */

/*
 * Per-variant cost on live traffic. The kernel accounts a program's run time only to the program
 * on the hook, so behind the dispatcher it sees dispatcher + variant as one. The dispatcher times
 * 1 frame in `sample_period` per CPU itself: it calls the variant through a subprogram that does
 * the tail call (the variant's exit returns to the subprogram's caller) with bpf_ktime_get_ns()
 * around it. A timed run includes the subprogram call and one clock read, as the kernel's own
 * statistics include theirs.
 */
struct fizz_dispatch_config {
	__u32 sample_period; /* a power of two; 1 times every frame, 0 none (benchmarks) */
	__u32 shadow;        /* shadow mode: both variants on every frame, decisions compared */
	/* enum fizz_hook. FIZZ_HOOK_TC: loaded as a tc program with tc instances of the variants, it
	 * calls them through their subprograms and returns FIZZ_TCX_NEXT for every packet, whatever
	 * they returned. */
	__u32 hook FIZZ_MEMBER_DEFAULT(FIZZ_HOOK_XDP);
	/* XDP: after the variants, tail-call FIZZ_SLOT_NEXT (its verdict is the frame's); every
	 * variant call returns through its subprogram. */
	__u32 chain FIZZ_MEMBER_DEFAULT(0);
};
FIZZ_STATIC_ASSERT(sizeof(struct fizz_dispatch_config) == 16, "the dispatcher's .rodata holds this alone");

/*
 * A chained frame costs the kernel's tail-call budget (MAX_TAIL_CALL_CNT, 33 per packet) one call
 * per variant it meets (the subprogram's tail call counts like any other) and one for the next
 * program: 2 on a split, 3 in shadow mode, so the next program keeps 30 or 31 for chains of its
 * own. The subprogram's frame is where the variant runs, so a dispatcher frame must stay below the
 * 256 bytes of stack the verifier allows under a tail call from a subprogram.
 */

struct fizz_variant_cost {
	__u64 runs; /* runs timed */
	__u64 ns;   /* their time, summed */
};

/* One CPU's value of FIZZ_MAP_DISPATCH_STATS: written only by the dispatcher running on it. */
struct fizz_dispatch_stats {
	__u64 frames; /* every frame the dispatcher saw: the sampling clock */
	struct fizz_variant_cost cost[FIZZ_VARIANTS];
	__u64 reserved;
};
FIZZ_STATIC_ASSERT(sizeof(struct fizz_dispatch_stats) == 48, "per-CPU values are multiples of 8 bytes");

/* The default sampling period: a timed frame costs two clock reads and a subprogram call, which
 * 1 frame in 64 spreads to well under a nanosecond per frame (bench/dispatcher_cost.cpp). */
#define FIZZ_COST_SAMPLE_PERIOD 64

/*
 * Shadow mode: the dispatcher calls the baseline, then the candidate, on every frame (each through
 * its subprogram, so each returns), reads what each decided from FIZZ_MAP_DECISION (see
 * <fizz/shared.h>: 0 none, 1 + kind), counts the pair and passes the frame. The first
 * FIZZ_SHADOW_EXAMPLES sources of each pair on each CPU are kept as examples (0 where the frame
 * had no IPv4 source).
 */
#define FIZZ_SHADOW_EXAMPLES 4

/* One CPU's value of FIZZ_MAP_SHADOW: written only by the dispatcher running on it. */
struct fizz_shadow_table {
	__u64 frames[FIZZ_DECISIONS][FIZZ_DECISIONS];                  /* [baseline][candidate] */
	__u32 examples[FIZZ_DECISIONS][FIZZ_DECISIONS][FIZZ_SHADOW_EXAMPLES]; /* IPv4 sources, host order */
};
FIZZ_STATIC_ASSERT(sizeof(struct fizz_shadow_table) % 8 == 0, "per-CPU values are multiples of 8 bytes");
FIZZ_STATIC_ASSERT(sizeof(struct fizz_shadow_table) <= 32768, "a per-CPU value is at most 32 KiB");

/* The threshold that sends every source to the candidate: one past the largest hash. */
#define FIZZ_SPLIT_ALL ((__u64)1 << 32)

/* murmur3's 32-bit finaliser: cheap, and spreads consecutive addresses evenly over 2^32. */
static inline __u32 fizz_dispatch_hash(__u32 x)
{
	x ^= x >> 16;
	x *= 0x85ebca6bU;
	x ^= x >> 13;
	x *= 0xc2b2ae35U;
	x ^= x >> 16;
	return x;
}

/* The threshold for `percent` (0..100) of the hash space: hashes below it go to the candidate.
 * 0 sends nobody, 100 gives FIZZ_SPLIT_ALL. */
static inline __u64 fizz_split_threshold(__u32 percent)
{
	return ((__u64)percent << 32) / 100;
}

/* The variant the dispatcher picks for an IPv4 source (host byte order) under `threshold`. */
static inline __u32 fizz_dispatch_variant(__u32 saddr, __u64 threshold)
{
	return (__u64)fizz_dispatch_hash(saddr) < threshold ? FIZZ_VARIANT_CANDIDATE : FIZZ_VARIANT_BASELINE;
}

#endif /* FIZZ_DISPATCHER_H */
