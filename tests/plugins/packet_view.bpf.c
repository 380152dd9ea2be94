// SPDX-License-Identifier: GPL-2.0
/* Runs the SDK's fizz_parse_packet() on each frame and leaves its result in a global the test
 * reads back (one BPF_PROG_TEST_RUN at a time), so the view can be checked against a reference.
 * The test may load it as a tc program too, setting packet_view_hook, to check the view is the
 * same on either hook. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include <fizz/parse.h>

/* enum fizz_hook, frozen at load like a classifier's fizz_config.hook. */
const volatile __u32 packet_view_hook = FIZZ_HOOK_XDP;

static __always_inline __u32 fizz_hook(void)
{
	return packet_view_hook;
}

struct fizz_packet_view_out {
	__s32 ret;
	__u32 runs;
	struct fizz_packet pkt;
};

struct fizz_packet_view_out fizz_packet_view_out;

SEC("xdp")
int fizz_packet_view(struct xdp_md *ctx)
{
	struct fizz_packet pkt;

	fizz_packet_view_out.ret = fizz_parse_packet(ctx, &pkt);
	fizz_packet_view_out.pkt = pkt;
	fizz_packet_view_out.runs++;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
