#include "runtime/host/host.hpp"

#include "bpf/sync.hpp"
#include "decoder/legacy_describer.hpp"
#include "runtime/instance/classifier.hpp"
#include "runtime/reload/resolve.hpp"
#include "runtime/rollout/dispatcher.hpp"
#include "runtime/rollout/variant_placement.hpp"
#include "util/error.hpp"
#include "util/failpoint.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <set>

namespace fizzhost::runtime {
namespace {

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// The [decoders] settings in force: the config's, with the root from $FIZZHOST_DECODER_ROOT when
// the config names none (the rule the commands that decode follow too).
DecoderSettings decoderSettings(const config::HostConfig& cfg) {
    DecoderSettings s = cfg.decoders;
    if (s.root == DecoderSettings{}.root) s.root = decoder::settingsFromEnvironment().root;
    return s;
}

// ABI 1.0 modules are described by confined workers. Confined (the default), the decoders run in
// workers too and the module's code is never loaded into this process; isolation = "none"
// (trusted plugins) loads it here, where the pump decodes.
plugin::CatalogOptions catalogOptions(const config::HostConfig& cfg, bool insecure) {
    const DecoderSettings s = decoderSettings(cfg);
    return {decoder::legacyDescriber(s, insecure),
            s.isolation == DecoderIsolation::None ? plugin::LoadCode::InProcess : plugin::LoadCode::None};
}

}  // namespace

Host::Host(config::HostConfig config, bool allowInsecurePlugins)
    : cfg_(std::move(config)), cliInsecure_(allowInsecurePlugins),
      insecure_(allowInsecurePlugins || cfg_.allowInsecurePlugins),
      catalog_(cfg_.pluginDir, plugin::FilePolicy::forProcess(insecure_), catalogOptions(cfg_, insecure_)),
      decoders_(std::make_unique<decoder::DecoderService>(decoderSettings(cfg_), insecure_)) {
    // The config file's trust was judged where it was read (config::loadConfig, on its descriptor).
}

Host::~Host() { stop(); }

void Host::start() {
    std::lock_guard lock(mutex_);
    writer_ = std::make_unique<EventWriter>(cfg_.output.events, cfg_.output.format,
                                            OutputFileMode{mode_t(cfg_.output.eventsMode), cfg_.output.eventsGroup},
                                            OutputSettings{std::chrono::milliseconds(cfg_.output.writeTimeoutMs), true});
    // Chroot folders a host that died left behind (none is in use: each running worker's is locked).
    decoders_->sweepStale();
    pump_ = std::make_unique<Pump>(*writer_, *decoders_);
    pump_->start();
    runStats_.settle(cfg_.runTimeStats);
    catalog_.rescan();
    for (const auto& p : catalog_.problems()) spdlog::warn("plugin folder: skipped {}: {}", p.file.string(), p.message);
    std::set<std::string> adopted;
    try {
        RolloutBook rollouts = rollouts_.next(cfg_.interfaces, RolloutClock::now());
        openPins();
        sweepUnconfiguredPins();
        std::vector<std::unique_ptr<ReloadPlan>> plans;
        for (const auto& ifc : cfg_.interfaces) {
            resumeRollout(rollouts, ifc);
            auto [current, freshPrograms] = adoptPinned(ifc);
            if (current) adopted.insert(ifc.name);
            plans.push_back(prepareReload(reloadContext(), rollouts.effective(ifc), current, freshPrograms));
            if (auto kept = keptLinks_.find(ifc.name); kept != keptLinks_.end() && plans.back()->fresh) {
                plans.back()->fresh->link = std::move(kept->second);
                keptLinks_.erase(kept);
            }
        }
        rollouts_ = std::move(rollouts);  // before the commits: each pins its rollout's progress
        for (auto& plan : plans) commit(*plan);
        retireAndRecord(plans);  // an adopted instance a fresh one replaced
        announceStarts();
        settleSpares();
    } catch (...) {
        // What a previous host left stays as the exit policy says; what this one attached goes.
        for (auto& [name, a] : attachments_) {
            if (adopted.count(name)) leave(*a);
            else detach(*a);
        }
        attachments_.clear();
        keptLinks_.clear();
        for (auto& [name, sources] : salvaged_)
            for (auto& s : sources) pump_->retire(s);
        salvaged_.clear();
        pins_.reset();
        pump_->stop();
        throw;
    }
    startLinkWatch();
}

ReloadContext Host::reloadContext() {
    ReloadContext ctx{cfg_, catalog_, guard_, *writer_, *pump_, spares_, phases_, uncounted_, {}};
    if (pins_)
        ctx.recordIntent = [this](const Attachment& a, const MessageSource* base, const MessageSource* cand,
                                  const Dispatcher* d) {
            pins_->saveIntent(a, LiveState{base, cand, d}, rollouts_.progress(a.cfg.name));
        };
    return ctx;
}

void Host::commit(ReloadPlan& plan) {
    if (plan.current && plan.current->off) reattach(*plan.current);  // off since a foreign detach
    const bool changes = plan.changesSomething();
    std::unique_ptr<Attachment> fresh = commitReload(reloadContext(), plan);
    plan.recordDue = changes;
    if (fresh) attachments_[fresh->cfg.name] = std::move(fresh);
}

void Host::retireAndRecord(std::span<const std::unique_ptr<ReloadPlan>> plans) {
    retireCommitted(reloadContext(), plans);
    // The outcome after the drain: until here the record's pending state keeps every region the
    // replaced programs wrote to pinned, so a crash in between still finds their messages.
    for (const auto& plan : plans) {
        if (!plan->recordDue) continue;
        plan->recordDue = false;
        auto it = attachments_.find(plan->cfg.name);
        if (it == attachments_.end()) continue;
        finishSalvage(plan->cfg.name);
        crashpoint(failpoints::kBeforeRecordOutcome);
        savePins(*it->second);
    }
    phases_.mark("pins");
}

void Host::detach(Attachment& a) {
    a.link.detach();
    if (pins_) pins_->forget(a.cfg.name);
    try {
        bpf::waitForInflightPrograms();
    } catch (const Error& e) {
        spdlog::warn("{}", e.what());
    }
    for (auto* s : {&a.baseline, &a.candidate})
        if (*s) pump_->retire(*s);
    spdlog::info("interface '{}': detached after {} packets counted since attached", a.cfg.name, a.totals().packets);
}

void Host::settleSpares() {
    // Settling with a shape left out lets its spare go: spare_regions = false keeps none, "auto"
    // those of small maps only.
    spares_.settle(RegionSpares::keptFor(cfg_.output.spareRegions, regionsInUse(attachments_)));
}

void Host::apply(const config::Interface& ifc, Attachment& a) {
    const FailpointArm failpointsArmed;  // a rollout's own move is a transaction like a reload's
    std::vector<std::unique_ptr<ReloadPlan>> plans;
    plans.push_back(prepareReload(reloadContext(), ifc, &a, false));
    commit(*plans.front());
    retireAndRecord(plans);
}

bool Host::reload(const config::HostConfig& next, ReloadGuard nextGuard, std::string* why) {
    std::lock_guard lock(mutex_);
    const FailpointArm failpointsArmed;  // failure injection (tests only) fires in reloads alone
    const auto t0 = Clock::now();
    phases_.restart();
    if (next.output.events != cfg_.output.events || next.output.format != cfg_.output.format ||
        next.output.eventsMode != cfg_.output.eventsMode || next.output.eventsGroup != cfg_.output.eventsGroup ||
        next.controlSocket != cfg_.controlSocket || !(next.decoders == cfg_.decoders))
        spdlog::warn("reload: [output] events/format/events_mode/events_group, control_socket and [decoders] "
                     "changes take effect on restart only (a restart adopts the pinned links: no frame passes "
                     "unclassified)");
    const bool freshPrograms = next.queueSize != cfg_.queueSize || next.output.transport != cfg_.output.transport ||
                               next.output.ringSlots != cfg_.output.ringSlots ||
                               (!next.output.ringSlots && next.output.ringRate != cfg_.output.ringRate);
    std::vector<std::unique_ptr<ReloadPlan>> plans;
    std::vector<config::Interface> stillGone;  // configured, deleted, not back yet
    // Unchanged rollout tables keep their progress; a failed reload keeps the running book.
    RolloutBook rollouts = rollouts_.next(next.interfaces, RolloutClock::now());
    const bool nextInsecure = cliInsecure_ || next.allowInsecurePlugins;
    // The plans are prepared with the new catalog, guard and settings, swapped in for prepare()
    // and swapped back when it fails, or when no interface commits: a reload that fails changes
    // nothing, not even these (and a module only it loaded is released with its catalog).
    plugin::Catalog catalog = catalog_;
    config::HostConfig effective = next;
    effective.output.events = cfg_.output.events;
    effective.output.format = cfg_.output.format;
    effective.controlSocket = cfg_.controlSocket;
    effective.decoders = cfg_.decoders;
    auto swapAll = [&] {
        std::swap(cfg_, effective);  // classifierOptions() reads the new sizes
        std::swap(catalog_, catalog);
        std::swap(guard_, nextGuard);
    };
    try {
        // Insecure mode is state: the config can switch it on and off again; the catalog is rebuilt
        // with the policy in force, keeping the modules it already loaded.
        if (nextInsecure != insecure_)
            spdlog::warn("reload: insecure plugin mode {}", nextInsecure ? "switched ON" : "switched off");
        if (next.pluginDir != catalog_.dir() || nextInsecure != insecure_) {
            plugin::Catalog fresh(next.pluginDir, plugin::FilePolicy::forProcess(nextInsecure),
                                  catalogOptions(effective, nextInsecure));
            fresh.keepLoadedFrom(catalog_);
            catalog = std::move(fresh);
        } else {
            plugin::warnIfInsecure(catalog_.policy(), nextInsecure, "reload");
        }
        catalog.rescan();
        for (const auto& p : catalog.problems())
            spdlog::warn("plugin folder: skipped {}: {}", p.file.string(), p.message);
        phases_.mark("catalog");
        failpoint(failpoints::kCatalogRead);
        swapAll();
        try {
            for (const auto& ifc : next.interfaces) {
                auto it = attachments_.find(ifc.name);
                if (it == attachments_.end() && prepareGone(ifc)) {
                    stillGone.push_back(ifc);
                    continue;
                }
                plans.push_back(prepareReload(reloadContext(), rollouts.effective(ifc),
                                              it == attachments_.end() ? nullptr : it->second.get(), freshPrograms));
            }
        } catch (...) {
            swapAll();
            throw;
        }
    } catch (const Error& e) {
        spdlog::error("reload failed, nothing changed, the running classifiers keep running: {}", e.what());
        if (why) *why = e.what();
        settleSpares();  // a spare lent to the failed plan is a spare again
        return false;
    }
    const double prepareMs = msSince(t0);

    bool ok = true;
    size_t committed = 0;  // interfaces whose kernel state changed
    std::string failures;
    for (auto& plan : plans) {
        try {
            const bool changes = plan->changesSomething();
            commit(*plan);
            committed += changes;
        } catch (const Error& e) {
            spdlog::error("reload: interface '{}' keeps its running programs: {}", plan->cfg.name, e.what());
            failures += (failures.empty() ? "" : "; ") + ("interface '" + plan->cfg.name + "' keeps its running programs: ") + e.what();
            ok = false;
        }
    }
    retireAndRecord(plans);  // one in-flight wait for every interface committed
    if (why) *why = failures;
    if (!ok && committed == 0) {
        swapAll();  // nothing committed: the reload changed nothing, its settings and catalog included
        spdlog::error("reload failed, nothing changed, the running classifiers keep running: {}", failures);
        settleSpares();
        return false;
    }
    insecure_ = nextInsecure;
    rollouts_ = std::move(rollouts);
    announceStarts();
    std::set<std::string> wanted, attached;
    for (const auto& ifc : next.interfaces) wanted.insert(ifc.name);
    for (const auto& [name, a] : attachments_) attached.insert(name);
    const std::string goneNote = gone_.settle(stillGone, wanted, attached);
    for (auto it = attachments_.begin(); it != attachments_.end();) {
        if (wanted.count(it->first)) {
            ++it;
            continue;
        }
        detach(*it->second);
        it = attachments_.erase(it);
    }
    runStats_.settle(cfg_.runTimeStats);
    phases_.mark("rest");
    // After the commit, off the way to the new program: the spare the next reload loads with.
    settleSpares();
    phases_.mark("spare regions");
    spdlog::info("reload {} in {:.1f} ms (prepare {:.1f} ms){}", ok ? "complete" : "partly failed", msSince(t0),
                 prepareMs, goneNote);
    spdlog::debug("reload phases: {}", phases_.summary());
    return ok;
}

OutputSummary Host::stop() {
    linkWatch_.reset();
    std::lock_guard lock(mutex_);
    OutputSummary sum;
    if (!pump_) return sum;
    for (auto& [name, a] : attachments_) sum.leftAttached += leave(*a) ? 1 : 0;
    // Counted after detaching: the final counts of every instance, their queues drained.
    for (const auto& [name, a] : attachments_) {
        const InterfaceTotals t = a->totals();
        sum.dropped += t.dropped;
        sum.undecodable += t.undecodable;
    }
    for (const auto& [name, g] : gone_.all()) {
        sum.dropped += g.final.dropped;
        sum.undecodable += g.final.undecodable;
    }
    attachments_.clear();
    pins_.reset();  // the state root's lock: a successor may start now
    pump_->stop();
    pump_.reset();
    writer_->close();  // within the write timeout, whatever the reader does: then the counts are final
    runStats_.release();
    sum.written = writer_->written();
    sum.lost = writer_->lost();
    sum.writeErrors = writer_->writeErrors();
    sum.lastError = writer_->lastError();
    sum.lastErrorText = writer_->lastErrorText();
    sum.lostWriteTimeout = writer_->lost(LossReason::WriteTimeout);
    sum.lostQueueFull = writer_->lost(LossReason::QueueFull);
    sum.sink = writer_->name();
    return sum;
}

void Host::reopenEvents() {
    std::lock_guard lock(mutex_);
    if (!writer_ || !pump_) return;
    writer_->requestReopen();
    pump_->wake();  // an idle pump with no source sleeps until woken
}

void Host::check(const config::HostConfig& cfg, bool allowInsecurePlugins) {
    const bool insecure = allowInsecurePlugins || cfg.allowInsecurePlugins;
    plugin::CatalogOptions options = catalogOptions(cfg, insecure);
    options.code = plugin::LoadCode::None;  // check loads programs, never decoders
    plugin::Catalog catalog(cfg.pluginDir, plugin::FilePolicy::forProcess(insecure), std::move(options));
    catalog.rescan();
    for (const auto& p : catalog.problems()) spdlog::warn("plugin folder: skipped {}: {}", p.file.string(), p.message);
    for (const auto& ifc : cfg.interfaces) {
        const std::string where = "interface '" + ifc.name + "'";
        try {
            interfaceIndex(ifc.name);
            const auto decisions = decisionMapFor(ifc, nullptr);  // shadow mode only
            ClassifierOptions o = classifierOptions(cfg);
            if (decisions) o.decisionMapFd = decisions->get();
            o.hook = ifc.hook == config::Hook::Tc ? FIZZ_HOOK_TC : FIZZ_HOOK_XDP;
            auto base = Classifier::load(findPlugin(catalog, cfg, ifc, ifc.classifier, ifc.classifierAt), o);
            spdlog::info("{}: {} {} loads and verifies", where, base->plugin().name(), base->plugin().version());
            if (ifc.rollout) {
                auto candPlugin = findPlugin(catalog, cfg, ifc, ifc.rollout->candidate, ifc.candidateAt);
                requireDistinct(where, ifc, base->plugin(), *candPlugin);
                auto cand = Classifier::load(candPlugin, o);
                auto d = Dispatcher::load({costSamplePeriod(*ifc.rollout), decisions, o.hook, ifc.then});
                d->setVariant(FIZZ_VARIANT_BASELINE, base->programFd());
                d->setVariant(FIZZ_VARIANT_CANDIDATE, cand->programFd());
                spdlog::info("{}: candidate {} {} and the dispatcher load and verify", where, cand->plugin().name(),
                             cand->plugin().version());
            }
        } catch (const Error& e) {
            throw Error(placed(cfg, ifc, e.what()), e.code());
        }
    }
}

}  // namespace fizzhost::runtime
