// fizzhost_decoder_channel: what confining a decoder costs. N million 8-byte fizz messages go
// through, in one run and alternating rounds:
//   direct      Plugin::decode in this process, one call per message (today's pump; the baseline)
//   in-process  a DecoderChannel with isolation "none": the same ring and checks, decoded on publish
//   confined    a DecoderChannel to a worker process (chroot, nobody, seccomp): the real thing
// The producer submits while there is room, publishes, and collects what is done, as the pump
// will; a round ends when every result is back (each checked). Then the cost of a restart: the
// worker is SIGKILLed and the time until the next worker has decoded a message is taken, and the
// first start (open) of a worker. Run as root; `--messages N` (millions, default 20), `--rounds R`.
#include "decoder/decoder_service.hpp"
#include "plugin/catalog.hpp"
#include "util/error.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace fizzhost;
using Clock = std::chrono::steady_clock;

namespace {

struct FizzMsg {
    uint32_t kind, saddr;
};

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Nanoseconds process `pid` has run on a CPU (the first field of /proc/PID/schedstat).
double cpuNs(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/schedstat");
    double ns = 0;
    in >> ns;
    return ns;
}

std::string loadAverage() {
    std::ifstream in("/proc/loadavg");
    std::string a, b, c;
    in >> a >> b >> c;
    return a + " " + b + " " + c;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// The baseline: one in-process decode call per message, as MessageSource::drain makes today.
double direct(const plugin::Plugin& p, uint64_t n) {
    uint64_t failures = 0, sum = 0;
    const auto t0 = Clock::now();
    for (uint64_t i = 0; i < n; ++i) {
        const FizzMsg m{0, uint32_t(0xC6120000 + i)};
        fizzhost_event e;
        failures += p.decode(&m, sizeof m, e) != 0;
        sum += e.src_addr;
    }
    const double s = seconds(Clock::now() - t0);
    if (failures || sum == 0) throw Error("direct decode failed", EINVAL);
    return double(n) / s;
}

// Through a channel: submit while there is room (publishing every `batch`), collect what is done.
double throughChannel(decoder::DecoderService& service, decoder::DecoderChannel& ch, uint64_t n, size_t batch) {
    uint64_t sent = 0, got = 0, bad = 0;
    const auto t0 = Clock::now();
    auto nextSupervise = t0;
    while (got < n) {
        size_t room = std::min<uint64_t>(ch.space(), n - sent);
        for (size_t i = 0; i < room; ++i) {
            const FizzMsg m{0, uint32_t(0xC6120000 + sent)};
            ch.submit(&m, sizeof m);
            if (++sent % batch == 0) ch.publish();
        }
        ch.publish();
        const size_t taken = ch.collect(SIZE_MAX, [&](const decoder::DecodeResult& r) {
            bad += !r.ok() || r.event->src_addr != uint32_t(0xC6120000 + got);
            ++got;
        });
        // As the pump will: supervise once a round, not per empty collect (it polls the worker).
        if (taken == 0) {
            if (const auto now = Clock::now(); now >= nextSupervise) {
                service.supervise(now);
                nextSupervise = now + std::chrono::milliseconds(1);
            }
        }
    }
    const double s = seconds(Clock::now() - t0);
    if (bad) throw Error(std::to_string(bad) + " results wrong", EINVAL);
    return double(n) / s;
}

// SIGKILL the worker, then time until a new one has decoded a message.
double restartMs(decoder::DecoderService& service, decoder::DecoderChannel& ch) {
    const pid_t pid = service.stats().front().pid;
    const auto t0 = Clock::now();
    ::kill(pid, SIGKILL);
    const FizzMsg m{0, 0xC6120003};
    ch.submit(&m, sizeof m);
    ch.publish();
    bool done = false;
    while (!done) {
        service.supervise(Clock::now());
        ch.collect(SIZE_MAX, [&](const decoder::DecodeResult& r) { done = r.ok(); });
    }
    return seconds(Clock::now() - t0) * 1e3;
}

}  // namespace

int main(int argc, char** argv) {
    uint64_t millions = 20;
    int rounds = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--messages")) millions = std::strtoull(argv[i + 1], nullptr, 10);
        if (!std::strcmp(argv[i], "--rounds")) rounds = std::atoi(argv[i + 1]);
    }
    const uint64_t n = millions * 1000000;
    spdlog::set_level(spdlog::level::err);  // restarts below are on purpose
    try {
        plugin::CatalogOptions inProcess;  // the direct baseline needs the code here
        plugin::Catalog catalog(FIZZHOST_PLUGIN_DIR, plugin::FilePolicy{}, inProcess);
        catalog.rescan();
        auto fizz = catalog.find("fizz");

        const auto root = std::filesystem::temp_directory_path() / ("fizzhost-bench-decoders-" + std::to_string(::getpid()));
        struct RemoveRoot {  // after the services (declared later, destroyed first)
            std::filesystem::path dir;
            ~RemoveRoot() {
                std::error_code ec;
                std::filesystem::remove_all(dir, ec);
            }
        } removeRoot{root};
        DecoderSettings confined;
        confined.root = root;
        DecoderSettings none = confined;
        none.isolation = DecoderIsolation::None;
        decoder::DecoderService confinedService(confined), noneService(none);
        const auto t0 = Clock::now();
        auto worker = confinedService.open(fizz);
        const double openMs = seconds(Clock::now() - t0) * 1e3;
        auto local = noneService.open(fizz);

        std::vector<double> d, l, c, workerNs;
        const pid_t workerPid = confinedService.stats().front().pid;
        for (int r = 0; r < rounds; ++r) {
            d.push_back(direct(*fizz, n));
            l.push_back(throughChannel(noneService, *local, n, 256));
            const double before = cpuNs(workerPid);
            c.push_back(throughChannel(confinedService, *worker, n, 256));
            workerNs.push_back((cpuNs(workerPid) - before) / double(n));
        }
        std::vector<double> restarts;
        for (int r = 0; r < 20; ++r) restarts.push_back(restartMs(confinedService, *worker));

        const double base = median(d);
        std::printf("decoder channel: %llu M 8-byte fizz messages per round, %d rounds (medians), %ld CPUs online, "
                    "load average %s\n",
                    static_cast<unsigned long long>(millions), rounds, sysconf(_SC_NPROCESSORS_ONLN), loadAverage().c_str());
        std::printf("  %-28s %8.2f M msg/s  %6.1f ns/msg  %5.2fx baseline\n", "direct Plugin::decode (base)",
                    base / 1e6, 1e9 / base, 1.0);
        for (auto [name, v] : {std::pair{"channel, in-process", median(l)}, std::pair{"channel, confined worker", median(c)}})
            std::printf("  %-28s %8.2f M msg/s  %6.1f ns/msg  %5.2fx baseline\n", name, v / 1e6, 1e9 / v, v / base);
        std::printf("  confined / in-process channel: %.2fx; worker CPU %.1f ns/msg (its spin while idle included); "
                    "confined rounds from %.2f to %.2f M msg/s\n",
                    median(c) / median(l), median(workerNs), *std::min_element(c.begin(), c.end()) / 1e6,
                    *std::max_element(c.begin(), c.end()) / 1e6);
        std::printf("  first start of a worker (open): %.2f ms\n", openMs);
        std::sort(restarts.begin(), restarts.end());
        std::printf("  restart, SIGKILL to the next message decoded: median %.2f ms, min %.2f, max %.2f (%zu)\n",
                    median(restarts), restarts.front(), restarts.back(), restarts.size());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fizzhost_decoder_channel: %s\n", e.what());
        return 1;
    }
    return 0;
}
