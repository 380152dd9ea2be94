// `fizzhost status --cost-window SECONDS`: the live ns/run of each link's program, measured with the
// kernel's run-time statistics turned on by this command for that window only. The host keeps them
// off unless `run_time_stats = true`, since while they are on every run of every BPF program on the
// machine reads the clock twice.
#pragma once

#include "runtime/status/host_status.hpp"

namespace fizzhost::cli {

/// Sets the cost window of every attached interface of `status` (the host's answer), measured
/// over `seconds`. Blocks for the window. Throws Error (EPERM without CAP_SYS_ADMIN).
void addCostWindow(runtime::HostStatus& status, double seconds);

}  // namespace fizzhost::cli
