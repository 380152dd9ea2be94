// printable(): what a user-supplied value looks like in a log line or an error.
#include "util/text.hpp"

#include <catch2/catch.hpp>

using fizzhost::hasHiddenCharacters;
using fizzhost::printable;

TEST_CASE("printable keeps ordinary text and UTF-8, escapes what cannot be seen or splits a line", "[unit]") {
    CHECK(printable("eth0") == "eth0");
    CHECK(printable("/etc/fizzhost/fizz.toml") == "/etc/fizzhost/fizz.toml");
    CHECK(printable("Grüße, 世界") == "Grüße, 世界");
    CHECK(printable("a\nb\tc\rd") == "a\\nb\\tc\\rd");
    CHECK(printable(std::string_view("a\0b", 3)) == "a\\u0000b");
    CHECK(printable("\x1b[31mred") == "\\u001b[31mred");
    CHECK(printable("del\x7f") == "del\\u007f");
    CHECK(printable("c1\xc2\x85") == "c1\\u0085");
    CHECK(printable("back\\slash") == "back\\\\slash");  // so an escape in the input is not mistaken for ours
    // Zero-width: "rz0\u200b" must not read as "rz0".
    CHECK(printable("rz0\u200b") == "rz0\\u200b");
    CHECK(printable("a\u200cb\u200dc\u2060d\ufeffe") == "a\\u200cb\\u200dc\\u2060d\\ufeffe");
    // Bidirectional controls: every one of them escaped.
    for (uint32_t cp : {0x061Cu, 0x200Eu, 0x200Fu, 0x202Au, 0x202Bu, 0x202Cu, 0x202Du, 0x202Eu, 0x2066u, 0x2067u,
                        0x2068u, 0x2069u}) {
        std::string utf8;
        if (cp < 0x800) {
            utf8 = {char(0xC0 | (cp >> 6)), char(0x80 | (cp & 0x3F))};
        } else {
            utf8 = {char(0xE0 | (cp >> 12)), char(0x80 | ((cp >> 6) & 0x3F)), char(0x80 | (cp & 0x3F))};
        }
        char want[8];
        std::snprintf(want, sizeof want, "\\u%04x", cp);
        INFO("U+" << std::hex << cp);
        CHECK(printable("x" + utf8 + "y") == "x" + std::string(want) + "y");
        CHECK(hasHiddenCharacters(utf8));
    }
    // Invalid UTF-8 (stray continuation, truncated sequence, overlong '/', surrogate) byte by byte.
    CHECK(printable("a\x80z") == "a\\x80z");
    CHECK(printable("a\xe2\x80") == "a\\xe2\\x80");
    CHECK(printable("\xc0\xaf") == "\\xc0\\xaf");
    CHECK(printable("\xed\xa0\x80") == "\\xed\\xa0\\x80");
}

TEST_CASE("printable cuts a long value and says how long it was", "[unit]") {
    const std::string huge(2 * 1024 * 1024, 'x');
    const std::string shown = printable(huge);
    CHECK(shown == std::string(fizzhost::kPrintableMax, 'x') + "... (2097152 bytes)");
    CHECK(printable("abcdef", 3) == "abc... (6 bytes)");
    CHECK(printable("abc", 3) == "abc");
    // Never cut inside a character: "é" is two bytes.
    CHECK(printable("aé", 2) == "a... (3 bytes)");
}

TEST_CASE("hasHiddenCharacters is false for names a reader sees whole", "[unit]") {
    CHECK_FALSE(hasHiddenCharacters("eth0"));
    CHECK_FALSE(hasHiddenCharacters("veth-ü"));
    CHECK_FALSE(hasHiddenCharacters("back\\slash"));
    CHECK(hasHiddenCharacters("rz0\u200b"));
    CHECK(hasHiddenCharacters("a\nb"));
    CHECK(hasHiddenCharacters("a\xff"));
}
