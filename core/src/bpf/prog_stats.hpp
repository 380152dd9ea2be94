// The kernel's BPF run-time statistics: run count and total run time per program.
#pragma once

#include "util/unique_fd.hpp"

#include <cstdint>
#include <string>

namespace fizzhost::bpf {

struct ProgramStats {
    uint32_t id = 0;
    std::string name;
    uint64_t runCount = 0;
    uint64_t runTimeNs = 0;
    double nsPerRun() const { return runCount ? double(runTimeNs) / double(runCount) : 0.0; }
};

/// Reads id, name and run statistics of a program by fd. Throws Error.
ProgramStats programStats(int progFd);

/// Turns on run-time statistics (BPF_ENABLE_STATS) for as long as the returned fd is open; they
/// cost two clock reads per run, so the host enables them only while it runs. Throws Error.
UniqueFd enableRunTimeStats();

}  // namespace fizzhost::bpf
