// Programs that are not fizzhost's, for coexistence tests: a tc program of someone else's datapath
// (tests/plugins/foreign_tc.bpf.c) and XDP programs to chain behind the dispatcher
// (tests/plugins/chain_next.bpf.c), each loaded through libbpf with the UDP port it drops.
#pragma once

#include "bpf/object.hpp"

#include <cstdint>
#include <string>

namespace fizzhost::test {

/// foreign_tc: counts every packet, drops UDP to `dropPort` (TCX_DROP), passes the rest on (TCX_NEXT).
class ForeignTc {
public:
    explicit ForeignTc(uint16_t dropPort);
    int fd() const { return fd_; }
    struct Counts {
        uint64_t packets = 0, dropped = 0;
    };
    Counts counts() const;

private:
    bpf::Object object_;
    int fd_ = -1, countsFd_ = -1;
};

/// chain_next.bpf.c's programs. `program` is chain_drop_port (XDP_DROP for UDP to `dropPort`,
/// else XDP_PASS), chain_drop_port_frags (the same with frags support) or chain_budget (tail-calls
/// itself until the kernel refuses; counts its runs). `expectedAttachType`: as libbpf loads it
/// (BPF_XDP) unless given.
class ChainNext {
public:
    ChainNext(const std::string& program, uint16_t dropPort, int expectedAttachType = -1);
    int fd() const { return fd_; }
    struct Counts {
        uint64_t frames = 0, dropped = 0, depth = 0;
    };
    Counts counts() const;
    /// Sets every count back to 0.
    void reset();

private:
    bpf::Object object_;
    int fd_ = -1, countsFd_ = -1;
};

}  // namespace fizzhost::test
