// fizzhost_pump_throughput: how many messages per second the message pump's consumer decodes and
// writes (JSON, to /dev/null) with each transport, on one core.
//
// Each round first fills the transport with the real program (BPF_PROG_TEST_RUN of fizz on
// 198.18.0.3, a Fizz: one message per run, all on this thread's CPU), then times the consumer
// emptying it, so the figure is the consumer's own capacity, not the producer's pace. Baseline,
// measured in the same rounds on the same data: the reader alone, each message touched and
// dropped (the transport's own cost). Figures per wall second and per second of the consumer
// thread's CPU time (steadier on a shared machine: time the thread was not running is not counted).
#include "bpf/test_run.hpp"
#include "measure/frames.hpp"
#include "measure/program_bench.hpp"
#include "plugin/catalog.hpp"
#include "runtime/instance/classifier.hpp"
#include "runtime/output/event_writer.hpp"
#include "runtime/output/message_source.hpp"
#include "runtime/instance/transport_reader.hpp"

#include <fcntl.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

using namespace fizzhost;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kRounds = 7;
constexpr uint32_t kRingMessages = 480000;  // fits one CPU's 4 MiB region with 8-byte slots
constexpr uint32_t kQueueMessages = 65536;

void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof set, &set);
}

double threadCpuSeconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

struct Rate {
    double perWallSecond, perCpuSecond;
};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// Fills `c`'s transport with `n` messages, then times `consume(max)` until it has taken them all.
template <typename Consume>
Rate oneRound(const runtime::Classifier& c, uint32_t n, Consume consume) {
    static const auto frame = measure::udpFrame(0xC6120003);
    bpf::testRun(c.programFd(), frame, n);
    const double cpu0 = threadCpuSeconds();
    const auto t0 = Clock::now();
    uint64_t taken = 0;
    while (taken < n) {
        const size_t k = consume(512);  // the pump's batch per source and pass
        if (k == 0) break;
        taken += k;
    }
    const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
    const double cpu = threadCpuSeconds() - cpu0;
    if (taken != n) std::fprintf(stderr, "  took %llu of %u messages!\n", (unsigned long long)taken, n);
    return {double(taken) / wall, double(taken) / cpu};
}

}  // namespace

int main() {
    plugin::Catalog catalog(FIZZHOST_PLUGIN_DIR, plugin::FilePolicy{});
    catalog.rescan();
    auto fizz = catalog.find("fizz");
    int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    pin(0);
    std::printf("median of %d rounds; each round fills the transport, then empties it on one core\n", kRounds);
    std::printf("%-10s %-22s %14s %10s %16s %10s\n", "transport", "consumer", "messages/s", "vs base", "msgs/CPU-second",
                "vs base");
    for (auto transport : {FIZZ_TRANSPORT_QUEUE, FIZZ_TRANSPORT_RING}) {
        const uint32_t n = transport == FIZZ_TRANSPORT_RING ? kRingMessages : kQueueMessages;
        runtime::ClassifierOptions opts;
        opts.transport = transport;
        opts.queueSize = kQueueMessages;
        opts.ringSlots = kRingMessages;
        const char* name = transport == FIZZ_TRANSPORT_QUEUE ? "queue" : "ring";

        auto bare = runtime::Classifier::load(fizz, opts);
        runtime::TransportReader reader(*bare);
        runtime::EventWriter writer(devnull, runtime::EventFormat::Json);
        runtime::MessageSource source(runtime::Classifier::load(fizz, opts),
                                      runtime::EventOrigin{"fzbench0", "fizz", "1.0.0", "baseline"}, writer);
        const int fds[] = {bare->programFd(), source.classifier().programFd()};
        const measure::DispatcherHold hold(fds);  // repeated test runs without RCU waits

        uint64_t touched = 0;
        std::vector<double> baseWall, baseCpu, fullWall, fullCpu;
        for (int r = 0; r < kRounds; ++r) {
            const Rate b = oneRound(*bare, n, [&](size_t max) {
                return reader.drain(max, [&](const void* data, uint32_t) noexcept {
                    touched += *static_cast<const unsigned char*>(data);
                });
            });
            // The pump's own loop: drain a batch (decode, format, buffer), write once per pass.
            const Rate f = oneRound(source.classifier(), n, [&](size_t max) {
                const size_t k = source.drain(max);
                writer.flush();
                return k;
            });
            baseWall.push_back(b.perWallSecond);
            baseCpu.push_back(b.perCpuSecond);
            fullWall.push_back(f.perWallSecond);
            fullCpu.push_back(f.perCpuSecond);
        }
        asm volatile("" : : "r"(touched));  // the sum is kept, so the reads are too
        const double bw = median(baseWall), bc = median(baseCpu), fw = median(fullWall), fc = median(fullCpu);
        std::printf("%-10s %-22s %14.0f %10s %16.0f %10s\n", name, "drain only (baseline)", bw, "1.00x", bc, "1.00x");
        std::printf("%-10s %-22s %14.0f %9.2fx %16.0f %9.2fx\n", name, "decode + JSON + write", fw, fw / bw, fc, fc / bc);
        if (source.undecodable()) std::printf("  %llu undecodable!\n", (unsigned long long)source.undecodable());
    }
    return 0;
}
