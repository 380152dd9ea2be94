// `fizzhost status` text for a progressive rollout (the "progressive" object of the status JSON).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace fizzhost::cli {

/// Lines (each indented, each ending in a newline) showing step, percent, time in step, every
/// gate's figure, limit and verdict, and the rollout's verdict. Never throws on missing keys.
std::string rolloutStatusText(const nlohmann::json& progressive);

}  // namespace fizzhost::cli
