// The kernel's BPF run-time statistics (BPF_ENABLE_STATS), held on while the config asks for them
// (run_time_stats = true). While they are on, every run of every BPF program on the machine reads
// the clock twice: that is why the host holds them only on request, and lets them go when a reload
// turns the key off.
#pragma once

#include "util/unique_fd.hpp"

namespace fizzhost::runtime {

class RunTimeStats {
public:
    /// Holds the statistics on when `wanted` (and not yet held), lets them go when not. Logs what
    /// it did; when they cannot be held, logs a warning and carries on (status then shows no
    /// kernel ns/run). Never throws.
    void settle(bool wanted);
    /// Lets them go (at stop).
    void release() { fd_.reset(); }
    /// Held now: the kernel's run counts and times move.
    bool on() const { return bool(fd_); }

private:
    UniqueFd fd_;
};

}  // namespace fizzhost::runtime
