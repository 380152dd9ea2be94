// The host-owned A/B dispatcher program (bpf/dispatcher.bpf.c): tail-calls the baseline or the
// candidate by a hash of the IPv4 source. It hands the variant nothing but the frame, which the
// variant parses itself (handing the parsed source over in XDP metadata cost more than re-parsing;
// see bpf/dispatcher.bpf.c). Variant and split changes are single map updates, each atomic for the
// packets that follow it. In shadow mode it runs both variants on every frame instead and counts
// the pairs of kinds they decided on. It also times 1 frame in `samplePeriod` per CPU, per variant: the
// kernel's run-time statistics cannot tell tail-called variants apart. Names, slots, hash,
// threshold and the cost record come from <fizz/dispatcher.h>, shared with the BPF side.
#pragma once

#include "bpf/object.hpp"
#include "util/unique_fd.hpp"

#include <fizz/dispatcher.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fizzhost::runtime {

/// What the dispatcher timed for one variant, summed over CPUs, since the dispatcher was loaded.
struct VariantCost {
    uint64_t runs = 0;  // runs timed (1 frame in the sample period per CPU reached this variant)
    uint64_t ns = 0;    // their time, summed
    /// Mean ns per timed run; 0 without a timed run.
    double nsPerRun() const { return runs ? double(ns) / double(runs) : 0.0; }
};

/// Shadow mode's raw figures, summed over CPUs, indexed [baseline][candidate] by decision
/// (FIZZ_DECISION_NONE, 1 + kind, FIZZ_DECISION_OTHER; see <fizz/shared.h>).
struct ShadowCounts {
    std::array<std::array<uint64_t, FIZZ_DECISIONS>, FIZZ_DECISIONS> frames{};
    /// Up to FIZZ_SHADOW_EXAMPLES distinct IPv4 sources (host order) per pair.
    std::array<std::array<std::vector<uint32_t>, FIZZ_DECISIONS>, FIZZ_DECISIONS> examples;
};

struct DispatcherOptions {
    /// Time 1 frame in this many per CPU (a power of two; 1 times every frame; 0 times none: the
    /// dispatcher without cost figures, `cost_sample_period = 0`).
    uint32_t samplePeriod = FIZZ_COST_SAMPLE_PERIOD;
    /// Shadow mode when set: both variants on every frame, their decisions compared. The map from
    /// Dispatcher::createDecisionMap() that both variants were loaded with (ClassifierOptions).
    std::shared_ptr<const UniqueFd> decisionMap;
    /// The hook it runs on, as its variants: on tc it calls them and returns TCX_NEXT for every packet.
    fizz_hook hook = FIZZ_HOOK_XDP;
    /// XDP only, non-empty: chain to the XDP program pinned here (config `then`): every frame goes
    /// on to it once classified (FIZZ_SLOT_NEXT), and its verdict is the frame's.
    std::filesystem::path chainPath;
};

class Dispatcher {
public:
    /// Loads the embedded dispatcher. Throws Error (with the verifier log on rejection, EINVAL for
    /// a sample period that is not a power of two; for a chain target that is missing, not an XDP
    /// program or one the kernel would not tail-call from here, bpf::openChainTarget's reason).
    static std::unique_ptr<Dispatcher> load(const DispatcherOptions& opts = {});

    /// Stands on a dispatcher a previous host left running (pinned state): its program, prog array
    /// and split, at the recorded percent; enough to be replaced with bpf_link_update, nothing more
    /// (no cost or shadow figures: those maps are not pinned). Throws Error when a map is not what
    /// the dispatcher declares.
    static std::unique_ptr<Dispatcher> adopt(UniqueFd program, UniqueFd variants, UniqueFd split, unsigned percent);

    int programFd() const { return programFd_; }
    int variantsFd() const { return variantsFd_; }
    int splitFd() const { return splitFd_; }
    /// Points `slot` (FIZZ_VARIANT_BASELINE / FIZZ_VARIANT_CANDIDATE) at a loaded XDP program. Throws Error.
    void setVariant(uint32_t slot, int progFd);
    /// Sends `percent` (0..100) of the source-address hash space to the candidate. Throws Error.
    void setPercent(unsigned percent);
    unsigned percent() const { return percent_; }
    uint32_t samplePeriod() const { return samplePeriod_; }
    bool shadow() const { return decisionMap_ != nullptr; }
    /// For logs: "at 10%", or "in shadow mode (every frame)".
    std::string describeShare() const;
    /// Chaining: where the chained program is pinned and its id (0 and empty without a chain).
    const std::filesystem::path& chainPath() const { return chainPath_; }
    uint32_t chainProgramId() const { return chainProgramId_; }
    fizz_hook hook() const { return hook_; }
    /// For logs: ", then program 'x' (id 7, type xdp) pinned at '/p'", or "" without a chain.
    std::string describeChain() const;
    /// Shadow mode: the decision map this dispatcher and its variants share (null in split mode).
    const std::shared_ptr<const UniqueFd>& decisionMap() const { return decisionMap_; }

    /// A new FIZZ_MAP_DECISION for a shadow-mode dispatcher and its two variants. Throws Error.
    static std::shared_ptr<const UniqueFd> createDecisionMap();
    /// Shadow mode: every pair of decisions counted since the dispatcher was loaded, with examples.
    /// One map read (a syscall). Any thread. Throws Error (EINVAL in split mode).
    ShadowCounts shadowCounts() const;

    /// Per variant (index FIZZ_VARIANT_*), what this dispatcher timed since it was loaded: one map
    /// read (a syscall). Any thread. Throws Error.
    std::array<VariantCost, FIZZ_VARIANTS> costs() const;

private:
    Dispatcher() = default;
    std::optional<bpf::Object> object_;
    UniqueFd adoptedProgram_, adoptedVariants_, adoptedSplit_;  // set instead of object_ when adopted
    std::shared_ptr<const UniqueFd> decisionMap_;
    int programFd_ = -1, variantsFd_ = -1, splitFd_ = -1, statsFd_ = -1, shadowFd_ = -1;
    unsigned percent_ = 0;
    fizz_hook hook_ = FIZZ_HOOK_XDP;
    UniqueFd chain_;  // the chained program (the prog array holds it too; kept for status)
    std::filesystem::path chainPath_;
    uint32_t chainProgramId_ = 0;
    std::string chainName_;
    uint32_t samplePeriod_ = FIZZ_COST_SAMPLE_PERIOD;
};

}  // namespace fizzhost::runtime
