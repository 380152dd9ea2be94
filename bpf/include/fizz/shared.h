/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Facts shared by every fizzhost BPF program and the host: map and section names, the per-program
 * configuration the host writes before load, and the layout of the shared counters. Plain C so the
 * BPF side (clang -target bpf) and the C++ host compile the very same definitions.
 */
#ifndef FIZZ_SHARED_H
#define FIZZ_SHARED_H

#include <linux/types.h>

/* Size checks that both compilers understand: a message header asserts its layout once. */
#ifdef __cplusplus
#define FIZZ_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define FIZZ_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

/* Map names every classifier object carries (see classifier.h). */
#define FIZZ_MAP_EVENTS "fizz_events" /* BPF_MAP_TYPE_QUEUE of the plugin's message struct */
#define FIZZ_MAP_RINGS "fizz_rings"   /* ARRAY_OF_MAPS: one BPF ring buffer per CPU */
#define FIZZ_MAP_STATS "fizz_stats"   /* PERCPU_ARRAY, host-owned, shared across versions */
/* Custom rodata section holding struct fizz_prog_config; libbpf makes it a map of that name. */
#define FIZZ_CONFIG_SECTION ".rodata.fizz"

/* Upper bound on message kinds a plugin may declare (per-kind counters are sized by it). */
#define FIZZ_MAX_KINDS 16
/* Counter slots: one per variant of an interface (baseline, candidate). */
#define FIZZ_SLOT_BASELINE 0
#define FIZZ_SLOT_CANDIDATE 1
#define FIZZ_MAX_SLOTS 2

enum fizz_transport {
	FIZZ_TRANSPORT_QUEUE = 0,   /* one BPF queue map, popped one message per syscall */
	FIZZ_TRANSPORT_RINGBUF = 1, /* one ring buffer per CPU, consumed through mmap */
};

/* Written by the host into FIZZ_CONFIG_SECTION before load; frozen, so the verifier prunes the
 * transport that is not used. */
struct fizz_prog_config {
	__u32 transport;         /* enum fizz_transport */
	__u32 slot;              /* counter slot this program instance counts into */
	__u64 ring_wakeup_bytes; /* wake the consumer once a ring holds this much (0: every record) */
};

/* Value of FIZZ_MAP_STATS, one per slot and CPU. Plain counters: per-CPU, so no atomics needed. */
struct fizz_stats {
	__u64 packets;                 /* every frame the classifier ran on */
	__u64 emitted;                 /* messages handed to the transport */
	__u64 dropped;                 /* messages the transport had no room for */
	__u64 kinds[FIZZ_MAX_KINDS];   /* emitted messages per kind index */
};

#endif /* FIZZ_SHARED_H */
