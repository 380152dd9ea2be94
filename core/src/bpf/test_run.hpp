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

/// Runs the XDP program `progFd` on `repeat` live frames (BPF_F_TEST_XDP_LIVE_FRAMES, Linux 5.18+):
/// copies of `frame` in a page pool whose verdicts the kernel carries out for real (XDP_REDIRECT and
/// XDP_TX transmit, XDP_PASS enters the stack of the calling thread's network namespace), `batch`
/// frames at a time (1..256; redirected frames leave at the end of each batch). Returns the kernel's
/// average ns per frame. Interface indexes the program names are looked up in the calling thread's
/// network namespace. Throws Error (EINTR when a signal interrupted the run).
uint32_t testRunLive(int progFd, std::span<const uint8_t> frame, uint32_t repeat, uint32_t batch);

}  // namespace fizzhost::bpf
