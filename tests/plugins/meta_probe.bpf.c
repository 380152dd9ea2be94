// SPDX-License-Identifier: GPL-2.0
/* A tc ingress probe for tests: counts the skbs that reach tc, and those that still carry XDP
 * metadata in front of their data (what an XDP program left behind and the stack now sees). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct fizz_meta_probe_counts {
	__u64 frames;
	__u64 with_meta;
};

struct fizz_meta_probe_counts fizz_meta_probe_counts;

SEC("tc")
int fizz_meta_probe(struct __sk_buff *skb)
{
	void *meta = (void *)(long)skb->data_meta;
	void *data = (void *)(long)skb->data;

	__sync_fetch_and_add(&fizz_meta_probe_counts.frames, 1);
	if (meta + 1 <= data)
		__sync_fetch_and_add(&fizz_meta_probe_counts.with_meta, 1);
	return 0; /* TC_ACT_OK */
}

char LICENSE[] SEC("license") = "GPL";
