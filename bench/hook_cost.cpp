// fizzhost_hook_cost: what running beside a node's datapath costs per packet, in one run, every
// program interleaved in the same rounds (BPF_PROG_TEST_RUN over the uniform mix, ring transport):
//
//   - the floors: the empty XDP program, and the empty tc program. BPF_PROG_TEST_RUN builds an skb
//     for every run of a tc program (an xdp_buff for XDP), so the tc floor is higher and tc figures
//     are given over it;
//   - each shipped classifier alone on XDP, and the same code loaded as a tc program;
//   - the tc path: the host's dispatcher loaded for tc (hook = tc: the variant through its
//     subprogram, then TCX_NEXT) in front of the classifier's tc instance, untimed and timed 1/64;
//   - the chain hop on XDP: the dispatcher with chain on (the variant through its subprogram, then a
//     tail call to the next program) in front of the classifier, the next program the empty XDP
//     program (XDP_PASS), untimed and timed 1/64; beside the plain dispatcher at 0% (a direct tail
//     call, no chain) for comparison.
//
// Each figure is given in ns over its hook's floor and as a ratio of that floor.
//
// FIZZHOST_BENCH_BEFORE=<build dir of another tree> adds, in the same rounds, that build's shipped
// plugins alone on XDP and its dispatcher at 0% (<dir>/plugins/*.so, <dir>/bpf/dispatcher.bpf.o):
// what the tc hook's knob costs the XDP path, measured against the code from before it.
#include "bpf/cpu_regions.hpp"
#include "bpf/cpu_ring_reader.hpp"
#include "bpf/hook_load.hpp"
#include "bpf/map.hpp"
#include "bpf/object.hpp"
#include "bpf/stats.hpp"
#include "bpf/tail_call.hpp"
#include "measure/program_bench.hpp"
#include "plugin/catalog.hpp"
#include "runtime/instance/classifier.hpp"
#include "util/error.hpp"

#include <fizz/dispatcher.h>
#include <linux/bpf.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <span>
#include <string>
#include <vector>

extern "C" {
extern const unsigned char fizzhost_dispatcher_object[];
extern const unsigned char fizzhost_dispatcher_object_end[];
extern const unsigned char fizzhost_empty_object[];
extern const unsigned char fizzhost_empty_object_end[];
}

using namespace fizzhost;
using namespace fizzhost::measure;

