// Ethernet frames for tests, built independently of the host's own frame code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fizzhost::test {

/// 198.18.0.0/15 (RFC 2544 benchmarking): the only addresses test traffic uses as sources.
constexpr uint32_t kTestNet = 0xC6120000;
constexpr uint32_t kTestNetMask = 0xFFFE0000;
constexpr uint32_t kDefaultDst = 0xC6120001;  // 198.18.0.1
constexpr uint32_t kDefaultSrc = 0xC6120002;  // 198.18.0.2
constexpr uint16_t kDefaultSport = 40000;
constexpr uint16_t kDefaultDport = 9;  // discard
/// Locally administered unicast MACs (the 0x02 bit), so no frame can claim a vendor's address.
constexpr uint8_t kDstMac[6] = {0x02, 0x00, 0x5e, 0x00, 0x00, 0x02};
constexpr uint8_t kSrcMac[6] = {0x02, 0x00, 0x5e, 0x00, 0x00, 0x01};

/// Ethernet [VLAN tags] IPv4 UDP frames. Addresses are host order. Every frame carries a UDP
/// header (udp() only changes the ports), or a TCP one after tcp(); header checksums and lengths
/// are always correct.
/// Invalid requests (VLAN id > 4095, more than 10 option words, > 64 KiB) throw
/// std::invalid_argument.
class FrameBuilder {
public:
    /// Adds a VLAN tag, outermost first. With more than one tag the outermost is an 802.1ad
    /// service tag (0x88a8) and the rest are 802.1Q (0x8100), as on a QinQ link.
    FrameBuilder& vlan(uint16_t id);
    FrameBuilder& ipv4(uint32_t src, uint32_t dst = kDefaultDst);
    /// IPv4 options of `words` 32-bit words (NOPs, the last byte EOL); IHL grows to match.
    FrameBuilder& ipOptions(int words);
    FrameBuilder& udp(uint16_t sport = kDefaultSport, uint16_t dport = kDefaultDport);
    /// A TCP header (20 bytes, SYN) with these ports instead of the UDP one.
    FrameBuilder& tcp(uint16_t sport, uint16_t dport);
    /// UDP payload bytes (0xab). The default 18 makes the untagged frame the 60-byte Ethernet minimum.
    FrameBuilder& payload(size_t bytes);
    std::vector<uint8_t> build() const;

private:
    std::vector<uint16_t> vlans_;
    uint32_t src_ = kDefaultSrc, dst_ = kDefaultDst;
    int optionWords_ = 0;
    uint16_t sport_ = kDefaultSport, dport_ = kDefaultDport;
    size_t payload_ = 18;
    bool tcp_ = false;
};

/// IPv6/UDP from 2001:db8:c612:3::1. Bytes 12..15 of its IP header read as IPv4 198.18.0.3 (a
/// Fizz source), so a classifier that ignores the ethertype emits for it and is caught.
std::vector<uint8_t> ipv6Frame();
/// An ARP request from 198.18.0.3 for 198.18.0.1, padded to 60 bytes.
std::vector<uint8_t> arpFrame();
/// Ethernet header plus only the first `ipBytes` bytes of an IPv4/UDP header from `src`.
std::vector<uint8_t> truncatedIpv4Frame(uint32_t src, size_t ipBytes);
std::vector<uint8_t> truncatedIpv4Frame(size_t ipBytes);
/// The Internet checksum over `len` bytes at `p` (an odd last byte is padded with zero). Over an
/// IPv4 header with its checksum field filled in it is 0 when the checksum is right.
uint16_t ipChecksum(const uint8_t* p, size_t len);

/// "198.18.0.15" -> 0xC612000F. Strict: four decimal octets 0..255 without leading zeros.
std::optional<uint32_t> parseIpv4(std::string_view dotted);
std::string formatIpv4(uint32_t addr);

}  // namespace fizzhost::test
