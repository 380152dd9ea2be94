// fizzhost_pump_throughput: how many messages per second the message pump's consumer decodes and
// writes (JSON, to /dev/null) with each transport: decoded in-process ([decoders] isolation =
// "none") and confined (the default: a worker process, chroot, nobody, seccomp), in the same run.
// The consumer thread is pinned to CPU 0, a confined decoder's worker to CPU 1 (2 CPUs in all).
//
// Each round first fills the transport with the real program (BPF_PROG_TEST_RUN of fizz on
// 198.18.0.3, a Fizz: one message per run, all on this thread's CPU), then times the consumer
// emptying it, so the figure is the consumer's own capacity, not the producer's pace. Baseline,
// measured in the same rounds on the same data: the reader alone, each message touched and
// dropped (the transport's own cost). Figures per wall second and per second of the consumer
// thread's CPU time (steadier on a shared machine: time the thread was not running is not counted);
// confined, the worker's CPU time is added (its /proc/PID/schedstat), so that column is messages
// per CPU-second of both processes. Events go through the host's writer thread (to /dev/null); a
// message counts as through once its line is written. Run as root (workers chroot and change user).
#include "bpf/test_run.hpp"
#include "decoder/decoder_service.hpp"
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
#include <filesystem>
#include <fstream>
#include <chrono>
#include <cstdio>
#include <tuple>
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

// Nanoseconds `pid` has spent on a CPU (0 for none).
double processCpuSeconds(pid_t pid) {
    if (pid <= 0) return 0;
    std::ifstream in("/proc/" + std::to_string(pid) + "/schedstat");
    double ns = 0;
    in >> ns;
    return ns / 1e9;
}

// Fills `c`'s transport with `n` messages, then times `consume(max)` until `done()` says all `n`
// are through (a confined decoder answers asynchronously: a pass may move nothing while messages
// are in its worker). `otherCpu()`: CPU seconds spent elsewhere on them (a worker), added.
template <typename Consume, typename Done, typename OtherCpu>
Rate oneRound(const runtime::Classifier& c, uint32_t n, Consume consume, Done done, OtherCpu otherCpu) {
    static const auto frame = measure::udpFrame(0xC6120003);
    bpf::testRun(c.programFd(), frame, n);
    const double cpu0 = threadCpuSeconds(), other0 = otherCpu();
    const auto t0 = Clock::now();
    const auto giveUp = t0 + std::chrono::seconds(30);
    while (done() < n && Clock::now() < giveUp) consume(512);  // the pump's batch per source and pass
    const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
    const double cpu = threadCpuSeconds() - cpu0 + otherCpu() - other0;
    const uint64_t taken = done();
    if (taken != n) std::fprintf(stderr, "  took %llu of %u messages!\n", (unsigned long long)taken, n);
    return {double(taken) / wall, double(taken) / cpu};
}

}  // namespace

int main() {
    plugin::Catalog catalog(FIZZHOST_PLUGIN_DIR, plugin::FilePolicy{});
    catalog.rescan();
    auto fizz = catalog.find("fizz");
    int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    // The workers' chroot folders: this run's own root, removed at the end.
    const auto root = std::filesystem::temp_directory_path() / ("fizzhost-bench-pump-" + std::to_string(::getpid()));
    struct RemoveRoot {
        std::filesystem::path p;
        ~RemoveRoot() {
            std::error_code ec;
            std::filesystem::remove_all(p, ec);
        }
    } removeRoot{root};
    DecoderSettings confinedSettings;
    confinedSettings.root = root;
    DecoderSettings inProcessSettings = confinedSettings;
    inProcessSettings.isolation = DecoderIsolation::None;
    decoder::DecoderService confined(confinedSettings), inProcess(inProcessSettings);
    const long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
    pin(0);
    std::printf("median of %d rounds; each round fills the transport, then empties it (consumer on CPU 0%s)\n", kRounds,
                cpus > 1 ? ", a confined decoder's worker on CPU 1" : "");
    std::printf("%-10s %-32s %14s %10s %16s %10s\n", "transport", "consumer", "messages/s", "vs base", "msgs/CPU-second",
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
        const runtime::EventOrigin origin{"fzbench0", "fizz", "1.0.0", "baseline"};
        runtime::MessageSource inProc(runtime::Classifier::load(fizz, opts), origin, writer, inProcess);
        runtime::MessageSource conf(runtime::Classifier::load(fizz, opts), origin, writer, confined);
        pid_t worker = 0;
        for (const auto& st : confined.stats()) worker = st.pid;
        if (cpus > 1 && worker > 0) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(1, &set);
            sched_setaffinity(worker, sizeof set, &set);
        }
        const int fds[] = {bare->programFd(), inProc.classifier().programFd(), conf.classifier().programFd()};
        const measure::DispatcherHold hold(fds);  // repeated test runs without RCU waits

        uint64_t touched = 0;
        std::vector<double> baseWall, baseCpu, inWall, inCpu, confWall, confCpu;
        auto none = [] { return 0.0; };
        for (int r = 0; r < kRounds; ++r) {
            uint64_t taken = 0;
            const Rate b = oneRound(
                *bare, n,
                [&](size_t max) {
                    taken += reader.drain(max, [&](const void* data, uint32_t) noexcept {
                        touched += *static_cast<const unsigned char*>(data);
                    });
                },
                [&] { return taken; }, none);
            // The pump's own loop: drain a batch (decode, format, buffer), write once per pass.
            auto through = [&](runtime::MessageSource& s) {
                // Through = written by the writer thread, or counted lost or undecodable.
                const uint64_t before = s.delivered() + s.writeLost() + s.undecodable();
                return [&s, before] { return s.delivered() + s.writeLost() + s.undecodable() - before; };
            };
            auto pass = [&](runtime::MessageSource& s) {
                return [&](size_t max) {
                    s.drain(max);
                    writer.flush();
                };
            };
            const Rate i = oneRound(inProc.classifier(), n, pass(inProc), through(inProc), none);
            const Rate c = oneRound(conf.classifier(), n, pass(conf), through(conf),
                                    [&] { return processCpuSeconds(worker); });
            baseWall.push_back(b.perWallSecond);
            baseCpu.push_back(b.perCpuSecond);
            inWall.push_back(i.perWallSecond);
            inCpu.push_back(i.perCpuSecond);
            confWall.push_back(c.perWallSecond);
            confCpu.push_back(c.perCpuSecond);
        }
        asm volatile("" : : "r"(touched));  // the sum is kept, so the reads are too
        const double bw = median(baseWall), bc = median(baseCpu);
        std::printf("%-10s %-32s %14.0f %10s %16.0f %10s\n", name, "drain only (baseline)", bw, "1.00x", bc, "1.00x");
        for (auto [label, w, c] : {std::tuple{"decode+JSON+write, in-process", median(inWall), median(inCpu)},
                                   std::tuple{"decode+JSON+write, confined", median(confWall), median(confCpu)}})
            std::printf("%-10s %-32s %14.0f %9.2fx %16.0f %9.2fx\n", name, label, w, w / bw, c, c / bc);
        for (const auto* s : {&inProc, &conf}) {
            if (s->undecodable()) std::printf("  %llu undecodable!\n", (unsigned long long)s->undecodable());
            if (s->writeLost()) std::printf("  %llu lost at the output!\n", (unsigned long long)s->writeLost());
        }
    }
    for (const auto& st : confined.stats())
        if (st.restarts) std::printf("  the confined worker was restarted %llu time(s): %s\n",
                                     (unsigned long long)st.restarts, st.lastReason.c_str());
    return 0;
}
