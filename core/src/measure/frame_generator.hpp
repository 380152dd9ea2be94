// Frame generators for the frame-rate bench and fizzhost-gen: frames from a range of 198.18.0.0/15
// sources, out of one interface, at the rate one CPU can make them (or paced), by one of two engines:
// - live: the host's generator program run by BPF_PROG_TEST_RUN in live-frames mode
//   (measure/live_generator.hpp), the principle of xdp-trafficgen in xdp-tools: no socket and no skb
//   on the sending side, each frame redirected out of the interface as XDP frames;
// - packet: an AF_PACKET socket bypassing the qdisc (measure/packet_generator.hpp), one sendmmsg per
//   batch, an skb per frame: for kernels that refuse live frames (before 5.18, or a sandbox that
//   forbids them: BPF_PROG_TEST_RUN then fails with EPERM).
// Either way, on a veth pair the frames reach the peer's native XDP program, in the peer's NAPI poll.
#pragma once

#include "measure/frames.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace fizzhost::measure {

/// Sources a generator may use: 198.18.0.0/15, the range RFC 2544 sets aside for benchmarks.
constexpr uint32_t kBenchmarkNet = 0xC6120000, kBenchmarkNetSize = 1u << 17;
/// Frames per batch when none is given: the kernel's own default for live frames.
constexpr uint32_t kDefaultBatch = 64;
/// The largest batch: the kernel's limit for live frames (TEST_XDP_MAX_BATCH); sendmmsg calls of the
/// packet engine carry up to this many frames too.
constexpr uint32_t kMaxBatch = 256;

struct GeneratorSettings {
    FrameShape shape;                      // what each frame looks like; its `src` is replaced per frame
    uint32_t firstSource = kBenchmarkNet;  // host order
    uint32_t sourceCount = 256;            // sources first .. first + count - 1, then again
    int ifindex = 0;                       // the interface the frames leave by, in the sending namespace
};

/// Throws Error when a source falls outside 198.18.0.0/15, the range is empty or there is no
/// interface. Every generator checks this before it touches the kernel.
void checkGeneratorSettings(const GeneratorSettings& settings);

/// How a run is paced and when it ends: at `pps` frames per second (0: as fast as one CPU can), until
/// `seconds` have passed or `frames` were sent, whichever comes first (at least one must be given).
struct Pace {
    uint64_t pps = 0;
    std::optional<double> seconds;
    std::optional<uint64_t> frames;
    uint32_t batch = kDefaultBatch;
};

struct GeneratorRun {
    uint64_t frames = 0;  // frames handed to the interface
    double seconds = 0;   // wall time from the first call to the end of the last
    uint64_t calls = 0;   // kernel calls (BPF_PROG_TEST_RUN or sendmmsg)
};

class FrameGenerator {
public:
    virtual ~FrameGenerator() = default;
    /// Sends frames as `pace` says from the calling thread, which must be in the network namespace
    /// of the interface. Stops early, between two kernel calls, when `stop` becomes true. Throws
    /// Error when a call fails.
    GeneratorRun run(const Pace& pace, const std::atomic<bool>* stop = nullptr);
    /// "live" or "packet".
    virtual const char* engine() const = 0;

protected:
    /// Sends `frames` frames in one kernel call of batches of `batch`. Throws Error.
    virtual void send(uint32_t frames, uint32_t batch) = 0;
};

enum class GeneratorEngine { Auto, Live, Packet };

/// The generator for `settings` with `engine`. Auto takes live frames when the kernel runs them
/// (probed with one frame of the empty XDP program, passed into the calling namespace's loopback,
/// not sent anywhere) and the packet engine otherwise, with the kernel's refusal in `*refusal`.
/// Throws Error (bad settings, a program the verifier refuses, a socket that cannot be made, or
/// Live on a kernel that refuses live frames).
std::unique_ptr<FrameGenerator> makeGenerator(const GeneratorSettings& settings, GeneratorEngine engine,
                                              std::string* refusal = nullptr);

/// Whether this kernel runs XDP programs on live frames: nullopt when it does, else its refusal
/// ("Operation not permitted (EPERM)"). Runs the empty XDP program on one frame, which enters the
/// calling thread's namespace through its loopback device and is dropped there.
std::optional<std::string> liveFramesRefusal();

}  // namespace fizzhost::measure
