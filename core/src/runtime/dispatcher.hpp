// The host-owned A/B dispatcher program (bpf/dispatcher.bpf.c): tail-calls the baseline or the
// candidate by a hash of the IPv4 source. It hands the variant nothing but the frame, which the
// variant parses itself (handing the parsed source over in XDP metadata cost more than re-parsing;
// see bpf/dispatcher.bpf.c). Variant and split changes are single map updates, each atomic for the
// packets that follow it. Names, slots, hash and threshold come from <fizz/dispatcher.h>, shared
// with the BPF side.
#pragma once

#include "bpf/object.hpp"
#include "util/unique_fd.hpp"

#include <cstdint>
#include <memory>
#include <optional>

namespace fizzhost::runtime {

class Dispatcher {
public:
    /// Loads the embedded dispatcher. Throws Error (with the verifier log on rejection).
    static std::unique_ptr<Dispatcher> load();

    /// Stands on a dispatcher a previous host left running (pinned state): its program and maps,
    /// at the recorded split. Throws Error when a map is not what the dispatcher declares.
    static std::unique_ptr<Dispatcher> adopt(UniqueFd program, UniqueFd variants, UniqueFd split, unsigned percent);

    int programFd() const { return programFd_; }
    int variantsFd() const { return variantsFd_; }
    int splitFd() const { return splitFd_; }
    /// Points `slot` (FIZZ_VARIANT_BASELINE / FIZZ_VARIANT_CANDIDATE) at a loaded XDP program. Throws Error.
    void setVariant(uint32_t slot, int progFd);
    /// Sends `percent` (0..100) of the source-address hash space to the candidate. Throws Error.
    void setPercent(unsigned percent);
    unsigned percent() const { return percent_; }

    /// Which variant (FIZZ_VARIANT_*) the dispatcher picks for a source address (host order) at
    /// `percent`: fizz_dispatch_variant(), the very code the BPF side runs.
    static uint32_t slotFor(uint32_t srcAddr, unsigned percent);

private:
    Dispatcher() = default;
    std::optional<bpf::Object> object_;
    UniqueFd adoptedProgram_, adoptedVariants_, adoptedSplit_;  // set instead of object_ when adopted
    int programFd_ = -1, variantsFd_ = -1, splitFd_ = -1;
    unsigned percent_ = 0;
};

}  // namespace fizzhost::runtime
