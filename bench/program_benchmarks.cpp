// Benchmarks of the plugins' two halves, registered per plugin found in the build tree:
//   BM_Decode/<plugin>          the C++ decoder on the raw messages its BPF program really emitted
//   BM_TestRun/<plugin>/<mix>   the BPF program under BPF_PROG_TEST_RUN, next to the empty floor
//                               measured on the same frames in the same iterations
// The BPF figures are the kernel's (ns per run, counters); Google Benchmark's own time per
// iteration also holds the syscalls and draining.
#include "bench_support.hpp"

#include "bpf/test_run.hpp"
#include "runtime/classifier.hpp"
#include "runtime/frames.hpp"
#include "runtime/program_bench.hpp"
#include "util/error.hpp"

#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace fizzhost::bench {
namespace {

// Runs per frame per test-run call: long enough that the syscall is noise in the kernel's figure,
// short enough that one iteration (a pass over a 256-frame mix, plugin and floor) stays ~50 ms.
constexpr unsigned kRepeat = 2000;

// Keeps copies of drained messages, back to back.
class RawMessages final : public runtime::MessageHandler {
public:
    explicit RawMessages(uint32_t size) : size_(size) {}
    void onMessage(const void* data, uint32_t size) noexcept override {
        if (size != size_) return;
        const size_t at = bytes.size();
        bytes.resize(at + size);
        std::memcpy(bytes.data() + at, data, size);
    }
    size_t count() const { return bytes.size() / size_; }
    std::vector<unsigned char> bytes;

private:
    uint32_t size_;
};

void BM_Decode(benchmark::State& state, std::shared_ptr<const plugin::Plugin> plugin) {
    // Real input: what the plugin's program emits for the uniform mix (one run per frame).
    RawMessages raw(plugin->messageSize());
    try {
        auto classifier = runtime::Classifier::load(plugin, {});
        classifier->setHandler(&raw);
        for (const auto& frame : runtime::mixFrames("uniform")) {
            bpf::testRun(classifier->programFd(), frame);
            classifier->drain(SIZE_MAX);
        }
    } catch (const Error& e) {
        state.SkipWithError(e.what());
        return;
    }
    if (raw.count() == 0) {
        state.SkipWithError("the program emitted no message for the uniform mix");
        return;
    }
    const uint32_t size = plugin->messageSize();
    size_t failures = 0;
    for (auto _ : state) {
        for (size_t off = 0; off < raw.bytes.size(); off += size) {
            fizzhost_event event{};
            failures += plugin->decode(raw.bytes.data() + off, size, event) != 0;
            benchmark::DoNotOptimize(event);
        }
    }
    if (failures) state.SkipWithError("the decoder refused messages its own program emitted");
    state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(raw.count()));
    state.counters["messages"] = double(raw.count());
    state.counters["ns_per_message"] =
        benchmark::Counter(double(raw.count()), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// `plugin` null: the floor alone (measured against itself).
void BM_TestRun(benchmark::State& state, std::shared_ptr<const plugin::Plugin> plugin, std::string mix) {
    runtime::BenchSettings settings;
    std::unique_ptr<runtime::Classifier> classifier;
    std::optional<runtime::FloorProgram> floor;
    int progFd = -1;
    try {
        settings.frames = runtime::mixFrames(mix);
        settings.repeat = kRepeat;
        floor.emplace(runtime::loadFloorProgram());
        progFd = floor->fd;
        if (plugin) {
            classifier = runtime::Classifier::load(
                plugin, runtime::benchClassifierOptions(*plugin, FIZZ_TRANSPORT_RINGBUF, settings));
            progFd = classifier->programFd();
        }
    } catch (const Error& e) {
        state.SkipWithError(e.what());
        return;
    }
    const int fds[] = {progFd, floor->fd};
    const runtime::DispatcherHold hold(fds);

    double programNs = 0, floorNs = 0;
    uint64_t messages = 0;
    try {
        for (auto _ : state) {
            for (const auto& frame : settings.frames) {
                programNs += bpf::testRun(progFd, frame, kRepeat).durationNs;
                if (classifier) messages += classifier->drain(SIZE_MAX);
                floorNs += bpf::testRun(floor->fd, frame, kRepeat).durationNs;
            }
        }
    } catch (const Error& e) {
        state.SkipWithError(e.what());
        return;
    }
    const double calls = double(state.iterations()) * double(settings.frames.size());
    state.counters["ns_per_packet"] = programNs / calls;
    state.counters["floor_ns"] = floorNs / calls;
    state.counters["over_floor_ns"] = (programNs - floorNs) / calls;
    state.counters["ratio"] = floorNs > 0 ? programNs / floorNs : 0.0;
    state.counters["msgs_per_packet"] = double(messages) / (calls * kRepeat);
}

void registerProgramBenchmarks() {
    std::vector<std::shared_ptr<const plugin::Plugin>> plugins;
    try {
        plugins = catalog().plugins();
    } catch (const Error& e) {
        benchmark::RegisterBenchmark("BM_Decode/no_plugins", [msg = std::string(e.what())](benchmark::State& s) {
            s.SkipWithError(msg.c_str());
        });
        return;
    }
    for (const auto& p : plugins)
        benchmark::RegisterBenchmark(("BM_Decode/" + p->name()).c_str(), BM_Decode, p);
    for (const char* mix : {"uniform", "worst"}) {
        benchmark::RegisterBenchmark((std::string("BM_TestRun/floor/") + mix).c_str(), BM_TestRun, nullptr, mix)
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
        for (const auto& p : plugins)
            benchmark::RegisterBenchmark(("BM_TestRun/" + p->name() + "/" + mix).c_str(), BM_TestRun, p, mix)
                ->Unit(benchmark::kMillisecond)
                ->UseRealTime();
    }
}

[[maybe_unused]] const bool kRegistered = addRegistrar(&registerProgramBenchmarks);

}  // namespace
}  // namespace fizzhost::bench