namespace {

// A classifier loaded for a hook with the ring transport, as the host loads one (and as phase 2 of
// the tc hook will): `slots` message slots per CPU, read and discarded by the bench.
class RingInstance {
public:
    RingInstance(const plugin::Plugin& p, fizz_hook hook, uint32_t slots)
        : object_(bpf::Object::openMemory(p.bpfObject(), p.name())) {
        const std::string where = "plugin '" + p.name() + "'";
        auto program = object_.findProgram(p.program());
        if (!program) throw Error(where + ": no program '" + p.program() + "'", ENOENT);
        bpf::setProgramHook(*program, hook);
        bpf::setProgConfig(object_, {FIZZ_TRANSPORT_RING, slots, 0, 0, uint32_t(hook)}, where);
        const unsigned cpus = bpf::possibleCpus();
        const uint32_t regionSize = uint32_t(bpf::regionBytes(p.messageSize(), slots));
        auto regions = object_.findMap(FIZZ_MAP_REGIONS);
        regions->setMaxEntries(cpus);
        regions->setValueSize(regionSize);
        object_.load();
        fd_ = program->fd();
        regions_.emplace(regions->fd(), cpus, regionSize, slots, FIZZ_SLOT_SIZE(p.messageSize()));
        reader_.emplace(*regions_, p.messageSize());
    }
    BenchProgram bench(std::string label) {
        return {std::move(label), fd_, [this] { return reader_->drain(SIZE_MAX, [](const void*, uint32_t) noexcept {}); },
                [this] { return bpf::readCounters(*regions_).dropped; }};
    }

private:
    bpf::Object object_;
    int fd_ = -1;
    std::optional<bpf::CpuRegions> regions_;
    std::optional<bpf::CpuRingReader> reader_;
};

// The host's dispatcher with a full configuration: hook, chain, sample period; baseline slot only.
class DispatcherInstance {
public:
    DispatcherInstance(fizz_hook hook, bool chain, uint32_t period, int baselineFd, int nextFd)
        : object_(bpf::Object::openMemory(
              std::span<const unsigned char>(fizzhost_dispatcher_object,
                                             size_t(fizzhost_dispatcher_object_end - fizzhost_dispatcher_object)),
              FIZZ_DISPATCHER_PROG)) {
        const fizz_dispatch_config cfg{period, 0, uint32_t(hook), chain ? 1u : 0u};
        object_.findSectionMap(FIZZ_DISPATCHER_CONFIG_SECTION)->setInitialValue(&cfg, sizeof cfg);
        bpf::setProgramHook(*object_.findProgram(FIZZ_DISPATCHER_PROG), hook);
        object_.load();
        fd_ = object_.findProgram(FIZZ_DISPATCHER_PROG)->fd();
        const int variants = object_.findMap(FIZZ_MAP_VARIANTS)->fd();
        const auto profile = bpf::tailCallProfile(fd_);
        bpf::insertTailCallTarget(variants, FIZZ_VARIANT_BASELINE, baselineFd, profile, "bench: baseline");
        if (nextFd >= 0) bpf::insertTailCallTarget(variants, FIZZ_SLOT_NEXT, nextFd, profile, "bench: next");
    }
    int fd() const { return fd_; }

private:
    bpf::Object object_;
    int fd_ = -1;
};

// Another build's dispatcher object (from before the hook knob: an 8-byte configuration), at 0%
// untimed, in front of `baselineFd`.
class BeforeDispatcher {
public:
    BeforeDispatcher(const std::string& path, int baselineFd)
        : elf_(readFile(path)), object_(bpf::Object::openMemory(elf_, FIZZ_DISPATCHER_PROG)) {
        auto config = object_.findSectionMap(FIZZ_DISPATCHER_CONFIG_SECTION);
        const uint32_t cfg[4] = {0, 0, 0, 0};  // sample period 0, split mode (and, if it knows them, XDP, no chain)
        if (!config || config->valueSize() > sizeof cfg)
            throw Error("bench: '" + path + "' is not a dispatcher this bench knows", EINVAL);
        config->setInitialValue(cfg, config->valueSize());
        object_.load();
        fd_ = object_.findProgram(FIZZ_DISPATCHER_PROG)->fd();
        const uint32_t key = FIZZ_VARIANT_BASELINE, value = uint32_t(baselineFd);
        bpf::updateElem(object_.findMap(FIZZ_MAP_VARIANTS)->fd(), &key, &value, "bench: the earlier dispatcher's baseline");
    }
    int fd() const { return fd_; }

private:
    static std::vector<unsigned char> readFile(const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        if (!in) throw Error("bench: cannot read '" + path + "'", ENOENT);
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }
    std::vector<unsigned char> elf_;
    bpf::Object object_;
    int fd_ = -1;
};

// The empty tc program of bpf/empty.bpf.c (the object the XDP floor comes from).
struct TcFloor {
    bpf::Object object = bpf::Object::openMemory(
        std::span<const unsigned char>(fizzhost_empty_object, size_t(fizzhost_empty_object_end - fizzhost_empty_object)),
        "fizz_empty");
    int fd = -1;
    TcFloor() {
        object.load();
        fd = object.findProgram("fizz_empty_tc")->fd();
    }
};

}  // namespace

