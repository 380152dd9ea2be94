#include "runtime/rollout/dispatcher.hpp"

#include "bpf/map.hpp"
#include "bpf/hook_load.hpp"
#include "bpf/pin.hpp"
#include "bpf/tail_call.hpp"
#include "bpf/xdp_link.hpp"
#include "util/error.hpp"

#include <fizz/dispatcher.h>
#include <linux/bpf.h>

#include <algorithm>
#include <span>
#include <vector>

extern "C" {
extern const unsigned char fizzhost_dispatcher_object[];
extern const unsigned char fizzhost_dispatcher_object_end[];
}

namespace fizzhost::runtime {

std::unique_ptr<Dispatcher> Dispatcher::load(const DispatcherOptions& opts) {
    const uint32_t period = opts.samplePeriod;
    if ((period & (period - 1)) != 0)
        throw Error("dispatcher: cost sample period " + std::to_string(period) + " is not a power of two", EINVAL);
    const std::span<const unsigned char> elf(fizzhost_dispatcher_object,
                                             size_t(fizzhost_dispatcher_object_end - fizzhost_dispatcher_object));
    std::unique_ptr<Dispatcher> d(new Dispatcher());
    d->object_.emplace(bpf::Object::openMemory(elf, FIZZ_DISPATCHER_PROG));
    auto config = d->object_->findSectionMap(FIZZ_DISPATCHER_CONFIG_SECTION);
    if (!config || config->valueSize() != sizeof(fizz_dispatch_config))
        throw Error("dispatcher: the embedded object's '" FIZZ_DISPATCHER_CONFIG_SECTION
                    "' section does not hold struct fizz_dispatch_config alone",
                    EINVAL);
    if (opts.hook == FIZZ_HOOK_TC && !opts.chainPath.empty())
        throw Error("dispatcher: a chain (then) is XDP's; at tc ingress the programs on the hook run in order", EINVAL);
    const fizz_dispatch_config cfg{period, opts.decisionMap ? 1u : 0u, static_cast<__u32>(opts.hook),
                                   opts.chainPath.empty() ? 0u : 1u};
    config->setInitialValue(&cfg, sizeof cfg);
    if (auto prog = d->object_->findProgram(FIZZ_DISPATCHER_PROG)) bpf::setProgramHook(*prog, opts.hook);
    if (opts.decisionMap) d->object_->findMap(FIZZ_MAP_DECISION)->reuseFd(opts.decisionMap->get());
    d->object_->load();
    auto program = d->object_->findProgram(FIZZ_DISPATCHER_PROG);
    auto variants = d->object_->findMap(FIZZ_MAP_VARIANTS);
    auto split = d->object_->findSectionMap(FIZZ_DISPATCHER_SPLIT_SECTION);
    auto stats = d->object_->findMap(FIZZ_MAP_DISPATCH_STATS);
    auto shadow = d->object_->findMap(FIZZ_MAP_SHADOW);
    if (!program || !variants || !split || !stats || !shadow)
        throw Error(std::string("dispatcher: the embedded object lacks program '" FIZZ_DISPATCHER_PROG "', map '"
                                FIZZ_MAP_VARIANTS "', map '" FIZZ_MAP_DISPATCH_STATS "' or section '"
                                FIZZ_DISPATCHER_SPLIT_SECTION "'"),
                    ENOENT);
    // setPercent() writes the section whole: it must hold fizz_split alone.
    if (split->valueSize() != sizeof(uint64_t))
        throw Error("dispatcher: section '" FIZZ_DISPATCHER_SPLIT_SECTION "' holds " + std::to_string(split->valueSize()) +
                        " bytes, expected the 8-byte split threshold alone",
                    EINVAL);
    d->programFd_ = program->fd();
    d->variantsFd_ = variants->fd();
    d->splitFd_ = split->fd();
    d->statsFd_ = stats->fd();
    d->shadowFd_ = shadow->fd();
    d->decisionMap_ = opts.decisionMap;
    d->samplePeriod_ = period;
    d->hook_ = opts.hook;
    if (!opts.chainPath.empty()) {
        const std::string what = "chain to '" + opts.chainPath.string() + "' (then)";
        const bpf::TailCallProfile profile = bpf::tailCallProfile(d->programFd_);
        d->chain_ = bpf::openChainTarget(opts.chainPath, profile, what);
        bpf::insertTailCallTarget(d->variantsFd_, FIZZ_SLOT_NEXT, d->chain_.get(), profile, what);
        d->chainPath_ = opts.chainPath;
        d->chainProgramId_ = bpf::programId(d->chain_.get());
        d->chainName_ = bpf::describeProgram(d->chain_.get());
    }
    return d;
}

std::unique_ptr<Dispatcher> Dispatcher::adopt(UniqueFd program, UniqueFd variants, UniqueFd split, unsigned percent) {
    const bpf::MapInfo v = bpf::mapInfo(variants.get()), s = bpf::mapInfo(split.get());
    if (v.type != BPF_MAP_TYPE_PROG_ARRAY || s.type != BPF_MAP_TYPE_ARRAY || s.valueSize != sizeof(uint64_t))
        throw Error("dispatcher: the pinned maps are not the dispatcher's '" FIZZ_MAP_VARIANTS "' and split", EINVAL);
    if (percent > 100) throw Error("dispatcher: recorded percent " + std::to_string(percent) + " is not within 0..100", EINVAL);
    std::unique_ptr<Dispatcher> d(new Dispatcher());
    d->programFd_ = program.get();
    d->variantsFd_ = variants.get();
    d->splitFd_ = split.get();
    d->adoptedProgram_ = std::move(program);
    d->adoptedVariants_ = std::move(variants);
    d->adoptedSplit_ = std::move(split);
    d->percent_ = percent;
    return d;
}

void Dispatcher::setVariant(uint32_t slot, int progFd) {
    uint32_t value = uint32_t(progFd);
    bpf::updateElem(variantsFd_, &slot, &value,
                    std::string("dispatcher: install the ") + (slot == FIZZ_VARIANT_BASELINE ? "baseline" : "candidate") +
                        " program (tail-call compatible XDP program?)");
}

void Dispatcher::setPercent(unsigned percent) {
    if (percent > 100) throw Error("rollout percent " + std::to_string(percent) + " is not within 0..100", EINVAL);
    uint32_t key = 0;
    uint64_t value = fizz_split_threshold(percent);
    bpf::updateElem(splitFd_, &key, &value, "dispatcher: set the split");
    percent_ = percent;
}

std::array<VariantCost, FIZZ_VARIANTS> Dispatcher::costs() const {
    std::vector<fizz_dispatch_stats> perCpu(bpf::possibleCpus());
    bpf::lookupPerCpu(statsFd_, 0, perCpu.data());
    std::array<VariantCost, FIZZ_VARIANTS> out{};
    for (const auto& cpu : perCpu)
        for (size_t v = 0; v < out.size(); ++v) {
            out[v].runs += cpu.cost[v].runs;
            out[v].ns += cpu.cost[v].ns;
        }
    return out;
}

std::string Dispatcher::describeChain() const {
    if (chainPath_.empty()) return "";
    return ", then " + chainName_ + " pinned at '" + chainPath_.string() + "'";
}

std::string Dispatcher::describeShare() const {
    return shadow() ? "in shadow mode (every frame)" : "at " + std::to_string(percent_) + "%";
}

std::shared_ptr<const UniqueFd> Dispatcher::createDecisionMap() {
    return std::make_shared<const UniqueFd>(
        bpf::createMap({BPF_MAP_TYPE_PERCPU_ARRAY, FIZZ_MAP_DECISION, sizeof(__u32), sizeof(__u32), 1}));
}

ShadowCounts Dispatcher::shadowCounts() const {
    if (!shadow()) throw Error("dispatcher: shadow figures asked of a dispatcher in split mode", EINVAL);
    std::vector<fizz_shadow_table> perCpu(bpf::possibleCpus());
    bpf::lookupPerCpu(shadowFd_, 0, perCpu.data());
    ShadowCounts out;
    for (const auto& cpu : perCpu)
        for (size_t b = 0; b < FIZZ_DECISIONS; ++b)
            for (size_t c = 0; c < FIZZ_DECISIONS; ++c) {
                out.frames[b][c] += cpu.frames[b][c];
                auto& examples = out.examples[b][c];
                // This CPU kept the first frames of the pair; 0 marks one without an IPv4 source.
                for (uint64_t i = 0; i < std::min<uint64_t>(cpu.frames[b][c], FIZZ_SHADOW_EXAMPLES); ++i) {
                    const uint32_t src = cpu.examples[b][c][i];
                    if (src != 0 && examples.size() < FIZZ_SHADOW_EXAMPLES &&
                        std::find(examples.begin(), examples.end(), src) == examples.end())
                        examples.push_back(src);
                }
            }
    return out;
}

}  // namespace fizzhost::runtime
