// The program benchmark engine (measure/program_bench): structure of its figures, messages per packet
// measured exactly, drops reported, failures reported rather than hung. Never asserts a time.
#include "measure/program_bench.hpp"

#include "bpf/prog_stats.hpp"
#include "measure/frames.hpp"
#include "plugin/catalog.hpp"
#include "support/privilege.hpp"
#include "support/reference.hpp"
#include "util/error.hpp"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <linux/bpf.h>
#include <sched.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

using namespace fizzhost;
using namespace fizzhost::measure;
using namespace fizzhost::runtime;

namespace {

constexpr const char* kPlugins[] = {"fizz", "fizzbuzz", "fibonacci"};

std::shared_ptr<const plugin::Plugin> findPlugin(const std::string& name) {
    static plugin::Catalog catalog = [] {
        plugin::Catalog c(FIZZHOST_PLUGIN_DIR, plugin::FilePolicy{});
        c.rescan();
        return c;
    }();
    return catalog.find(name);
}

// The share of a mix's addresses for which `plugin` emits, by the C++ reference: what messages per
// packet must come out at exactly, whatever the number of rounds, runs and threads.
double expectedShare(const std::string& plugin, const std::string& mix) {
    const auto addrs = mixAddresses(mix);
    size_t emitting = 0;
    for (uint32_t a : addrs) emitting += test::referenceKind(plugin, a).has_value();
    return double(emitting) / double(addrs.size());
}

unsigned usableCpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    return sched_getaffinity(0, sizeof set, &set) == 0 ? unsigned(CPU_COUNT(&set)) : 1u;
}

BenchSettings quickSettings(const std::string& mix = "uniform") {
    BenchSettings s;
    s.frames = mixFrames(mix);
    s.rounds = 2;
    s.repeat = 64;
    return s;
}

}  // namespace

TEST_CASE("bench settings size the transport for one call of every thread", "[unit]") {
    auto fizz = findPlugin("fizz");
    BenchSettings s;
    s.repeat = 20000;
    s.cpus = 2;
    auto queue = benchClassifierOptions(*fizz, FIZZ_TRANSPORT_QUEUE, s);
    CHECK(queue.transport == FIZZ_TRANSPORT_QUEUE);
    CHECK(queue.queueSize == 40000);  // one queue shared by both threads

    auto ring = benchClassifierOptions(*fizz, FIZZ_TRANSPORT_RING, s);
    CHECK(ring.transport == FIZZ_TRANSPORT_RING);
    // Slots per CPU, one thread per CPU: one call's 20000 messages, whatever the thread count.
    CHECK(ring.ringSlots == 20000);

    s.repeat = 1;
    CHECK(benchClassifierOptions(*fizz, FIZZ_TRANSPORT_RING, s).ringSlots == 1);

    // More than a CPU's region may hold (4 MiB): refused with the largest that fits.
    s.repeat = 600000;
    CHECK_THROWS_WITH(benchClassifierOptions(*fizz, FIZZ_TRANSPORT_RING, s), Catch::Contains("at most 524256 slots fit"));
    s.repeat = 1u << 30;
    CHECK_THROWS_AS(benchClassifierOptions(*fizz, FIZZ_TRANSPORT_QUEUE, s), Error);
}

TEST_CASE("bench mixes are one frame per address of the mix", "[unit]") {
    for (const char* mix : {"uniform", "worst"}) {
        auto frames = mixFrames(mix);
        auto addrs = mixAddresses(mix);
        REQUIRE(frames.size() == addrs.size());
        CHECK(frames.front() == udpFrame(addrs.front()));
        CHECK(frames.back() == udpFrame(addrs.back()));
    }
    CHECK_THROWS_AS(mixFrames("bursty"), Error);
}

