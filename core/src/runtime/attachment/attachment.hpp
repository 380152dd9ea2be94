// What the host runs on one interface: the bpf_link, the baseline classifier and, during a rollout,
// the candidate behind the dispatcher, and the final counts of the program instances it retired.
#pragma once

#include "runtime/attachment/attached_link.hpp"
#include "config/host_config.hpp"
#include "runtime/instance/region_spares.hpp"
#include "runtime/rollout/dispatcher.hpp"
#include "runtime/output/message_source.hpp"
#include "runtime/rollout/shadow_comparison.hpp"

#include <fizz/shared.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fizzhost::runtime {

/// Counts of one or more program instances on an interface. Per-kind counts by kind name, since
/// the instances' plugins may declare different kinds.
struct InterfaceTotals {
    uint64_t packets = 0, emitted = 0, dropped = 0, delivered = 0, undecodable = 0;
    std::map<std::string, uint64_t> kinds;

    /// Adds what `source` counted and delivered so far; nothing for a shadow-mode candidate, whose
    /// frames the baseline counts. Never throws (but may allocate kind names).
    void add(const MessageSource& source);
};

/// A running rollout's live figures, for its gates. Cumulative since the dispatcher
/// `dispatcherProgramId` went live: a variant change loads a new dispatcher, so a changed id means
/// the figures restarted from zero.
struct RolloutFigures {
    uint32_t dispatcherProgramId = 0;
    uint32_t samplePeriod = 0;  // the dispatcher times 1 frame in this many per CPU
    VariantCost baseline;       // ns per run of each variant, as the dispatcher timed them
    VariantCost candidate;
    /// Shadow mode only: frames compared, how many of them the two variants decided differently
    /// (`shadow->compared`, `shadow->disagreed`), and the whole table by kind name.
    std::optional<ShadowComparison> shadow;
};

struct Attachment {
    config::Interface cfg;
    int ifindex = 0;
    AttachedLink link;            // XDP or tcx (cfg.hook)
    /// Times someone else detached the link (noticed by the host's poll), and whether it is off now
    /// (on_detach = "stay_off", or re-attaching was refused) until a reload attaches it again.
    uint64_t detaches = 0;
    bool off = false;
    std::string offReason;
    std::shared_ptr<MessageSource> baseline;
    std::shared_ptr<MessageSource> candidate;  // set only during a rollout
    std::unique_ptr<Dispatcher> dispatcher;    // set only during a rollout
    InterfaceTotals retired;                   // final counts of the instances this interface retired

    /// The program the link runs: the dispatcher during a rollout, else the baseline.
    int attachedProgramFd() const {
        return dispatcher ? dispatcher->programFd() : baseline->classifier().programFd();
    }
    /// Everything counted on this interface since it was attached: retired instances + live ones.
    InterfaceTotals totals() const;
    /// The rollout's live figures; nullopt when no rollout runs. Reads the dispatcher's per-CPU
    /// maps (syscalls). Throws Error when a map read fails.
    std::optional<RolloutFigures> rolloutFigures() const;
};

/// The regions map of every instance `attachments` run (baseline and candidate), for the spares
/// (RegionSpares::settle). Never throws but bad_alloc: an instance whose map cannot be read is left
/// out (no spare is made for its shape).
std::vector<RegionSpares::InUse> regionsInUse(const std::map<std::string, std::unique_ptr<Attachment>>& attachments);

}  // namespace fizzhost::runtime
