// The kernel's BPF run-time statistics: run count and total run time per program.
#pragma once

#include "util/unique_fd.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

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
/// cost every BPF program on the machine two clock reads per run, so the host holds them only with
/// run_time_stats = true, and `status --cost-window` only for its window. Throws Error.
UniqueFd enableRunTimeStats();

/// What the kernel's run-time statistics counted for one program over a window.
struct RunWindow {
    uint32_t id = 0;
    uint64_t runs = 0;
    uint64_t ns = 0;
    double nsPerRun() const { return runs ? double(ns) / double(runs) : 0.0; }
};

/// Turns run-time statistics on for `window` only and returns what each program in `ids` ran
/// meanwhile: the live cost, without making every BPF program on the machine pay for the clock
/// all the time. Whoever else holds the statistics keeps them. A program swapped off its link
/// during the window counts only the runs it had. Throws Error (EPERM without CAP_SYS_ADMIN,
/// ENOENT for an id that names no program).
std::vector<RunWindow> measureRunWindow(const std::vector<uint32_t>& ids, std::chrono::milliseconds window);

}  // namespace fizzhost::bpf
