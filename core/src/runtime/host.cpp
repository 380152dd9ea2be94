#include "runtime/host.hpp"

#include "bpf/prog_stats.hpp"
#include "bpf/sync.hpp"
#include "util/error.hpp"

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

const char* variantName(uint32_t slot) { return slot == FIZZ_SLOT_BASELINE ? "baseline" : "candidate"; }

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

fizz_transport transportOf(const config::HostConfig& c) {
    return c.output.transport == config::Transport::Ring ? FIZZ_TRANSPORT_RING : FIZZ_TRANSPORT_QUEUE;
}

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

Host::Host(config::HostConfig config, bool allowInsecurePlugins)
    : cfg_(std::move(config)), allowInsecure_(allowInsecurePlugins || cfg_.allowInsecurePlugins),
      catalog_(cfg_.pluginDir, plugin::FilePolicy::forProcess(allowInsecure_)) {
    if (allowInsecure_ && plugin::FilePolicy::forProcess(false).requireRootOwned)
        spdlog::warn("INSECURE: loading plugins without the root-ownership check: any user who can write to '{}' "
                     "can run code as root in this process. Use only for development.",
                     cfg_.pluginDir.string());
}

Host::~Host() { stop(); }

ClassifierOptions Host::classifierOptions(const config::HostConfig& cfg) {
    ClassifierOptions o;
    o.transport = transportOf(cfg);
    o.queueSize = cfg.queueSize;
    o.ringSlots = cfg.output.ringSlots;
    return o;
}

