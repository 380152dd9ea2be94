// SPDX-License-Identifier: GPL-2.0
/* Runs the SDK's fizz_parse_packet() on each frame and leaves its result in a global the test
 * reads back (one BPF_PROG_TEST_RUN at a time), so the view can be checked against a reference. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include <fizz/parse.h>

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
