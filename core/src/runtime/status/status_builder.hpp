// Building the host's status (host_status.hpp) from what runs: one function per part, each reading
// the part's counters and maps at the moment it is called. The host calls them under its lock.
#pragma once

#include "runtime/attachment/attachment.hpp"
#include "runtime/lifecycle/gone_interfaces.hpp"
#include "runtime/output/event_writer.hpp"
#include "runtime/rollout/rollout_controller.hpp"
#include "runtime/status/host_status.hpp"

#include <string>

namespace fizzhost::runtime {

/// What `a` runs on interface `name` and what it counted. `runTimeStats`: the kernel's run-time
/// statistics are on, so the attached program's ns/run is read. `progressive`: the interface's
/// rollout controller, or null. Reads the kernel's figures (syscalls); throws Error when a read fails.
InterfaceStatus attachedStatus(const std::string& name, const Attachment& a, bool runTimeStats,
                               const RolloutController* progressive, RolloutClock::time_point now);

/// A configured interface whose device went: its final counts. Never throws but bad_alloc.
InterfaceStatus goneStatus(const std::string& name, const GoneInterface& g);

/// Shadow mode's comparison as status shows it: examples as dotted addresses; `events`: the
/// candidate's events are written. Never throws but bad_alloc.
ShadowStatus shadowStatusOf(const ShadowComparison& comparison, bool events);

/// The events output's figures. Any thread. Never throws but bad_alloc.
OutputStatus outputStatus(const EventWriter& writer);

}  // namespace fizzhost::runtime
