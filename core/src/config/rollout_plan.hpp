// A gated progressive rollout as the config states it: the split steps, how long each is watched,
// the gates every step must hold and whether the last step ends in a promotion. Plain data, read by
// config_loader and driven by runtime/rollout/rollout_controller; no kernel calls.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace fizzhost::config {

/// The limits a step must hold over its window. Absent: not gated on that figure.
struct RolloutGates {
    std::optional<double> maxSlowdown;         // candidate ns/run over baseline's, >= 1.0
    std::optional<double> maxDropRate;         // candidate's messages dropped by the transport, 0..1
    std::optional<double> maxUndecodableRate;  // candidate's messages its decoder refused, 0..1
    std::optional<double> maxDisagreement;     // shadow stage: disagreeing fraction of compared frames, 0..1
    // Shadow stage with expected cells (Rollout::expected): the fraction of compared frames in a
    // disagreeing cell not listed, 0..1; 0 (one such frame fails the stage) when cells are listed
    // and this is not given. Frames in listed cells count for neither this nor max_disagreement.
    std::optional<double> maxUnexpected;

    bool operator==(const RolloutGates&) const = default;
};

struct RolloutPlan {
    std::vector<unsigned> steps;  // percent to the candidate, strictly increasing, each 1..100
    uint32_t stepSeconds = 60;    // the window each step is judged over
    uint32_t shadowSeconds = 0;   // a shadow stage before the first step (0: none)
    uint64_t minSamples = 100;    // the smallest window a rate gate is judged on (messages, frames)
    bool promote = false;         // at the end of the last step: the candidate becomes the classifier
    // How sure a gate must be before it passes or fails a step: the two-sided interval every gate is
    // judged on, shared among the looks a window takes (the host judges 5 times a second). In [0.5, 1).
    double confidence = 0.99;
    RolloutGates gates;

    bool operator==(const RolloutPlan&) const = default;
};

}  // namespace fizzhost::config
