// fizzhost_dispatcher_cost: what the A/B dispatcher adds per packet. BPF_PROG_TEST_RUN over the
// uniform mix, every program interleaved in the same rounds: the empty-XDP floor, fizzbuzz alone,
// and the dispatcher at 0%, 10%, 50% and 100% in front of two instances of that same fizzbuzz (so
// the difference is the dispatcher's alone: at a split it parses the frame to hash the source and
// the variant parses it again; at 0% and 100% it tail-calls without parsing). Each split is run
// without per-variant timing (sample period 0: the verifier prunes it) and with the default 1 frame
// in FIZZ_COST_SAMPLE_PERIOD, so the timing's own cost shows in the same run.
//
// Shadow mode: fizzbuzz loaded as a shadow-mode variant alone (its decision store on), and the
// dispatcher in shadow mode running two of them on every frame, against fizzbuzz alone.
//
// The bare tail call: a program that does nothing but tail-call fizzbuzz with a constant index
// (tail_call_only.bpf.c), the least any tail-call dispatcher can add.
//
// The overhead is given in ns over fizzbuzz alone and as a ratio of the floor measured in the same run.
#include "bpf/map.hpp"
#include "bpf/object.hpp"
#include "measure/program_bench.hpp"
#include "plugin/catalog.hpp"
#include "util/error.hpp"
#include "runtime/rollout/dispatcher.hpp"

#include <fizz/dispatcher.h>

#include <cstdio>
#include <span>

// tail_call_only.bpf.c, embedded by bench/CMakeLists.txt (fizzhost_embed_object).
extern "C" const unsigned char fizzhost_tail_call_only_object[];
extern "C" const unsigned char fizzhost_tail_call_only_object_end[];

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

    // Shadow mode: both variants share the dispatcher's decision map.
    const auto decisions = Dispatcher::createDecisionMap();
    auto shadowOpts = opts;
    shadowOpts.decisionMapFd = decisions->get();
    auto shadowBase = Classifier::load(plugin, shadowOpts);
    auto shadowCand = Classifier::load(plugin, shadowOpts);
    const BenchProgram sb = benchProgramFor(*shadowBase, "fizzbuzz as a shadow variant"),
                       sc = benchProgramFor(*shadowCand, "shadow candidate");

    // The bare tail call in front of the baseline instance.
    constexpr const char* kTailCallOnly = "fizz_tail_call_only";
    auto tailCall = bpf::Object::openMemory(
        std::span<const unsigned char>(fizzhost_tail_call_only_object,
                                       size_t(fizzhost_tail_call_only_object_end - fizzhost_tail_call_only_object)),
        kTailCallOnly);
    tailCall.load();
    const auto tailCallMap = tailCall.findMap(FIZZ_MAP_VARIANTS);
    const auto tailCallProgram = tailCall.findProgram(kTailCallOnly);
    if (!tailCallMap || !tailCallProgram)
        throw Error(std::string("bench: the embedded tail-call object lacks program '") + kTailCallOnly +
                        "' or map '" FIZZ_MAP_VARIANTS "'",
                    ENOENT);
    const uint32_t slot = FIZZ_VARIANT_BASELINE, baseFd = uint32_t(base->programFd());
    bpf::updateElem(tailCallMap->fd(), &slot, &baseFd, "bench: install the tail call's target");
    BenchProgram tailCallOnly = baseline;
    tailCallOnly.label = "tail call alone (no dispatcher)";
    tailCallOnly.progFd = tailCallProgram->fd();

    auto floor = loadFloorProgram();
    std::vector<BenchProgram> programs = {floor.benchProgram(), benchProgramFor(*base, "fizzbuzz alone"), sb,
                                          tailCallOnly};
    std::vector<std::unique_ptr<Dispatcher>> dispatchers;
    auto add = [&](std::unique_ptr<Dispatcher> d, const std::string& label, const BenchProgram& b, const BenchProgram& c) {
        BenchProgram p;
        p.label = label;
        p.progFd = d->programFd();
        p.drain = [&b, &c] { return b.drain() + c.drain(); };
        p.dropped = [&b, &c] { return b.dropped() + c.dropped(); };
        programs.push_back(p);
        dispatchers.push_back(std::move(d));
    };
    for (unsigned pct : {0u, 10u, 50u, 100u})
        for (uint32_t period : {0u, uint32_t(FIZZ_COST_SAMPLE_PERIOD)}) {
            auto d = Dispatcher::load({period, nullptr, FIZZ_HOOK_XDP, {}});
            d->setVariant(FIZZ_VARIANT_BASELINE, base->programFd());
            d->setVariant(FIZZ_VARIANT_CANDIDATE, cand->programFd());
            d->setPercent(pct);
            add(std::move(d),
                "dispatcher " + std::to_string(pct) + "%" + (period ? ", timed 1/" + std::to_string(period) : ""),
                baseline, candidate);
        }
    for (uint32_t period : {0u, uint32_t(FIZZ_COST_SAMPLE_PERIOD)}) {
        auto d = Dispatcher::load({period, decisions, FIZZ_HOOK_XDP, {}});
        d->setVariant(FIZZ_VARIANT_BASELINE, shadowBase->programFd());
        d->setVariant(FIZZ_VARIANT_CANDIDATE, shadowCand->programFd());
        add(std::move(d), std::string("shadow, both variants") + (period ? ", timed 1/" + std::to_string(period) : ""),
            sb, sc);
    }
    const auto figures = benchPrograms(programs, settings);
    const double floorNs = figures[0].nsPerPacket, alone = figures[1].nsPerPacket;
    std::printf("%-36s %10s %12s %12s %14s\n", "program", "ns/packet", "spread", "vs alone", "x floor");
    for (const auto& f : figures)
        std::printf("%-36s %10.1f %5.1f..%-5.1f %+9.1f ns %+13.2fx\n", f.label.c_str(), f.nsPerPacket, f.minNs,
                    f.maxNs, f.nsPerPacket - alone, (f.nsPerPacket - alone) / floorNs);
    // The timing's own cost: each timed dispatcher against the same split untimed, same run.
    for (size_t i = 4; i + 1 < figures.size(); i += 2)
        std::printf("per-variant timing at %-26s %+6.2f ns per packet (%+.3fx floor)\n",
                    figures[i].label.c_str(), figures[i + 1].nsPerPacket - figures[i].nsPerPacket,
                    (figures[i + 1].nsPerPacket - figures[i].nsPerPacket) / floorNs);
    std::printf("overhead target: <= +0.15x floor = +%.2f ns over fizzbuzz alone\n", 0.15 * floorNs);
    std::printf("the tail call alone: %+.2f ns (%+.3fx floor), the least a tail-call dispatcher can add\n",
                figures[3].nsPerPacket - alone, (figures[3].nsPerPacket - alone) / floorNs);
    return 0;
}
