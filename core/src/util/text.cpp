#include "util/text.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>

namespace fizzhost {
namespace {

// Decodes one UTF-8 sequence at text[i]; returns its length, or 0 when the bytes there are not
// well-formed UTF-8 (overlong forms, surrogates and values beyond U+10FFFF included).
size_t decode(std::string_view text, size_t i, uint32_t& cp) {
    const auto b = [&](size_t k) { return static_cast<unsigned char>(text[i + k]); };
    const unsigned char c = b(0);
    if (c < 0x80) {
        cp = c;
        return 1;
    }
    size_t len;
    uint32_t min;
    if ((c & 0xE0) == 0xC0) {
        len = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (i + len > text.size()) return 0;
    for (size_t k = 1; k < len; ++k) {
        if ((b(k) & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (b(k) & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

bool hidden(uint32_t cp) {
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)  // C0, DEL, C1
           || cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
           (cp >= 0x2066 && cp <= 0x2069)                                 // bidirectional controls
           || (cp >= 0x200B && cp <= 0x200D) || cp == 0x2060 || cp == 0xFEFF;  // zero-width
}

void escape(std::string& out, uint32_t cp) {
    switch (cp) {
    case '\n': out += "\\n"; return;
    case '\t': out += "\\t"; return;
    case '\r': out += "\\r"; return;
    default: break;
    }
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\u%04x", unsigned(cp));
    out += buf;
}

}  // namespace

std::string printable(std::string_view text, size_t max) {
    std::string out;
    out.reserve(std::min(text.size(), max) + 16);
    size_t i = 0;
    while (i < text.size()) {
        uint32_t cp = 0;
        const size_t len = decode(text, i, cp);
        if (i + std::max<size_t>(len, 1) > max) break;
        if (len == 0) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", unsigned(static_cast<unsigned char>(text[i])));
            out += buf;
            ++i;
            continue;
        }
        if (cp == '\\') out += "\\\\";
        else if (hidden(cp)) escape(out, cp);
        else out.append(text.substr(i, len));
        i += len;
    }
    if (i < text.size()) out += "... (" + std::to_string(text.size()) + " bytes)";
    return out;
}

bool hasHiddenCharacters(std::string_view text) {
    for (size_t i = 0; i < text.size();) {
        uint32_t cp = 0;
        const size_t len = decode(text, i, cp);
        if (len == 0 || hidden(cp)) return true;
        i += len;
    }
    return false;
}

}  // namespace fizzhost
