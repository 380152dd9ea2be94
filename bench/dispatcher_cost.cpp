// fizzhost_dispatcher_cost: what the A/B dispatcher adds per packet. BPF_PROG_TEST_RUN over the
// uniform mix, interleaved in the same run: fizzbuzz alone (the baseline), and the dispatcher
// tail-calling fizzbuzz or fibonacci at 0%, 10%, 50% and 100%.
#include "plugin/catalog.hpp"
#include "runtime/dispatcher.hpp"
#include "runtime/program_bench.hpp"

#include <cstdio>

using namespace fizzhost;
using namespace fizzhost::runtime;

int main() {
    plugin::Catalog catalog(FIZZHOST_PLUGIN_DIR, plugin::FilePolicy{});
    catalog.rescan();
    BenchSettings settings;
    settings.frames = mixFrames("uniform");
    settings.rounds = 7;
    settings.repeat = 2000;
    auto base = Classifier::load(catalog.find("fizzbuzz"), benchClassifierOptions(*catalog.find("fizzbuzz"), FIZZ_TRANSPORT_RING, settings));
    auto cand = Classifier::load(catalog.find("fibonacci"), benchClassifierOptions(*catalog.find("fibonacci"), FIZZ_TRANSPORT_RING, settings));
    std::vector<std::unique_ptr<Dispatcher>> dispatchers;
    const BenchProgram alone = benchProgramFor(*base, "fizzbuzz alone");
    const BenchProgram candidate = benchProgramFor(*cand, "fibonacci");
    std::vector<BenchProgram> programs = {alone};
    for (unsigned pct : {0u, 10u, 50u, 100u}) {
        auto d = Dispatcher::load();
        d->setVariant(FIZZ_SLOT_BASELINE, base->programFd());
        d->setVariant(FIZZ_SLOT_CANDIDATE, cand->programFd());
        d->setPercent(pct);
        BenchProgram p;
        p.label = "dispatcher " + std::to_string(pct) + "% fibonacci";
        p.progFd = d->programFd();
        p.drain = [&alone, &candidate] { return alone.drain() + candidate.drain(); };
        p.dropped = [&alone, &candidate] { return alone.dropped() + candidate.dropped(); };
        programs.push_back(p);
        dispatchers.push_back(std::move(d));
    }
    auto floor = loadFloorProgram();
    programs.push_back(floor.benchProgram());
    auto figures = benchPrograms(programs, settings);
    const double aloneNs = figures[0].nsPerPacket;
    std::printf("%-28s %10s %10s %12s\n", "program", "ns/packet", "spread", "vs alone");
    for (const auto& f : figures)
        std::printf("%-28s %10.1f %4.1f..%-5.1f %+9.1f ns\n", f.label.c_str(), f.nsPerPacket, f.minNs, f.maxNs,
                    f.nsPerPacket - aloneNs);
    return 0;
}
