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

}  // namespace fizzhost::bpf
