// Benchmarks of the plugins' two halves, registered per plugin found in the build tree:
//   BM_Decode/<plugin>          the C++ decoder on the raw messages its BPF program really emitted
//   BM_TestRun/<plugin>/<mix>   the BPF program under BPF_PROG_TEST_RUN, next to the empty floor
//                               measured on the same frames in the same iterations
// The BPF figures are the kernel's (ns per run, counters); Google Benchmark's own time per
// iteration also holds the syscalls and draining.
#include "bench_support.hpp"

#include "bpf/test_run.hpp"
#include "measure/frames.hpp"
#include "measure/program_bench.hpp"
#include "runtime/instance/classifier.hpp"
#include "runtime/instance/transport_reader.hpp"
#include "util/error.hpp"

#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

namespace fizzhost::bench {
namespace {

// Runs per frame per test-run call: long enough that the syscall is noise in the kernel's figure,
// short enough that one iteration (a pass over a 256-frame mix, plugin and floor) stays ~50 ms.
constexpr unsigned kRepeat = 2000;

void BM_Decode(benchmark::State& state, std::shared_ptr<const plugin::Plugin> plugin) {
    // Real input: what the plugin's program emits for the uniform mix (one run per frame).
    // Copies of the drained messages, back to back.
    std::vector<unsigned char> bytes;
    const uint32_t size = plugin->messageSize();
    try {
        runtime::ClassifierOptions opts;
        opts.ringSlots = 1024;
        auto classifier = runtime::Classifier::load(plugin, opts);
        runtime::TransportReader reader(*classifier);
        for (const auto& frame : measure::mixFrames("uniform")) {
            bpf::testRun(classifier->programFd(), frame);
            reader.drain(SIZE_MAX, [&](const void* data, uint32_t n) {
                if (n != size) return;
                const auto* p = static_cast<const unsigned char*>(data);
                bytes.insert(bytes.end(), p, p + n);
            });
        }
    } catch (const Error& e) {
        state.SkipWithError(e.what());
        return;
    }
    const size_t count = bytes.size() / size;
    if (count == 0) {
        state.SkipWithError("the program emitted no message for the uniform mix");
        return;
    }
    size_t failures = 0;
    for (auto _ : state) {
        for (size_t off = 0; off < bytes.size(); off += size) {
            fizzhost_event event{};
            failures += plugin->decode(bytes.data() + off, size, event) != 0;
            benchmark::DoNotOptimize(event);
        }
    }
    if (failures) state.SkipWithError("the decoder refused messages its own program emitted");
    state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(count));
    state.counters["messages"] = double(count);
    state.counters["ns_per_message"] =
        benchmark::Counter(double(count), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// `plugin` null: the floor alone (measured against itself).
void BM_TestRun(benchmark::State& state, std::shared_ptr<const plugin::Plugin> plugin, std::string mix) {
    measure::BenchSettings settings;
    std::unique_ptr<runtime::Classifier> classifier;
    std::unique_ptr<runtime::TransportReader> reader;
    std::optional<measure::FloorProgram> floor;
    int progFd = -1;
    try {
        settings.frames = measure::mixFrames(mix);
        settings.repeat = kRepeat;
        floor.emplace(measure::loadFloorProgram());
        progFd = floor->fd;
        if (plugin) {
            classifier = runtime::Classifier::load(
                plugin, measure::benchClassifierOptions(*plugin, FIZZ_TRANSPORT_RING, settings));
            reader = std::make_unique<runtime::TransportReader>(*classifier);
            progFd = classifier->programFd();
        }
    } catch (const Error& e) {
        state.SkipWithError(e.what());
        return;
    }
    const int fds[] = {progFd, floor->fd};
    const measure::DispatcherHold hold(fds);

    double programNs = 0, floorNs = 0;
    uint64_t messages = 0;
    try {
        for (auto _ : state) {
            for (const auto& frame : settings.frames) {
                programNs += bpf::testRun(progFd, frame, kRepeat).durationNs;
                if (reader) messages += reader->drain(SIZE_MAX, [](const void*, uint32_t) noexcept {});
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
