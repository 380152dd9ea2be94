// fizzhost-gen: Ethernet/IPv4 frames from a range of 198.18.0.0/15 sources at the rate one CPU can
// make them (or at --pps), out of one interface (measure/frame_generator.hpp). The live engine runs
// the host's generator program with BPF_PROG_TEST_RUN in live-frames mode, each frame redirected out
// of --iface (Linux 5.18+, CAP_BPF and CAP_NET_ADMIN); where the kernel refuses live frames, --engine
// auto (the default) says so and sends through an AF_PACKET socket that bypasses the qdisc. On a
// veth pair the peer's native XDP program receives the frames, which is how the frame-rate bench
// feeds a classifier. Run it in the namespace of --iface (ip netns exec), on a veth whose peer runs
// an XDP program (veth takes redirected frames only then).
//
// At the end it prints what it sent (frames, seconds, rate, its own CPU time) and the frames the
// interface dropped meanwhile (its tx_dropped; on veth: a peer whose receive ring was full, or with
// no XDP program to take redirected frames). Frames are dropped there, in the interface, not here:
// neither engine's kernel call reports them.
#include "cli/frame_option_flags.hpp"
#include "measure/interface_counters.hpp"
#include "measure/frame_generator.hpp"
#include "util/address.hpp"
#include "util/error.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>

#include <atomic>
#include <cstdio>
#include <optional>
#include <thread>

