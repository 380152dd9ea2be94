// The regression guard on reload: before a swap, benchmark the incoming program against the running
// one on the same frames in the same run, and refuse a swap that is slower by more than a factor.
#pragma once

#include "runtime/reload/guard.hpp"

#include <string>

namespace fizzhost::measure {

/// A guard that throws Error with both figures when `incoming` is more than `maxSlowdown` times
/// slower than `running` on `mix` (see frames.hpp); logs them (and the decision's wall time) when it
/// accepts. Benchmarks private instances of both, so the live counters and queues are untouched.
/// Instances are kept between decisions (the last three programs, shared by every guard alive in
/// the process, recognised by their BPF object), each held in the kernel's XDP dispatcher
/// (DispatcherHold: a generic XDP attachment on the loopback of a private namespace) while kept, so
/// a reload usually loads only the incoming program. Not for concurrent use from several threads
/// beyond serialising on an internal mutex.
runtime::ReloadGuard makeReloadGuard(double maxSlowdown, std::string mix);

}  // namespace fizzhost::measure
