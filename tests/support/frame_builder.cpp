#include "support/frame_builder.hpp"

#include <charconv>
#include <stdexcept>

namespace fizzhost::test {
namespace {

constexpr size_t kEthernetHeader = 14;
constexpr size_t kUdpHeader = 8;
constexpr int kMaxOptionWords = 10;  // IHL is 4 bits: at most 15 words, 5 of them fixed
constexpr uint8_t kProtoUdp = 17;
constexpr size_t kTcpHeader = 20;
constexpr uint8_t kProtoTcp = 6;

void push16(std::vector<uint8_t>& f, uint16_t v) {
    f.push_back(uint8_t(v >> 8));
    f.push_back(uint8_t(v));
}
void push32(std::vector<uint8_t>& f, uint32_t v) {
    push16(f, uint16_t(v >> 16));
    push16(f, uint16_t(v));
}
void put16(std::vector<uint8_t>& f, size_t at, uint16_t v) {
    f[at] = uint8_t(v >> 8);
    f[at + 1] = uint8_t(v);
}
void ethernet(std::vector<uint8_t>& f) {
    f.insert(f.end(), kDstMac, kDstMac + 6);
    f.insert(f.end(), kSrcMac, kSrcMac + 6);
}

uint32_t sumWords(const uint8_t* p, size_t len, uint32_t sum = 0) {
    for (size_t i = 0; i + 1 < len; i += 2) sum += uint32_t(p[i] << 8 | p[i + 1]);
    if (len % 2 != 0) sum += uint32_t(p[len - 1] << 8);
    return sum;
}
uint16_t fold(uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return uint16_t(~sum);
}

}  // namespace

uint16_t ipChecksum(const uint8_t* p, size_t len) { return fold(sumWords(p, len)); }

FrameBuilder& FrameBuilder::vlan(uint16_t id) {
    if (id > 0x0fff) throw std::invalid_argument("VLAN id " + std::to_string(id) + " does not fit 12 bits");
    vlans_.push_back(id);
    return *this;
}
FrameBuilder& FrameBuilder::ipv4(uint32_t src, uint32_t dst) {
    src_ = src;
    dst_ = dst;
    return *this;
}
FrameBuilder& FrameBuilder::ipOptions(int words) {
    if (words < 0 || words > kMaxOptionWords)
        throw std::invalid_argument("IPv4 options of " + std::to_string(words) + " words (0..10 fit the IHL)");
    optionWords_ = words;
    return *this;
}
FrameBuilder& FrameBuilder::udp(uint16_t sport, uint16_t dport) {
    sport_ = sport;
    dport_ = dport;
    tcp_ = false;
    return *this;
}
FrameBuilder& FrameBuilder::tcp(uint16_t sport, uint16_t dport) {
    sport_ = sport;
    dport_ = dport;
    tcp_ = true;
    return *this;
}
FrameBuilder& FrameBuilder::payload(size_t bytes) {
    payload_ = bytes;
    return *this;
}

std::vector<uint8_t> FrameBuilder::build() const {
    const size_t ihl = 5 + size_t(optionWords_);
    const size_t l4Header = tcp_ ? kTcpHeader : kUdpHeader;
    const uint8_t protocol = tcp_ ? kProtoTcp : kProtoUdp;
    const size_t total = ihl * 4 + l4Header + payload_;
    if (total > 0xffff) throw std::invalid_argument("IPv4 total length " + std::to_string(total) + " > 65535");

    std::vector<uint8_t> f;
    f.reserve(kEthernetHeader + 4 * vlans_.size() + total);
    ethernet(f);
    for (size_t i = 0; i < vlans_.size(); ++i) {
        push16(f, vlans_.size() > 1 && i == 0 ? 0x88a8 : 0x8100);
        push16(f, vlans_[i]);  // PCP 0, DEI 0
    }
    push16(f, 0x0800);

    const size_t ip = f.size();
    f.push_back(uint8_t(0x40 | ihl));
    f.push_back(0);  // DSCP/ECN
    push16(f, uint16_t(total));
    push16(f, 0x1234);  // identification
    push16(f, 0x4000);  // don't fragment: the classifiers do not reassemble
    f.push_back(64);    // TTL
    f.push_back(protocol);
    push16(f, 0);  // checksum, filled in below
    push32(f, src_);
    push32(f, dst_);
    for (int w = 0; w < optionWords_; ++w) {
        const bool last = w == optionWords_ - 1;
        for (int b = 0; b < 4; ++b) f.push_back(last && b == 3 ? 0x00 /* EOL */ : 0x01 /* NOP */);
    }
    put16(f, ip + 10, ipChecksum(&f[ip], ihl * 4));

    const size_t l4 = f.size();
    const uint16_t l4Length = uint16_t(l4Header + payload_);
    push16(f, sport_);
    push16(f, dport_);
    if (tcp_) {
        push32(f, 1);        // sequence number
        push32(f, 0);        // acknowledgment number
        f.push_back(5 << 4);  // data offset: 5 words, no options
        f.push_back(0x02);   // SYN
        push16(f, 65535);    // window
        push16(f, 0);        // checksum, filled in below
        push16(f, 0);        // urgent pointer
    } else {
        push16(f, l4Length);
        push16(f, 0);
    }
    f.insert(f.end(), payload_, 0xab);
    // A real checksum over the pseudo-header, so a receiving stack never has a reason to drop the
    // frame as corrupt; for UDP 0 would mean "none", hence 0xffff in its place.
    uint32_t sum = (src_ >> 16) + (src_ & 0xffff) + (dst_ >> 16) + (dst_ & 0xffff) + protocol + l4Length;
    uint16_t l4Sum = fold(sumWords(&f[l4], l4Length, sum));
    if (tcp_) put16(f, l4 + 16, l4Sum);
    else put16(f, l4 + 6, l4Sum == 0 ? 0xffff : l4Sum);
    return f;
}

std::vector<uint8_t> ipv6Frame() {
    std::vector<uint8_t> f;
    ethernet(f);
    push16(f, 0x86dd);
    f.push_back(0x60);  // version 6
    f.insert(f.end(), 3, 0);
    push16(f, kUdpHeader);  // payload length
    f.push_back(kProtoUdp);
    f.push_back(64);  // hop limit
    // Source 2001:db8:c612:3::1 (documentation prefix): its bytes 4..7 are 198.18.0.3 and sit at
    // IP header offset 12, where an IPv4 parser would read the source address.
    const uint8_t addrs[32] = {0x20, 0x01, 0x0d, 0xb8, 0xc6, 0x12, 0x00, 0x03, 0, 0, 0, 0, 0, 0, 0, 1,
                               0x20, 0x01, 0x0d, 0xb8, 0xc6, 0x12, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 2};
    f.insert(f.end(), addrs, addrs + 32);
    push16(f, kDefaultSport);
    push16(f, kDefaultDport);
    push16(f, kUdpHeader);
    push16(f, 0);  // no payload; a zero UDP checksum is invalid in IPv6 but nothing here checks it
    return f;
}

std::vector<uint8_t> arpFrame() {
    std::vector<uint8_t> f;
    ethernet(f);
    push16(f, 0x0806);
    push16(f, 1);       // hardware: Ethernet
    push16(f, 0x0800);  // protocol: IPv4
    f.push_back(6);
    f.push_back(4);
    push16(f, 1);  // request
    f.insert(f.end(), kSrcMac, kSrcMac + 6);
    push32(f, 0xC6120003);
    f.insert(f.end(), 6, 0);
    push32(f, kDefaultDst);
    f.resize(60, 0);
    return f;
}

std::vector<uint8_t> truncatedIpv4Frame(uint32_t src, size_t ipBytes) {
    auto full = FrameBuilder().ipv4(src).udp().payload(0).build();
    full.resize(kEthernetHeader + ipBytes);
    return full;
}

std::vector<uint8_t> truncatedIpv4Frame(size_t ipBytes) { return truncatedIpv4Frame(kDefaultSrc, ipBytes); }

std::optional<uint32_t> parseIpv4(std::string_view dotted) {
    uint32_t addr = 0;
    for (int octet = 0; octet < 4; ++octet) {
        if (octet > 0) {
            if (dotted.empty() || dotted.front() != '.') return std::nullopt;
            dotted.remove_prefix(1);
        }
        // from_chars would accept "007"; inet_aton reads that as octal. Refuse the ambiguity.
        if (dotted.size() > 1 && dotted[0] == '0' && dotted[1] >= '0' && dotted[1] <= '9') return std::nullopt;
        unsigned value = 0;
        auto [end, ec] = std::from_chars(dotted.data(), dotted.data() + dotted.size(), value);
        if (ec != std::errc() || end == dotted.data() || value > 255) return std::nullopt;
        dotted.remove_prefix(size_t(end - dotted.data()));
        addr = addr << 8 | value;
    }
    if (!dotted.empty()) return std::nullopt;
    return addr;
}

std::string formatIpv4(uint32_t addr) {
    return std::to_string(addr >> 24) + "." + std::to_string((addr >> 16) & 0xff) + "." +
           std::to_string((addr >> 8) & 0xff) + "." + std::to_string(addr & 0xff);
}

}  // namespace fizzhost::test
