// The classifier rules in plain C++, written from the specification, independent of the BPF code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fizzhost::test {

/// The kind `plugin` must emit for IPv4 source `src` (host order), or nullopt for none.
/// Plugins: fizz, fizzbuzz, fibonacci, fibonacci-naive. Throws std::invalid_argument otherwise.
std::optional<std::string> referenceKind(std::string_view plugin, uint32_t src);

/// Whether the A/B dispatcher sends IPv4 source `src` (host order) to the candidate at `percent`
/// (0..100), by the rule <fizz/dispatcher.h> states: murmur3's 32-bit finaliser of the source, and
/// hashes below `percent` hundredths of 2^32 (rounded down) go to the candidate. Written from that
/// description, not from the header's code. Throws std::invalid_argument above 100.
bool referenceToCandidate(uint32_t src, unsigned percent);

}  // namespace fizzhost::test