TEST_CASE("benchPrograms returns one figure per program, in order", "[bpf]") {
    if (!test::requirePrivilege("benchmark programs with BPF_PROG_TEST_RUN")) return;
    FloorProgram floor = loadFloorProgram();
    BenchSettings settings = quickSettings();
    auto fizz = Classifier::load(findPlugin("fizz"), benchClassifierOptions(*findPlugin("fizz"), FIZZ_TRANSPORT_RING, settings));
    auto fib = Classifier::load(findPlugin("fibonacci"),
                                benchClassifierOptions(*findPlugin("fibonacci"), FIZZ_TRANSPORT_RING, settings));

    // The floor twice, at both ends: order is kept even for the same program.
    auto figures = benchPrograms({floor.benchProgram("floor"), benchProgramFor(*fib, "fibonacci"),
                                  benchProgramFor(*fizz, "fizz"), floor.benchProgram("floor again")},
                                 settings);
    REQUIRE(figures.size() == 4);
    CHECK(figures[0].label == "floor");
    CHECK(figures[1].label == "fibonacci");
    CHECK(figures[2].label == "fizz");
    CHECK(figures[3].label == "floor again");
    for (const auto& f : figures) {
        INFO(f.label);
        CHECK(f.roundNs.size() == settings.rounds);
        CHECK(f.minNs <= f.nsPerPacket);
        CHECK(f.nsPerPacket <= f.maxNs);
        CHECK(f.verdict == XDP_PASS);
        CHECK(f.dropped == 0);
    }
    CHECK(figures[0].messagesPerPacket == 0);
    CHECK(figures[3].messagesPerPacket == 0);
    // Timing is reported, never asserted: a loaded CI machine may reorder anything.
    CHECK_NOFAIL(figures[1].nsPerPacket >= figures[0].nsPerPacket);
}

TEST_CASE("benchPrograms says when the kernel timed the runs, whoever turned its statistics on", "[bpf]") {
    if (!test::requirePrivilege("benchmark programs with BPF_PROG_TEST_RUN and hold BPF_ENABLE_STATS")) return;
    FloorProgram floor = loadFloorProgram();
    const BenchSettings settings = quickSettings();
    // Off: nothing on this machine holds the statistics during the tests.
    const auto off = benchPrograms({floor.benchProgram()}, settings);
    INFO("the kernel timed runs with nothing holding its statistics: is kernel.bpf_stats_enabled set, or a "
         "process holding BPF_ENABLE_STATS?");
    CHECK_FALSE(off[0].kernelTimed);
    // Held by an fd, as a fizzhost with run_time_stats = true holds them: the sysctl still reads 0.
    {
        const UniqueFd stats = bpf::enableRunTimeStats();
        const auto on = benchPrograms({floor.benchProgram()}, settings);
        CHECK(on[0].kernelTimed);
    }
    CHECK_FALSE(benchPrograms({floor.benchProgram()}, settings)[0].kernelTimed);
}

TEST_CASE("messages per packet are measured: exactly the reference's share of the mix", "[bpf]") {
    if (!test::requirePrivilege("benchmark programs with BPF_PROG_TEST_RUN")) return;
    const unsigned maxCpus = std::min(usableCpus(), 2u);
    for (const char* mix : {"uniform", "worst"}) {
        for (fizz_transport transport : {FIZZ_TRANSPORT_RING, FIZZ_TRANSPORT_QUEUE}) {
            for (unsigned cpus = 1; cpus <= maxCpus; ++cpus) {
                DYNAMIC_SECTION(mix << (transport == FIZZ_TRANSPORT_QUEUE ? " queue" : " ring") << ", " << cpus
                                    << " CPU(s)") {
                    BenchSettings settings = quickSettings(mix);
                    settings.cpus = cpus;
                    std::vector<std::unique_ptr<Classifier>> classifiers;
                    std::vector<BenchProgram> programs;
                    for (const char* name : kPlugins) {
                        auto p = findPlugin(name);
                        classifiers.push_back(Classifier::load(p, benchClassifierOptions(*p, transport, settings)));
                        programs.push_back(benchProgramFor(*classifiers.back(), name));
                    }
                    auto figures = benchPrograms(programs, settings);
                    REQUIRE(figures.size() == std::size(kPlugins));
                    for (size_t i = 0; i < figures.size(); ++i) {
                        INFO(kPlugins[i]);
                        CHECK(figures[i].dropped == 0);
                        CHECK(figures[i].messagesPerPacket == expectedShare(kPlugins[i], mix));
                    }
                    // fizz on the uniform mix: the addresses divisible by 3.
                    if (std::string_view(mix) == "uniform") {
                        size_t divisible = 0;
                        for (uint32_t a : mixAddresses(mix)) divisible += a % 3 == 0;
                        CHECK(figures[0].messagesPerPacket == double(divisible) / 256.0);
                    }
                }
            }
        }
    }
}

