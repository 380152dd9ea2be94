// "Did you mean ...?" for a word that names nothing known: the closest known word within a small
// edit distance.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace fizzhost {

/// Levenshtein distance (insertions, deletions, substitutions) between `a` and `b`.
size_t editDistance(std::string_view a, std::string_view b);

/// The word of `known` closest to `word` within `maxDistance` edits; ties go to the one listed
/// first. Nullopt when none is that close.
std::optional<std::string> closestWord(std::string_view word, std::span<const std::string> known, size_t maxDistance = 2);

}  // namespace fizzhost
