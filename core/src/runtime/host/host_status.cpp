// The host's status: what runs and what it counted, per interface and variant.
#include "runtime/host/host.hpp"

#include "bpf/prog_stats.hpp"
#include "runtime/rollout/variant_placement.hpp"
#include "util/error.hpp"
#include "util/iso_time.hpp"

namespace fizzhost::runtime {

nlohmann::json Host::status() const {
    std::lock_guard lock(mutex_);
    nlohmann::json out = {{"interfaces", nlohmann::json::array()},
                          {"run_time_stats", runStats_.on()},
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
        if (runStats_.on()) {
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
            uncounted_.check(name, *src);
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
    for (const auto& [name, g] : gone_.all()) out["interfaces"].push_back(goneStatus(name, g));
    return out;
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
            {"final",
             {{"packets", g.final.packets}, {"emitted", g.final.emitted}, {"dropped", g.final.dropped},
              {"delivered", g.final.delivered}, {"undecodable", g.final.undecodable}, {"kinds", g.final.kinds}}},
            {"variants", nlohmann::json::array()}};
}

}  // namespace fizzhost::runtime
