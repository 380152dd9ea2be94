// SPDX-License-Identifier: GPL-2.0
/*
 * The frame generator (see <fizz/generator.h>): run by BPF_PROG_TEST_RUN in live-frames mode, it
 * writes the next source address of its range into the frame and redirects the frame out of one
 * interface, whose peer's native XDP then receives it.
 *
 * Live frames are copies of the template in a page pool, filled once per page: a recycled page
 * still holds what the program wrote into it last time, not the template. So the program never
 * assumes the template's values: it reads the source the frame holds now and updates both
 * checksums from that value to the new one (RFC 1624), which is right whatever the page held.
 */
#include <linux/bpf.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include <fizz/generator.h>

const volatile struct fizz_gen_config fizz_gen_config = {
	.src_count = 1,
};

/* Position in the range. One thread runs the program (runs never overlap), so a plain global. */
__u32 fizz_gen_next;

/* The 16-bit one's complement checksum `check` over data in which the 32-bit word `from` became `to`
 * (RFC 1624, eqn. 3). Words are taken as they lie in memory: the sum does not depend on byte order. */
static __always_inline __u16 fizz_csum_replace4(__u16 check, __u32 from, __u32 to)
{
	__u32 sum = (__u16)~check;

	sum += (~from & 0xffff) + (~from >> 16);
	sum += (to & 0xffff) + (to >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

SEC("xdp")
int fizz_generate(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 ip_off = fizz_gen_config.ip_offset;
	__u32 l4_off = fizz_gen_config.l4_csum_offset;
	__u32 idx = fizz_gen_next;
	struct iphdr *ip;
	__u32 from, to;

	if (ip_off > FIZZ_GEN_MAX_IP_OFFSET)
		return XDP_ABORTED;
	ip = data + ip_off;
	if ((void *)(ip + 1) > data_end)
		return XDP_ABORTED;

	fizz_gen_next = idx + 1 >= fizz_gen_config.src_count ? 0 : idx + 1;
	from = ip->saddr;
	to = bpf_htonl(fizz_gen_config.first_src + idx);
	ip->saddr = to;
	ip->check = fizz_csum_replace4(ip->check, from, to);

	/* The UDP and TCP checksums cover the source through the pseudo-header. */
	if (l4_off) {
		__u16 *check;

		if (l4_off > FIZZ_GEN_MAX_L4_CSUM_OFFSET)
			return XDP_ABORTED;
		check = data + l4_off;
		if ((void *)(check + 1) > data_end)
			return XDP_ABORTED;
		if (!fizz_gen_config.l4_is_udp || *check != 0) {
			__u16 sum = fizz_csum_replace4(*check, from, to);

			*check = fizz_gen_config.l4_is_udp && sum == 0 ? 0xffff : sum;
		}
	}
	return bpf_redirect(fizz_gen_config.ifindex, 0);
}

char LICENSE[] SEC("license") = "GPL";
