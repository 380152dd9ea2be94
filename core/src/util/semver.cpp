#include "util/semver.hpp"

#include <charconv>

namespace fizzhost {
namespace {

bool numeric(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

bool identifier(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-')) return false;
    return true;
}

std::optional<uint64_t> number(std::string_view s) {
    if (!numeric(s) || (s.size() > 1 && s[0] == '0')) return std::nullopt;
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    for (size_t start = 0;;) {
        size_t dot = s.find(sep, start);
        out.push_back(s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
        if (dot == std::string_view::npos) return out;
        start = dot + 1;
    }
}

}  // namespace

std::optional<SemVer> SemVer::parse(std::string_view text) {
    if (auto plus = text.find('+'); plus != std::string_view::npos) {
        for (auto id : split(text.substr(plus + 1), '.'))
            if (!identifier(id)) return std::nullopt;
        text = text.substr(0, plus);
    }
    std::string_view pre;
    if (auto dash = text.find('-'); dash != std::string_view::npos) {
        pre = text.substr(dash + 1);
        text = text.substr(0, dash);
        if (pre.empty()) return std::nullopt;
    }
    auto core = split(text, '.');
    if (core.size() != 3) return std::nullopt;
    SemVer v;
    auto a = number(core[0]), b = number(core[1]), c = number(core[2]);
    if (!a || !b || !c) return std::nullopt;
    v.major = *a;
    v.minor = *b;
    v.patch = *c;
    if (!pre.empty())
        for (auto id : split(pre, '.')) {
            if (!identifier(id) || (numeric(id) && !number(id))) return std::nullopt;  // no leading zeros
            v.preRelease.emplace_back(id);
        }
    return v;
}

int compare(const SemVer& a, const SemVer& b) {
    if (a.major != b.major) return a.major < b.major ? -1 : 1;
    if (a.minor != b.minor) return a.minor < b.minor ? -1 : 1;
    if (a.patch != b.patch) return a.patch < b.patch ? -1 : 1;
    if (a.preRelease.empty() != b.preRelease.empty()) return a.preRelease.empty() ? 1 : -1;
    for (size_t i = 0; i < a.preRelease.size() && i < b.preRelease.size(); ++i) {
        const auto &x = a.preRelease[i], &y = b.preRelease[i];
        const bool xn = numeric(x), yn = numeric(y);
        if (xn && yn) {
            if (x.size() != y.size()) return x.size() < y.size() ? -1 : 1;
            if (int c = x.compare(y); c != 0) return c < 0 ? -1 : 1;
        } else if (xn != yn) {
            return xn ? -1 : 1;
        } else if (int c = x.compare(y); c != 0) {
            return c < 0 ? -1 : 1;
        }
    }
    if (a.preRelease.size() != b.preRelease.size()) return a.preRelease.size() < b.preRelease.size() ? -1 : 1;
    return 0;
}

}  // namespace fizzhost
