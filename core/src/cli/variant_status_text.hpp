// The text form of `fizzhost status`'s per-variant figures: each variant's counts, its cost as the
// dispatcher timed it, and in shadow mode the confusion table of the two variants' decisions. Reads the status JSON
// only (the control socket's answer).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace fizzhost::cli {

/// The per-variant counts table: one row per variant (its program instance since it went live),
/// then "(total)" (the interface since it was attached), under a header; every column as wide as
/// its widest cell, so long plugin names and versions keep the columns aligned. A variant whose
/// program never counts packets gets a note under its row. Never throws on missing keys ("-").
std::string variantTableText(const nlohmann::json& ifc);

/// "  cost (dispatcher-timed, 1 frame in 64 per CPU): baseline fizz 1.0.0 41.2 ns/run over 130
/// runs, candidate ... (x1.10 the baseline)\n", or "" when the interface's variants carry no
/// dispatcher-timed figures. Never throws on missing keys (prints "-").
std::string variantCostsText(const nlohmann::json& ifc);

/// Shadow mode's table, "" without one:
///   shadow: 1000 frames compared, 6 disagreed (0.60%); candidate events withheld
///     BASELINE     SHADOW           FRAMES  EXAMPLES
///     Fibonacci    Fizz                  1  198.18.0.0
///     ...
/// disagreeing pairs first (marked "!="), then the agreeing ones.
std::string shadowTableText(const nlohmann::json& ifc);

}  // namespace fizzhost::cli
