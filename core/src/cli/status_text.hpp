// `fizzhost status` as text: the one place the host's status (runtime/status/host_status.hpp)
// becomes lines for people. Per interface its link and programs, a progressive rollout's step and
// gates, each variant's counts and cost, shadow mode's confusion table; then the events output,
// the last reload and the notes that apply.
#pragma once

#include "runtime/status/host_status.hpp"

#include <string>

namespace fizzhost::cli {

/// The whole text, each line ending in a newline.
std::string statusText(const runtime::HostStatus& status);
/// The decoders section: per plugin module, where its decoder runs, its worker's restarts and last
/// failure, the messages counted undecodable by reason, and whether it is disabled.
std::string decodersText(const std::vector<runtime::DecoderStatus>& decoders);

/// One line: "2026-11-25T17:03:41Z by SIGHUP: refused after 3.2 ms: <reason>".
std::string describeReload(const runtime::ReloadSummary& reload);

/// The per-variant counts table: one row per variant (its program instance since it went live),
/// then "(total)" (the interface since it was attached), under a header; every column as wide as
/// its widest cell, so long plugin names and versions keep the columns aligned. A variant whose
/// program never counts packets gets a note under its row.
std::string variantTableText(const runtime::InterfaceStatus& ifc);

/// "  cost (dispatcher-timed, 1 frame in 64 per CPU): baseline fizz 1.0.0 41.2 ns/run over 130
/// runs, candidate ... (x1.10 the baseline)\n", or "" when the interface's variants carry no
/// dispatcher-timed figures.
std::string variantCostsText(const runtime::InterfaceStatus& ifc);

/// Shadow mode's table, "" without one:
///   shadow: 1000 frames compared, 6 disagreed (0.60%); candidate events withheld
///     BASELINE     SHADOW           FRAMES  EXAMPLES
///     Fibonacci    Fizz                  1  198.18.0.0
///     ...
/// disagreeing pairs first (marked "!="), then the agreeing ones.
std::string shadowTableText(const runtime::InterfaceStatus& ifc);

/// A progressive rollout: step, percent, time in step, every gate's figure, limit and verdict, and
/// the rollout's verdict; each line indented and ending in a newline.
std::string rolloutStatusText(const runtime::RolloutStatus& rollout);

}  // namespace fizzhost::cli
