// Bencher Metric Format (BMF), the JSON `bencher run --adapter json` reads for continuous
// benchmarking: {"<benchmark>": {"<measure>": {"value", "lower_value", "upper_value"}}}. `bench`
// and `diff` write it with --format bmf; the bounds are the confidence interval of the value, so
// a tracked figure carries its noise with it.
#pragma once

#include "util/interval_stats.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace fizzhost::cli {

/// Bencher's built-in measure, in nanoseconds: ns per packet.
inline constexpr const char* kBmfLatency = "latency";
/// One program's cost over another's (Bencher creates the measure on first use).
inline constexpr const char* kBmfRatio = "ratio";

/// {"value": v, "lower_value": l, "upper_value": u}; without an interval (fewer than two rounds)
/// the value alone.
nlohmann::json bmfMetric(double value, const std::optional<stats::Interval>& interval);

/// Benchmark names that stay the same from commit to commit: each plugin's name, NAME@VERSION for
/// plugins that share a name in the list. `plugins` holds (name, version) pairs.
std::vector<std::string> bmfNames(const std::vector<std::pair<std::string, std::string>>& plugins);

/// The name of b's cost over a's: "<b> vs <a>".
std::string bmfVersus(const std::string& b, const std::string& a);

}  // namespace fizzhost::cli
