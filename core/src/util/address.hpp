// IPv4 addresses as text: what the CLI reads and what events and reports print.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fizzhost {

/// Parses dotted-quad IPv4 ("198.18.0.15") or a plain 32-bit number ("3323068431", "0xC612000F").
/// Host order.
std::optional<uint32_t> parseAddress(std::string_view text);
/// Writes dotted-quad into `out` (at least 16 bytes); returns its length. No allocation.
size_t formatAddress(uint32_t addr, char* out);
std::string formatAddress(uint32_t addr);

}  // namespace fizzhost
