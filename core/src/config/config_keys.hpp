// The keys the config loader takes, table by table: the lists it refuses unknown keys against,
// for docs/configuration.md's test to hold the reference equal to them.
#pragma once

#include <span>
#include <string_view>

namespace fizzhost::config {

/// The keys one table of the config takes; `table` is its dotted path ("" for the top level,
/// "interface.NAME" for any interface).
struct KeyTable {
    std::string_view table;
    std::span<const std::string_view> keys;
};

/// Every table the loader reads and the keys it accepts there.
std::span<const KeyTable> knownKeys();

}  // namespace fizzhost::config
