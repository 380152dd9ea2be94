// Committing one interface's prepared reload: one kernel operation, then the old state retired.
#include "runtime/reload/reload_plan.hpp"

#include "bpf/sync.hpp"
#include "runtime/attachment/hook_attach.hpp"
#include "util/error.hpp"
#include "util/failpoint.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
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

// After the commit: nothing may still run the replaced programs when their queues are emptied for
// the last time. Committed is committed: if the wait itself fails, the old state is still retired
// (a message a program in flight writes after the last drain would be lost), never left undrained.
void retire(const ReloadContext& ctx, Attachment& a, const std::vector<std::shared_ptr<MessageSource>>& retired) {
    try {
        bpf::waitForInflightPrograms();
    } catch (const Error& e) {
        spdlog::warn("interface '{}': {}", a.cfg.name, e.what());
    }
    ctx.phases.mark("in-flight wait");
    for (const auto& s : retired) {
        ctx.pump.retire(s);
        ctx.uncounted.check(a.cfg.name, *s);
        a.retired.add(*s);  // final: nothing runs it any more and its messages are delivered
    }
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
            attachHook(a);  // XDP (never over a foreign program) or tc ingress at its place
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
    std::vector<std::shared_ptr<MessageSource>> retired;
    std::unique_ptr<Dispatcher> oldDispatcher;
    try {
        if (!added.empty()) failpoint(failpoints::kSourcesAdded);
        if (plan.newDispatcher) {
            // Entering a rollout or changing its variants: the new dispatcher, already pointing at
            // both, takes the link from the program it runs now (the old dispatcher or the baseline).
            failpoint(failpoints::kBeforeLinkUpdate);
            a.link.update(plan.newDispatcher->programFd(), a.attachedProgramFd());
        } else if (plan.leaveRollout) {
            auto& base = plan.newBaseline ? plan.newBaseline : a.baseline;
            failpoint(failpoints::kBeforeLinkUpdate);
            a.link.update(base->classifier().programFd(), a.dispatcher->programFd());
        } else if (a.dispatcher) {
            // Staying in a rollout with the same variants: the split is one map write.
            if (plan.newPercent) {
                failpoint(failpoints::kBeforeMapWrite);
                a.dispatcher->setPercent(*plan.newPercent);
            }
        } else if (plan.newBaseline) {
            failpoint(failpoints::kBeforeLinkUpdate);
            a.link.update(plan.newBaseline->classifier().programFd(), a.baseline->classifier().programFd());
        }
    } catch (...) {
        undo();
        throw;
    }
    const double commitMs = msSince(t0);
    ctx.phases.mark("link update");

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

    retire(ctx, a, retired);
    oldDispatcher.reset();
    ctx.phases.mark("drain old");

    const std::string after = describeVersion(a.baseline.get()) +
                              (a.candidate ? " + candidate " + describeVersion(a.candidate.get()) +
                                                 " " + a.dispatcher->describeShare()
                                           : "");
    spdlog::info("interface '{}': {} -> {} (link id {} kept, program id {} -> {}); committed in {:.2f} ms, old "
                 "state drained in {:.2f} ms",
                 a.cfg.name, before, after, a.link.id(), oldProgramId, a.link.programId(), commitMs,
                 msSince(t0) - commitMs);
    return nullptr;
}

}  // namespace fizzhost::runtime
