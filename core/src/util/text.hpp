// User-supplied text made safe for one log line or error message.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace fizzhost {

/// The longest value printable() shows by default; a config value or path longer than this is a
/// mistake or an attack, and a log line is no place for all of it.
inline constexpr size_t kPrintableMax = 256;

/// `text` as it can be shown in a log line or an error, unambiguously and on one line:
/// - cut after `max` bytes (at a UTF-8 boundary) with "... (N bytes)" giving the full length;
/// - backslash, control characters (C0, DEL, C1: a newline would split the line), bidirectional
///   controls (U+061C, U+200E/U+200F, U+202A..U+202E, U+2066..U+2069) and zero-width or
///   invisible characters (U+200B..U+200D, U+2060, U+FEFF) escaped as \\, \n, \t, \r or \uXXXX,
///   so "rz0\u200b" never reads as "rz0";
/// - bytes that are not valid UTF-8 as \xNN.
/// Everything else, printable UTF-8 included, is kept as it is. Never throws but for bad_alloc.
std::string printable(std::string_view text, size_t max = kPrintableMax);

/// True when `text` holds a character printable() would escape (other than a backslash) or
/// invalid UTF-8: something a reader cannot see or that breaks a line.
bool hasHiddenCharacters(std::string_view text);

}  // namespace fizzhost
