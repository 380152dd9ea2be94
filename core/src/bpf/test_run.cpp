#include "bpf/test_run.hpp"

#include "util/error.hpp"

#include <bpf/bpf.h>

namespace fizzhost::bpf {

TestRunResult testRun(int progFd, std::span<const uint8_t> frame, uint32_t repeat) {
    LIBBPF_OPTS(bpf_test_run_opts, opts);
    opts.data_in = frame.data();
    opts.data_size_in = static_cast<uint32_t>(frame.size());
    opts.repeat = repeat;
    if (bpf_prog_test_run_opts(progFd, &opts) != 0)
        throwErrno("BPF_PROG_TEST_RUN on a " + std::to_string(frame.size()) + "-byte frame", errno);
    return {opts.retval, opts.duration};
}

uint32_t testRunLive(int progFd, std::span<const uint8_t> frame, uint32_t repeat, uint32_t batch) {
    LIBBPF_OPTS(bpf_test_run_opts, opts);
    opts.data_in = frame.data();
    opts.data_size_in = static_cast<uint32_t>(frame.size());
    opts.repeat = static_cast<int>(repeat);
    opts.flags = BPF_F_TEST_XDP_LIVE_FRAMES;
    opts.batch_size = batch;
    if (bpf_prog_test_run_opts(progFd, &opts) != 0)
        throwErrno("BPF_PROG_TEST_RUN (live frames, repeat " + std::to_string(repeat) + ", batch " +
                       std::to_string(batch) + ") on a " + std::to_string(frame.size()) + "-byte frame",
                   errno);
    return opts.duration;
}

}  // namespace fizzhost::bpf
