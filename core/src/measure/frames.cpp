#include "measure/frames.hpp"

#include "util/error.hpp"

#include <linux/if_ether.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace fizzhost::measure {
namespace {

void put16(std::vector<uint8_t>& f, size_t off, uint16_t v) {
    f[off] = uint8_t(v >> 8);
    f[off + 1] = uint8_t(v);
}
void put32(std::vector<uint8_t>& f, size_t off, uint32_t v) {
    put16(f, off, uint16_t(v >> 16));
    put16(f, off + 2, uint16_t(v));
}

uint16_t checksum(const std::vector<uint8_t>& f, size_t off, size_t len, uint32_t sum = 0) {
    for (size_t i = 0; i + 1 < len; i += 2) sum += uint32_t(f[off + i] << 8 | f[off + i + 1]);
    if (len % 2) sum += uint32_t(f[off + len - 1] << 8);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return uint16_t(~sum);
}

}  // namespace

std::vector<uint8_t> shapedFrame(const FrameShape& s) {
    constexpr size_t kEth = ETH_HLEN, kIp = 20, kMinFrame = 60;
    constexpr uint8_t kTcp = IPPROTO_TCP, kUdp = IPPROTO_UDP, kIcmp = IPPROTO_ICMP;
    const size_t l4 = s.protocol == kTcp ? 20 : s.protocol == kUdp ? 8 : s.protocol == kIcmp ? 8 : 0;
    const size_t payload = 18;
    const size_t ipOff = kEth + 4 * s.vlans.size();
    std::vector<uint8_t> f(std::max(ipOff + kIp + l4 + payload, kMinFrame), 0);
    const uint8_t dmac[6] = {0x02, 0, 0, 0, 0, 0x02}, smac[6] = {0x02, 0, 0, 0, 0, 0x01};
    std::memcpy(&f[0], dmac, 6);
    std::memcpy(&f[6], smac, 6);
    size_t off = 12;
    for (size_t i = 0; i < s.vlans.size(); ++i) {
        put16(f, off, s.vlans.size() > 1 && i == 0 ? ETH_P_8021AD : ETH_P_8021Q);
        put16(f, off + 2, s.vlans[i] & 0x0fff);
        off += 4;
    }
    put16(f, off, ETH_P_IP);
    const size_t ipLen = kIp + l4 + payload;
    f[ipOff] = 0x45;
    put16(f, ipOff + 2, uint16_t(ipLen));
    f[ipOff + 8] = s.ttl;
    f[ipOff + 9] = s.protocol;
    put32(f, ipOff + 12, s.src);
    put32(f, ipOff + 16, s.dst);
    put16(f, ipOff + 10, checksum(f, ipOff, kIp));
    const size_t l4Off = ipOff + kIp;
    if (s.protocol == kUdp || s.protocol == kTcp) {
        put16(f, l4Off, s.srcPort);
        put16(f, l4Off + 2, s.dstPort);
    }
    if (s.protocol == kUdp) put16(f, l4Off + 4, uint16_t(l4 + payload));
    if (s.protocol == kTcp) {
        f[l4Off + 12] = 5 << 4;  // data offset: 5 words
        f[l4Off + 13] = 0x02;    // SYN
        put16(f, l4Off + 14, 65535);
    }
    if (s.protocol == kIcmp) f[l4Off] = 8;  // echo request
    if (l4) {
        // Pseudo-header sum for UDP and TCP; ICMP's checksum covers only its own bytes.
        uint32_t pseudo = 0;
        if (s.protocol != kIcmp)
            pseudo = (s.src >> 16) + (s.src & 0xffff) + (s.dst >> 16) + (s.dst & 0xffff) + s.protocol +
                     uint32_t(l4 + payload);
        const size_t sumOff = l4Off + (s.protocol == kTcp ? 16 : s.protocol == kUdp ? 6 : 2);
        uint16_t sum = checksum(f, l4Off, l4 + payload, pseudo);
        if (s.protocol == kUdp && sum == 0) sum = 0xffff;  // 0 means "no checksum" for UDP
        put16(f, sumOff, sum);
    }
    return f;
}

std::vector<uint8_t> udpFrame(uint32_t src, uint32_t dst) {
    FrameShape shape;
    shape.src = src;
    shape.dst = dst;
    return shapedFrame(shape);
}

std::optional<uint32_t> frameIpv4Source(std::span<const uint8_t> f) {
    constexpr size_t kMaxVlanTags = 2;  // FIZZ_MAX_VLAN_TAGS
    auto be16 = [&](size_t off) { return uint16_t(f[off] << 8 | f[off + 1]); };
    if (f.size() < ETH_HLEN) return std::nullopt;
    size_t off = 12;
    uint16_t proto = be16(off);
    for (size_t i = 0; i < kMaxVlanTags && (proto == ETH_P_8021Q || proto == ETH_P_8021AD); ++i) {
        if (f.size() < off + 6) return std::nullopt;
        off += 4;
        proto = be16(off);
    }
    if (proto != ETH_P_IP) return std::nullopt;
    const size_t ip = off + 2;
    if (f.size() < ip + 20 || (f[ip] >> 4) != 4 || (f[ip] & 0xf) < 5 || f.size() < ip + (f[ip] & 0xfu) * 4)
        return std::nullopt;
    return uint32_t(be16(ip + 12)) << 16 | be16(ip + 14);
}

std::optional<uint8_t> parseProtocol(std::string_view text) {
    if (text == "udp") return uint8_t(IPPROTO_UDP);
    if (text == "tcp") return uint8_t(IPPROTO_TCP);
    if (text == "icmp") return uint8_t(IPPROTO_ICMP);
    unsigned v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || ptr != text.data() + text.size() || v > 255 || text.empty()) return std::nullopt;
    return uint8_t(v);
}

std::vector<uint32_t> mixAddresses(std::string_view mix) {
    std::vector<uint32_t> out;
    if (mix == "uniform") {
        // Every last octet, with the upper bytes stepping so residues mod 3, 5 and 15 all occur.
        for (uint32_t i = 0; i < 256; ++i) out.push_back(0xC6120000u | ((i * 7) % 256) << 8 | i);
    } else if (mix == "worst") {
        // x.x.x.255 dominates (255 is not Fibonacci: the naive loop runs to its end and wraps).
        for (uint32_t i = 0; i < 224; ++i) out.push_back(0xC6120000u | (i << 8) | 0xff);
        for (uint32_t i = 0; i < 32; ++i) out.push_back(0xC6130000u | (i << 8) | (i * 8 + 1));
    } else {
        throw Error("unknown traffic mix '" + std::string(mix) + "' (known: uniform, worst)", EINVAL);
    }
    return out;
}

}  // namespace fizzhost::measure
