// Shadow mode's confusion table in kind names: what the baseline and the candidate decided on the
// same frames (from the dispatcher's pair counts), which pairs disagree, and examples of each.
// Agreement is by kind name, so two versions whose kind lists differ in order still compare.
#pragma once

#include "config/expected_cells.hpp"
#include "runtime/rollout/dispatcher.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace fizzhost::runtime {

struct ShadowCell {
    std::string baseline, candidate;  // kind names, "none" where nothing was emitted
    uint64_t frames = 0;
    bool agree = false;
    bool expected = false;           // a disagreeing cell the rollout's `expected` list names
    std::vector<uint32_t> examples;  // IPv4 sources (host order), disagreeing cells only
};

struct ShadowComparison {
    uint64_t compared = 0;   // frames both variants ran on
    uint64_t disagreed = 0;  // of them, frames whose two decisions differ
    uint64_t unexpected = 0; // of those, frames in a cell the expected list does not name (= disagreed without one)
    std::vector<ShadowCell> cells;  // the pairs seen (frames > 0), disagreeing ones first, most frames first
};

/// The name of a decision (FIZZ_DECISION_NONE, 1 + kind, FIZZ_DECISION_OTHER) under `kinds`:
/// "none", the kind's name, or "kind N" for one the plugin does not declare.
std::string decisionName(uint32_t decision, const std::vector<std::string>& kinds);

/// Names and judges every pair in `counts`; a disagreeing pair that `expected` names is marked
/// expected and left out of `unexpected`. Never throws but for allocation.
ShadowComparison compareDecisions(const ShadowCounts& counts, const std::vector<std::string>& baselineKinds,
                                  const std::vector<std::string>& candidateKinds,
                                  const config::ExpectedCells& expected = {});

}  // namespace fizzhost::runtime
