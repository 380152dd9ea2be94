#include "measure/frame_generator.hpp"

#include "bpf/test_run.hpp"
#include "measure/live_generator.hpp"
#include "measure/packet_generator.hpp"
#include "measure/program_bench.hpp"
#include "util/address.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

namespace fizzhost::measure {
namespace {

using Clock = std::chrono::steady_clock;

// A call at full speed aims at this long, so a duration or a stop is honoured within it.
constexpr double kCallSeconds = 0.005;
constexpr uint64_t kFirstCall = 4096, kMaxCall = 1u << 24;

double seconds(Clock::duration d) {
    return std::chrono::duration<double>(d).count();
}

Clock::duration toDuration(double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

}  // namespace

void checkGeneratorSettings(const GeneratorSettings& s) {
    if (s.sourceCount == 0) throw Error("generator: the source range is empty (count 0)", EINVAL);
    if (s.firstSource < kBenchmarkNet ||
        uint64_t(s.firstSource) + s.sourceCount > uint64_t(kBenchmarkNet) + kBenchmarkNetSize)
        throw Error("generator: sources " + formatAddress(s.firstSource) + " + " + std::to_string(s.sourceCount) +
                        " leave 198.18.0.0/15, the range set aside for benchmarks (RFC 2544); generated frames "
                        "use no other source",
                    EINVAL);
    if (s.ifindex <= 0)
        throw Error("generator: no interface to send on (ifindex " + std::to_string(s.ifindex) + ")", EINVAL);
}

GeneratorRun FrameGenerator::run(const Pace& pace, const std::atomic<bool>* stop) {
    if (!pace.seconds && !pace.frames) throw Error("generator: a run needs a duration or a frame count", EINVAL);
    if (pace.batch == 0 || pace.batch > kMaxBatch)
        throw Error("generator: batch " + std::to_string(pace.batch) + " is outside 1.." + std::to_string(kMaxBatch) +
                        " (the kernel's limit for live frames)",
                    EINVAL);
    const uint64_t limit = pace.frames.value_or(UINT64_MAX);
    const auto t0 = Clock::now();
    const auto deadline = pace.seconds ? t0 + toDuration(*pace.seconds) : Clock::time_point::max();
    GeneratorRun r;
    uint64_t chunk = kFirstCall;
    while (r.frames < limit && !(stop && stop->load(std::memory_order_relaxed))) {
        const auto now = Clock::now();
        if (now >= deadline) break;
        uint64_t want = chunk;
        if (pace.pps) {
            // Frame i is due at t0 + i / pps: send what is due, else sleep until the next one is.
            const uint64_t due = uint64_t(seconds(now - t0) * double(pace.pps)) + 1;
            if (due <= r.frames) {
                std::this_thread::sleep_until(std::min(t0 + toDuration(double(r.frames) / double(pace.pps)), deadline));
                continue;
            }
            want = due - r.frames;
        }
        want = std::min({want, limit - r.frames, kMaxCall});
        const auto c0 = Clock::now();
        send(uint32_t(want), pace.batch);
        r.frames += want;
        ++r.calls;
        if (!pace.pps) {
            const double took = std::max(seconds(Clock::now() - c0), 1e-6);
            chunk = std::clamp<uint64_t>(uint64_t(double(want) * kCallSeconds / took), pace.batch, kMaxCall);
        }
    }
    r.seconds = seconds(Clock::now() - t0);
    return r;
}

std::optional<std::string> liveFramesRefusal() {
    const auto floor = loadFloorProgram();
    try {
        bpf::testRunLive(floor.fd, udpFrame(kBenchmarkNet), 1, 1);
        return std::nullopt;
    } catch (const Error& e) {
        return errnoText(e.code());
    }
}

std::unique_ptr<FrameGenerator> makeGenerator(const GeneratorSettings& settings, GeneratorEngine engine,
                                              std::string* refusal) {
    checkGeneratorSettings(settings);
    if (engine == GeneratorEngine::Packet) return std::make_unique<PacketGenerator>(settings);
    if (const auto refused = liveFramesRefusal()) {
        if (engine == GeneratorEngine::Live)
            throw Error(
                "generator: this kernel refuses BPF_PROG_TEST_RUN on live frames (BPF_F_TEST_XDP_LIVE_FRAMES): " +
                    *refused + "; it needs Linux 5.18+ and a kernel that permits it (try the packet engine)",
                EPERM);
        if (refusal) *refusal = *refused;
        return std::make_unique<PacketGenerator>(settings);
    }
    return std::make_unique<LiveGenerator>(LiveGenerator::load(settings));
}

}  // namespace fizzhost::measure
