// SPDX-License-Identifier: GPL-2.0
/* fields-probe: one message per IPv4 frame carrying values for every field type. Test only. */
#include <fizz/classifier.h>

#include "fields_probe_msg.h"

FIZZ_MESSAGE(struct fields_probe_msg);

SEC("xdp")
int fields_probe_xdp(struct xdp_md *ctx)
{
	struct fields_probe_msg msg;
	__u32 saddr;

	fizz_count_packet();
	if (fizz_parse_ipv4_saddr(ctx, &saddr))
		return XDP_PASS;
	__builtin_memset(&msg, 0, sizeof(msg));
	msg.kind = saddr & 1;
	msg.saddr = saddr;
	msg.big = (__u64)saddr * 1000003;
	msg.delta = (__s64)(saddr & 0xff) - 128;
	msg.odd = saddr & 1;
	if (msg.odd)
		__builtin_memcpy(msg.label, "odd \"q\"", 7);
	else
		__builtin_memcpy(msg.label, "even\\", 5);
	fizz_emit(&msg, sizeof(msg), msg.kind);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
