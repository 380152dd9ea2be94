#include "runtime/host/run_time_stats.hpp"

#include "bpf/prog_stats.hpp"
#include "util/error.hpp"

#include <spdlog/spdlog.h>

namespace fizzhost::runtime {

void RunTimeStats::settle(bool wanted) {
    if (wanted == on()) return;
    if (!wanted) {
        fd_.reset();
        spdlog::info("BPF run-time statistics released (run_time_stats = false): status shows no kernel ns/run");
        return;
    }
    try {
        fd_ = bpf::enableRunTimeStats();
        spdlog::info("BPF run-time statistics on while fizzhost runs (run_time_stats = true): fizzhost status shows "
                     "ns/run; every BPF program on this machine now pays two clock reads per run");
    } catch (const Error& e) {
        spdlog::warn("run_time_stats: BPF run-time statistics unavailable: {}", e.what());
    }
}

}  // namespace fizzhost::runtime
