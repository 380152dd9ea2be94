// The host's side of gated progressive rollouts: sample each rollout's figures, let its controller
// decide, carry the decision out on the attachment, and say so in the log and on the events stream.
// The decision logic itself is runtime/rollout/rollout_controller (no kernel).
#include "runtime/host/host.hpp"

#include "util/error.hpp"

#include <spdlog/spdlog.h>

namespace fizzhost::runtime {
namespace {

VariantFigures figuresOf(const MessageSource& s) {
    VariantFigures f;
    f.programId = s.classifier().programId();
    // The decoder's count first: undecodable never runs ahead of what the program emitted.
    f.undecodable = s.undecodable();
    const fizz_counters c = s.counters();
    f.emitted = c.emitted;
    f.dropped = c.dropped;
    return f;
}

}  // namespace

void Host::announce(const std::string& iface, const RolloutDecision& d) {
    const std::string line = describe(d);
    if (d.kind == DecisionKind::Rollback)
        spdlog::warn("interface '{}': rollout {}", iface, line);
    else
        spdlog::info("interface '{}': rollout {}", iface, line);
    if (!writer_ || !pump_) return;
    writer_->writeRecord(cfg_.output.format == config::EventFormat::Json ? decisionRecord(iface, d).dump()
                                                                         : decisionText(iface, d));
    pump_->wake();
}

void Host::announceStarts() {
    for (auto& [name, e] : rollouts_.entries()) {
        if (e.resumed) {
            e.resumed = false;  // said when it was resumed
            continue;
        }
        if (e.started) announce(name, e.controller->started());
        else if (e.controller->stage() == RolloutStage::Shadow)
            spdlog::info("interface '{}': rollout table unchanged: the shadow stage goes on", name);
        else if (e.controller->stage() == RolloutStage::Step)
            spdlog::info("interface '{}': rollout table unchanged: step {} ({}%) goes on", name,
                         e.controller->status(RolloutClock::now()).step, e.controller->percent());
        else
            spdlog::info("interface '{}': rollout table unchanged: stays {} ({})", name,
                         toString(e.controller->stage()), e.controller->reason());
        e.started = false;
    }
}

bool Host::tickRollouts() {
    std::lock_guard lock(mutex_);
    if (!pump_) return false;
    bool underWay = false;
    const auto now = RolloutClock::now();
    for (auto& [name, e] : rollouts_.entries()) {
        auto it = attachments_.find(name);
        if (it == attachments_.end()) continue;  // gone: nothing runs to be judged
        try {
            steer(name, *it->second, e, now);
        } catch (const std::exception& ex) {
            spdlog::error("interface '{}': rollout: {}", name, ex.what());
        }
        underWay = underWay || e.controller->stage() == RolloutStage::Step ||
                   e.controller->stage() == RolloutStage::Shadow;
    }
    return underWay;
}

void Host::steer(const std::string& iface, Attachment& a, RolloutBook::Entry& e, RolloutClock::time_point now) {
    RolloutController& ctl = *e.controller;
    // While the stage's change waits to be carried out (it failed and is retried), the kernel runs
    // the previous stage: its figures would judge a stage that is not running. Hold the controller.
    bool progressed = false;  // a decision that moves the plan: the pinned record follows it
    const auto runs = [&](const config::Interface& want) {
        return want.classifier == a.cfg.classifier && want.rollout == a.cfg.rollout;
    };
    if (runs(rollouts_.effective(e.configured)) &&
        (ctl.stage() == RolloutStage::Step || ctl.stage() == RolloutStage::Shadow) && a.candidate && a.dispatcher) {
        RolloutSample s;
        s.at = now;
        s.baseline = figuresOf(*a.baseline);
        s.candidate = figuresOf(*a.candidate);
        // Per-variant cost as the dispatcher timed it (the kernel does not account tail calls),
        // and in shadow mode the compared and disagreeing frames.
        if (const auto f = a.rolloutFigures()) {
            s.dispatcherId = f->dispatcherProgramId;
            s.baseline.runs = f->baseline.runs;
            s.baseline.runNs = f->baseline.ns;
            s.candidate.runs = f->candidate.runs;
            s.candidate.runNs = f->candidate.ns;
            if (f->shadow) {
                s.compared = f->shadow->compared;
                s.disagreed = f->shadow->unexpected;  // expected cells are not held against it
            }
        }
        if (auto d = ctl.tick(s)) {
            announce(iface, *d);
            progressed = d->kind != DecisionKind::Hold;
        }
    }
    // Bring the attachment to what the controller's stage asks for: a percent is one map write,
    // a rollback or a promotion one bpf_link_update (the dispatcher leaves). Leaving the shadow
    // stage for the first step is one bpf_link_update too: shadow mode is frozen into the
    // dispatcher and its variants at load (the split path carries no shadow branch, the variants
    // no decision store), so the step's dispatcher and variants are loaded fresh and the new
    // dispatcher takes the link from the shadow one (expected old program).
    const config::Interface want = rollouts_.effective(e.configured);
    if (runs(want) || now < e.retryAt) {
        if (progressed) savePins(a);  // a move carried out (below) is saved by its commit
        return;
    }
    try {
        apply(want, a);
        if (e.retryAt != RolloutClock::time_point{}) {
            e.retryAt = {};
            ctl.actionCarriedOut();
            spdlog::info("interface '{}': rollout: the {} stage is carried out now; its window opens", iface,
                         toString(ctl.stage()));
        }
    } catch (const Error& ex) {
        e.retryAt = now + std::chrono::seconds(ctl.plan().stepSeconds);
        ctl.actionFailed(ex.what());
        spdlog::error("interface '{}': rollout: could not carry out the {} stage ({}); tried again in {} s", iface,
                      toString(ctl.stage()), ex.what(), ctl.plan().stepSeconds);
    }
}

}  // namespace fizzhost::runtime
