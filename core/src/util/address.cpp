#include "util/address.hpp"

#include <arpa/inet.h>

#include <charconv>

namespace fizzhost {

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

}  // namespace fizzhost
