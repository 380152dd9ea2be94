// The soak: many hot swaps under continuous traffic through the real daemon, then an account of
// every frame. Hidden from the default run ([.soak]); scripts/soak.sh runs it with a swap count:
//
//     FIZZ_SOAK_SWAPS=1000 build/fizzhost_tests "[soak]"
//
// It reports frames sent, packets counted, messages emitted, events written, frames lost,
// duplicated and misclassified events, and the daemon's open fds and resident memory before and
// after, and fails on any loss, duplicate, wrong event or fd growth.
#include "netns/daemon_lab.hpp"
#include "support/privilege.hpp"
#include "support/reference.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>

using namespace fizzhost::test;

namespace {

// Unique sources keep every event attributable to one frame: 198.18.0.0/15 holds 2^17 of them.
constexpr size_t kMaxFrames = size_t(1) << 17;

size_t envCount(const char* name, size_t fallback) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == 0) return fallback;
    char* end = nullptr;
    const unsigned long long n = std::strtoull(v, &end, 10);
    if (*end != 0 || n == 0) FAIL(name << "='" << v << "' is not a positive whole number");
    return size_t(n);
}

struct ProcessFigures {
    size_t fds = 0;
    long rssKiB = 0;
};

ProcessFigures processFigures(pid_t pid) {
    ProcessFigures f;
    const std::filesystem::path proc = "/proc/" + std::to_string(pid);
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(proc / "fd")) ++f.fds;
    std::ifstream status(proc / "status");
    std::string key;
    while (status >> key) {
        if (key == "VmRSS:") {
            status >> f.rssKiB;
            break;
        }
        status.ignore(4096, '\n');
    }
    return f;
}

}  // namespace

TEST_CASE("soak: hot swaps under traffic lose, duplicate and misclassify nothing and leak no fd", "[.soak]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    const size_t swaps = envCount("FIZZ_SOAK_SWAPS", 100);
    const size_t framesPerSwap = envCount("FIZZ_SOAK_FRAMES_PER_SWAP", 100);
    const char* transportEnv = std::getenv("FIZZ_SOAK_TRANSPORT");
    const std::string transport = transportEnv && *transportEnv ? transportEnv : "ring";  // the host's default
    if ((swaps + 2) * framesPerSwap > kMaxFrames)
        FAIL("FIZZ_SOAK_SWAPS x FIZZ_SOAK_FRAMES_PER_SWAP must stay under " << kMaxFrames
                                                                          << " frames (one source each)");

    DaemonLab lab;
    lab.setTransport(transport);
    const char* plugins[] = {"fizz", "fizzbuzz", "fibonacci"};
    auto configFor = [&](size_t i) {
        return interfaceTable(lab.ifname(), plugins[i % 3]);
    };
    lab.writeConfig(configFor(0));
    lab.start();
    const uint32_t linkId = lab.interfaceStatus()["link_id"];

    // The sender runs at ~5,000 frames/s, never more than one window ahead of the swaps, so every
    // reload (tens of ms) happens while frames arrive.
    std::atomic<size_t> sent{0}, allowed{framesPerSwap};
    std::atomic<bool> done{false};
    const size_t budget = (swaps + 2) * framesPerSwap;
    std::thread sender([&] {
        constexpr size_t kBatch = 5;
        while (!done && sent < budget) {
            const size_t room = std::min(allowed.load(), budget) - sent;
            if (room == 0) {
                std::this_thread::sleep_for(std::chrono::microseconds(100));
                continue;
            }
            const size_t n = std::min(kBatch, room);
            sent += lab.send(benchmarkSources(uint32_t(sent.load()), n));
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    });
    auto waitSent = [&](size_t mark) {
        while (sent < mark) std::this_thread::sleep_for(std::chrono::microseconds(200));
    };

    // Figures are taken after a few swaps: the first ones size the allocator's pools.
    const size_t warmup = std::min<size_t>(swaps, 5);
    ProcessFigures before;
    size_t failedReloads = 0;
    for (size_t i = 1; i <= swaps; ++i) {
        allowed = (i + 1) * framesPerSwap;
        waitSent(i * framesPerSwap - framesPerSwap / 2);  // mid-window: traffic before, during and after
        lab.writeConfig(configFor(i));
        if (!lab.reload()) ++failedReloads;
        if (i == warmup) before = processFigures(lab.daemon().pid());
    }
    allowed = budget;
    waitSent(budget);
    done = true;
    sender.join();
    const size_t frames = sent;
    const uint64_t packets = lab.waitForPackets(frames, std::chrono::seconds(60));
    const uint64_t emitted = lab.countedTotal("emitted"), dropped = lab.countedTotal("dropped");
    const auto events = lab.waitForEvents(size_t(emitted), std::chrono::seconds(60));
    const ProcessFigures after = processFigures(lab.daemon().pid());

    size_t wrong = 0, duplicated = 0;
    std::map<uint32_t, size_t> seen;
    std::map<std::string, size_t> byPlugin;
    for (const auto& e : events) {
        if (++seen[e.src] > 1) ++duplicated;
        const auto want = referenceKind(e.plugin, e.src);
        if (!want || *want != e.kind) ++wrong;
        ++byPlugin[e.plugin];
    }
    // A frame every version reports (source divisible by 3) must have exactly one event.
    size_t missing = 0;
    for (uint32_t s : benchmarkSources(0, frames))
        if (s % 3 == 0 && !seen.count(s)) ++missing;

    std::fprintf(stderr,
                 "soak (%s transport): %zu swaps (%zu failed), link id %u kept: %s\n"
                 "  frames sent %zu, packets counted %llu, lost %lld\n"
                 "  messages emitted %llu, dropped %llu, events written %zu, duplicated %zu, wrong %zu, "
                 "missing %zu (fizz %zu, fizzbuzz %zu, fibonacci %zu)\n"
                 "  daemon fds %zu -> %zu, RSS %ld KiB -> %ld KiB (after %zu warm-up swaps -> end)\n",
                 transport.c_str(), swaps, failedReloads, linkId,
                 lab.interfaceStatus()["link_id"].get<uint32_t>() == linkId ? "yes" : "NO", frames,
                 (unsigned long long)packets, (long long)frames - (long long)packets, (unsigned long long)emitted,
                 (unsigned long long)dropped, events.size(), duplicated, wrong, missing, byPlugin["fizz"],
                 byPlugin["fizzbuzz"], byPlugin["fibonacci"], before.fds, after.fds, before.rssKiB, after.rssKiB,
                 warmup);
    CHECK(failedReloads == 0);
    CHECK(lab.interfaceStatus()["link_id"] == linkId);
    CHECK(packets == frames);
    CHECK(dropped == 0);
    CHECK(events.size() == emitted);
    CHECK(duplicated == 0);
    CHECK(wrong == 0);
    CHECK(missing == 0);
    CHECK(after.fds <= before.fds);
    CHECK(lab.stop() == 0);
}
