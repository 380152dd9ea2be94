#include "runtime/host.hpp"

#include "bpf/prog_stats.hpp"
#include "runtime/variant_placement.hpp"
#include "bpf/sync.hpp"
#include "util/error.hpp"
#include "util/failpoint.hpp"
#include "util/iso_time.hpp"
#include "util/text.hpp"
#include "bpf/xdp_owner.hpp"

#include <net/if.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <set>

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

int interfaceIndex(const std::string& name) {
    unsigned idx = if_nametoindex(name.c_str());
    if (idx == 0)
        throw Error("interface '" + name + "' does not exist in this network namespace (ip link show " + name + ")",
                    ENODEV);
    return int(idx);
}

// Errors about an interface found after loading carry the config's file:line:col, like the
// loader's own: "/etc/fizzhost/fizz.toml:7:14: interface 'eth0': unknown plugin 'fizzbuz' ...".
std::string located(const config::HostConfig& cfg, config::SourcePosition at) {
    if (cfg.source.empty() || at.line == 0) return "";
    return printable(cfg.source.string()) + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) + ": ";
}

std::string placed(const config::HostConfig& cfg, const config::Interface& ifc, const std::string& message) {
    const std::string where = "interface '" + ifc.name + "'";
    if (!cfg.source.empty() && message.starts_with(printable(cfg.source.string()) + ":")) return message;
    return located(cfg, ifc.at) + (message.starts_with(where) ? message : where + ": " + message);
}

// catalog.find() with the position of the value that named the plugin.
std::shared_ptr<const plugin::Plugin> findPlugin(const plugin::Catalog& catalog, const config::HostConfig& cfg,
                                                 const config::Interface& ifc, const std::string& ref,
                                                 config::SourcePosition at) {
    try {
        return catalog.find(ref);
    } catch (const Error& e) {
        throw Error(located(cfg, at) + "interface '" + ifc.name + "': " + e.what(), e.code());
    }
}

// A rollout's per-variant cost sampling: the config's, else the dispatcher's default.
uint32_t costSamplePeriod(const config::Rollout& r) { return r.costSamplePeriod.value_or(FIZZ_COST_SAMPLE_PERIOD); }

}  // namespace

struct Host::Plan {
    config::Interface cfg;
    Attachment* current = nullptr;         // the running attachment, or null for a new interface
    std::unique_ptr<Attachment> fresh;     // a new interface, complete but not attached yet
    std::shared_ptr<MessageSource> newBaseline, newCandidate;
    std::unique_ptr<Dispatcher> newDispatcher;  // entering a rollout
    bool leaveRollout = false;
    std::optional<unsigned> newPercent;

    bool changesSomething() const {
        return fresh || newBaseline || newCandidate || newDispatcher || leaveRollout || newPercent;
    }
};

namespace {

// classifier = "primes" and candidate = "primes@1.1.0" may well be the same file: compare what the
// references resolved to, not how they are written.
void requireDistinct(const std::string& where, const config::Interface& ifc, const plugin::Plugin& base,
                     const plugin::Plugin& cand) {
    if (&base == &cand || (base.name() == cand.name() && base.version() == cand.version()))
        throw Error(where + ": rollout candidate '" + ifc.rollout->candidate + "' and classifier '" + ifc.classifier +
                        "' are the same plugin (" + base.name() + "@" + base.version() +
                        "); name another version, e.g. candidate = \"" + cand.name() + "@X.Y.Z\"",
                    EINVAL);
}

}  // namespace

Host::Host(config::HostConfig config, bool allowInsecurePlugins)
    : cfg_(std::move(config)), cliInsecure_(allowInsecurePlugins),
      insecure_(allowInsecurePlugins || cfg_.allowInsecurePlugins),
      catalog_(cfg_.pluginDir, plugin::FilePolicy::forProcess(insecure_)) {
    // The config file's trust was judged where it was read (config::loadConfig, on its descriptor).
}

Host::~Host() { stop(); }

ClassifierOptions Host::classifierOptions(const config::HostConfig& cfg) {
    ClassifierOptions o;
    o.transport = cfg.output.transport;
    o.queueSize = cfg.queueSize;
    o.ringSlots = cfg.output.ringSlots;
    return o;
}

