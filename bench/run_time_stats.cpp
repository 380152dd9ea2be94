// fizzhost_run_time_stats: what the kernel's BPF run-time statistics (BPF_ENABLE_STATS, the host's
// `run_time_stats = true`) cost every packet. While they are on, the kernel reads the clock before
// and after each run of every BPF program on the machine. BPF_PROG_TEST_RUN over the uniform mix:
// the empty-XDP floor, the three shipped plugins alone (ring transport), and the A/B dispatcher at
// 50% in front of two fizzbuzz instances, measured with the statistics off and on, in alternating
// passes of one run (off, on, off, on), each pass interleaving every program in its rounds.
#include "bpf/prog_stats.hpp"
#include "measure/program_bench.hpp"
#include "plugin/catalog.hpp"
#include "runtime/rollout/dispatcher.hpp"

#include <fizz/dispatcher.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <vector>

using namespace fizzhost;
using namespace fizzhost::measure;
using namespace fizzhost::runtime;

int main() {
    plugin::Catalog catalog(FIZZHOST_PLUGIN_DIR, plugin::FilePolicy{});
    catalog.rescan();
    BenchSettings settings;
    settings.frames = mixFrames("uniform");
    settings.rounds = 7;
    settings.repeat = 2000;

    auto floor = loadFloorProgram();
    std::vector<BenchProgram> programs = {floor.benchProgram()};
    std::vector<std::unique_ptr<Classifier>> instances;
    for (const char* name : {"fizz", "fizzbuzz", "fibonacci"}) {
        const auto plugin = catalog.find(name);
        instances.push_back(Classifier::load(plugin, benchClassifierOptions(*plugin, FIZZ_TRANSPORT_RING, settings)));
        programs.push_back(benchProgramFor(*instances.back(), std::string(name) + " alone"));
    }
    const auto fizzbuzz = catalog.find("fizzbuzz");
    const auto opts = benchClassifierOptions(*fizzbuzz, FIZZ_TRANSPORT_RING, settings);
    auto base = Classifier::load(fizzbuzz, opts), cand = Classifier::load(fizzbuzz, opts);
    const BenchProgram b = benchProgramFor(*base, "baseline"), c = benchProgramFor(*cand, "candidate");
    auto dispatcher = Dispatcher::load({0, nullptr, FIZZ_HOOK_XDP, {}});
    dispatcher->setVariant(FIZZ_VARIANT_BASELINE, base->programFd());
    dispatcher->setVariant(FIZZ_VARIANT_CANDIDATE, cand->programFd());
    dispatcher->setPercent(50);
    BenchProgram split;
    split.label = "dispatcher 50% (untimed), 2x fizzbuzz";
    split.progFd = dispatcher->programFd();
    split.drain = [&] { return b.drain() + c.drain(); };
    split.dropped = [&] { return b.dropped() + c.dropped(); };
    programs.push_back(split);

    // [pass][program]: even passes with the statistics off, odd ones on.
    constexpr int kPasses = 4;
    std::vector<std::vector<BenchFigures>> passes;
    for (int pass = 0; pass < kPasses; ++pass) {
        std::optional<UniqueFd> stats;
        if (pass % 2) stats.emplace(bpf::enableRunTimeStats());
        passes.push_back(benchPrograms(programs, settings));
    }
    auto median = [&](size_t program, int parity) {
        std::vector<double> v;
        for (int pass = parity; pass < kPasses; pass += 2) v.push_back(passes[size_t(pass)][program].nsPerPacket);
        std::sort(v.begin(), v.end());
        return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
    };
    const double floorOff = median(0, 0), floorOn = median(0, 1);
    std::printf("%-40s %9s %9s %9s %11s %11s\n", "program (ns/packet)", "stats off", "stats on", "added",
                "off x floor", "on x floor");
    for (size_t i = 0; i < programs.size(); ++i) {
        const double off = median(i, 0), on = median(i, 1);
        std::printf("%-40s %9.1f %9.1f %+9.1f %11.2f %11.2f\n", programs[i].label.c_str(), off, on, on - off,
                    off / floorOff, on / floorOff);
    }
    std::printf("(%d passes alternating off/on, each the median of %u rounds; 'on x floor' is against the floor "
                "with statistics off)\n",
                kPasses, settings.rounds);
    std::printf("the floor itself: %.1f ns with statistics off, %.1f ns with them on\n", floorOff, floorOn);
    return 0;
}
