/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Facts shared by every fizzhost BPF program and the host: map and section names, the per-program
 * configuration the host writes before load, and the layout of the per-CPU regions (counters and
 * message ring) every loaded program instance writes. Plain C so the BPF side (clang -target bpf)
 * and the C++ host compile the very same definitions.
 */
#ifndef FIZZ_SHARED_H
#define FIZZ_SHARED_H

#include <linux/types.h>

/* Size checks that both compilers understand: a message header asserts its layout once. */
#ifdef __cplusplus
#include <stddef.h>
#define FIZZ_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#define FIZZ_OFFSETOF(type, member) offsetof(type, member)
#else
#define FIZZ_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#define FIZZ_OFFSETOF(type, member) __builtin_offsetof(type, member)
#endif

/* Map names every classifier object carries (see classifier.h). */
#define FIZZ_MAP_EVENTS "fizz_events"   /* BPF_MAP_TYPE_QUEUE of the plugin's message struct */
#define FIZZ_MAP_REGIONS "fizz_regions" /* mmapable ARRAY, key = CPU: struct fizz_region_header + slots */
/* PERCPU_ARRAY, 1 entry, __u32: the kind the program decided on for the frame it runs on, for the
 * A/B dispatcher in shadow mode (which shares this map with both variants). */
#define FIZZ_MAP_DECISION "fizz_decision"
/* Custom rodata section holding struct fizz_prog_config; libbpf makes it a map of that name. */
#define FIZZ_CONFIG_SECTION ".rodata.fizz"

/*
 * A member added to a struct the host fills by aggregate initialisation gets a default in C++: host
 * code written before the member existed keeps compiling (-Wmissing-field-initializers) and keeps
 * meaning what it meant. C has no member defaults; its designated initialisers leave it 0.
 */
#ifdef __cplusplus
#define FIZZ_MEMBER_DEFAULT(value) = value
#else
#define FIZZ_MEMBER_DEFAULT(value)
#endif

/* Upper bound on message kinds a plugin may declare (per-kind counters are sized by it). */
#define FIZZ_MAX_KINDS 16

enum fizz_transport {
	FIZZ_TRANSPORT_QUEUE = 0, /* one BPF queue map, popped one message per syscall */
	FIZZ_TRANSPORT_RING = 1,  /* message slots in each CPU's region, read through mmap */
};

/*
 * The hook a program instance runs on. One ELF program serves both: the host loads it as
 * BPF_PROG_TYPE_XDP with FIZZ_HOOK_XDP, or as BPF_PROG_TYPE_SCHED_CLS (tc ingress, through a tcx
 * link, always behind the host's dispatcher) with FIZZ_HOOK_TC, and the SDK's helpers read the
 * frame through the context the kernel really passes (<fizz/hook.h>).
 */
enum fizz_hook {
	FIZZ_HOOK_XDP = 0,
	FIZZ_HOOK_TC = 1,
};

/*
 * tcx verdicts (enum tcx_action_base, Linux 6.6 UAPI). The 6.1 headers the SDK builds against lack
 * them, and a newer <linux/bpf.h> declares them as enumerators, so they are defined here once under
 * names of our own. TCX_NEXT hands the packet to the next program on the hook (the stack's default
 * verdict after the last one); a classifier's XDP_PASS (2) would read as TCX_DROP there, which is
 * why a classifier never returns to the tc hook itself (see bpf/dispatcher.bpf.c).
 */
#define FIZZ_TCX_NEXT (-1)
#define FIZZ_TCX_PASS 0
#define FIZZ_TCX_DROP 2

/* Written by the host into FIZZ_CONFIG_SECTION before load; frozen, so the verifier sees constants
 * and prunes the transport (and the hook) that is not used. */
struct fizz_prog_config {
	__u32 transport;    /* enum fizz_transport */
	__u32 ring_slots;   /* message slots per CPU region (0 with the queue transport) */
	__u32 emit_off;     /* benchmarks only: fizz_emit returns at once (classify without emit) */
	__u32 shadow;       /* runs behind a shadow-mode dispatcher: fizz_emit records its kind in
			     * FIZZ_MAP_DECISION (0: the store is pruned by the verifier) */
	__u32 hook FIZZ_MEMBER_DEFAULT(FIZZ_HOOK_XDP); /* enum fizz_hook: the context the parse helpers
							* read the frame through */
};

