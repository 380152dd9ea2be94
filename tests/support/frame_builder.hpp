// Ethernet frames for tests, built independently of the host's own frame code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace fizzhost::test {

class FrameBuilder {
public:
    /// Adds an 802.1Q tag; a second call makes QinQ (the outer tag becomes 802.1ad).
    FrameBuilder& vlan(uint16_t id);
    FrameBuilder& ipv4(uint32_t src, uint32_t dst = 0xC6120001);
    /// IPv4 options of `words` 32-bit words (NOPs ending in EOL); IHL grows to match.
    FrameBuilder& ipOptions(int words);
    FrameBuilder& udp(uint16_t sport = 40000, uint16_t dport = 9);
    FrameBuilder& payload(size_t bytes);
    std::vector<uint8_t> build() const;

private:
    std::vector<uint16_t> vlans_;
    uint32_t src_ = 0, dst_ = 0;
    int optionWords_ = 0;
    uint16_t sport_ = 40000, dport_ = 9;
    size_t payload_ = 18;
};

std::vector<uint8_t> ipv6Frame();
std::vector<uint8_t> arpFrame();
/// Ethernet header plus only the first `ipBytes` bytes of an IPv4 header from src.
std::vector<uint8_t> truncatedIpv4Frame(uint32_t src, size_t ipBytes);
/// The IPv4 header checksum over `len` bytes at `p` (0 when the header's own checksum is right).
uint16_t ipChecksum(const uint8_t* p, size_t len);

}  // namespace fizzhost::test
