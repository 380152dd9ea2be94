/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One program source for both hooks. The host loads a classifier (and its own dispatcher) either as
 * an XDP program or as a tc (SCHED_CLS) program, and tells it which in its frozen configuration
 * (enum fizz_hook, <fizz/shared.h>). The program's context is then a struct xdp_md or, on tc, a
 * struct __sk_buff whose packet pointers sit at other offsets; the helpers here read the frame
 * through the right one. The hook is a frozen constant to the verifier, which follows the live
 * branch only and removes the other: an XDP instance never meets the __sk_buff offsets, which
 * would be out of bounds of its context, and keeps its code (the hook's load is all it adds).
 *
 * Only the frame itself is read this way. Anything else a program reads from its context directly
 * (ctx->ingress_ifindex, ctx->data_meta, ctx->rx_queue_index) is XDP only: on tc the same offsets
 * hold other __sk_buff fields (queue_mapping, mark, protocol), which the verifier lets a SCHED_CLS
 * program read, so such a program would load on tc and read the wrong values.
 */
#ifndef FIZZ_HOOK_H
#define FIZZ_HOOK_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "shared.h"

/*
 * The hook this program instance was loaded for (enum fizz_hook). Declared here and defined by the
 * program's configuration, wherever it is included: <fizz/classifier.h> returns fizz_config.hook,
 * the host's dispatcher its own setting, and a program with no configuration of its own says
 * FIZZ_HOOK_XDP_ONLY once. So the order of includes does not matter, and a program that defines
 * none fails to build rather than read an skb as an xdp_md.
 */
#pragma clang diagnostic error "-Wundefined-internal"
static __always_inline __u32 fizz_hook(void);

/* For a program without a configuration of its own: it runs on XDP only. */
#define FIZZ_HOOK_XDP_ONLY()                                                                       \
	static __always_inline __u32 fizz_hook(void)                                               \
	{                                                                                          \
		return FIZZ_HOOK_XDP;                                                              \
	}

/* The frame as a parser sees it: the bytes from data to data_end, and the VLAN tags that are no
 * longer in them. */
struct fizz_frame {
	void *data;
	void *data_end;
	__u32 vlan_stripped; /* tags the stack took out of the frame before the hook ran (tc: 0 or 1) */
};

/*
 * Loads one 32-bit field of the context at a constant offset. Written in assembly for the tc
 * branch: the verifier accepts a context load only at a constant offset, and the compiler, seeing
 * two loads of one pointer under a condition, may merge them into one load at a selected offset,
 * which the verifier refuses whichever hook the program runs on.
 */
#define fizz_ctx_load_u32(ctx, offset)                                                             \
	({                                                                                         \
		__u64 __fizz_v;                                                                    \
		asm volatile("%[v] = *(u32 *)(%[c] + %[off])"                                     \
			     : [v] "=r"(__fizz_v)                                                  \
			     : [c] "r"(ctx), [off] "i"(offset));                                   \
		__fizz_v;                                                                          \
	})

/*
 * The frame of a packet on tc: the skb's linear part, from the Ethernet header (tc ingress pushes
 * the MAC header back before the programs run) to the end of what the driver put in the linear
 * buffer, which holds the headers of any frame a driver builds (a frame whose IPv4 header is not in
 * it counts as too short). The stack has already taken the outermost VLAN tag out of the frame into
 * skb->vlan_tci (vlan_present); it is reported so that both hooks count the same tags. The
 * parameter keeps the XDP type so that plugin sources stay as they are; on tc it points at a
 * struct __sk_buff. Call it only where fizz_hook() is FIZZ_HOOK_TC.
 */
static __always_inline struct fizz_frame fizz_tc_frame(struct xdp_md *ctx)
{
	struct fizz_frame f;

	f.data = (void *)(long)fizz_ctx_load_u32(ctx, __builtin_offsetof(struct __sk_buff, data));
	f.data_end = (void *)(long)fizz_ctx_load_u32(ctx, __builtin_offsetof(struct __sk_buff, data_end));
	f.vlan_stripped = fizz_ctx_load_u32(ctx, __builtin_offsetof(struct __sk_buff, vlan_present)) != 0;
	return f;
}

/* The frame of a packet on XDP: all of it (the first buffer of a multi-buffer frame), tags included. */
static __always_inline struct fizz_frame fizz_xdp_frame(struct xdp_md *ctx)
{
	struct fizz_frame f = {(void *)(long)ctx->data, (void *)(long)ctx->data_end, 0};

	return f;
}

/* The frame of the packet this program runs on, whichever hook that is. */
static __always_inline struct fizz_frame fizz_ctx_frame(struct xdp_md *ctx)
{
	return fizz_hook() == FIZZ_HOOK_TC ? fizz_tc_frame(ctx) : fizz_xdp_frame(ctx);
}

#endif /* FIZZ_HOOK_H */
