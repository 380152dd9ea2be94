#include "support/hook_programs.hpp"

#include "bpf/hook_load.hpp"
#include "bpf/map.hpp"
#include "bpf/queue_reader.hpp"
#include "plugin/catalog.hpp"
#include "util/error.hpp"

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <fstream>
#include <iterator>
#include <span>

extern "C" {
extern const unsigned char fizzhost_dispatcher_object[];
extern const unsigned char fizzhost_dispatcher_object_end[];
}

namespace fizzhost::test {
namespace {

std::string where(const plugin::Plugin& p) { return "plugin '" + p.name() + "' (" + p.path().string() + ")"; }

bpf::Object openPlugin(const plugin::Plugin& p) { return bpf::Object::openMemory(p.bpfObject(), p.name()); }

}  // namespace

HookClassifier::HookClassifier(std::shared_ptr<const plugin::Plugin> plugin, fizz_hook hook, int decisionMapFd)
    : plugin_(std::move(plugin)), object_(openPlugin(*plugin_)), hook_(hook) {
    auto program = object_.findProgram(plugin_->program());
    if (!program) throw Error(where(*plugin_) + ": no program '" + plugin_->program() + "'", ENOENT);
    bpf::setProgramHook(*program, hook);
    const fizz_prog_config cfg{FIZZ_TRANSPORT_QUEUE, 0, 0, decisionMapFd >= 0 ? 1u : 0u, uint32_t(hook)};
    bpf::setProgConfig(object_, cfg, where(*plugin_));
    object_.findMap(plugin_->messageMap())->setMaxEntries(4096);
    auto regions = object_.findMap(FIZZ_MAP_REGIONS);
    if (!regions) throw Error(where(*plugin_) + ": no map '" FIZZ_MAP_REGIONS "'", ENOENT);
    regions->setMaxEntries(bpf::possibleCpus());  // headers only: counters, no slots
    if (decisionMapFd >= 0) object_.findMap(FIZZ_MAP_DECISION)->reuseFd(decisionMapFd);
    object_.load();
    programFd_ = program->fd();
    queueFd_ = object_.findMap(plugin_->messageMap())->fd();
    regionsFd_ = regions->fd();
}

std::vector<std::vector<uint8_t>> HookClassifier::drainRaw() {
    std::vector<std::vector<uint8_t>> out;
    bpf::QueueReader reader(queueFd_, plugin_->messageSize());
    reader.drain(SIZE_MAX, [&](const void* data, uint32_t size) {
        const auto* b = static_cast<const uint8_t*>(data);
        out.emplace_back(b, b + size);
    });
    return out;
}

std::vector<fizzhost_event> HookClassifier::drain() {
    std::vector<fizzhost_event> out;
    for (const auto& m : drainRaw()) {
        fizzhost_event e{};
        if (plugin_->decode(m.data(), uint32_t(m.size()), e) == 0) out.push_back(e);
    }
    return out;
}

uint64_t HookClassifier::packets() const {
    std::vector<fizz_region_header> regions(bpf::possibleCpus());
    uint64_t total = 0;
    for (uint32_t cpu = 0; cpu < regions.size(); ++cpu) {
        fizz_region_header h{};
        if (bpf_map_lookup_elem(regionsFd_, &cpu, &h) != 0) throwErrno("read the regions", errno);
        total += h.counters.packets;
    }
    return total;
}

HookDispatcher::HookDispatcher(const HookDispatcherOptions& opts)
    : object_(bpf::Object::openMemory(
          std::span<const unsigned char>(fizzhost_dispatcher_object,
                                         size_t(fizzhost_dispatcher_object_end - fizzhost_dispatcher_object)),
          FIZZ_DISPATCHER_PROG)) {
    auto program = object_.findProgram(FIZZ_DISPATCHER_PROG);
    auto config = object_.findSectionMap(FIZZ_DISPATCHER_CONFIG_SECTION);
    if (!program || !config || config->valueSize() != sizeof(fizz_dispatch_config))
        throw Error("dispatcher: the embedded object lacks its program or its configuration", ENOENT);
    const fizz_dispatch_config cfg{opts.samplePeriod, opts.decisionMapFd >= 0 ? 1u : 0u, uint32_t(opts.hook),
                                   opts.chain ? 1u : 0u};
    config->setInitialValue(&cfg, sizeof cfg);
    bpf::setProgramHook(*program, opts.hook);
    if (opts.decisionMapFd >= 0) object_.findMap(FIZZ_MAP_DECISION)->reuseFd(opts.decisionMapFd);
    object_.load();
    programFd_ = program->fd();
    variantsFd_ = object_.findMap(FIZZ_MAP_VARIANTS)->fd();
    splitFd_ = object_.findSectionMap(FIZZ_DISPATCHER_SPLIT_SECTION)->fd();
    statsFd_ = object_.findMap(FIZZ_MAP_DISPATCH_STATS)->fd();
    profile_ = bpf::tailCallProfile(programFd_);
}

void HookDispatcher::setSlot(uint32_t slot, int progFd) {
    bpf::insertTailCallTarget(variantsFd_, slot, progFd, profile_, "dispatcher: slot " + std::to_string(slot));
}

void HookDispatcher::setPercent(unsigned percent) {
    const uint32_t key = 0;
    const uint64_t value = fizz_split_threshold(percent);
    bpf::updateElem(splitFd_, &key, &value, "dispatcher: set the split");
}

std::array<fizz_variant_cost, FIZZ_VARIANTS> HookDispatcher::costs() const {
    std::vector<fizz_dispatch_stats> perCpu(bpf::possibleCpus());
    bpf::lookupPerCpu(statsFd_, 0, perCpu.data());
    std::array<fizz_variant_cost, FIZZ_VARIANTS> out{};
    for (const auto& cpu : perCpu)
        for (size_t v = 0; v < out.size(); ++v) {
            out[v].runs += cpu.cost[v].runs;
            out[v].ns += cpu.cost[v].ns;
        }
    return out;
}

bool skbTestRunRefuses(const std::vector<uint8_t>& frame) {
    if (frame.size() < 14) return true;
    const unsigned proto = unsigned(frame[12]) << 8 | frame[13];
    return (proto == 0x0800 && frame.size() < 14 + 20) || (proto == 0x86dd && frame.size() < 14 + 40);
}

bpf::Object openTestObject(const std::string& file) {
    const std::string path = std::string(FIZZHOST_TEST_BPF_DIR) + "/" + file;
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error("test BPF object '" + path + "' cannot be read", ENOENT);
    const std::vector<unsigned char> elf{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    const std::string stem = file.substr(0, file.find('.'));
    return bpf::Object::openMemory(elf, stem);
}

std::shared_ptr<const plugin::Plugin> findPlugin(const std::string& name, const std::string& dir) {
    plugin::Catalog catalog(dir, plugin::FilePolicy{});
    catalog.rescan();
    return catalog.find(name);
}

}  // namespace fizzhost::test
