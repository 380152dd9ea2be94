// The regression guard on reload: before a swap, benchmark the incoming program against the running
// one on the same frames in the same run, and refuse a swap that is slower by more than a factor.
#pragma once

#include "runtime/host.hpp"

#include <string>

namespace fizzhost::runtime {

/// A guard that throws Error with both figures when `incoming` is more than `maxSlowdown` times
/// slower than `running` on `mix` (see frames.hpp). Benchmarks fresh private instances of both, so
/// the live counters and queues are untouched.
ReloadGuard makeReloadGuard(double maxSlowdown, std::string mix);

}  // namespace fizzhost::runtime
