#include "runtime/rollout/rollout_book.hpp"

#include <fmt/format.h>

#include <optional>

namespace fizzhost::runtime {
namespace {

// What identifies a plan for resuming it: every value of the interface's classifier and rollout
// table that the host acts on.
std::string tableIdentity(const config::Interface& c) {
    const config::Rollout& r = *c.rollout;
    const config::RolloutPlan& p = *r.plan;
    auto opt = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(); };
    nlohmann::json expected = nlohmann::json::array();
    for (const auto& cell : r.expected) expected.push_back(cell.text());
    return nlohmann::json{{"classifier", c.classifier},
                          {"candidate", r.candidate},
                          {"shadow_events", r.shadowEvents},
                          {"cost_sample_period", opt(r.costSamplePeriod)},
                          {"steps", p.steps},
                          {"step_seconds", p.stepSeconds},
                          {"shadow_seconds", p.shadowSeconds},
                          {"min_samples", p.minSamples},
                          {"promote", p.promote},
                          {"max_slowdown", opt(p.gates.maxSlowdown)},
                          {"max_drop_rate", opt(p.gates.maxDropRate)},
                          {"max_undecodable_rate", opt(p.gates.maxUndecodableRate)},
                          {"max_disagreement", opt(p.gates.maxDisagreement)},
                          {"max_unexpected", opt(p.gates.maxUnexpected)},
                          {"confidence", p.confidence},
                          {"expected", expected}}
        .dump();
}

}  // namespace

nlohmann::json RolloutBook::progress(const std::string& iface) const {
    const Entry* e = find(iface);
    if (!e) return nullptr;
    const RolloutController& c = *e->controller;
    return {{"table", tableIdentity(e->configured)},
            {"stage", std::string(toString(c.stage()))},
            {"step", c.stepIndex()},
            {"reason", c.reason()}};
}

std::string RolloutBook::resume(const std::string& iface, const nlohmann::json& progress, RolloutClock::time_point now) {
    Entry* e = find(iface);
    if (!e || !progress.is_object()) return "";
    try {
        if (progress.at("table").get<std::string>() != tableIdentity(e->configured)) return "";
        const auto stage = stageNamed(progress.at("stage").get<std::string>());
        const size_t step = progress.at("step").get<size_t>();
        if (!stage || step >= e->controller->plan().steps.size()) return "";
        const std::string reason = progress.value("reason", std::string());
        e->controller->resume(*stage, step, reason, now);
        e->started = false;
        e->resumed = true;
        const unsigned percent = e->controller->plan().steps[step];
        return fmt::format("rollout resumed where the previous host left it: {}{}", toString(*stage),
                           *stage == RolloutStage::Step ? fmt::format(" {} ({}%)", step + 1, percent)
                           : *stage == RolloutStage::Shadow ? std::string()
                                                            : " (" + reason + ")");
    } catch (const nlohmann::json::exception&) {
        return "";
    }
}

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
