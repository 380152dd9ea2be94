// fizzhost_pump_throughput: how many messages per second the message pump decodes and writes
// (JSON, to /dev/null) with each transport, on one consumer core, and what that core spends.
// The producer is BPF_PROG_TEST_RUN on another thread, running fizz on 198.18.0.3 (a Fizz: one
// message per run). Baseline, measured in the same run: draining the same transport without
// decoding or writing (the transport's own cost).
#include "bpf/test_run.hpp"
#include "plugin/catalog.hpp"
#include "runtime/classifier.hpp"
#include "runtime/event_writer.hpp"
#include "runtime/frames.hpp"
#include "runtime/message_source.hpp"
#include "runtime/program_bench.hpp"
#include "runtime/pump.hpp"
#include "runtime/transport_reader.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

using namespace fizzhost;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kDuration = std::chrono::seconds(3);

void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof set, &set);
}

double threadCpuSeconds() {
    rusage ru{};
    getrusage(RUSAGE_THREAD, &ru);
    return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

struct Figures {
    double messagesPerSecond, consumerCpu;
    uint64_t dropped;
};

// Runs the producer on CPU 1 and `consume` on CPU 0 for kDuration.
template <typename Consume>
Figures measure(runtime::Classifier& c, Consume consume) {
    const auto frame = runtime::udpFrame(0xC6120003);
    // Without this every repeated test run waits for RCU grace periods and the producer, not the
    // pump, would set the pace (see DispatcherHold).
    const int fd = c.programFd();
    runtime::DispatcherHold hold(std::span<const int>(&fd, 1));
    std::atomic<bool> stop{false};
    std::thread producer([&] {
        pin(1);
        while (!stop) bpf::testRun(c.programFd(), frame, 256);
    });
    pin(0);
    uint64_t n = 0;
    const double cpu0 = threadCpuSeconds();
    const auto t0 = Clock::now();
    while (Clock::now() - t0 < kDuration) n += consume();
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    const double cpu = threadCpuSeconds() - cpu0;
    stop = true;
    producer.join();
    while (consume() > 0) {}
    return {double(n) / secs, cpu / secs, 0};
}

}  // namespace

int main() {
    plugin::Catalog catalog(FIZZHOST_PLUGIN_DIR, plugin::FilePolicy{});
    catalog.rescan();
    auto fizz = catalog.find("fizz");
    int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    std::printf("%-10s %-22s %14s %12s %10s\n", "transport", "consumer", "messages/s", "consumer CPU", "vs base");
    for (auto transport : {FIZZ_TRANSPORT_QUEUE, FIZZ_TRANSPORT_RING}) {
        runtime::ClassifierOptions opts;
        opts.transport = transport;
        opts.queueSize = 1 << 16;
        opts.ringSlots = 1 << 16;
        const char* name = transport == FIZZ_TRANSPORT_QUEUE ? "queue" : "ring";

        // Baseline: the reader alone, each message touched (its first byte summed) and dropped.
        auto bare = runtime::Classifier::load(fizz, opts);
        runtime::TransportReader reader(*bare);
        uint64_t touched = 0;
        auto base = measure(*bare, [&] {
            return reader.drain(512, [&](const void* data, uint32_t) noexcept {
                touched += *static_cast<const unsigned char*>(data);
            });
        });
        asm volatile("" : : "r"(touched));  // the sum is kept, so the reads are too
        std::printf("%-10s %-22s %14.0f %11.0f%% %10s\n", name, "drain only (baseline)", base.messagesPerSecond,
                    base.consumerCpu * 100, "1.00x");

        runtime::EventWriter writer(devnull, runtime::EventFormat::Json);
        auto source = std::make_shared<runtime::MessageSource>(runtime::Classifier::load(fizz, opts),
                                                               runtime::EventOrigin{"fzbench0", "fizz", "1.0.0", "baseline"},
                                                               writer);
        // The pump's own loop, driven here so the consumer thread can be measured: drain, write, flush.
        auto full = measure(source->classifier(), [&] {
            size_t n = source->drain(512);
            writer.flush();
            return n;
        });
        std::printf("%-10s %-22s %14.0f %11.0f%% %9.2fx\n", name, "decode + JSON + write", full.messagesPerSecond,
                    full.consumerCpu * 100, full.messagesPerSecond / base.messagesPerSecond);
        if (source->undecodable()) std::printf("  %llu undecodable!\n", (unsigned long long)source->undecodable());
    }
    return 0;
}