int main() {
    plugin::Catalog catalog(FIZZHOST_PLUGIN_DIR, plugin::FilePolicy{});
    catalog.rescan();
    BenchSettings settings;
    settings.frames = mixFrames("uniform");
    settings.rounds = 9;
    settings.repeat = 2000;

    auto xdpFloor = loadFloorProgram();
    TcFloor tcFloor;
    std::vector<BenchProgram> programs = {xdpFloor.benchProgram("XDP floor (empty XDP)"),
                                          {"tc floor (empty tc, skb test run)", tcFloor.fd, {}, {}}};
    std::vector<bool> onTc = {false, true};
    std::vector<std::unique_ptr<RingInstance>> instances;
    std::vector<std::unique_ptr<DispatcherInstance>> dispatchers;
    auto add = [&](BenchProgram p, bool tc) {
        programs.push_back(std::move(p));
        onTc.push_back(tc);
    };
    for (const char* name : {"fizz", "fizzbuzz", "fibonacci"}) {
        const auto plugin = catalog.find(name);
        const uint32_t slots = runtime::ringSlotsFor(plugin->messageSize(), settings.repeat, config::RingRate{}, bpf::possibleCpus());
        const std::string n = name;
        RingInstance* xdp = instances.emplace_back(std::make_unique<RingInstance>(*plugin, FIZZ_HOOK_XDP, slots)).get();
        RingInstance* tc = instances.emplace_back(std::make_unique<RingInstance>(*plugin, FIZZ_HOOK_TC, slots)).get();
        add(xdp->bench(n + " alone, XDP"), false);
        add(tc->bench(n + " alone, as tc program"), true);
        const BenchProgram xdpBench = xdp->bench(""), tcBench = tc->bench("");
        struct Shape {
            const char* label;
            fizz_hook hook;
            bool chain;
            uint32_t period;
        };
        for (const Shape& s : {Shape{"tc dispatcher", FIZZ_HOOK_TC, false, 0},
                               Shape{"tc dispatcher, timed 1/64", FIZZ_HOOK_TC, false, FIZZ_COST_SAMPLE_PERIOD},
                               Shape{"XDP dispatcher 0%, no chain", FIZZ_HOOK_XDP, false, 0},
                               Shape{"XDP chain -> XDP_PASS", FIZZ_HOOK_XDP, true, 0},
                               Shape{"XDP chain -> XDP_PASS, timed 1/64", FIZZ_HOOK_XDP, true, FIZZ_COST_SAMPLE_PERIOD}}) {
            const bool tcShape = s.hook == FIZZ_HOOK_TC;
            const BenchProgram& variant = tcShape ? tcBench : xdpBench;
            const DispatcherInstance* d = dispatchers
                                              .emplace_back(std::make_unique<DispatcherInstance>(
                                                  s.hook, s.chain, s.period, variant.progFd, s.chain ? xdpFloor.fd : -1))
                                              .get();
            add({n + " + " + s.label, d->fd(), variant.drain, variant.dropped}, tcShape);
        }
    }

    // The same plugins and dispatcher from another build, on XDP, in the same rounds.
    const char* before = std::getenv("FIZZHOST_BENCH_BEFORE");
    std::optional<plugin::Catalog> beforeCatalog;
    std::vector<std::unique_ptr<BeforeDispatcher>> beforeDispatchers;
    const size_t firstBefore = programs.size();
    if (before && *before) {
        beforeCatalog.emplace(std::string(before) + "/plugins", plugin::FilePolicy{});
        beforeCatalog->rescan();
        for (const char* name : {"fizz", "fizzbuzz", "fibonacci"}) {
            const auto plugin = beforeCatalog->find(name);
            const uint32_t slots = runtime::ringSlotsFor(plugin->messageSize(), settings.repeat, config::RingRate{}, bpf::possibleCpus());
            RingInstance* xdp = instances.emplace_back(std::make_unique<RingInstance>(*plugin, FIZZ_HOOK_XDP, slots)).get();
            const BenchProgram b = xdp->bench(std::string(name) + " alone, XDP (before)");
            add(b, false);
            const BeforeDispatcher* d =
                beforeDispatchers
                    .emplace_back(std::make_unique<BeforeDispatcher>(std::string(before) + "/bpf/dispatcher.bpf.o", b.progFd))
                    .get();
            add({std::string(name) + " + XDP dispatcher 0%, no chain (before)", d->fd(), b.drain, b.dropped}, false);
        }
    }

    const auto figures = benchPrograms(programs, settings);
    const double xdpFloorNs = figures[0].nsPerPacket, tcFloorNs = figures[1].nsPerPacket;
    std::printf("%-46s %10s %13s %13s %9s\n", "program", "ns/packet", "spread", "over floor", "x floor");
    for (size_t i = 0; i < figures.size(); ++i) {
        const auto& f = figures[i];
        const double floorNs = onTc[i] ? tcFloorNs : xdpFloorNs;
        std::printf("%-46s %10.1f %6.1f..%-6.1f %+10.1f ns %+8.2fx%s\n", f.label.c_str(), f.nsPerPacket, f.minNs,
                    f.maxNs, f.nsPerPacket - floorNs, (f.nsPerPacket - floorNs) / floorNs,
                    onTc[i] ? "  (tc floor)" : "");
    }
    std::printf("\nXDP floor %.1f ns, tc floor %.1f ns (%.2fx the XDP floor: the skb a tc test run builds)\n",
                xdpFloorNs, tcFloorNs, tcFloorNs / xdpFloorNs);
    // Per plugin: 2 instances, then 5 dispatcher shapes, after the two floors.
    for (size_t base = 2; base + 7 <= firstBefore; base += 7) {
        const auto& alone = figures[base];
        const auto& asTc = figures[base + 1];
        const auto& tcPath = figures[base + 2];
        const auto& plain = figures[base + 4];
        const auto& chain = figures[base + 5];
        const double classifierXdp = alone.nsPerPacket - xdpFloorNs;
        std::printf("%s: classify on XDP %+.1f ns over its floor; as a tc program %+.1f ns over the tc floor; the tc "
                    "path (dispatcher + classifier) %+.1f ns over the tc floor, the dispatcher %+.1f ns "
                    "(%+.2fx the tc floor) over the classifier alone on tc; the chain hop %+.1f ns (%+.2fx the XDP "
                    "floor) over the classifier alone, %+.1f ns over the plain dispatcher\n",
                    alone.label.substr(0, alone.label.find(' ')).c_str(), classifierXdp, asTc.nsPerPacket - tcFloorNs,
                    tcPath.nsPerPacket - tcFloorNs, tcPath.nsPerPacket - asTc.nsPerPacket,
                    (tcPath.nsPerPacket - asTc.nsPerPacket) / tcFloorNs, chain.nsPerPacket - alone.nsPerPacket,
                    (chain.nsPerPacket - alone.nsPerPacket) / xdpFloorNs, chain.nsPerPacket - plain.nsPerPacket);
    }
    // This build's XDP path against the other build's, plugin by plugin.
    for (size_t i = 0; firstBefore + 2 * i + 1 < figures.size(); ++i) {
        const auto& now = figures[2 + 7 * i];
        const auto& nowDispatcher = figures[2 + 7 * i + 4];
        const auto& then = figures[firstBefore + 2 * i];
        const auto& thenDispatcher = figures[firstBefore + 2 * i + 1];
        std::printf("%s on XDP, this build against the one before: alone %+.2f ns (%+.3fx floor), behind the "
                    "dispatcher at 0%% %+.2f ns (%+.3fx floor)\n",
                    now.label.substr(0, now.label.find(' ')).c_str(), now.nsPerPacket - then.nsPerPacket,
                    (now.nsPerPacket - then.nsPerPacket) / xdpFloorNs, nowDispatcher.nsPerPacket - thenDispatcher.nsPerPacket,
                    (nowDispatcher.nsPerPacket - thenDispatcher.nsPerPacket) / xdpFloorNs);
    }
    return 0;
}
