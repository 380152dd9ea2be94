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
 *             struct fizz_region_header *region = fizz_count_packet();
 *             __u32 saddr;
 *
 *             if (fizz_parse_ipv4_saddr(ctx, &saddr))
 *                     return XDP_PASS;
 *             ... struct my_msg m = { ... }; fizz_emit_in(region, &m, sizeof(m), m.kind); ...
 *             return XDP_PASS;
 *     }
 *
 * The host chooses the transport and the hook before load (struct fizz_prog_config) and sizes the
 * queue and the per-CPU regions. The same program runs on XDP or, loaded as a tc program, at tc
 * ingress: the parse helpers read the frame through either context, so the source does not change. Each loaded instance counts into its own regions, so every count belongs to the
 * program version that made it.
 */
#ifndef FIZZ_CLASSIFIER_H
#define FIZZ_CLASSIFIER_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "shared.h"
#include "parse.h"

/* Frozen after load: the verifier sees constants and drops the branches of the unused transport
 * and of the other hook. */
const volatile struct fizz_prog_config fizz_config SEC(".rodata.fizz") = {
	.transport = FIZZ_TRANSPORT_QUEUE,
	.ring_slots = 0,
	.emit_off = 0,
	.shadow = 0,
	.hook = FIZZ_HOOK_XDP,
};

/* The hook the parse helpers read the frame for (<fizz/hook.h>): the host's choice at load. */
static __always_inline __u32 fizz_hook(void)
{
	return fizz_config.hook;
}

/*
 * One region per CPU (key = CPU id): struct fizz_region_header, then fizz_config.ring_slots message
 * slots. Declared without a BTF value type so the host can size the value (header + slots) before
 * load; mmapable so the host reads heads, counters and messages without a syscall.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1); /* resized by the host to the number of possible CPUs; loaded outside the
				 * host it counts on CPU 0 only (the queue transport works on every CPU) */
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct fizz_region_header)); /* resized by the host */
} fizz_regions SEC(".maps");

/* The kind decided on for the current frame (shadow mode; written only when fizz_config.shadow is
 * set): declared in <fizz/decision.h>, which the dispatcher includes too. */
#include "decision.h"

/* Declares the message queue for the plugin's message type (default 1024 entries; the host resizes
 * it before load) and names the type fizz_emit copies into a ring slot. */
#define FIZZ_MESSAGE(msg_type)                                                                     \
	typedef msg_type fizz_message_t;                                                           \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_QUEUE);                                                  \
		__uint(max_entries, 1024);                                                         \
		__type(value, msg_type);                                                           \
	} fizz_events SEC(".maps")

/* fizz_events is defined by FIZZ_MESSAGE in the classifier; declared here so fizz_emit can use it. */
#define FIZZ_EVENTS_MAP (&fizz_events)

#ifndef fizz_barrier
#define fizz_barrier() asm volatile("" ::: "memory")
#endif

/* This CPU's region of this program instance (NULL only if the host sized the map wrongly). */
static __always_inline struct fizz_region_header *fizz_region(void)
{
	__u32 cpu = bpf_get_smp_processor_id();

	return bpf_map_lookup_elem(&fizz_regions, &cpu);
}

/* Counts one frame seen by this classifier. Call once per program run. Returns this CPU's region,
 * which fizz_emit_in() takes so that one run looks its region up once (may be NULL). */
static __always_inline struct fizz_region_header *fizz_count_packet(void)
{
	struct fizz_region_header *r = fizz_region();

	if (r)
		r->counters.packets++;
	return r;
}

/*
 * Hands one message to the host's transport. A message the transport has no room for is never lost
 * silently: it is counted in the region's counters.dropped. Returns 0 when delivered, -1 when
 * dropped. `size` must be sizeof the FIZZ_MESSAGE type (anything else is counted as dropped).
 */
