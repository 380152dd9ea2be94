/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The A/B dispatcher's facts, shared by bpf/dispatcher.bpf.c and the host (runtime/dispatcher.cpp):
 * names, variant indices, the hash that splits sources and the split threshold. Nothing passes from
 * the dispatcher to the variant it tail-calls but the frame itself (see dispatcher.bpf.c for why).
 * Plain C, compiled by clang -target bpf and by the C++ host alike (after xdp-tools'
 * prog_dispatcher.h).
 */
#ifndef FIZZ_DISPATCHER_H
#define FIZZ_DISPATCHER_H

#include <linux/types.h>

/* Names in the dispatcher's object. */
#define FIZZ_DISPATCHER_PROG "fizz_dispatch"
#define FIZZ_MAP_VARIANTS "fizz_variants" /* PROG_ARRAY: one XDP program per variant */
/* The split threshold is the dispatcher's global `__u64 fizz_split` (a plain load, no map lookup),
 * so the host writes it through the object's .bss map: key 0, value the whole section. */
#define FIZZ_DISPATCHER_SPLIT_SECTION ".bss"

/* Index of each variant in FIZZ_MAP_VARIANTS. */
#define FIZZ_VARIANT_BASELINE 0
#define FIZZ_VARIANT_CANDIDATE 1
#define FIZZ_VARIANTS 2

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
