// Intervals from the interleaved rounds of the program bench (benchPrograms): a program's mean
// ns per packet, and one program's cost over another's. In every round each frame is run by every
// program in turn, so the two figures of one round were measured moments apart on the same
// machine state: the round is the pair. The ratio's interval is Student's t on the logs of the
// per-round ratios (a geometric mean of them), which cancels what drifts between rounds (clock,
// temperature, another tenant) instead of counting it as noise.
#pragma once

#include "measure/program_bench.hpp"
#include "plugin/plugin.hpp"
#include "util/interval_stats.hpp"

#include <memory>
#include <optional>
#include <vector>

namespace fizzhost::measure {

/// The mean of `f.roundNs` with its t interval at `confidence`; nullopt below two rounds.
std::optional<stats::Interval> roundMeanInterval(const BenchFigures& f, double confidence);

/// b over a, per round (b.roundNs[r] / a.roundNs[r]): the geometric mean of those ratios with the
/// t interval of their logs, exponentiated. Nullopt below two rounds, for different round counts,
/// or a round with no time.
std::optional<stats::Interval> roundRatioInterval(const BenchFigures& a, const BenchFigures& b, double confidence);

/// Two programs measured against each other on the same frames.
struct CostComparison {
    BenchFigures a, b;
    std::optional<stats::Interval> aMean, bMean, ratio;  // ratio: b over a
    BenchSettings settings;                              // frames, rounds, repeat as measured
};

/// Loads private bench instances of both plugins (ring transport sized for the settings) and
/// measures them in interleaved rounds on `settings.frames` (each at least an Ethernet header).
/// Throws Error (a load the kernel refuses, a failing test run, bad settings).
CostComparison compareCost(const std::shared_ptr<const plugin::Plugin>& a, const std::shared_ptr<const plugin::Plugin>& b,
                           const BenchSettings& settings, double confidence);

/// At most `max` of `frames`, evenly spread over them in order (all of them when there are no
/// more): the cost sample of a capture too long to run every frame `repeat` times per round.
std::vector<std::vector<uint8_t>> spreadSample(const std::vector<std::vector<uint8_t>>& frames, size_t max);

}  // namespace fizzhost::measure
