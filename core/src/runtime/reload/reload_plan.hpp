// The reload transaction of one interface. prepareReload() builds the complete new state (plugins
// loaded, programs verified, dispatcher filled, regression guard passed) and changes nothing the
// kernel runs; if it throws, nothing changed. commitReload() then carries the plan out with one
// atomic kernel operation (bpf_link_update with the expected old program, a prog-array/split-map
// write during a rollout, or the attach of a new interface). retireCommitted(), once after all the
// commits, waits for programs already running to finish and retires the old state after draining
// its messages. The host orchestrates: it prepares every interface before it commits any, pins
// what was committed, retires once, and keeps the books.
#pragma once

#include "config/host_config.hpp"
#include "plugin/catalog.hpp"
#include "runtime/attachment/attachment.hpp"
#include "runtime/instance/region_spares.hpp"
#include "runtime/output/event_writer.hpp"
#include "runtime/output/message_source.hpp"
#include "runtime/output/pump.hpp"
#include "runtime/output/uncounted_warnings.hpp"
#include "runtime/reload/guard.hpp"
#include "runtime/rollout/dispatcher.hpp"
#include "util/phase_times.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace fizzhost::runtime {

/// What preparing and committing read and use, all owned by the host, which holds its lock while
/// either runs.
struct ReloadContext {
    const config::HostConfig& cfg;  // the settings the plan is prepared under (sizes, transport, spares)
    const plugin::Catalog& catalog;
    const ReloadGuard& guard;       // null: none
    EventWriter& writer;
    Pump& pump;
    RegionSpares& spares;
    PhaseTimes& phases;             // where the reload's time goes (the debug log)
    const UncountedWarnings& uncounted;
    /// Called before a running attachment's kernel operation with the state about to run (its
    /// baseline, candidate and dispatcher; null: none): the pinned record's intent. Throwing
    /// refuses the commit (nothing changed). Empty: nothing is pinned.
    std::function<void(const Attachment&, const MessageSource*, const MessageSource*, const Dispatcher*)> recordIntent;
};

/// One interface's new state, complete but not yet running.
struct ReloadPlan {
    config::Interface cfg;
    Attachment* current = nullptr;         // the running attachment, or null for a new interface
    std::unique_ptr<Attachment> fresh;     // a new interface, complete but not attached yet
    std::shared_ptr<MessageSource> newBaseline, newCandidate;
    std::unique_ptr<Dispatcher> newDispatcher;  // entering a rollout
    bool leaveRollout = false;
    std::optional<unsigned> newPercent;
    /// Set by the commit: what it replaced on `current`, running until retireCommitted().
    std::vector<std::shared_ptr<MessageSource>> retiring;
    std::unique_ptr<Dispatcher> oldDispatcher;
    /// Set by the host when the commit changed kernel state: the outcome record is due once the
    /// replaced state is drained (writing it earlier would unpin regions still holding messages).
    bool recordDue = false;

    bool changesSomething() const {
        return fresh || newBaseline || newCandidate || newDispatcher || leaveRollout || newPercent;
    }
};

/// Prepares `ifc` on `current` (null: a new interface): loads what must change, keeps what may
/// stay (the same plugin file, loaded for this rollout mode) unless `freshPrograms` (the sizes or
/// the transport changed). Throws Error placed in the config (file:line:col) and changes nothing.
std::unique_ptr<ReloadPlan> prepareReload(const ReloadContext& ctx, const config::Interface& ifc, Attachment* current,
                                          bool freshPrograms);

/// Carries `plan` out. A new interface is attached (refused when another program holds its XDP
/// hook; a plan whose fresh attachment already holds a link, kept from pinned state, updates
/// that link instead) and returned, not yet pinned; a running one (plan.current) changes in place with one
/// kernel operation, its replaced sources left in plan.retiring for retireCommitted(): returns null. Throws Error
/// when the kernel operation fails: nothing changed then (the plan's sources leave the pump).
std::unique_ptr<Attachment> commitReload(const ReloadContext& ctx, ReloadPlan& plan);

/// After the commits of `plans`: waits once for programs in flight, then drains and retires what
/// each commit replaced (ReloadPlan::retiring) and adds its final counts to its interface. Every
/// committed plan must pass through here. Never throws but bad_alloc.
void retireCommitted(const ReloadContext& ctx, std::span<const std::unique_ptr<ReloadPlan>> plans);

}  // namespace fizzhost::runtime
