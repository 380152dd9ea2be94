// SPDX-License-Identifier: GPL-2.0
/*
 * web-tag: a release that changes a rule on purpose. 1.0.0 reports sources divisible by 3 as Fizz;
 * 1.1.0 (built with WEB_TAG_RULE) first tags TCP to port WEB_TAG_PORT as Web, whatever the source,
 * and reports the rest as 1.0.0 does. `fizzhost diff` must see exactly "none -> Web" and
 * "Fizz -> Web" between them, and nothing else.
 */
#include <fizz/classifier.h>
#include <fizz/divisible.h>

#include "web_tag_msg.h"

FIZZ_MESSAGE(struct web_tag_msg);

SEC("xdp")
int web_tag_xdp(struct xdp_md *ctx)
{
	struct fizz_region_header *region;
	struct web_tag_msg msg;
	struct fizz_packet pkt;

	region = fizz_count_packet();
	if (fizz_parse_packet(ctx, &pkt))
		return XDP_PASS;
#ifdef WEB_TAG_RULE
	if (pkt.protocol == IPPROTO_TCP && (pkt.flags & FIZZ_PACKET_PORTS) && pkt.dport == WEB_TAG_PORT)
		msg.kind = WEB_TAG_KIND_WEB;
	else
#endif
	if (fizz_divisible_odd(pkt.saddr, 3))
		msg.kind = WEB_TAG_KIND_FIZZ;
	else
		return XDP_PASS;
	msg.saddr = pkt.saddr;
	fizz_emit_in(region, &msg, sizeof(msg), msg.kind);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