TEST_CASE("a transport too small for one call shows as drops, and the count stays what was delivered", "[bpf]") {
    if (!test::requirePrivilege("benchmark programs with BPF_PROG_TEST_RUN")) return;
    BenchSettings settings = quickSettings();
    settings.rounds = 1;
    auto p = findPlugin("fizz");
    ClassifierOptions opts = benchClassifierOptions(*p, FIZZ_TRANSPORT_QUEUE, settings);
    opts.queueSize = 16;  // a call of 64 runs on a fizz frame pushes 64
    auto fizz = Classifier::load(p, opts);
    auto figures = benchPrograms({benchProgramFor(*fizz, "fizz")}, settings);
    REQUIRE(figures.size() == 1);
    CHECK(figures[0].dropped > 0);
    CHECK(figures[0].messagesPerPacket < expectedShare("fizz", "uniform"));
    CHECK(figures[0].messagesPerPacket > 0);
}

TEST_CASE("a failing test run is reported by every thread count, not hung", "[bpf]") {
    if (!test::requirePrivilege("benchmark programs with BPF_PROG_TEST_RUN")) return;
    FloorProgram floor = loadFloorProgram();
    UniqueFd notAProgram(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    REQUIRE(notAProgram);
    for (unsigned cpus = 1; cpus <= std::min(usableCpus(), 2u); ++cpus) {
        BenchSettings settings = quickSettings();
        settings.cpus = cpus;
        INFO(cpus << " CPU(s)");
        CHECK_THROWS_AS(benchPrograms({floor.benchProgram(), BenchProgram{"bogus", notAProgram.get(), {}, {}}}, settings), Error);
    }
}

TEST_CASE("benchPrograms refuses settings it cannot honour", "[bpf]") {
    if (!test::requirePrivilege("benchmark programs with BPF_PROG_TEST_RUN")) return;
    FloorProgram floor = loadFloorProgram();
    const std::vector<BenchProgram> programs{floor.benchProgram()};
    BenchSettings settings = quickSettings();
    CHECK_THROWS_AS(benchPrograms({}, settings), Error);
    CHECK_THROWS_AS(benchPrograms({BenchProgram{"no fd", -1, {}, {}}}, settings), Error);
    auto noFrames = settings;
    noFrames.frames.clear();
    CHECK_THROWS_AS(benchPrograms(programs, noFrames), Error);
    auto noRounds = settings;
    noRounds.rounds = 0;
    CHECK_THROWS_AS(benchPrograms(programs, noRounds), Error);
    auto tooManyCpus = settings;
    tooManyCpus.cpus = usableCpus() + 1;
    CHECK_THROWS_WITH(benchPrograms(programs, tooManyCpus), Catch::Contains("lower --cpus"));
}

TEST_CASE("the dispatcher hold attaches nothing visible to this namespace and lets go", "[bpf]") {
    if (!test::requirePrivilege("hold programs in the XDP dispatcher")) return;
    FloorProgram floor = loadFloorProgram();
    const int fds[] = {floor.fd};
    const uint32_t loBefore = bpf::attachedXdpProgramId(1);
    {
        DispatcherHold hold(fds);
        CHECK(hold.holding());
        // The holding attachment lives in a private namespace: this namespace's loopback is untouched.
        CHECK(bpf::attachedXdpProgramId(1) == loBefore);
        CHECK(loBefore != bpf::programId(floor.fd));
    }
    // The program stays usable after the hold is gone.
    BenchSettings settings = quickSettings();
    settings.rounds = 1;
    CHECK(benchPrograms({floor.benchProgram()}, settings).size() == 1);
}
