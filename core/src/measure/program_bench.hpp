// The program benchmark behind `fizzhost bench` and the reload guard: ns per packet of loaded XDP
// programs on a frame mix, measured by the kernel (BPF_PROG_TEST_RUN), with every program of a
// comparison run interleaved in the same rounds so clock and thermal drift hit them all alike.
#pragma once

#include "bpf/object.hpp"
#include "bpf/xdp_link.hpp"
#include "runtime/instance/classifier.hpp"
#include "util/unique_fd.hpp"

#include <fizz/shared.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace fizzhost::measure {

/// One program to measure. It must be a private instance (not attached, its transport drained by
/// nobody else): the benchmark runs it millions of times and empties its transport itself.
struct BenchProgram {
    std::string label;
    int progFd = -1;
    /// Empties the program's transport and returns how many messages it removed. Called between
    /// test-run calls (never concurrently with one, never from two threads at once) so pushes never
    /// meet a full transport; its count is the measured messages per packet. Empty: a program that
    /// emits nothing (the floor).
    std::function<size_t()> drain;
    /// The program's count of messages its transport had no room for, read before and after the
    /// run to report drops. Empty: a program that counts none.
    std::function<uint64_t()> dropped;
};

struct BenchFigures {
    std::string label;
    double nsPerPacket = 0;        // median over rounds
    double minNs = 0, maxNs = 0;   // fastest and slowest round
    double messagesPerPacket = 0;  // drained messages / test runs
    uint64_t dropped = 0;          // messages lost to a full transport (0 without a `dropped` reader)
    uint32_t verdict = 0;          // XDP verdict of the last run (XDP_PASS = 2 for a classifier)
    std::vector<double> roundNs;   // ns per packet of each round, in round order
    /// The kernel timed this program's runs during the bench (its run count moved): BPF run-time
    /// statistics were on, by the sysctl or by a process holding BPF_ENABLE_STATS (a fizzhost with
    /// run_time_stats = true), which the sysctl does not show. Each run then includes two clock
    /// reads: the floor rises and every ratio shrinks towards 1. benchPrograms() warns once.
    bool kernelTimed = false;
};

struct BenchSettings {
    std::vector<std::vector<uint8_t>> frames;  // the mix; every frame is run by every program
    unsigned rounds = 5;
    unsigned repeat = 20000;  // runs per frame per test-run call
    unsigned cpus = 1;        // threads run at once, each pinned to its own CPU
};

/// Measures `programs` on `settings.frames`. Each round runs, for each frame, every program in turn
/// (the starting program rotates by round), `repeat` times per call; a program's figure for a round
/// is the mean over frames of the kernel-reported ns per run. With cpus = N, N threads pinned to the
/// first N CPUs this process may use make the same calls at the same moment (a barrier per call)
/// and a round's figure is the mean over threads: shared-state contention (queue-map spinlock) shows.
/// Returns one figure per program, in order. Blocks for the whole run; allocates only before and
/// after it. Throws Error for bad settings, too few usable CPUs, or a failing test run. Logs a
/// warning when the kernel timed the runs (BenchFigures::kernelTimed).
std::vector<BenchFigures> benchPrograms(const std::vector<BenchProgram>& programs, const BenchSettings& settings);

/// Keeps programs in the kernel's XDP dispatcher while it lives, so that BPF_PROG_TEST_RUN calls
/// with repeat > 1 stop waiting on it.
///
/// Why: such a call adds the program to the XDP dispatcher before its loop and removes it after
/// (bpf_prog_change_xdp), and every change of the dispatcher waits for an RCU grace period
/// (bpf_dispatcher_update -> synchronize_rcu): ~8 ms each on the 6.18 VM we measured, so 16 ms of wall time
/// per call whatever `repeat` is. A program already in the dispatcher is only reference-counted.
/// The holding attachment is generic XDP on the loopback device of a private, empty network
/// namespace per program (a device holds one program): no frame ever reaches it, so no counter
/// moves and nothing is emitted (while any generic XDP program is attached, every device's receive
/// path checks for one: a branch per packet, for the length of the run). The measured loop is the
/// same either way (it runs through the dispatcher in both cases); the CPU just no longer idles
/// between calls, which also makes the figures steadier.
/// Best effort: when a namespace or an attachment is refused it logs one warning and holds nothing.
/// Destruction detaches (two grace periods per program).
class DispatcherHold {
public:
    explicit DispatcherHold(std::span<const int> progFds);
    DispatcherHold(const DispatcherHold&) = delete;
    DispatcherHold& operator=(const DispatcherHold&) = delete;
    ~DispatcherHold();
    bool holding() const { return !links_.empty(); }

private:
    void release() noexcept;
    std::vector<bpf::XdpLink> links_;
    std::vector<UniqueFd> namespaces_;
};

/// A program the host owns itself, loaded: the empty XDP program (bpf/empty.bpf.c, embedded in the
/// host), the floor figures are compared to, or the parse+count stage. Move-only; the program lives
/// as long as the object.
struct FloorProgram {
    bpf::Object object;
    int fd = -1;
    BenchProgram benchProgram(std::string label = "floor") const;
};
/// Loads the floor program. Throws Error (with the verifier log) when the kernel refuses it.
FloorProgram loadFloorProgram();

/// The host's parse+count program (bpf/parse_count.bpf.c, embedded): the SDK's packet count and
/// frame parse, nothing else -- the first stage of `fizzhost bench --breakdown`. Its per-CPU
/// regions hold counters only. Throws Error (with the verifier log) when the kernel refuses it.
FloorProgram loadParseCountProgram();

/// Classifier options whose transport holds every message one test-run call can produce from all
/// threads (one message per run, as a classifier emits at most one per frame; more shows as drops):
/// a queue of repeat * cpus entries, or repeat slots per CPU. Throws Error when that exceeds what
/// the host is willing (or, for a CPU's region, the kernel is able) to allocate (lower --repeat).
runtime::ClassifierOptions benchClassifierOptions(const plugin::Plugin& plugin, fizz_transport transport,
                                         const BenchSettings& settings);

/// A BenchProgram over a loaded classifier: its program, a drain that discards the messages, its
/// drop counter. `classifier` must outlive it and nothing else may read its transport. Throws Error.
BenchProgram benchProgramFor(runtime::Classifier& classifier, std::string label);

/// Frames of a named mix (mixAddresses): one UDP frame per source address. Throws Error.
std::vector<std::vector<uint8_t>> mixFrames(std::string_view mix);

}  // namespace fizzhost::measure