/*
 * The configuration's size per SDK generation, how the host tells what an object was built with
 * (the section's size is in the object): an object whose section holds FIZZ_PROG_CONFIG_SIZE_PRE_TC
 * bytes predates `hook`, reads the frame as XDP only and must be rebuilt to run on tc.
 */
#define FIZZ_PROG_CONFIG_SIZE_PRE_TC 16
#define FIZZ_PROG_CONFIG_SIZE_TC 20
FIZZ_STATIC_ASSERT(FIZZ_OFFSETOF(struct fizz_prog_config, hook) == FIZZ_PROG_CONFIG_SIZE_PRE_TC,
		   "the hook follows everything an SDK before it knew, so an older object is a prefix");
FIZZ_STATIC_ASSERT(sizeof(struct fizz_prog_config) == FIZZ_PROG_CONFIG_SIZE_TC, "the current generation");

/*
 * A frame's decision as fizz_emit records it for the shadow-mode dispatcher: FIZZ_DECISION_NONE
 * when the program emitted nothing, 1 + kind for kinds below FIZZ_MAX_KINDS, FIZZ_DECISION_OTHER
 * for a kind beyond them. The dispatcher counts (baseline, candidate) pairs over FIZZ_DECISIONS^2.
 */
#define FIZZ_DECISION_NONE 0
#define FIZZ_DECISION_OTHER (FIZZ_MAX_KINDS + 1)
#define FIZZ_DECISIONS (FIZZ_MAX_KINDS + 2)

#define FIZZ_CACHE_LINE 64

/* What one program instance counted on one CPU. Plain counters: only that CPU writes them. */
struct fizz_counters {
	__u64 packets;               /* every frame the classifier ran on */
	__u64 emitted;               /* messages handed to the transport */
	__u64 dropped;               /* messages the transport had no room for */
	__u64 kinds[FIZZ_MAX_KINDS]; /* emitted messages per kind index */
};

/*
 * Start of each CPU's region of FIZZ_MAP_REGIONS (the value of key = CPU). Everything but the last
 * cache line is written only by the program running on that CPU (runs never overlap on one CPU:
 * XDP runs with bottom halves disabled, BPF_PROG_TEST_RUN too); the last line (`tail`,
 * `host_taken`, `host_settled`) only by the host. The ring: message i (counting from 0, ever) is in
 * slot i % ring_slots; head - tail messages wait. The host moves `tail` only once the messages
 * before it are written out or counted lost, so a host killed meanwhile leaves them to the next.
 * The queue transport pops for good: CPU 0's `host_taken` counts the messages the host popped,
 * `host_settled` those of them written out or counted; a difference found at start was lost with
 * the host before, and is counted so.
 */
struct fizz_region_header {
	__u64 head;      /* messages written into the slots, ever (published after the slot) */
	__u32 next_slot; /* producer's own: head % ring_slots, kept so no division is needed */
	__u32 reserved0;
	struct fizz_counters counters;
	__u64 reserved1[3];
	__u64 tail;         /* ring: messages the host has settled (written or counted), ever */
	__u64 host_taken;   /* queue, CPU 0: messages the host popped, ever */
	__u64 host_settled; /* queue, CPU 0: of those, written or counted, ever */
	__u64 reserved2[5];
};
FIZZ_STATIC_ASSERT(FIZZ_OFFSETOF(struct fizz_region_header, tail) == 3 * FIZZ_CACHE_LINE,
		   "the consumer's tail has a cache line of its own");
FIZZ_STATIC_ASSERT(sizeof(struct fizz_region_header) == 4 * FIZZ_CACHE_LINE, "the slots start on a cache line");

/* Bytes of one message slot: the message size rounded up to 8. */
#define FIZZ_SLOT_SIZE(msg_size) (((msg_size) + 7u) & ~7u)
/* The largest region (header + slots) of one CPU: the kernel's limit on one array value,
 * KMALLOC_MAX_SIZE with 4 KiB pages. */
#define FIZZ_MAX_REGION_BYTES (4u << 20)

#endif /* FIZZ_SHARED_H */
