/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The classifier SDK: the maps every fizzhost classifier carries, packet counting and message
 * emission. A classifier is
 *
 *     #include <fizz/classifier.h>
 *     #include "my_msg.h"
 *     FIZZ_MESSAGE(struct my_msg);
 *
 *     SEC("xdp") int my_xdp(struct xdp_md *ctx)
 *     {
 *             __u32 saddr;
 *
 *             fizz_count_packet();
 *             if (fizz_parse_ipv4_saddr(ctx, &saddr))
 *                     return XDP_PASS;
 *             ... struct my_msg m = { ... }; fizz_emit(&m, sizeof(m), m.kind); ...
 *             return XDP_PASS;
 *     }
 *
 * The host chooses the transport and the counter slot before load (struct fizz_prog_config), sizes
 * the queue and the rings, and shares FIZZ_MAP_STATS between every version it swaps in.
 */
#ifndef FIZZ_CLASSIFIER_H
#define FIZZ_CLASSIFIER_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "shared.h"
#include "parse.h"

/* Frozen after load: the verifier sees constants and drops the branch of the unused transport. */
const volatile struct fizz_prog_config fizz_config SEC(".rodata.fizz") = {
	.transport = FIZZ_TRANSPORT_QUEUE,
	.slot = FIZZ_SLOT_BASELINE,
	.ring_wakeup_bytes = 0,
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FIZZ_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct fizz_stats);
} fizz_stats SEC(".maps");

/* Template for the per-CPU rings; the host creates the real ones and sizes them. */
struct fizz_ring {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1); /* resized by the host to the number of possible CPUs */
	__type(key, __u32);
	__array(values, struct fizz_ring);
} fizz_rings SEC(".maps");

/* Declares the message queue for the plugin's message type (default 1024 entries; the host resizes
 * it before load). */
#define FIZZ_MESSAGE(msg_type)                                                                     \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_QUEUE);                                                  \
		__uint(max_entries, 1024);                                                         \
		__type(value, msg_type);                                                           \
	} fizz_events SEC(".maps")

/* fizz_events is defined by FIZZ_MESSAGE in the classifier; declared here so fizz_emit can use it. */
#define FIZZ_EVENTS_MAP (&fizz_events)

static __always_inline struct fizz_stats *fizz_stats_slot(void)
{
	__u32 slot = fizz_config.slot;

	return bpf_map_lookup_elem(&fizz_stats, &slot);
}

/* Counts one frame seen by this classifier. Call once per program run. */
static __always_inline void fizz_count_packet(void)
{
	struct fizz_stats *st = fizz_stats_slot();

	if (st)
		st->packets++;
}

/*
 * Hands one message to the host's transport. A message the transport has no room for is never lost
 * silently: it is counted in fizz_stats.dropped. Returns 0 when delivered, -1 when dropped.
 */
static __always_inline int fizz_emit_impl(void *events_map, void *msg, __u32 size, __u32 kind)
{
	struct fizz_stats *st = fizz_stats_slot();
	int err;

	if (fizz_config.transport == FIZZ_TRANSPORT_RINGBUF) {
		__u32 cpu = bpf_get_smp_processor_id();
		void *ring = bpf_map_lookup_elem(&fizz_rings, &cpu);

		__u64 flags = 0;

		/* A wakeup per record costs an irq_work each time the consumer has caught up; instead
		 * wake it once, when this record makes the waiting data cross the threshold, and let it
		 * poll smaller batches on its timer. */
		if (ring && fizz_config.ring_wakeup_bytes) {
			__u64 avail = bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA);
			__u64 after = avail + size + 8; /* 8: the record header */

			flags = avail < fizz_config.ring_wakeup_bytes && after >= fizz_config.ring_wakeup_bytes ?
					BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
		}
		err = ring ? bpf_ringbuf_output(ring, msg, size, flags) : -1;
	} else {
		err = bpf_map_push_elem(events_map, msg, 0);
	}
	if (!st)
		return err ? -1 : 0;
	if (err) {
		st->dropped++;
		return -1;
	}
	st->emitted++;
	if (kind < FIZZ_MAX_KINDS)
		st->kinds[kind]++;
	return 0;
}

#define fizz_emit(msg, size, kind) fizz_emit_impl(FIZZ_EVENTS_MAP, (msg), (size), (kind))

#endif /* FIZZ_CLASSIFIER_H */
