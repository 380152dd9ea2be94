#include "runtime/rollout/variant_placement.hpp"

#include <fizz/dispatcher.h>

namespace fizzhost::runtime {
namespace {

bool shadowMode(const config::Interface& ifc) {
    return ifc.rollout && ifc.rollout->mode == config::RolloutMode::Shadow;
}

}  // namespace

VariantPlacement placementOf(const config::Interface& ifc, uint32_t slot) {
    VariantPlacement p;
    p.shadow = shadowMode(ifc);
    if (slot == FIZZ_VARIANT_BASELINE) {
        p.name = "baseline";
    } else {
        p.name = p.shadow ? "shadow" : "candidate";
        p.deliver = !p.shadow || ifc.rollout->shadowEvents;
        p.shadowCandidate = p.shadow;
    }
    return p;
}

bool fits(const MessageSource& source, const VariantPlacement& placement) {
    return source.classifier().shadowVariant() == placement.shadow && source.delivers() == placement.deliver &&
           source.shadows() == placement.shadowCandidate;
}

std::shared_ptr<const UniqueFd> decisionMapFor(const config::Interface& ifc, const Dispatcher* running) {
    if (!shadowMode(ifc)) return nullptr;
    if (running && running->shadow()) return running->decisionMap();
    return Dispatcher::createDecisionMap();
}

}  // namespace fizzhost::runtime