void Host::start() {
    std::lock_guard lock(mutex_);
    writer_ = std::make_unique<EventWriter>(cfg_.output.events, cfg_.output.format,
                                            OutputFileMode{mode_t(cfg_.output.eventsMode), cfg_.output.eventsGroup});
    pump_ = std::make_unique<Pump>(*writer_);
    pump_->start();
    settleRunTimeStats();
    catalog_.rescan();
    for (const auto& p : catalog_.problems()) spdlog::warn("plugin folder: skipped {}: {}", p.file.string(), p.message);
    std::set<std::string> adopted;
    try {
        RolloutBook rollouts = rollouts_.next(cfg_.interfaces, RolloutClock::now());
        openPins();
        sweepUnconfiguredPins();
        std::vector<std::unique_ptr<Plan>> plans;
        for (const auto& ifc : cfg_.interfaces) {
            resumeRollout(rollouts, ifc);
            auto [current, freshPrograms] = adoptPinned(ifc);
            if (current) adopted.insert(ifc.name);
            plans.push_back(prepare(rollouts.effective(ifc), current, freshPrograms));
        }
        rollouts_ = std::move(rollouts);  // before the commits: each pins its rollout's progress
        for (auto& plan : plans) commit(*plan);
        announceStarts();
        settleSpares();
    } catch (...) {
        // What a previous host left stays as the exit policy says; what this one attached goes.
        for (auto& [name, a] : attachments_) {
            if (adopted.count(name)) leave(*a);
            else detach(*a);
        }
        attachments_.clear();
        pins_.reset();
        pump_->stop();
        throw;
    }
    startLinkWatch();
}

std::unique_ptr<Host::Plan> Host::prepare(const config::Interface& ifc, const Attachment* current,
                                          bool freshPrograms) {
    auto plan = std::make_unique<Plan>();
    plan->cfg = ifc;
    plan->current = const_cast<Attachment*>(current);
    const std::string where = "interface '" + ifc.name + "'";
    try {
        if (current && current->cfg.mode != ifc.mode)
            throw Error(where + ": changing mode from " + std::string(config::toString(current->cfg.mode)) + " to " +
                            std::string(config::toString(ifc.mode)) +
                            " cannot be done atomically; restart fizzhost to apply it",
                        EINVAL);
        if (!current) {
            plan->fresh = std::make_unique<Attachment>();
            plan->fresh->cfg = ifc;
            plan->fresh->ifindex = interfaceIndex(ifc.name);
        }
        const auto decisions = decisionMapFor(ifc, current);  // shadow mode only
        auto load = [&](const std::string& name, uint32_t slot) {
            auto plugin = catalog_.find(name);
            auto opts = classifierOptions(cfg_);
            if (decisions) opts.decisionMapFd = decisions->get();
            if (cfg_.output.spareRegions) opts.spares = &spares_;
            const VariantPlacement placed = placementOf(ifc, slot);
            phases_.mark("find plugin");
            auto classifier = Classifier::load(plugin, opts);
            phases_.mark("load program");
            auto source = std::make_shared<MessageSource>(
                std::move(classifier), EventOrigin{ifc.name, plugin->name(), plugin->version(), placed.name},
                *writer_, placed.deliver, placed.shadowCandidate);
            phases_.mark("source setup");  // its regions mapped, its event template built
            failpoint(failpoints::kInstanceLoaded);
            return source;
        };
        // The running instance, if it can stay: same plugin file, loaded for this rollout mode.
        auto runningPlugin = [&](const std::shared_ptr<MessageSource>& s, uint32_t slot) {
            return s && fits(*s, placementOf(ifc, slot)) ? s->classifier().pluginPtr() : nullptr;
        };

        // Baseline: a new instance when the plugin (or its file) changed, or settings demand it.
        auto basePlugin = findPlugin(catalog_, cfg_, ifc, ifc.classifier, ifc.classifierAt);
        if (!current || freshPrograms || runningPlugin(current->baseline, FIZZ_VARIANT_BASELINE) != basePlugin) {
            // The guard judges new code: the same file loaded again (other settings, a rollout
            // stage's placement) was judged when it came.
            if (current && guard_ && current->baseline->classifier().pluginPtr() != basePlugin) {
                guard_(*current->baseline->classifier().pluginPtr(), *basePlugin);
                phases_.mark("guard");
            }
            plan->newBaseline = load(ifc.classifier, FIZZ_VARIANT_BASELINE);
        }
        if (ifc.rollout) {
            auto candPlugin = findPlugin(catalog_, cfg_, ifc, ifc.rollout->candidate, ifc.candidateAt);
            requireDistinct(where, ifc, *basePlugin, *candPlugin);
            bool needCandidate = !current || freshPrograms ||
                                 runningPlugin(current->candidate, FIZZ_VARIANT_CANDIDATE) != candPlugin;
            if (needCandidate) {
                if (guard_ && !(current && current->candidate && current->candidate->classifier().pluginPtr() == candPlugin)) {
                    guard_(current ? *current->baseline->classifier().pluginPtr() : *basePlugin, *candPlugin);
                    phases_.mark("guard");
                }
                plan->newCandidate = load(ifc.rollout->candidate, FIZZ_VARIANT_CANDIDATE);
            }
            // Entering a rollout, or changing a variant inside one: a complete new dispatcher that
            // the commit swaps in with one bpf_link_update. Updating the running one slot by slot
            // would be several kernel writes, and a failure half-way would leave it running a
            // program whose messages nobody drains any more. A percent alone is one map write.
            if (!current || !current->dispatcher || plan->newBaseline || plan->newCandidate ||
                current->dispatcher->samplePeriod() != costSamplePeriod(*ifc.rollout)) {
                plan->newDispatcher = Dispatcher::load({costSamplePeriod(*ifc.rollout), decisions});
                auto& base = plan->newBaseline ? plan->newBaseline : current->baseline;
                auto& cand = plan->newCandidate ? plan->newCandidate : current->candidate;
                plan->newDispatcher->setVariant(FIZZ_VARIANT_BASELINE, base->classifier().programFd());
                plan->newDispatcher->setVariant(FIZZ_VARIANT_CANDIDATE, cand->classifier().programFd());
                plan->newDispatcher->setPercent(ifc.rollout->percent);
                failpoint(failpoints::kDispatcherBuilt);
                phases_.mark("load dispatcher");
            } else if (current->dispatcher->percent() != ifc.rollout->percent) {
                plan->newPercent = ifc.rollout->percent;
            }
        } else if (current && current->dispatcher) {
            plan->leaveRollout = true;
        }
    } catch (const Error& e) {
        throw Error(placed(cfg_, ifc, e.what()), e.code());
    }
    return plan;
}

