// Preparing one interface's reload: everything that can fail happens here, before the commit.
#include "runtime/reload/reload_plan.hpp"

#include "runtime/instance/classifier.hpp"
#include "runtime/reload/resolve.hpp"
#include "runtime/rollout/variant_placement.hpp"
#include "util/error.hpp"
#include "util/failpoint.hpp"

#include <fizz/dispatcher.h>
#include <spdlog/spdlog.h>

namespace fizzhost::runtime {
namespace {

fizz_hook hookOf(const config::Interface& ifc) { return ifc.hook == config::Hook::Tc ? FIZZ_HOOK_TC : FIZZ_HOOK_XDP; }

// A link stays on its hook and, at tc ingress, in its place: neither can move atomically.
void requireSameHook(const std::string& where, const config::Interface& now, const config::Interface& next) {
    if (now.hook != next.hook)
        throw Error(where + ": changing hook from " + std::string(config::toString(now.hook)) + " to " +
                        std::string(config::toString(next.hook)) +
                        " cannot be done atomically; restart fizzhost to apply it",
                    EINVAL);
    if (now.hook == config::Hook::Tc && now.place != next.place)
        throw Error(where + ": moving the classifier at tc ingress from " + config::describe(now.place) + " to " +
                        config::describe(next.place) + " cannot be done atomically; restart fizzhost to apply it",
                    EINVAL);
}

}  // namespace

std::unique_ptr<ReloadPlan> prepareReload(const ReloadContext& ctx, const config::Interface& ifc, Attachment* current,
                                          bool freshPrograms) {
    auto plan = std::make_unique<ReloadPlan>();
    plan->cfg = ifc;
    plan->current = current;
    const std::string where = "interface '" + ifc.name + "'";
    try {
        if (current && current->cfg.mode != ifc.mode)
            throw Error(where + ": changing mode from " + std::string(config::toString(current->cfg.mode)) + " to " +
                            std::string(config::toString(ifc.mode)) +
                            " cannot be done atomically; restart fizzhost to apply it",
                        EINVAL);
        if (current) requireSameHook(where, current->cfg, ifc);
        if (!current) {
            plan->fresh = std::make_unique<Attachment>();
            plan->fresh->cfg = ifc;
            plan->fresh->ifindex = interfaceIndex(ifc.name);
        }
        const auto decisions = decisionMapFor(ifc, current ? current->dispatcher.get() : nullptr);  // shadow mode only
        auto load = [&](const std::string& name, uint32_t slot) {
            auto plugin = ctx.catalog.find(name);
            // Other bytes under the name and version that run now: a rebuild nobody versioned.
            // It is loaded (the file is what the config names), and said with both hashes.
            const auto& running = !current ? nullptr : slot == FIZZ_VARIANT_BASELINE ? current->baseline : current->candidate;
            if (running) {
                const plugin::Plugin& was = running->classifier().plugin();
                if (was.name() == plugin->name() && was.version() == plugin->version() && was.sha256() != plugin->sha256())
                    spdlog::warn("{}: {} {}: the module file changed under the same version (sha256 {}... -> {}...); "
                                 "loading the new bytes",
                                 where, plugin->name(), plugin->version(), was.sha256().substr(0, 12),
                                 plugin->sha256().substr(0, 12));
            }
            auto opts = classifierOptions(ctx.cfg);
            opts.hook = hookOf(ifc);
            if (decisions) opts.decisionMapFd = decisions->get();
            if (ctx.cfg.output.spareRegions != config::SpareRegions::Off) opts.spares = &ctx.spares;
            const VariantPlacement placed = placementOf(ifc, slot);
            ctx.phases.mark("find plugin");
            auto classifier = Classifier::load(plugin, opts);
            ctx.phases.mark("load program");
            auto source = std::make_shared<MessageSource>(
                std::move(classifier), EventOrigin{ifc.name, plugin->name(), plugin->version(), placed.name},
                ctx.writer, ctx.pump.decoders(), placed.deliver, placed.shadowCandidate);
            ctx.phases.mark("source setup");  // its regions mapped, its event template built
            failpoint(failpoints::kInstanceLoaded);
            return source;
        };
        // The running instance, if it can stay: same plugin file, loaded for this rollout mode.
        auto runningPlugin = [&](const std::shared_ptr<MessageSource>& s, uint32_t slot) {
            return s && fits(*s, placementOf(ifc, slot)) ? s->classifier().pluginPtr() : nullptr;
        };

        // Baseline: a new instance when the plugin (or its file) changed, or settings demand it.
        auto basePlugin = findPlugin(ctx.catalog, ctx.cfg, ifc, ifc.classifier, ifc.classifierAt);
        if (!current || freshPrograms || runningPlugin(current->baseline, FIZZ_VARIANT_BASELINE) != basePlugin) {
            // The guard judges new code: the same file loaded again (other settings, a rollout
            // stage's placement) was judged when it came.
            if (current && ctx.guard && current->baseline->classifier().pluginPtr() != basePlugin) {
                ctx.guard(*current->baseline->classifier().pluginPtr(), *basePlugin);
                ctx.phases.mark("guard");
            }
            plan->newBaseline = load(ifc.classifier, FIZZ_VARIANT_BASELINE);
        }
        if (ifc.rollout) {
            auto candPlugin = findPlugin(ctx.catalog, ctx.cfg, ifc, ifc.rollout->candidate, ifc.candidateAt);
            requireDistinct(where, ifc, *basePlugin, *candPlugin);
            bool needCandidate = !current || freshPrograms ||
                                 runningPlugin(current->candidate, FIZZ_VARIANT_CANDIDATE) != candPlugin;
            if (needCandidate) {
                if (ctx.guard && !(current && current->candidate && current->candidate->classifier().pluginPtr() == candPlugin)) {
                    ctx.guard(current ? *current->baseline->classifier().pluginPtr() : *basePlugin, *candPlugin);
                    ctx.phases.mark("guard");
                }
                plan->newCandidate = load(ifc.rollout->candidate, FIZZ_VARIANT_CANDIDATE);
            }
        }
        // A dispatcher runs during a rollout; on XDP whenever a program is chained behind the
        // classifier (`then`): it hands every classified frame on to it; and always at tc ingress,
        // where a classifier's own verdict (XDP_PASS, 2) would read as TCX_DROP: the dispatcher
        // calls it and returns TCX_NEXT.
        if (ifc.rollout || !ifc.then.empty() || ifc.hook == config::Hook::Tc) {
            const uint32_t period = ifc.rollout ? costSamplePeriod(*ifc.rollout) : FIZZ_COST_SAMPLE_PERIOD;
            // Entering a rollout, or changing a variant inside one, or the chain: a complete new
            // dispatcher that the commit swaps in with one bpf_link_update. Updating the running
            // one slot by slot would be several kernel writes, and a failure half-way would leave
            // it running a program whose messages nobody drains any more. A percent alone is one
            // map write.
            if (!current || !current->dispatcher || plan->newBaseline || plan->newCandidate ||
                current->dispatcher->samplePeriod() != period || current->dispatcher->chainPath() != ifc.then ||
                (current->candidate && !ifc.rollout)) {
                plan->newDispatcher = Dispatcher::load({period, decisions, hookOf(ifc), ifc.then});
                auto& base = plan->newBaseline ? plan->newBaseline : current->baseline;
                plan->newDispatcher->setVariant(FIZZ_VARIANT_BASELINE, base->classifier().programFd());
                if (ifc.rollout) {
                    auto& cand = plan->newCandidate ? plan->newCandidate : current->candidate;
                    plan->newDispatcher->setVariant(FIZZ_VARIANT_CANDIDATE, cand->classifier().programFd());
                }
                plan->newDispatcher->setPercent(ifc.rollout ? ifc.rollout->percent : 0);
                // Leaving a rollout behind a chain: the new dispatcher has no candidate.
                plan->leaveRollout = current && current->candidate && !ifc.rollout;
                failpoint(failpoints::kDispatcherBuilt);
                ctx.phases.mark("load dispatcher");
            } else if (ifc.rollout && current->dispatcher->percent() != ifc.rollout->percent) {
                plan->newPercent = ifc.rollout->percent;
            }
        } else if (current && current->dispatcher) {
            plan->leaveRollout = true;
        }
    } catch (const Error& e) {
        throw Error(placed(ctx.cfg, ifc, e.what()), e.code());
    }
    return plan;
}

}  // namespace fizzhost::runtime
