// The host-owned A/B dispatcher program (bpf/dispatcher.bpf.c): tail-calls the baseline or the
// candidate by a hash of the IPv4 source. Variant and split changes are single map updates, each
// atomic for the packets that follow it.
#pragma once

#include "bpf/object.hpp"

#include <cstdint>
#include <memory>
#include <optional>

namespace fizzhost::runtime {

class Dispatcher {
public:
    /// Loads the embedded dispatcher. Throws Error (with the verifier log on rejection).
    static std::unique_ptr<Dispatcher> load();

    int programFd() const { return programFd_; }
    uint32_t programId() const;
    /// Points `slot` (FIZZ_SLOT_BASELINE / FIZZ_SLOT_CANDIDATE) at a loaded XDP program. Throws Error.
    void setVariant(uint32_t slot, int progFd);
    /// Sends `percent` (0..100) of the source-address hash space to the candidate. Throws Error.
    void setPercent(unsigned percent);
    unsigned percent() const { return percent_; }

    /// The hash threshold for `percent`: hashes below it go to the candidate.
    static uint64_t threshold(unsigned percent) { return (uint64_t(percent) << 32) / 100; }
    /// Which variant the dispatcher picks for a source address (the same hash as the BPF side).
    static uint32_t slotFor(uint32_t srcAddr, unsigned percent);

private:
    Dispatcher() = default;
    std::optional<bpf::Object> object_;
    int programFd_ = -1, variantsFd_ = -1, splitFd_ = -1;
    unsigned percent_ = 0;
};

}  // namespace fizzhost::runtime
