#include "runtime/frames.hpp"

#include "util/error.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace fizzhost::runtime {
namespace {

void put16(std::vector<uint8_t>& f, size_t off, uint16_t v) {
    f[off] = uint8_t(v >> 8);
    f[off + 1] = uint8_t(v);
}
void put32(std::vector<uint8_t>& f, size_t off, uint32_t v) {
    put16(f, off, uint16_t(v >> 16));
    put16(f, off + 2, uint16_t(v));
}

}  // namespace

std::vector<uint8_t> udpFrame(uint32_t src, uint32_t dst) {
    constexpr size_t kEth = 14, kIp = 20, kUdp = 8, kPayload = 18;  // 60 bytes: minimum frame
    std::vector<uint8_t> f(kEth + kIp + kUdp + kPayload, 0);
    const uint8_t dmac[6] = {0x02, 0, 0, 0, 0, 0x02}, smac[6] = {0x02, 0, 0, 0, 0, 0x01};
    std::memcpy(&f[0], dmac, 6);
    std::memcpy(&f[6], smac, 6);
    put16(f, 12, 0x0800);
    f[kEth] = 0x45;
    put16(f, kEth + 2, kIp + kUdp + kPayload);
    f[kEth + 8] = 64;  // TTL
    f[kEth + 9] = 17;  // UDP
    put32(f, kEth + 12, src);
    put32(f, kEth + 16, dst);
    uint32_t sum = 0;
    for (size_t i = 0; i < kIp; i += 2) sum += uint32_t(f[kEth + i] << 8 | f[kEth + i + 1]);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    put16(f, kEth + 10, uint16_t(~sum));
    put16(f, kEth + kIp, 40000);
    put16(f, kEth + kIp + 2, 9);  // discard
    put16(f, kEth + kIp + 4, kUdp + kPayload);
    return f;
}

std::optional<uint32_t> parseAddress(std::string_view text) {
    if (text.empty()) return std::nullopt;
    in_addr a{};
    std::string s(text);
    if (s.find('.') != std::string::npos) {
        if (inet_pton(AF_INET, s.c_str(), &a) != 1) return std::nullopt;
        return ntohl(a.s_addr);
    }
    int base = 10;
    std::string_view digits = text;
    if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
        base = 16;
        digits.remove_prefix(2);
    }
    uint32_t v = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
    if (ec != std::errc() || ptr != digits.data() + digits.size()) return std::nullopt;
    return v;
}

size_t formatAddress(uint32_t addr, char* out) {
    char* p = out;
    for (int shift = 24; shift >= 0; shift -= 8) {
        p = std::to_chars(p, out + 16, (addr >> shift) & 0xff).ptr;
        if (shift) *p++ = '.';
    }
    *p = 0;
    return size_t(p - out);
}

std::string formatAddress(uint32_t addr) {
    char buf[16];
    return std::string(buf, formatAddress(addr, buf));
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

}  // namespace fizzhost::runtime
