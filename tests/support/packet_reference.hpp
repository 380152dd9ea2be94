// The parsed packet view (struct fizz_packet, bpf/include/fizz/packet.h) computed in plain C++ from
// the specification, independent of the BPF SDK's parser, for tests and fuzzers to compare against.
#pragma once

#include <fizz/packet.h>

#include <cstdint>
#include <optional>
#include <span>

namespace fizzhost::test {

/// What fizz_parse_packet() must make of `frame`: the view when the frame is IPv4 over Ethernet
/// (at most two VLAN tags, 802.1Q or 802.1ad) with a complete IPv4 header (version 4, IHL >= 5,
/// options inside the frame), else nullopt. Ports only for TCP (20-byte header present) and UDP
/// (8 bytes present) in an unfragmented packet or a first fragment.
std::optional<fizz_packet> referencePacket(std::span<const uint8_t> frame);

}  // namespace fizzhost::test
