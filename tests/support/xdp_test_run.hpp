// BPF_PROG_TEST_RUN of an XDP program with XDP metadata in front of the frame, for tests that the
// classifiers and the dispatcher leave someone else's metadata alone: the kernel takes the metadata from the start of data_in (its length from
// ctx_in.data) and gives back what the program left of both.
#pragma once

#include "util/error.hpp"

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <cstdint>
#include <vector>

namespace fizzhost::test {

struct MetaRun {
    uint32_t verdict = 0;
    std::vector<uint8_t> meta;   // the metadata in front of the frame after the run
    std::vector<uint8_t> frame;  // the frame after the run
};

/// Runs `progFd` once on `frame` with `meta` (a multiple of 4 bytes, at most 32) in front of it.
/// Throws Error when the kernel refuses the run.
inline MetaRun runWithMeta(int progFd, const std::vector<uint8_t>& meta, const std::vector<uint8_t>& frame) {
    std::vector<uint8_t> in(meta);
    in.insert(in.end(), frame.begin(), frame.end());
    xdp_md ctxIn{}, ctxOut{};
    ctxIn.data = uint32_t(meta.size());
    ctxIn.data_end = uint32_t(in.size());
    std::vector<uint8_t> out(in.size() + 256);
    LIBBPF_OPTS(bpf_test_run_opts, opts);
    opts.data_in = in.data();
    opts.data_size_in = uint32_t(in.size());
    opts.data_out = out.data();
    opts.data_size_out = uint32_t(out.size());
    opts.ctx_in = &ctxIn;
    opts.ctx_size_in = sizeof ctxIn;
    opts.ctx_out = &ctxOut;
    opts.ctx_size_out = sizeof ctxOut;
    if (bpf_prog_test_run_opts(progFd, &opts) != 0) throwErrno("BPF_PROG_TEST_RUN with metadata", errno);
    out.resize(opts.data_size_out);
    if (ctxOut.data > out.size()) throw Error("BPF_PROG_TEST_RUN: metadata longer than the output", EPROTO);
    return {opts.retval, {out.begin(), out.begin() + ctxOut.data}, {out.begin() + ctxOut.data, out.end()}};
}

}  // namespace fizzhost::test
