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

}  // namespace fizzhost::test