void Host::commit(Plan& plan) {
    const auto t0 = Clock::now();
    std::vector<std::shared_ptr<MessageSource>> added;
    for (auto* s : {&plan.newBaseline, &plan.newCandidate})
        if (*s) {
            pump_->add(*s);  // drained from the first packet on
            added.push_back(*s);
        }
    auto undo = [&] {
        for (auto& s : added) pump_->retire(s);
    };
    phases_.mark("pump add");

    if (plan.fresh) {
        Attachment& a = *plan.fresh;
        a.baseline = plan.newBaseline;
        a.candidate = plan.newCandidate;
        a.dispatcher = std::move(plan.newDispatcher);
        try {
            if (uint32_t other = bpf::attachedXdpProgramId(a.ifindex))
                throw Error("interface '" + a.cfg.name + "' already has XDP program id " + std::to_string(other) +
                                " attached, " + bpf::describeXdpOwner(other) +
                                "; refusing to replace it (bpftool net show dev " + a.cfg.name + ")",
                            EBUSY);
            const int fd = a.attachedProgramFd();
            switch (a.cfg.mode) {
            case config::AttachMode::Native: a.link = bpf::XdpLink::attach(fd, a.ifindex, a.cfg.name, bpf::XdpMode::Native); break;
            case config::AttachMode::Generic: a.link = bpf::XdpLink::attach(fd, a.ifindex, a.cfg.name, bpf::XdpMode::Generic); break;
            case config::AttachMode::Auto:
                try {
                    a.link = bpf::XdpLink::attach(fd, a.ifindex, a.cfg.name, bpf::XdpMode::Native);
                } catch (const Error& e) {
                    if (e.code() == EBUSY || e.code() == EEXIST) throw;
                    spdlog::warn("interface '{}': native XDP failed ({}); falling back to generic mode", a.cfg.name,
                                 e.what());
                    a.link = bpf::XdpLink::attach(fd, a.ifindex, a.cfg.name, bpf::XdpMode::Generic);
                }
                break;
            }
        } catch (...) {
            undo();
            throw;
        }
        spdlog::info("interface '{}': attached {}{} ({} mode, link id {}, program id {}) in {:.1f} ms", a.cfg.name,
                     describeVersion(a.baseline.get()),
                     a.candidate ? fmt::format(" with candidate {} {}", describeVersion(a.candidate.get()),
                                               a.dispatcher->describeShare())
                                 : "",
                     a.link.mode() == bpf::XdpMode::Native ? "native" : "generic", a.link.id(), a.link.programId(),
                     msSince(t0));
        savePins(a);
        attachments_[a.cfg.name] = std::move(plan.fresh);
        return;
    }

    Attachment& a = *plan.current;
    if (!plan.changesSomething()) {
        a.cfg = plan.cfg;
        return;
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
    phases_.mark("link update");

    if (plan.newBaseline) retired.push_back(std::exchange(a.baseline, plan.newBaseline));
    if (plan.newCandidate) {
        if (a.candidate) retired.push_back(a.candidate);
        a.candidate = plan.newCandidate;
    }
    if (plan.newDispatcher) oldDispatcher = std::exchange(a.dispatcher, std::move(plan.newDispatcher));
    if (plan.leaveRollout) {
        retired.push_back(std::exchange(a.candidate, nullptr));
        oldDispatcher = std::move(a.dispatcher);
    }
    a.cfg = plan.cfg;

    // Nothing may still run the replaced programs when their queues are emptied for the last time.
    // Committed is committed: if the wait itself fails, the old state is still retired (a message
    // a program in flight writes after the last drain would be lost), never left undrained.
    try {
        bpf::waitForInflightPrograms();
    } catch (const Error& e) {
        spdlog::warn("interface '{}': {}", a.cfg.name, e.what());
    }
    phases_.mark("in-flight wait");
    for (auto& s : retired) {
        pump_->retire(s);
        warnIfUncounted(a.cfg.name, *s);
        a.retired.add(*s);  // final: nothing runs it any more and its messages are delivered
    }
    oldDispatcher.reset();
    phases_.mark("drain old");

    const std::string after = describeVersion(a.baseline.get()) +
                              (a.candidate ? " + candidate " + describeVersion(a.candidate.get()) +
                                                 " " + a.dispatcher->describeShare()
                                           : "");
    spdlog::info("interface '{}': {} -> {} (link id {} kept, program id {} -> {}); committed in {:.2f} ms, old "
                 "state drained in {:.2f} ms",
                 a.cfg.name, before, after, a.link.id(), oldProgramId, a.link.programId(), commitMs,
                 msSince(t0) - commitMs);
    savePins(a);
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
    // Without spare_regions no map is lent, and settling with nothing live lets every spare go.
    spares_.settle(cfg_.output.spareRegions ? regionsInUse(attachments_) : std::vector<RegionSpares::InUse>{});
}

void Host::apply(const config::Interface& ifc, Attachment& a) {
    const FailpointArm failpointsArmed;  // a rollout's own move is a transaction like a reload's
    auto plan = prepare(ifc, &a, false);
    commit(*plan);
}

bool Host::reload(const config::HostConfig& next, ReloadGuard nextGuard, std::string* why) {
    std::lock_guard lock(mutex_);
    const FailpointArm failpointsArmed;  // failure injection (tests only) fires in reloads alone
    const auto t0 = Clock::now();
    phases_.restart();
    if (next.output.events != cfg_.output.events || next.output.format != cfg_.output.format ||
        next.output.eventsMode != cfg_.output.eventsMode || next.output.eventsGroup != cfg_.output.eventsGroup ||
        next.controlSocket != cfg_.controlSocket)
        spdlog::warn("reload: [output] events/format/events_mode/events_group and control_socket changes take "
                     "effect on restart only (a restart adopts the pinned links: no frame passes unclassified)");
    const bool freshPrograms = next.queueSize != cfg_.queueSize || next.output.transport != cfg_.output.transport ||
                               next.output.ringSlots != cfg_.output.ringSlots;
    std::vector<std::unique_ptr<Plan>> plans;
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
            plugin::Catalog fresh(next.pluginDir, plugin::FilePolicy::forProcess(nextInsecure));
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
                plans.push_back(prepare(rollouts.effective(ifc), it == attachments_.end() ? nullptr : it->second.get(),
                                        freshPrograms));
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
    std::set<std::string> wanted;
    for (const auto& ifc : next.interfaces) wanted.insert(ifc.name);
    const std::string goneNote = commitGone(stillGone, wanted);
    for (auto it = attachments_.begin(); it != attachments_.end();) {
        if (wanted.count(it->first)) {
            ++it;
            continue;
        }
        detach(*it->second);
        it = attachments_.erase(it);
    }
    settleRunTimeStats();
    phases_.mark("rest");
    // After the commit, off the way to the new program: the spare the next reload loads with.
    settleSpares();
    phases_.mark("spare regions");
    spdlog::info("reload {} in {:.1f} ms (prepare {:.1f} ms){}", ok ? "complete" : "partly failed", msSince(t0),
                 prepareMs, goneNote);
    spdlog::debug("reload phases: {}", phases_.summary());
    return ok;
}

void Host::settleRunTimeStats() {
    if (cfg_.runTimeStats == bool(runStats_)) return;
    if (!cfg_.runTimeStats) {
        runStats_.reset();
        spdlog::info("BPF run-time statistics released (run_time_stats = false): status shows no kernel ns/run");
        return;
    }
    try {
        runStats_ = bpf::enableRunTimeStats();
        spdlog::info("BPF run-time statistics on while fizzhost runs (run_time_stats = true): fizzhost status shows "
                     "ns/run; every BPF program on this machine now pays two clock reads per run");
    } catch (const Error& e) {
        spdlog::warn("run_time_stats: BPF run-time statistics unavailable: {}", e.what());
    }
}

OutputSummary Host::stop() {
    linkWatch_.reset();  // its handler takes mutex_: joined before we hold it
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
    for (const auto& [name, g] : gone_) {
        sum.dropped += g.final.value("dropped", uint64_t(0));
        sum.undecodable += g.final.value("undecodable", uint64_t(0));
    }
    attachments_.clear();
    pins_.reset();  // the state root's lock: a successor may start now
    pump_->stop();
    pump_.reset();
    runStats_.reset();
    sum.written = writer_->written();
    sum.lost = writer_->lost();
    sum.writeErrors = writer_->writeErrors();
    sum.lastError = writer_->lastError();
    sum.sink = writer_->name();
    return sum;
}

void Host::reopenEvents() {
    std::lock_guard lock(mutex_);
    if (!writer_ || !pump_) return;
    writer_->requestReopen();
    pump_->wake();  // an idle pump with no source sleeps until woken
}

void Host::warnIfUncounted(const std::string& ifname, const MessageSource& s) const {
    const fizz_counters c = s.counters();
    if (c.emitted == 0 || c.packets != 0) return;
    const auto& p = s.classifier().plugin();
    std::lock_guard lock(warnedMutex_);
    if (!warnedUncounted_.insert(p.name() + " " + p.version()).second) return;
    spdlog::warn("interface '{}': {} {} emitted {} message(s) but counted no packet: its program never calls "
                 "fizz_count_packet(), so its packet counts (and rates derived from them) read 0",
                 ifname, p.name(), p.version(), c.emitted);
}

nlohmann::json Host::status() const {
    std::lock_guard lock(mutex_);
    nlohmann::json out = {{"interfaces", nlohmann::json::array()},
                          {"run_time_stats", bool(runStats_)},
                          {"insecure_plugins", insecure_},
                          {"state_root", pins_ ? nlohmann::json(pins_->root().string()) : nlohmann::json()},
                          {"on_exit", cfg_.service.onExit == config::OnExit::Keep ? "keep" : "detach"}};
    if (writer_) {
        out["events_written"] = writer_->written();
        out["events_lost"] = writer_->lost();  // decoded, but the write carrying them failed
        out["write_errors"] = writer_->writeErrors();
        if (writer_->lastError() != 0) out["last_write_error"] = errnoText(writer_->lastError());
        out["events_reopens"] = writer_->reopens();
    }
    for (const auto& [name, a] : attachments_) {
        nlohmann::json ifc = {{"name", name},
                              {"state", "attached"},
                              {"mode", a->link.mode() == bpf::XdpMode::Native ? "native" : "generic"},
                              {"link_id", a->link.id()},
                              {"program_id", a->link.programId()}};
        // The kernel's figures move only while run-time statistics are on (run_time_stats).
        std::optional<bpf::ProgramStats> top;
        if (runStats_) {
            top = bpf::programStats(a->attachedProgramFd());
            ifc["ns_per_run"] = top->nsPerRun();
            ifc["runs"] = top->runCount;
        }
        const auto figures = a->rolloutFigures();
        if (a->dispatcher && !a->dispatcher->shadow()) ifc["percent"] = a->dispatcher->percent();
        if (figures && figures->shadow) {
            ifc["shadow"] = toJson(*figures->shadow);
            ifc["shadow"]["events"] = a->candidate && a->candidate->delivers();
        }
        if (const auto* r = rollouts_.find(name)) ifc["progressive"] = r->controller->status(RolloutClock::now());
        // Since the interface was attached: the final counts of every retired instance + the live ones.
        const InterfaceTotals t = a->totals();
        ifc["totals"] = {{"packets", t.packets},     {"emitted", t.emitted},
                         {"dropped", t.dropped},     {"delivered", t.delivered},
                         {"undecodable", t.undecodable}, {"kinds", t.kinds}};
        ifc["variants"] = nlohmann::json::array();
        for (uint32_t slot : {uint32_t(FIZZ_VARIANT_BASELINE), uint32_t(FIZZ_VARIANT_CANDIDATE)}) {
            const auto& src = slot == FIZZ_VARIANT_BASELINE ? a->baseline : a->candidate;
            if (!src) continue;
            // One instance, every column since it went live. The delivered figures are read before
            // the counters, so that delivered never runs ahead of emitted.
            const uint64_t delivered = src->delivered(), writeLost = src->writeLost(),
                           undecodable = src->undecodable();
            const fizz_counters c = src->counters();
            const auto& p = src->classifier().plugin();
            nlohmann::json v = {{"variant", placementOf(a->cfg, slot).name},
                                {"plugin", p.name()},
                                {"version", p.version()},
                                {"abi", p.abiVersion()},
                                {"program_id", src->classifier().programId()},
                                {"packets", c.packets},
                                {"emitted", c.emitted},
                                {"dropped", c.dropped},
                                {"delivered", delivered},
                                {"write_lost", writeLost},
                                {"undecodable", undecodable},
                                {"withheld", src->withheld()},
                                {"counts_packets", !(c.emitted > 0 && c.packets == 0)}};
            warnIfUncounted(name, *src);
            nlohmann::json kinds = nlohmann::json::object();
            for (uint32_t k = 0; k < p.kinds().size() && k < FIZZ_MAX_KINDS; ++k) kinds[p.kinds()[k]] = c.kinds[k];
            v["kinds"] = kinds;
            // Tail calls are not accounted to the callee: behind the dispatcher each variant's
            // cost is what the dispatcher timed (1 frame in samplePeriod per CPU).
            if (!figures) {
                if (top) v["ns_per_run"] = top->nsPerRun();
            } else {
                const VariantCost& cost = slot == FIZZ_VARIANT_BASELINE ? figures->baseline : figures->candidate;
                v["ns_per_run"] = cost.nsPerRun();
                v["runs"] = cost.runs;
                v["runs_timed_1_in"] = figures->samplePeriod;
            }
            ifc["variants"].push_back(v);
        }
        out["interfaces"].push_back(ifc);
    }
    for (const auto& [name, g] : gone_) out["interfaces"].push_back(goneStatus(name, g));
    return out;
}

void Host::check(const config::HostConfig& cfg, bool allowInsecurePlugins) {
    plugin::Catalog catalog(cfg.pluginDir, plugin::FilePolicy::forProcess(allowInsecurePlugins || cfg.allowInsecurePlugins));
    catalog.rescan();
    for (const auto& p : catalog.problems()) spdlog::warn("plugin folder: skipped {}: {}", p.file.string(), p.message);
    for (const auto& ifc : cfg.interfaces) {
        const std::string where = "interface '" + ifc.name + "'";
        try {
            interfaceIndex(ifc.name);
            const auto decisions = decisionMapFor(ifc, nullptr);  // shadow mode only
            ClassifierOptions o = classifierOptions(cfg);
            if (decisions) o.decisionMapFd = decisions->get();
            auto base = Classifier::load(findPlugin(catalog, cfg, ifc, ifc.classifier, ifc.classifierAt), o);
            spdlog::info("{}: {} {} loads and verifies", where, ifc.classifier, base->plugin().version());
            if (ifc.rollout) {
                auto candPlugin = findPlugin(catalog, cfg, ifc, ifc.rollout->candidate, ifc.candidateAt);
                requireDistinct(where, ifc, base->plugin(), *candPlugin);
                auto cand = Classifier::load(candPlugin, o);
                auto d = Dispatcher::load({costSamplePeriod(*ifc.rollout), decisions});
                d->setVariant(FIZZ_VARIANT_BASELINE, base->programFd());
                d->setVariant(FIZZ_VARIANT_CANDIDATE, cand->programFd());
                spdlog::info("{}: candidate {} {} and the dispatcher load and verify", where, ifc.rollout->candidate,
                             cand->plugin().version());
            }
        } catch (const Error& e) {
            throw Error(placed(cfg, ifc, e.what()), e.code());
        }
    }
}

// ---- Interface lifecycle -------------------------------------------------------------------
//
// The kernel detaches an XDP link by itself when its device is deleted, but nothing else of ours
// notices: the link would be reported attached, the sources kept, and a re-created interface of
// the same name left bare. rtnetlink tells us; these functions keep attachments_ and gone_ true.

namespace {

bool interfacePresent(const std::string& name) { return if_nametoindex(name.c_str()) != 0; }

}  // namespace

void Host::startLinkWatch() {
    try {
        linkWatch_ = std::make_unique<LinkWatch>([this](const LinkChange& change) { onLinkChange(change); });
    } catch (const Error& e) {
        spdlog::warn("{}; a deleted interface will not be noticed", e.what());
        return;
    }
    resyncLinks();  // a device deleted between attaching and subscribing sent its news to nobody
}

void Host::onLinkChange(const LinkChange& change) {
    std::lock_guard lock(mutex_);
    if (!pump_) return;
    try {
        switch (change.kind) {
        case LinkChange::Kind::Removed:
            if (auto name = attachedName(change.ifindex))
                retireGone(*name, "was deleted: the kernel detached its XDP program");
            break;
        case LinkChange::Kind::Added:
            // A rename away from a configured name: what the config names is no longer there.
            if (auto name = attachedName(change.ifindex); name && !change.name.empty() && change.name != *name)
                retireGone(*name, "was renamed to '" + printable(change.name) + "'");
            if (gone_.count(change.name)) attachReturned(change.name);
            break;
        case LinkChange::Kind::Lost: resyncLinks(); break;
        }
    } catch (const std::exception& e) {
        spdlog::error("interface change ({} ifindex {}): {}", change.name, change.ifindex, e.what());
    }
}

void Host::resyncLinks() {
    std::vector<std::string> missing, back;
    for (const auto& [name, a] : attachments_) {
        char now[IF_NAMESIZE] = {};
        if (!if_indextoname(unsigned(a->ifindex), now) || name != now) missing.push_back(name);
    }
    for (const auto& [name, g] : gone_)
        if (interfacePresent(name)) back.push_back(name);
    for (const auto& name : missing) retireGone(name, "is no longer present under that name");
    for (const auto& name : back) attachReturned(name);
}

std::optional<std::string> Host::attachedName(int ifindex) const {
    for (const auto& [name, a] : attachments_)
        if (a->ifindex == ifindex) return name;
    return std::nullopt;
}

void Host::retireGone(const std::string& name, const std::string& why) {
    auto it = attachments_.find(name);
    if (it == attachments_.end()) return;
    Attachment& a = *it->second;
    spdlog::warn("interface '{}' (ifindex {}) {}; retiring its classifier (draining its messages, releasing link id "
                 "{}); {} is attached again when an interface of that name appears",
                 name, a.ifindex, why, a.link.id(), a.cfg.classifier);
    detach(a);  // releases the link, waits for programs in flight, drains and retires the sources
    GoneInterface g{a.cfg, a.ifindex, std::chrono::system_clock::now(), nlohmann::json::object()};
    // The sources are drained and still held: their counts are final.
    const InterfaceTotals t = a.totals();
    const uint64_t packets = t.packets, emitted = t.emitted, dropped = t.dropped, delivered = t.delivered,
                   undecodable = t.undecodable;
    g.final = {{"packets", packets}, {"emitted", emitted}, {"dropped", dropped}, {"delivered", delivered},
               {"undecodable", undecodable}, {"kinds", t.kinds}};
    spdlog::info("interface '{}': final counts: {} packets, {} messages, {} dropped, {} delivered, {} undecodable",
                 name, packets, emitted, dropped, delivered, undecodable);
    gone_[name] = std::move(g);
    attachments_.erase(it);
}

void Host::attachReturned(const std::string& name) {
    auto it = gone_.find(name);
    if (it == gone_.end()) return;
    const config::Interface cfg = it->second.cfg;
    spdlog::info("interface '{}' appeared again (ifindex {}): attaching its configured classifier {}", name,
                 if_nametoindex(name.c_str()), cfg.classifier);
    try {
        auto plan = prepare(cfg, nullptr, false);
        commit(*plan);
        gone_.erase(name);
        settleSpares();
    } catch (const Error& e) {
        spdlog::error("interface '{}' appeared again but its classifier could not be attached: {}; it stays gone "
                      "(a SIGHUP or the next change to the interface retries)",
                      name, e.what());
    }
}

std::optional<RolloutFigures> Host::rolloutFigures(const std::string& ifname) const {
    std::lock_guard lock(mutex_);
    auto it = attachments_.find(ifname);
    return it == attachments_.end() ? std::nullopt : it->second->rolloutFigures();
}

nlohmann::json Host::goneStatus(const std::string& name, const GoneInterface& g) const {
    return {{"name", name},
            {"state", "gone"},
            {"classifier", g.cfg.classifier},
            {"gone_since", isoTime(g.since)},
            {"ifindex_was", g.ifindex},
            {"final", g.final},
            {"variants", nlohmann::json::array()}};
}

// Reload of an interface that is configured and gone: nothing to attach, but the names it would
// use must still resolve, so a broken config is refused now and not when the device returns.
// Returns false when the interface is not gone (or is back): then it is prepared like any other.
bool Host::prepareGone(const config::Interface& ifc) {
    if (!gone_.count(ifc.name) || interfacePresent(ifc.name)) return false;
    try {
        findPlugin(catalog_, cfg_, ifc, ifc.classifier, ifc.classifierAt);
        if (ifc.rollout) findPlugin(catalog_, cfg_, ifc, ifc.rollout->candidate, ifc.candidateAt);
    } catch (const Error& e) {
        throw Error(placed(cfg_, ifc, e.what()), e.code());
    }
    return true;
}

std::string Host::commitGone(const std::vector<config::Interface>& stillGone, const std::set<std::string>& wanted) {
    for (const auto& ifc : stillGone) {
        auto& g = gone_[ifc.name];
        g.cfg = ifc;
        spdlog::warn("reload: interface '{}' is gone (deleted {}): nothing is attached to it; {} is attached when an "
                     "interface of that name appears",
                     ifc.name, isoTime(g.since), ifc.classifier);
    }
    for (auto it = gone_.begin(); it != gone_.end();) {
        if (attachments_.count(it->first) || !wanted.count(it->first)) {
            if (!wanted.count(it->first)) spdlog::info("interface '{}' (gone) is no longer configured", it->first);
            it = gone_.erase(it);
        } else {
            ++it;
        }
    }
    if (gone_.empty()) return "";
    std::string names;
    for (const auto& [name, g] : gone_) names += (names.empty() ? "" : ", ") + ("'" + name + "'");
    return fmt::format("; {} configured interface(s) gone, waiting for them to appear: {}", gone_.size(), names);
}

}  // namespace fizzhost::runtime
