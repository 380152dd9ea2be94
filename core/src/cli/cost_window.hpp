// `fizzhost status --cost-window SECONDS`: the live ns/run of each link's program, measured with the
// kernel's run-time statistics turned on by this command for that window only. The host keeps them
// off unless `run_time_stats = true`, since while they are on every run of every BPF program on the
// machine reads the clock twice.
#pragma once

#include <nlohmann/json.hpp>

namespace fizzhost::cli {

/// Adds `"cost_window": {"seconds", "runs", "ns_per_run"}` to every attached interface of `status`
/// (the host's status JSON), measured over `seconds`. Blocks for the window. Throws Error (EPERM
/// without CAP_SYS_ADMIN).
void addCostWindow(nlohmann::json& status, double seconds);

}  // namespace fizzhost::cli
