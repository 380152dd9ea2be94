// fizzhost_dispatcher_cost: what the A/B dispatcher adds per packet. BPF_PROG_TEST_RUN over the
// uniform mix, every program interleaved in the same rounds: the empty-XDP floor, fizzbuzz alone,
// and the dispatcher at 0%, 10%, 50% and 100% in front of two instances of that same fizzbuzz (so
// the difference is the dispatcher's alone: at a split it parses the frame to hash the source and
// the variant parses it again; at 0% and 100% it tail-calls without parsing). The overhead is given
// in ns over fizzbuzz alone and as a ratio of the floor measured in the same run.
#include "measure/program_bench.hpp"
#include "plugin/catalog.hpp"
#include "runtime/dispatcher.hpp"

#include <fizz/dispatcher.h>

#include <cstdio>

using namespace fizzhost;
using namespace fizzhost::measure;
using namespace fizzhost::runtime;

int main() {
    plugin::Catalog catalog(FIZZHOST_PLUGIN_DIR, plugin::FilePolicy{});
    catalog.rescan();
    const auto plugin = catalog.find("fizzbuzz");
    BenchSettings settings;
    settings.frames = mixFrames("uniform");
    settings.rounds = 9;
    settings.repeat = 2000;
    const auto opts = benchClassifierOptions(*plugin, FIZZ_TRANSPORT_RING, settings);
    auto base = Classifier::load(plugin, opts);
    auto cand = Classifier::load(plugin, opts);
    const BenchProgram baseline = benchProgramFor(*base, "baseline"), candidate = benchProgramFor(*cand, "candidate");

    auto floor = loadFloorProgram();
    std::vector<BenchProgram> programs = {floor.benchProgram(), benchProgramFor(*base, "fizzbuzz alone")};
    std::vector<std::unique_ptr<Dispatcher>> dispatchers;
    for (unsigned pct : {0u, 10u, 50u, 100u}) {
        auto d = Dispatcher::load();
        d->setVariant(FIZZ_VARIANT_BASELINE, base->programFd());
        d->setVariant(FIZZ_VARIANT_CANDIDATE, cand->programFd());
        d->setPercent(pct);
        BenchProgram p;
        p.label = "dispatcher " + std::to_string(pct) + "%";
        p.progFd = d->programFd();
        p.drain = [&baseline, &candidate] { return baseline.drain() + candidate.drain(); };
        p.dropped = [&baseline, &candidate] { return baseline.dropped() + candidate.dropped(); };
        programs.push_back(p);
        dispatchers.push_back(std::move(d));
    }
    const auto figures = benchPrograms(programs, settings);
    const double floorNs = figures[0].nsPerPacket, alone = figures[1].nsPerPacket;
    std::printf("%-28s %10s %12s %12s %14s\n", "program", "ns/packet", "spread", "vs alone", "x floor");
    for (const auto& f : figures)
        std::printf("%-28s %10.1f %5.1f..%-5.1f %+9.1f ns %+13.2fx\n", f.label.c_str(), f.nsPerPacket, f.minNs,
                    f.maxNs, f.nsPerPacket - alone, (f.nsPerPacket - alone) / floorNs);
    std::printf("overhead target: <= +0.15x floor = +%.2f ns over fizzbuzz alone\n", 0.15 * floorNs);
    return 0;
}
