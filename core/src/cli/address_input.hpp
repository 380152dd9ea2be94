// Source addresses as `classify` and `diff` take them: on the command line, or one per line on
// stdin.
#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <optional>
#include <string>
#include <vector>

namespace fizzhost::cli {

/// Parses every address of `args` (dotted quad or a 32-bit number). Throws Error(EINVAL) naming
/// the first that is none: "'198.18.0.300' is not an IPv4 address (dotted quad, or a 32-bit number)".
std::vector<uint32_t> parseAddresses(const std::vector<std::string>& args);

/// Calls `fn` with each address read from `in`, one a line, as it is read; blank lines and lines
/// starting with '#' are skipped, spaces around an address ignored. Stops at the first bad line
/// (earlier ones were handed on) and returns "stdin line N: 'x' is not an IPv4 address"; nullopt
/// when every line was an address. What `fn` throws goes through.
std::optional<std::string> forEachAddressLine(std::istream& in, const std::function<void(uint32_t)>& fn);

}  // namespace fizzhost::cli
