#include "runtime/dispatcher.hpp"

#include "bpf/map.hpp"
#include "bpf/pin.hpp"
#include "util/error.hpp"

#include <fizz/dispatcher.h>
#include <linux/bpf.h>

#include <span>

extern "C" {
extern const unsigned char fizzhost_dispatcher_object[];
extern const unsigned char fizzhost_dispatcher_object_end[];
}

namespace fizzhost::runtime {

std::unique_ptr<Dispatcher> Dispatcher::load() {
    const std::span<const unsigned char> elf(fizzhost_dispatcher_object,
                                             size_t(fizzhost_dispatcher_object_end - fizzhost_dispatcher_object));
    std::unique_ptr<Dispatcher> d(new Dispatcher());
    d->object_.emplace(bpf::Object::openMemory(elf, FIZZ_DISPATCHER_PROG));
    d->object_->load();
    auto program = d->object_->findProgram(FIZZ_DISPATCHER_PROG);
    auto variants = d->object_->findMap(FIZZ_MAP_VARIANTS);
    auto split = d->object_->findSectionMap(FIZZ_DISPATCHER_SPLIT_SECTION);
    if (!program || !variants || !split)
        throw Error(std::string("dispatcher: the embedded object lacks program '" FIZZ_DISPATCHER_PROG "', map '"
                                FIZZ_MAP_VARIANTS "' or section '" FIZZ_DISPATCHER_SPLIT_SECTION "'"),
                    ENOENT);
    // setPercent() writes the section whole: it must hold fizz_split alone.
    if (split->valueSize() != sizeof(uint64_t))
        throw Error("dispatcher: section '" FIZZ_DISPATCHER_SPLIT_SECTION "' holds " + std::to_string(split->valueSize()) +
                        " bytes, expected the 8-byte split threshold alone",
                    EINVAL);
    d->programFd_ = program->fd();
    d->variantsFd_ = variants->fd();
    d->splitFd_ = split->fd();
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

uint32_t Dispatcher::slotFor(uint32_t srcAddr, unsigned percent) {
    return fizz_dispatch_variant(srcAddr, fizz_split_threshold(percent));
}

}  // namespace fizzhost::runtime
