// What an interface's config asks of each variant's program instance: loaded as a shadow-mode
// variant or not, its events delivered or withheld, its name in events and status. A running
// instance that does not fit the new config is loaded anew (the verifier prunes the shadow-mode
// store from a classifier at load, so a mode change cannot reuse one).
#pragma once

#include "config/host_config.hpp"
#include "runtime/output/message_source.hpp"
#include "runtime/rollout/dispatcher.hpp"

#include <cstdint>
#include <memory>

namespace fizzhost::runtime {

struct VariantPlacement {
    bool shadow = false;   // runs behind a shadow-mode dispatcher (records its decisions)
    bool deliver = true;   // its events are written (a shadow candidate's only with shadow_events)
    bool shadowCandidate = false;  // the candidate of a shadow-mode rollout
    const char* name = ""; // "baseline", "candidate" or, in shadow mode, "shadow"
};

/// The placement of slot FIZZ_VARIANT_BASELINE / FIZZ_VARIANT_CANDIDATE under `ifc`.
VariantPlacement placementOf(const config::Interface& ifc, uint32_t slot);

/// Whether a running instance can stay under `placement`.
bool fits(const MessageSource& source, const VariantPlacement& placement);

/// The decision map a shadow-mode rollout on `ifc` shares between its dispatcher and variants: the
/// running one when `running` (the interface's dispatcher, or null) already runs in shadow mode
/// (kept variants write into it), a new one otherwise; null in split mode or without a rollout.
/// Throws Error.
std::shared_ptr<const UniqueFd> decisionMapFor(const config::Interface& ifc, const Dispatcher* running);

}  // namespace fizzhost::runtime
