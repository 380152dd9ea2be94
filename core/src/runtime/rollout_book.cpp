#include "runtime/rollout_book.hpp"

namespace fizzhost::runtime {

RolloutBook RolloutBook::next(const std::vector<config::Interface>& interfaces, RolloutClock::time_point now) const {
    RolloutBook out;
    for (const auto& ifc : interfaces) {
        if (!ifc.rollout || !ifc.rollout->plan) continue;
        auto it = entries_.find(ifc.name);
        if (it != entries_.end() && it->second.configured.classifier == ifc.classifier &&
            it->second.configured.rollout == ifc.rollout) {
            Entry kept = it->second;
            kept.configured = ifc;  // positions may have moved; the table is the same
            kept.started = false;
            out.entries_.emplace(ifc.name, std::move(kept));
            continue;
        }
        out.entries_.emplace(ifc.name, Entry{ifc, std::make_shared<RolloutController>(*ifc.rollout->plan, now), true});
    }
    return out;
}

config::Interface RolloutBook::effective(const config::Interface& configured) const {
    const Entry* e = find(configured.name);
    if (!e || !configured.rollout || !configured.rollout->plan) return configured;
    config::Interface ifc = configured;
    switch (e->controller->stage()) {
    case RolloutStage::Shadow:
        // Every frame meets both variants; every event is the baseline's (and the candidate's too,
        // as "shadow", with shadow_events).
        ifc.rollout->mode = config::RolloutMode::Shadow;
        ifc.rollout->percent = 0;
        break;
    case RolloutStage::Step:
    case RolloutStage::Complete:
        ifc.rollout->mode = config::RolloutMode::Split;
        ifc.rollout->shadowEvents = false;  // a split writes both variants' events anyway
        ifc.rollout->percent = e->controller->percent();
        break;
    case RolloutStage::RolledBack: ifc.rollout.reset(); break;
    case RolloutStage::Promoted:
        ifc.classifier = configured.rollout->candidate;
        ifc.classifierAt = configured.candidateAt;
        ifc.rollout.reset();
        break;
    }
    return ifc;
}

RolloutBook::Entry* RolloutBook::find(const std::string& iface) {
    auto it = entries_.find(iface);
    return it == entries_.end() ? nullptr : &it->second;
}

const RolloutBook::Entry* RolloutBook::find(const std::string& iface) const {
    auto it = entries_.find(iface);
    return it == entries_.end() ? nullptr : &it->second;
}

}  // namespace fizzhost::runtime
