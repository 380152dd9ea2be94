// Ethernet/IPv4/UDP frames the host itself builds: for `classify`, `bench` and the reload guard.
// Addresses as text: util/address.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fizzhost::measure {

/// What a synthetic frame looks like: Ethernet, optional VLAN tags, IPv4, then UDP, TCP or ICMP
/// (any other protocol number gets an empty payload). Addresses in host order.
struct FrameShape {
    uint32_t src = 0;
    uint32_t dst = 0xC6120001;  // 198.18.0.1
    uint8_t ttl = 64;
    uint8_t protocol = 17;  // IPPROTO_UDP
    uint16_t srcPort = 40000, dstPort = 9;  // UDP/TCP only
    std::vector<uint16_t> vlans;  // outermost first: one tag is 802.1Q, the outer of two 802.1ad
};

/// The frame `shape` describes, padded to the 60-byte Ethernet minimum, checksums right.
std::vector<uint8_t> shapedFrame(const FrameShape& shape);

/// A minimal Ethernet/IPv4/UDP frame (60 bytes on the wire minus FCS) from `src` (host order).
std::vector<uint8_t> udpFrame(uint32_t src, uint32_t dst = 0xC6120001 /* 198.18.0.1 */);

/// The IPv4 source (host order) of a frame the SDK's parser accepts (bpf/include/fizz/parse.h:
/// Ethernet, at most two 802.1Q/802.1ad tags, IPv4 with a complete header, options included), or
/// nullopt. For reports about frames a program did not emit for; the BPF parser stays the authority.
std::optional<uint32_t> frameIpv4Source(std::span<const uint8_t> frame);

/// "udp", "tcp", "icmp" or a protocol number 0..255. Nullopt for anything else.
std::optional<uint8_t> parseProtocol(std::string_view text);

/// Source addresses of a named benchmark mix: "uniform" spreads every last octet and residue,
/// "worst" is dominated by x.x.x.255, the octet that costs a naive Fibonacci loop the most.
/// Throws Error for an unknown mix.
std::vector<uint32_t> mixAddresses(std::string_view mix);

}  // namespace fizzhost::measure
