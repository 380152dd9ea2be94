// Committing one interface's prepared reload: one kernel operation, then the old state retired.
#include "runtime/reload/reload_plan.hpp"

#include "bpf/pin.hpp"
#include "bpf/sync.hpp"
#include "runtime/attachment/hook_attach.hpp"
#include "util/error.hpp"
#include "util/failpoint.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <span>
#include <utility>

namespace fizzhost::runtime {
namespace {

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

std::string describeVersion(const MessageSource* s) {
    if (!s) return "none";
    return s->classifier().plugin().name() + " " + s->classifier().plugin().version();
}

}  // namespace

std::unique_ptr<Attachment> commitReload(const ReloadContext& ctx, ReloadPlan& plan) {
    const auto t0 = Clock::now();
    std::vector<std::shared_ptr<MessageSource>> added;
    for (auto* s : {&plan.newBaseline, &plan.newCandidate})
        if (*s) {
            ctx.pump.add(*s);  // drained from the first packet on
            added.push_back(*s);
        }
    auto undo = [&] {
        for (auto& s : added) ctx.pump.retire(s);
    };
    ctx.phases.mark("pump add");

    if (plan.fresh) {
        Attachment& a = *plan.fresh;
        a.baseline = plan.newBaseline;
        a.candidate = plan.newCandidate;
        a.dispatcher = std::move(plan.newDispatcher);
        try {
            if (a.link) {
                // A link kept from pinned state the start could not adopt: never detached, so no
                // frame passes unclassified; the configured program takes it over.
                UniqueFd running = bpf::programById(a.link.programId());
                a.link.update(a.attachedProgramFd(), running.get());
            } else {
                attachHook(a);  // XDP (never over a foreign program) or tc ingress at its place
            }
        } catch (...) {
            undo();
            throw;
        }
        spdlog::info("interface '{}': attached {}{} ({}{}, link id {}, program id {}) in {:.1f} ms", a.cfg.name,
                     describeVersion(a.baseline.get()),
                     a.candidate ? fmt::format(" with candidate {} {}", describeVersion(a.candidate.get()),
                                               a.dispatcher->describeShare())
                                 : "",
                     describeHook(a), a.dispatcher ? a.dispatcher->describeChain() : "", a.link.id(), a.link.programId(),
                     msSince(t0));
        return std::move(plan.fresh);
    }

    Attachment& a = *plan.current;
    if (!plan.changesSomething()) {
        a.cfg = plan.cfg;
        return nullptr;
    }
    const uint32_t oldProgramId = a.link.programId();
    const std::string before = describeVersion(a.baseline.get()) +
                               (a.candidate ? " + candidate " + describeVersion(a.candidate.get()) +
                                                  (a.dispatcher ? " " + a.dispatcher->describeShare() : "")
                                            : "");
    // The intent: before the link runs a new state, the pinned record names it (pending).
    auto intent = [&](const MessageSource* base, const MessageSource* cand, const Dispatcher* d) {
        if (ctx.recordIntent) ctx.recordIntent(a, base, cand, d);
    };
    try {
        if (!added.empty()) failpoint(failpoints::kSourcesAdded);
        const MessageSource* nextBase = (plan.newBaseline ? plan.newBaseline : a.baseline).get();
        if (plan.newDispatcher) {
            // Entering a rollout or changing its variants: the new dispatcher, already pointing at
            // both, takes the link from the program it runs now (the old dispatcher or the baseline).
            intent(nextBase, (plan.newCandidate ? plan.newCandidate : a.candidate).get(), plan.newDispatcher.get());
            failpoint(failpoints::kBeforeLinkUpdate);
            a.link.update(plan.newDispatcher->programFd(), a.attachedProgramFd());
        } else if (plan.leaveRollout) {
            auto& base = plan.newBaseline ? plan.newBaseline : a.baseline;
            intent(nextBase, nullptr, nullptr);
            failpoint(failpoints::kBeforeLinkUpdate);
            a.link.update(base->classifier().programFd(), a.dispatcher->programFd());
        } else if (a.dispatcher) {
            // Staying in a rollout with the same variants: the split is one map write.
            if (plan.newPercent) {
                failpoint(failpoints::kBeforeMapWrite);
                a.dispatcher->setPercent(*plan.newPercent);
            }
        } else if (plan.newBaseline) {
            intent(nextBase, nullptr, nullptr);
            failpoint(failpoints::kBeforeLinkUpdate);
            a.link.update(plan.newBaseline->classifier().programFd(), a.baseline->classifier().programFd());
        }
    } catch (...) {
        undo();
        throw;
    }
    crashpoint(failpoints::kAfterLinkUpdate);
    const double commitMs = msSince(t0);
    ctx.phases.mark("link update");

    // What the commit replaced waits in the plan for retireCommitted(), after the in-flight wait.
    std::vector<std::shared_ptr<MessageSource>>& retired = plan.retiring;
    std::unique_ptr<Dispatcher>& oldDispatcher = plan.oldDispatcher;
    const bool newDispatcher = plan.newDispatcher != nullptr;  // moved out below
    if (plan.newBaseline) retired.push_back(std::exchange(a.baseline, plan.newBaseline));
    if (plan.newCandidate) {
        if (a.candidate) retired.push_back(a.candidate);
        a.candidate = plan.newCandidate;
    }
    if (plan.newDispatcher) oldDispatcher = std::exchange(a.dispatcher, std::move(plan.newDispatcher));
    if (plan.leaveRollout) {
        if (a.candidate) retired.push_back(std::exchange(a.candidate, nullptr));  // none: a chain's dispatcher
        if (!newDispatcher) oldDispatcher = std::move(a.dispatcher);  // else a chain's new dispatcher stays
    }
    a.cfg = plan.cfg;

    const std::string after = describeVersion(a.baseline.get()) +
                              (a.candidate ? " + candidate " + describeVersion(a.candidate.get()) +
                                                 " " + a.dispatcher->describeShare()
                                           : "");
    spdlog::info("interface '{}': {} -> {} (link id {} kept, program id {} -> {}); committed in {:.2f} ms", a.cfg.name,
                 before, after, a.link.id(), oldProgramId, a.link.programId(), commitMs);
    return nullptr;
}

// Nothing may still run the replaced programs when their queues are emptied for the last time: one
// wait for programs in flight covers every commit made before it (the grace period the kernel
// waits for is the same for all), so a reload of N interfaces waits once, not N times. Committed is
// committed: if the wait itself fails, the old state is still retired (a message a program in
// flight writes after the last drain would be lost), never left undrained.
void retireCommitted(const ReloadContext& ctx, std::span<const std::unique_ptr<ReloadPlan>> plans) {
    const auto t0 = Clock::now();
    size_t sources = 0;
    for (const auto& plan : plans) sources += plan->retiring.size() + (plan->oldDispatcher ? 1 : 0);
    if (!sources) return;
    try {
        bpf::waitForInflightPrograms();
    } catch (const Error& e) {
        spdlog::warn("reload: {}", e.what());
    }
    ctx.phases.mark("in-flight wait");
    for (const auto& plan : plans) {
        for (const auto& s : plan->retiring) {
            ctx.pump.retire(s);
            crashpoint(failpoints::kDuringRetire);
            ctx.uncounted.check(plan->cfg.name, *s);
            plan->current->retired.add(*s);  // final: nothing runs it any more and its messages are delivered
        }
        plan->retiring.clear();
        plan->oldDispatcher.reset();
    }
    ctx.phases.mark("drain old");
    spdlog::debug("reload: old state of {} interface(s) drained in {:.2f} ms after one in-flight wait", plans.size(),
                  msSince(t0));
}

}  // namespace fizzhost::runtime
