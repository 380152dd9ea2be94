// BPF_PROG_TEST_RUN: run a loaded program on a frame without any interface.
#pragma once

#include <cstdint>
#include <span>

namespace fizzhost::bpf {

struct TestRunResult {
    uint32_t retval;      // the program's verdict (XDP_PASS, ...)
    uint32_t durationNs;  // kernel-measured average per run over `repeat`
};

/// Runs `progFd` on `frame` `repeat` times (repeat >= 1). Throws Error.
TestRunResult testRun(int progFd, std::span<const uint8_t> frame, uint32_t repeat = 1);

}  // namespace fizzhost::bpf
