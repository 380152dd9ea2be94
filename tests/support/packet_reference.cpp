#include "support/packet_reference.hpp"

namespace fizzhost::test {
namespace {

uint16_t be16(std::span<const uint8_t> f, size_t at) { return uint16_t(f[at] << 8 | f[at + 1]); }
uint32_t be32(std::span<const uint8_t> f, size_t at) { return uint32_t(be16(f, at)) << 16 | be16(f, at + 2); }

}  // namespace

std::optional<fizz_packet> referencePacket(std::span<const uint8_t> f) {
    constexpr uint16_t kIpv4 = 0x0800, kVlan = 0x8100, kQinQ = 0x88a8;
    constexpr uint8_t kTcp = 6, kUdp = 17;
    if (f.size() < 14) return std::nullopt;
    fizz_packet p{};
    uint16_t type = be16(f, 12);
    size_t at = 14;
    while ((type == kVlan || type == kQinQ) && p.vlan_tags < 2) {
        if (at + 4 > f.size()) return std::nullopt;
        type = be16(f, at + 2);
        at += 4;
        ++p.vlan_tags;
    }
    if (type != kIpv4 || at + 20 > f.size()) return std::nullopt;
    const unsigned version = f[at] >> 4, ihl = f[at] & 0xfu;
    if (version != 4 || ihl < 5 || at + ihl * 4 > f.size()) return std::nullopt;
    p.ttl = f[at + 8];
    p.protocol = f[at + 9];
    p.saddr = be32(f, at + 12);
    p.daddr = be32(f, at + 16);
    p.ihl_bytes = uint8_t(ihl * 4);
    const uint16_t fragment = be16(f, at + 6);
    const bool moreFragments = fragment & 0x2000, offset = fragment & 0x1fff;
    if (moreFragments || offset) p.flags |= FIZZ_PACKET_FRAGMENT;
    const size_t l4 = at + ihl * 4;
    const size_t l4Size = p.protocol == kUdp ? 8 : p.protocol == kTcp ? 20 : 0;
    if (!offset && l4Size && l4 + l4Size <= f.size()) {
        p.sport = be16(f, l4);
        p.dport = be16(f, l4 + 2);
        p.flags |= FIZZ_PACKET_PORTS;
    }
    return p;
}

}  // namespace fizzhost::test
