// fizzhost_pump_throughput: how many messages per second the message pump's consumer decodes and
// writes (JSON, to /dev/null) with each transport, on one core.
//
// Each round first fills the transport with the real program (BPF_PROG_TEST_RUN of fizz on
// 198.18.0.3, a Fizz: one message per run, all on this thread's CPU), then times the consumer
// emptying it, so the figure is the consumer's own capacity, not the producer's pace. Baseline,
// measured in the same rounds on the same data: the reader alone, each message touched and
// dropped (the transport's own cost). Figures per wall second and per second of the consumer
// thread's CPU time (steadier on a shared machine: time the thread was not running is not counted).
//
// Two consumers after the baseline: the pump's loop writing each batch itself, as the pump did
// before the events output had a writer thread ("inline write"), and the pump handing each batch
// to the writer thread ("writer thread", the host's way). The writer thread's round ends when it
// has written everything (wall figure); its CPU figure is the pump thread's alone, which is the
// point: the pump's own cost per message, the write being done elsewhere. Every line carries its
// timestamp in both.
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
// `finish` runs before the clock stops (the writer thread's last writes).
template <typename Consume, typename Finish = void (*)()>
Rate oneRound(const runtime::Classifier& c, uint32_t n, Consume consume, Finish finish = [] {}) {
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
    finish();
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
    std::printf("%-10s %-30s %14s %10s %16s %10s\n", "transport", "consumer", "messages/s", "vs base", "msgs/CPU-second",
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
        runtime::EventWriter inlineWriter(devnull, runtime::EventFormat::Json,
                                          runtime::OutputSettings{std::chrono::milliseconds(1000), false});
        runtime::EventWriter threadWriter(devnull, runtime::EventFormat::Json);
        const runtime::EventOrigin origin{"fzbench0", "fizz", "1.0.0", "baseline"};
        runtime::MessageSource inlineSource(runtime::Classifier::load(fizz, opts), origin, inlineWriter);
        runtime::MessageSource threadSource(runtime::Classifier::load(fizz, opts), origin, threadWriter);
        const int fds[] = {bare->programFd(), inlineSource.classifier().programFd(),
                           threadSource.classifier().programFd()};
        const measure::DispatcherHold hold(fds);  // repeated test runs without RCU waits

        uint64_t touched = 0;
        std::vector<double> baseWall, baseCpu, inWall, inCpu, thWall, thCpu;
        for (int r = 0; r < kRounds; ++r) {
            const Rate b = oneRound(*bare, n, [&](size_t max) {
                return reader.drain(max, [&](const void* data, uint32_t) noexcept {
                    touched += *static_cast<const unsigned char*>(data);
                });
            });
            // The pump's own loop: drain a batch (decode, format, buffer), write once per pass.
            const Rate i = oneRound(inlineSource.classifier(), n, [&](size_t max) {
                const size_t k = inlineSource.drain(max);
                inlineWriter.flush();
                return k;
            });
            const Rate t = oneRound(threadSource.classifier(), n, [&](size_t max) {
                const size_t k = threadSource.drain(max);
                threadWriter.flush();
                return k;
            }, [&] { threadWriter.sync(Clock::now() + std::chrono::seconds(30)); });
            baseWall.push_back(b.perWallSecond);
            baseCpu.push_back(b.perCpuSecond);
            inWall.push_back(i.perWallSecond);
            inCpu.push_back(i.perCpuSecond);
            thWall.push_back(t.perWallSecond);
            thCpu.push_back(t.perCpuSecond);
        }
        asm volatile("" : : "r"(touched));  // the sum is kept, so the reads are too
        const double bw = median(baseWall), bc = median(baseCpu);
        std::printf("%-10s %-30s %14.0f %10s %16.0f %10s\n", name, "drain only (baseline)", bw, "1.00x", bc, "1.00x");
        const double iw = median(inWall), ic = median(inCpu), tw = median(thWall), tc = median(thCpu);
        std::printf("%-10s %-30s %14.0f %9.2fx %16.0f %9.2fx\n", name, "decode+JSON, inline write", iw, iw / bw, ic,
                    ic / bc);
        std::printf("%-10s %-30s %14.0f %9.2fx %16.0f %9.2fx\n", name, "decode+JSON, writer thread", tw, tw / bw, tc,
                    tc / bc);
        threadWriter.sync(Clock::now() + std::chrono::seconds(30));
        if (threadWriter.lost() || inlineWriter.lost())
            std::printf("  lost at the output: inline %llu, writer thread %llu (queue full %llu)\n",
                        (unsigned long long)inlineWriter.lost(), (unsigned long long)threadWriter.lost(),
                        (unsigned long long)threadWriter.lost(runtime::LossReason::QueueFull));
        if (inlineSource.undecodable() + threadSource.undecodable()) std::printf("  undecodable messages!\n");
    }
    return 0;
}