static __always_inline int fizz_emit_impl(struct fizz_region_header *r, void *events_map, void *msg, __u32 size,
					  __u32 kind, __u32 msg_size, void *queue_copy)
{
	if (fizz_config.emit_off)
		return 0;
	if (fizz_config.shadow) {
		/* Pruned by the verifier unless the host loads this instance as a shadow-mode variant. */
		__u32 zero = 0, *decision = bpf_map_lookup_elem(&fizz_decision, &zero);

		if (decision)
			*decision = kind < FIZZ_MAX_KINDS ? kind + 1 : FIZZ_DECISION_OTHER;
	}
	if (size != msg_size) {
		if (r)
			r->counters.dropped++;
		return -1;
	}
	if (fizz_config.transport == FIZZ_TRANSPORT_RING) {
		__u64 head;
		__u32 slot;
		void *dst;

		if (!r)
			return -1;
		head = r->head;
		slot = r->next_slot;
		/* The host publishes `tail` after it has read the slots before it (x86 TSO: this load is
		 * not reordered with the stores below). */
		if (head - *(volatile __u64 *)&r->tail >= fizz_config.ring_slots) {
			r->counters.dropped++;
			return -1;
		}
		/* A compare, not a modulo: the verifier sees slot < ring_slots, so the copy stays inside
		 * the region the host sized as header + ring_slots slots. */
		if (slot >= fizz_config.ring_slots)
			slot = 0;
		dst = (void *)(r + 1) + (__u64)slot * FIZZ_SLOT_SIZE(msg_size);
		/* msg_size is sizeof the FIZZ_MESSAGE type: a constant, so the copy is unrolled; slots
		 * are 8-byte aligned, and saying so turns byte stores into word stores. */
		__builtin_memcpy(__builtin_assume_aligned(dst, 8), msg, msg_size);
		r->next_slot = slot + 1;
		/* Counted before it is published, so the host never delivers a message not yet counted. */
		r->counters.emitted++;
		if (kind < FIZZ_MAX_KINDS)
			r->counters.kinds[kind]++;
		/* The slot is written before the head that publishes it (compiler barrier; the host
		 * refuses this transport on CPUs that would also need a hardware fence). */
		fizz_barrier();
		*(volatile __u64 *)&r->head = head + 1;
		return 0;
	}
	/* The queue gets a copy made here, so `msg` itself never reaches a helper: it stays out of
	 * memory, and the ring path above stores its fields straight into the slot. (Pushed from
	 * `msg`, it would be built on the stack and copied into the slot by a load wider than the
	 * stores that built it, which the CPU cannot forward: a stall per message.) */
	__builtin_memcpy(queue_copy, msg, msg_size);
	if (bpf_map_push_elem(events_map, queue_copy, 0)) {
		if (r)
			r->counters.dropped++;
		return -1;
	}
	/* Without a region (an object loaded outside the host, whose fizz_regions has one entry) the
	 * queue still gets the message; only the counts are missing. (The push publishes the message
	 * a moment before it is counted here: the host may see it delivered that moment earlier.) */
	if (!r)
		return 0;
	r->counters.emitted++;
	if (kind < FIZZ_MAX_KINDS)
		r->counters.kinds[kind]++;
	return 0;
}

#define fizz_emit(msg, size, kind)                                                                 \
	({                                                                                         \
		fizz_message_t __fizz_queue_copy;                                                  \
		fizz_emit_impl(fizz_region(), FIZZ_EVENTS_MAP, (msg), (size), (kind),              \
			       sizeof(fizz_message_t), &__fizz_queue_copy);                        \
	})
/* fizz_emit() into the region fizz_count_packet() returned in this run: saves a second lookup. */
#define fizz_emit_in(region, msg, size, kind)                                                      \
	({                                                                                         \
		fizz_message_t __fizz_queue_copy;                                                  \
		fizz_emit_impl((region), FIZZ_EVENTS_MAP, (msg), (size), (kind),                   \
			       sizeof(fizz_message_t), &__fizz_queue_copy);                        \
	})

#endif /* FIZZ_CLASSIFIER_H */
