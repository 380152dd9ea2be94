// fizzhost_dispatcher_cost: what the A/B dispatcher adds per packet. BPF_PROG_TEST_RUN over the
// uniform mix, every program interleaved in the same rounds: the empty-XDP floor, fizzbuzz alone,
// and the dispatcher at 0%, 10%, 50% and 100% in front of two instances of that same fizzbuzz (so
// the difference is the dispatcher's alone), once as shipped (the parsed source handed over in the
// XDP metadata) and once built with FIZZ_DISPATCH_HANDOFF=0 (the variant parses the frame again).
// The overhead is given in ns and as a ratio of the floor measured in the same run. When the tests
// are built, fizzbuzz is also run as built with the bare frame walk (tests/plugins/
// fizzbuzz_frame_parse.bpf.c): what the handoff check in fizz_parse_ipv4_saddr() costs a classifier
// that runs without the dispatcher.
#include "plugin/catalog.hpp"
#include "runtime/dispatcher.hpp"
#include "runtime/program_bench.hpp"

#include <fizz/dispatcher.h>

#include <cstdio>
#include <filesystem>
#include <optional>
#include <span>

// The FIZZ_DISPATCH_HANDOFF=0 build of bpf/dispatcher.bpf.c, embedded by bpf/CMakeLists.txt.
extern "C" const unsigned char fizzhost_dispatcher_reparse_object[];
extern "C" const unsigned char fizzhost_dispatcher_reparse_object_end[];

using namespace fizzhost;
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
    std::optional<plugin::Catalog> frameParse;
    std::unique_ptr<Classifier> frameParsing;
    if (std::filesystem::exists(FIZZHOST_FRAME_PARSE_PLUGIN_DIR)) {
        frameParse.emplace(FIZZHOST_FRAME_PARSE_PLUGIN_DIR, plugin::FilePolicy{});
        frameParse->rescan();
        frameParsing = Classifier::load(frameParse->find("fizzbuzz"), opts);
        programs.push_back(benchProgramFor(*frameParsing, "fizzbuzz, bare frame walk"));
    }
    std::vector<std::unique_ptr<Dispatcher>> dispatchers;
    const std::span<const unsigned char> reparse(
        fizzhost_dispatcher_reparse_object,
        size_t(fizzhost_dispatcher_reparse_object_end - fizzhost_dispatcher_reparse_object));
    for (bool handoff : {true, false}) {
        for (unsigned pct : {0u, 10u, 50u, 100u}) {
            auto d = Dispatcher::load(handoff ? std::span<const unsigned char>{} : reparse);
            d->setVariant(FIZZ_VARIANT_BASELINE, base->programFd());
            d->setVariant(FIZZ_VARIANT_CANDIDATE, cand->programFd());
            d->setPercent(pct);
            BenchProgram p;
            p.label = std::string(handoff ? "dispatcher " : "re-parsing dispatcher ") + std::to_string(pct) + "%";
            p.progFd = d->programFd();
            p.drain = [&baseline, &candidate] { return baseline.drain() + candidate.drain(); };
            p.dropped = [&baseline, &candidate] { return baseline.dropped() + candidate.dropped(); };
            programs.push_back(p);
            dispatchers.push_back(std::move(d));
        }
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