void Host::start() {
    std::lock_guard lock(mutex_);
    writer_ = std::make_unique<EventWriter>(
        cfg_.output.events, cfg_.output.format == config::EventFormat::Json ? EventFormat::Json : EventFormat::Text);
    pump_ = std::make_unique<Pump>(*writer_);
    pump_->start();
    try {
        runStats_ = bpf::enableRunTimeStats();
        spdlog::info("BPF run-time statistics enabled while fizzhost runs (fizzhost status shows ns per run)");
    } catch (const Error& e) {
        spdlog::warn("BPF run-time statistics unavailable: {}", e.what());
    }
    catalog_.rescan();
    for (const auto& p : catalog_.problems()) spdlog::warn("plugin folder: skipped {}: {}", p.file.string(), p.message);
    try {
        std::vector<std::unique_ptr<Plan>> plans;
        for (const auto& ifc : cfg_.interfaces) plans.push_back(prepare(ifc, nullptr, false));
        for (auto& plan : plans) commit(*plan);
    } catch (...) {
        for (auto& [name, a] : attachments_) detach(*a);
        attachments_.clear();
        pump_->stop();
        throw;
    }
    started_ = true;
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
        auto load = [&](const std::string& name, uint32_t slot) {
            auto plugin = catalog_.find(name);
            auto classifier = Classifier::load(plugin, classifierOptions(cfg_));
            return std::make_shared<MessageSource>(std::move(classifier),
                                                   EventOrigin{ifc.name, plugin->name(), plugin->version(),
                                                               variantName(slot)},
                                                   *writer_);
        };
        auto runningPlugin = [](const std::shared_ptr<MessageSource>& s) {
            return s ? s->classifier().pluginPtr() : nullptr;
        };

        // Baseline: a new instance when the plugin (or its file) changed, or settings demand it.
        auto basePlugin = catalog_.find(ifc.classifier);
        if (!current || freshPrograms || runningPlugin(current->baseline) != basePlugin) {
            if (current && guard_) guard_(*current->baseline->classifier().pluginPtr(), *basePlugin);
            plan->newBaseline = load(ifc.classifier, FIZZ_SLOT_BASELINE);
        }
        if (ifc.rollout) {
            auto candPlugin = catalog_.find(ifc.rollout->candidate);
            bool needCandidate = !current || freshPrograms || runningPlugin(current->candidate) != candPlugin;
            if (needCandidate) {
                if (guard_) guard_(current ? *current->baseline->classifier().pluginPtr() : *basePlugin, *candPlugin);
                plan->newCandidate = load(ifc.rollout->candidate, FIZZ_SLOT_CANDIDATE);
            }
            if (!current || !current->dispatcher) {
                plan->newDispatcher = Dispatcher::load();
                auto& base = plan->newBaseline ? plan->newBaseline : current->baseline;
                plan->newDispatcher->setVariant(FIZZ_SLOT_BASELINE, base->classifier().programFd());
                plan->newDispatcher->setVariant(FIZZ_SLOT_CANDIDATE, plan->newCandidate->classifier().programFd());
                plan->newDispatcher->setPercent(ifc.rollout->percent);
            } else if (current->dispatcher->percent() != ifc.rollout->percent) {
                plan->newPercent = ifc.rollout->percent;
            }
        } else if (current && current->dispatcher) {
            plan->leaveRollout = true;
        }
    } catch (const Error& e) {
        if (std::string_view(e.what()).starts_with(where)) throw;
        throw Error(where + ": " + e.what(), e.code());
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

    if (plan.fresh) {
        Attachment& a = *plan.fresh;
        a.baseline = plan.newBaseline;
        a.candidate = plan.newCandidate;
        a.dispatcher = std::move(plan.newDispatcher);
        try {
            if (uint32_t other = bpf::attachedXdpProgramId(a.ifindex))
                throw Error("interface '" + a.cfg.name + "' already has XDP program id " + std::to_string(other) +
                                " attached, which fizzhost does not own; refusing to replace it (bpftool net show dev " +
                                a.cfg.name + ")",
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
                     a.candidate ? fmt::format(" with candidate {} at {}%", describeVersion(a.candidate.get()),
                                               a.dispatcher->percent())
                                 : "",
                     a.link.mode() == bpf::XdpMode::Native ? "native" : "generic", a.link.id(), a.link.programId(),
                     msSince(t0));
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
                               (a.candidate ? " + candidate " + describeVersion(a.candidate.get()) : "");
    std::vector<std::shared_ptr<MessageSource>> retired;
    std::unique_ptr<Dispatcher> oldDispatcher;
    try {
        if (plan.newDispatcher) {
            // Entering a rollout: the dispatcher, already pointing at both variants, takes the link.
            a.link.update(plan.newDispatcher->programFd(), a.attachedProgramFd());
        } else if (plan.leaveRollout) {
            auto& base = plan.newBaseline ? plan.newBaseline : a.baseline;
            a.link.update(base->classifier().programFd(), a.dispatcher->programFd());
        } else if (a.dispatcher) {
            // Staying in a rollout: the link keeps the dispatcher; each map update is atomic.
            if (plan.newCandidate) a.dispatcher->setVariant(FIZZ_SLOT_CANDIDATE, plan.newCandidate->classifier().programFd());
            if (plan.newBaseline) a.dispatcher->setVariant(FIZZ_SLOT_BASELINE, plan.newBaseline->classifier().programFd());
            if (plan.newPercent) a.dispatcher->setPercent(*plan.newPercent);
        } else if (plan.newBaseline) {
            a.link.update(plan.newBaseline->classifier().programFd(), a.baseline->classifier().programFd());
        }
    } catch (...) {
        undo();
        throw;
    }
    const double commitMs = msSince(t0);

    if (plan.newBaseline) retired.push_back(std::exchange(a.baseline, plan.newBaseline));
    if (plan.newCandidate) {
        if (a.candidate) retired.push_back(a.candidate);
        a.candidate = plan.newCandidate;
    }
    if (plan.newDispatcher) a.dispatcher = std::move(plan.newDispatcher);
    if (plan.leaveRollout) {
        retired.push_back(std::exchange(a.candidate, nullptr));
        oldDispatcher = std::move(a.dispatcher);
    }
    a.cfg = plan.cfg;

    // Nothing may still run the replaced programs when their queues are emptied for the last time.
    bpf::waitForInflightPrograms();
    for (auto& s : retired) {
        pump_->retire(s);
        warnIfUncounted(a.cfg.name, *s);
        a.retired.add(*s);  // final: nothing runs it any more and its messages are delivered
    }
    oldDispatcher.reset();

    const std::string after = describeVersion(a.baseline.get()) +
                              (a.candidate ? " + candidate " + describeVersion(a.candidate.get()) +
                                                 fmt::format(" at {}%", a.dispatcher->percent())
                                           : "");
    spdlog::info("interface '{}': {} -> {} (link id {} kept, program id {} -> {}); committed in {:.2f} ms, old "
                 "state drained in {:.2f} ms",
                 a.cfg.name, before, after, a.link.id(), oldProgramId, a.link.programId(), commitMs,
                 msSince(t0) - commitMs);
}

void Host::detach(Attachment& a) {
    a.link.detach();
    try {
        bpf::waitForInflightPrograms();
    } catch (const Error& e) {
        spdlog::warn("{}", e.what());
    }
    for (auto* s : {&a.baseline, &a.candidate})
        if (*s) pump_->retire(*s);
    spdlog::info("interface '{}': detached", a.cfg.name);
}

bool Host::reload(const config::HostConfig& next) {
    std::lock_guard lock(mutex_);
    const auto t0 = Clock::now();
    if (next.output.events != cfg_.output.events || next.output.format != cfg_.output.format ||
        next.controlSocket != cfg_.controlSocket)
        spdlog::warn("reload: [output] events/format and control_socket changes take effect on restart only");
    const bool freshPrograms = next.queueSize != cfg_.queueSize || next.output.transport != cfg_.output.transport ||
                               next.output.ringSlots != cfg_.output.ringSlots;
    std::vector<std::unique_ptr<Plan>> plans;
    try {
        if (next.pluginDir != catalog_.dir() || (next.allowInsecurePlugins || allowInsecure_) != allowInsecure_)
            catalog_ = plugin::Catalog(next.pluginDir,
                                       plugin::FilePolicy::forProcess(allowInsecure_ || next.allowInsecurePlugins));
        catalog_.rescan();
        config::HostConfig effective = next;
        effective.output.events = cfg_.output.events;
        effective.output.format = cfg_.output.format;
        effective.controlSocket = cfg_.controlSocket;
        std::swap(cfg_, effective);  // classifierOptions() reads the new sizes
        try {
            for (const auto& ifc : next.interfaces) {
                auto it = attachments_.find(ifc.name);
                plans.push_back(prepare(ifc, it == attachments_.end() ? nullptr : it->second.get(), freshPrograms));
            }
        } catch (...) {
            std::swap(cfg_, effective);
            throw;
        }
    } catch (const Error& e) {
        spdlog::error("reload failed, nothing changed, the running classifiers keep running: {}", e.what());
        return false;
    }
    const double prepareMs = msSince(t0);

    bool ok = true;
    for (auto& plan : plans) {
        try {
            commit(*plan);
        } catch (const Error& e) {
            spdlog::error("reload: interface '{}' keeps its running programs: {}", plan->cfg.name, e.what());
            ok = false;
        }
    }
    std::set<std::string> wanted;
    for (const auto& ifc : next.interfaces) wanted.insert(ifc.name);
    for (auto it = attachments_.begin(); it != attachments_.end();) {
        if (wanted.count(it->first)) {
            ++it;
            continue;
        }
        detach(*it->second);
        it = attachments_.erase(it);
    }
    spdlog::info("reload {} in {:.1f} ms (prepare {:.1f} ms)", ok ? "complete" : "partly failed", msSince(t0), prepareMs);
    return ok;
}

void Host::stop() {
    std::lock_guard lock(mutex_);
    if (!pump_) return;
    for (auto& [name, a] : attachments_) detach(*a);
    attachments_.clear();
    pump_->stop();
    pump_.reset();
    runStats_.reset();
    started_ = false;
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
    nlohmann::json out = {{"interfaces", nlohmann::json::array()}, {"run_time_stats", bool(runStats_)}};
    if (writer_) out["events_written"] = writer_->written();
    for (const auto& [name, a] : attachments_) {
        nlohmann::json ifc = {{"name", name},
                              {"mode", a->link.mode() == bpf::XdpMode::Native ? "native" : "generic"},
                              {"link_id", a->link.id()},
                              {"program_id", a->link.programId()}};
        auto top = bpf::programStats(a->attachedProgramFd());
        ifc["ns_per_run"] = top.nsPerRun();
        ifc["runs"] = top.runCount;
        if (a->dispatcher) ifc["percent"] = a->dispatcher->percent();
        // Since the interface was attached: the final counts of every retired instance + the live ones.
        const InterfaceTotals t = a->totals();
        ifc["totals"] = {{"packets", t.packets},     {"emitted", t.emitted},
                         {"dropped", t.dropped},     {"delivered", t.delivered},
                         {"undecodable", t.undecodable}, {"kinds", t.kinds}};
        ifc["variants"] = nlohmann::json::array();
        for (uint32_t slot : {uint32_t(FIZZ_SLOT_BASELINE), uint32_t(FIZZ_SLOT_CANDIDATE)}) {
            const auto& src = slot == FIZZ_SLOT_BASELINE ? a->baseline : a->candidate;
            if (!src) continue;
            // One instance, every column since it went live. The delivered figures are read before
            // the counters, so that delivered never runs ahead of emitted.
            const uint64_t delivered = src->delivered(), undecodable = src->undecodable();
            const fizz_counters c = src->counters();
            const auto& p = src->classifier().plugin();
            nlohmann::json v = {{"variant", variantName(slot)},
                                {"plugin", p.name()},
                                {"version", p.version()},
                                {"program_id", src->classifier().programId()},
                                {"packets", c.packets},
                                {"emitted", c.emitted},
                                {"dropped", c.dropped},
                                {"delivered", delivered},
                                {"undecodable", undecodable},
                                {"counts_packets", !(c.emitted > 0 && c.packets == 0)}};
            warnIfUncounted(name, *src);
            nlohmann::json kinds = nlohmann::json::object();
            for (uint32_t k = 0; k < p.kinds().size() && k < FIZZ_MAX_KINDS; ++k) kinds[p.kinds()[k]] = c.kinds[k];
            v["kinds"] = kinds;
            // Tail calls are not accounted to the callee: behind the dispatcher only the
            // interface total is known.
            if (!a->dispatcher) v["ns_per_run"] = top.nsPerRun();
            ifc["variants"].push_back(v);
        }
        out["interfaces"].push_back(ifc);
    }
    return out;
}

void Host::check(const config::HostConfig& cfg, bool allowInsecurePlugins) {
    plugin::Catalog catalog(cfg.pluginDir, plugin::FilePolicy::forProcess(allowInsecurePlugins || cfg.allowInsecurePlugins));
    catalog.rescan();
    for (const auto& ifc : cfg.interfaces) {
        const std::string where = "interface '" + ifc.name + "'";
        try {
            interfaceIndex(ifc.name);
            const ClassifierOptions o = classifierOptions(cfg);
            auto base = Classifier::load(catalog.find(ifc.classifier), o);
            spdlog::info("{}: {} {} loads and verifies", where, ifc.classifier, base->plugin().version());
            if (ifc.rollout) {
                auto cand = Classifier::load(catalog.find(ifc.rollout->candidate), o);
                auto d = Dispatcher::load();
                d->setVariant(FIZZ_SLOT_BASELINE, base->programFd());
                d->setVariant(FIZZ_SLOT_CANDIDATE, cand->programFd());
                spdlog::info("{}: candidate {} {} and the dispatcher load and verify", where, ifc.rollout->candidate,
                             cand->plugin().version());
            }
        } catch (const Error& e) {
            if (std::string_view(e.what()).starts_with(where)) throw;
            throw Error(where + ": " + e.what(), e.code());
        }
    }
}

}  // namespace fizzhost::runtime
