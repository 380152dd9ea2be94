#include "support/frame_builder.hpp"

namespace fizzhost::test {
namespace {

void push16(std::vector<uint8_t>& f, uint16_t v) {
    f.push_back(uint8_t(v >> 8));
    f.push_back(uint8_t(v));
}
void push32(std::vector<uint8_t>& f, uint32_t v) {
    push16(f, uint16_t(v >> 16));
    push16(f, uint16_t(v));
}
void ethernet(std::vector<uint8_t>& f) {
    const uint8_t macs[12] = {0x02, 0x00, 0x5e, 0x00, 0x00, 0x02, 0x02, 0x00, 0x5e, 0x00, 0x00, 0x01};
    f.insert(f.end(), macs, macs + 12);
}

}  // namespace

uint16_t ipChecksum(const uint8_t* p, size_t len) {
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2) sum += uint32_t(p[i] << 8 | p[i + 1]);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return uint16_t(~sum);
}

FrameBuilder& FrameBuilder::vlan(uint16_t id) {
    vlans_.push_back(id);
    return *this;
}
FrameBuilder& FrameBuilder::ipv4(uint32_t src, uint32_t dst) {
    src_ = src;
    dst_ = dst;
    return *this;
}
FrameBuilder& FrameBuilder::ipOptions(int words) {
    optionWords_ = words;
    return *this;
}
FrameBuilder& FrameBuilder::udp(uint16_t sport, uint16_t dport) {
    sport_ = sport;
    dport_ = dport;
    return *this;
}
FrameBuilder& FrameBuilder::payload(size_t bytes) {
    payload_ = bytes;
    return *this;
}

std::vector<uint8_t> FrameBuilder::build() const {
    std::vector<uint8_t> f;
    ethernet(f);
    for (size_t i = 0; i < vlans_.size(); ++i) {
        // The outermost of two tags is the service tag (802.1ad).
        push16(f, vlans_.size() == 2 && i == 0 ? 0x88a8 : 0x8100);
        push16(f, vlans_[i] & 0x0fff);
    }
    push16(f, 0x0800);
    const size_t ip = f.size();
    const size_t ihl = 5 + size_t(optionWords_);
    const size_t total = ihl * 4 + 8 + payload_;
    f.push_back(uint8_t(0x40 | ihl));
    f.push_back(0);
    push16(f, uint16_t(total));
    push16(f, 0x1234);
    push16(f, 0x4000);  // don't fragment
    f.push_back(64);
    f.push_back(17);
    push16(f, 0);
    push32(f, src_);
    push32(f, dst_);
    for (int w = 0; w < optionWords_; ++w) {
        bool last = w == optionWords_ - 1;
        for (int b = 0; b < 4; ++b) f.push_back(last && b == 3 ? 0x00 /* EOL */ : 0x01 /* NOP */);
    }
    uint16_t sum = ipChecksum(&f[ip], ihl * 4);
    f[ip + 10] = uint8_t(sum >> 8);
    f[ip + 11] = uint8_t(sum);
    push16(f, sport_);
    push16(f, dport_);
    push16(f, uint16_t(8 + payload_));
    push16(f, 0);
    f.insert(f.end(), payload_, 0xab);
    return f;
}

std::vector<uint8_t> ipv6Frame() {
    std::vector<uint8_t> f;
    ethernet(f);
    push16(f, 0x86dd);
    f.push_back(0x60);
    f.insert(f.end(), 3, 0);
    push16(f, 8);
    f.push_back(17);
    f.push_back(64);
    // 2001:db8::/32 documentation addresses; the first four bytes look like 198.18.0.3 on purpose.
    const uint8_t addrs[32] = {0xc6, 0x12, 0x00, 0x03, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
                               0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
    f.insert(f.end(), addrs, addrs + 32);
    f.insert(f.end(), 8, 0);
    return f;
}

std::vector<uint8_t> arpFrame() {
    std::vector<uint8_t> f;
    ethernet(f);
    push16(f, 0x0806);
    push16(f, 1);
    push16(f, 0x0800);
    f.push_back(6);
    f.push_back(4);
    push16(f, 1);
    const uint8_t body[20] = {0x02, 0, 0x5e, 0, 0, 1, 0xc6, 0x12, 0, 3, 0, 0, 0, 0, 0, 0, 0xc6, 0x12, 0, 1};
    f.insert(f.end(), body, body + 20);
    f.resize(60, 0);
    return f;
}

std::vector<uint8_t> truncatedIpv4Frame(uint32_t src, size_t ipBytes) {
    auto full = FrameBuilder().ipv4(src).udp().payload(0).build();
    full.resize(14 + ipBytes);
    return full;
}

}  // namespace fizzhost::test
