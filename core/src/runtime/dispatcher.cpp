#include "runtime/dispatcher.hpp"

#include "bpf/map.hpp"
#include "bpf/xdp_link.hpp"
#include "util/error.hpp"

#include <fizz/shared.h>

extern "C" {
extern const unsigned char fizzhost_dispatcher_object[];
extern const unsigned char fizzhost_dispatcher_object_end[];
}

namespace fizzhost::runtime {

std::unique_ptr<Dispatcher> Dispatcher::load() {
    std::unique_ptr<Dispatcher> d(new Dispatcher());
    d->object_.emplace(bpf::Object::openMemory(
        {fizzhost_dispatcher_object, size_t(fizzhost_dispatcher_object_end - fizzhost_dispatcher_object)},
        "fizz_dispatch"));
    d->object_->load();
    d->programFd_ = d->object_->findProgram("fizz_dispatch")->fd();
    d->variantsFd_ = d->object_->findMap("fizz_variants")->fd();
    d->splitFd_ = d->object_->findMap("fizz_split")->fd();
    return d;
}

uint32_t Dispatcher::programId() const { return bpf::programId(programFd_); }

void Dispatcher::setVariant(uint32_t slot, int progFd) {
    uint32_t value = uint32_t(progFd);
    bpf::updateElem(variantsFd_, &slot, &value,
                    std::string("dispatcher: install the ") + (slot == FIZZ_SLOT_BASELINE ? "baseline" : "candidate") +
                        " program (tail-call compatible XDP program?)");
}

void Dispatcher::setPercent(unsigned percent) {
    if (percent > 100) throw Error("rollout percent " + std::to_string(percent) + " is not within 0..100", EINVAL);
    uint32_t key = 0;
    uint64_t value = threshold(percent);
    bpf::updateElem(splitFd_, &key, &value, "dispatcher: set the split");
    percent_ = percent;
}

uint32_t Dispatcher::slotFor(uint32_t x, unsigned percent) {
    x ^= x >> 16;
    x *= 0x85ebca6bU;
    x ^= x >> 13;
    x *= 0xc2b2ae35U;
    x ^= x >> 16;
    return uint64_t(x) < threshold(percent) ? FIZZ_SLOT_CANDIDATE : FIZZ_SLOT_BASELINE;
}

}  // namespace fizzhost::runtime