namespace {

using namespace fizzhost;

double cpuSeconds(const timeval& tv) {
    return double(tv.tv_sec) + double(tv.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"fizzhost-gen: frames at line rate from 198.18.0.0/15 sources, by BPF_PROG_TEST_RUN live frames"};
    cli::FrameShapeOptions shape;
    std::string iface, from = "198.18.0.0";
    uint32_t count = 256, batch = measure::kDefaultBatch;
    uint64_t pps = 0, frames = 0;
    double seconds = 0;
    int cpu = -1;
    bool json = false;
    std::string engineName = "auto";
    app.add_option("--iface", iface, "interface the frames leave by (in this network namespace)")->required();
    app.add_option("--from", from, "first source address (198.18.0.0/15)")->capture_default_str();
    app.add_option("--count", count, "consecutive source addresses, then from the first again")->capture_default_str();
    app.add_option("--pps", pps, "frames per second (0: as fast as one CPU can)")->capture_default_str();
    app.add_option("--seconds", seconds, "stop after this long")->check(CLI::PositiveNumber);
    app.add_option("--frames", frames, "stop after this many frames")->check(CLI::PositiveNumber);
    app.add_option("--batch", batch, "frames per kernel batch (1..256)")
        ->check(CLI::Range(1u, measure::kMaxBatch))
        ->capture_default_str();
    app.add_option("--cpu", cpu, "run on this CPU only")->check(CLI::NonNegativeNumber);
    app.add_option("--engine", engineName,
                   "live (BPF_PROG_TEST_RUN live frames), packet (AF_PACKET), or auto: "
                   "live where the kernel runs it")
        ->check(CLI::IsMember({"auto", "live", "packet"}))
        ->capture_default_str();
    app.add_flag("--json", json, "print the summary as one JSON object on stdout");
    cli::addFrameShapeOptions(&app, shape);
    CLI11_PARSE(app, argc, argv);
    if (seconds <= 0 && frames == 0) {
        std::fprintf(stderr, "fizzhost-gen: give --seconds or --frames (or both: whichever ends first)\n");
        return 2;
    }

    auto first = parseAddress(from);
    if (!first) {
        std::fprintf(stderr, "fizzhost-gen: '%s' is not an IPv4 address\n", from.c_str());
        return 2;
    }
    measure::GeneratorSettings settings;
    measure::Pace pace;
    try {
        settings.shape = shape.shapeFor(*first);
    } catch (const Error& e) {
        std::fprintf(stderr, "fizzhost-gen: %s\n", e.what());
        return 2;
    }
    settings.firstSource = *first;
    settings.sourceCount = count;
    settings.ifindex = int(if_nametoindex(iface.c_str()));
    if (settings.ifindex == 0) {
        std::fprintf(stderr, "fizzhost-gen: interface '%s': %s\n", iface.c_str(), errnoText(errno).c_str());
        return 1;
    }
    pace.pps = pps;
    pace.batch = batch;
    if (seconds > 0) pace.seconds = seconds;
    if (frames > 0) pace.frames = frames;
    if (cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        if (sched_setaffinity(0, sizeof set, &set) != 0) {
            std::fprintf(stderr, "fizzhost-gen: run on CPU %d: %s\n", cpu, errnoText(errno).c_str());
            return 1;
        }
    }

    // SIGINT and SIGTERM end the run between two kernel calls, so the count stays exact: a signal
    // arriving during a call would make the kernel abandon it (EINTR) without saying how far it got.
    // They are blocked here and taken by a thread of their own.
    sigset_t stopSignals;
    sigemptyset(&stopSignals);
    sigaddset(&stopSignals, SIGINT);
    sigaddset(&stopSignals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);
    std::atomic<bool> stop{false}, done{false};
    std::thread watcher([&] {
        const timespec tick{0, 100'000'000};
        while (!done) {
            if (sigtimedwait(&stopSignals, nullptr, &tick) > 0) stop = true;
        }
    });
    struct Join {
        std::atomic<bool>& done;
        std::thread& t;
        ~Join() {
            done = true;
            t.join();
        }
    } join{done, watcher};

    try {
        const auto engine = engineName == "live"     ? measure::GeneratorEngine::Live
                            : engineName == "packet" ? measure::GeneratorEngine::Packet
                                                     : measure::GeneratorEngine::Auto;
        std::string refusal;
        const auto generator = measure::makeGenerator(settings, engine, &refusal);
        if (!refusal.empty())
            std::fprintf(stderr,
                         "fizzhost-gen: this kernel refuses BPF_PROG_TEST_RUN on live frames (%s): sending "
                         "through AF_PACKET instead\n",
                         refusal.c_str());
        std::optional<measure::InterfaceCounters> counters;
        try {
            counters.emplace(iface);
        } catch (const Error&) {
            // A driver without counters (ethtool -S): the summary just has no drop figure.
        }
        const uint64_t dropped0 = counters ? counters->link().txDropped : 0;
        const auto run = generator->run(pace, &stop);
        rusage usage{};
        getrusage(RUSAGE_SELF, &usage);
        nlohmann::json out = {{"interface", iface},
                              {"engine", generator->engine()},
                              {"frames", run.frames},
                              {"seconds", run.seconds},
                              {"frames_per_second", run.seconds > 0 ? double(run.frames) / run.seconds : 0.0},
                              {"calls", run.calls},
                              {"cpu_user_seconds", cpuSeconds(usage.ru_utime)},
                              {"cpu_system_seconds", cpuSeconds(usage.ru_stime)}};
        if (!refusal.empty()) out["live_refused"] = refusal;
        if (counters) out["dropped"] = counters->link().txDropped - dropped0;
        if (json) {
            std::printf("%s\n", out.dump().c_str());
        } else {
            std::fprintf(stderr,
                         "fizzhost-gen: %llu frames on %s in %.3f s (%s engine): %.0f frames/s (CPU %.2f s user, "
                         "%.2f s system)\n",
                         (unsigned long long)run.frames, iface.c_str(), run.seconds, generator->engine(),
                         out["frames_per_second"].get<double>(), cpuSeconds(usage.ru_utime),
                         cpuSeconds(usage.ru_stime));
            if (counters)
                std::fprintf(stderr,
                             "fizzhost-gen: %s dropped %llu of them (on veth: the peer's receive ring was full, "
                             "or it runs no XDP program)\n",
                             iface.c_str(), (unsigned long long)out["dropped"].get<uint64_t>());
        }
    } catch (const Error& e) {
        std::fprintf(stderr, "fizzhost-gen: %s\n", e.what());
        return 1;
    }
    return 0;
}
