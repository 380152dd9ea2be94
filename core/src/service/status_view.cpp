#include "service/status_view.hpp"

#include <fmt/format.h>

#include <map>
#include <set>
#include <tuple>

namespace fizzhost::service {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;

// Families in a fixed order; each is emitted only when it got a sample.
class Families {
public:
    MetricFamily& family(const std::string& name, const std::string& help, MetricType type) {
        for (auto& f : families_)
            if (f.name == name) return f;
        families_.push_back(MetricFamily{name, help, type, {}});
        return families_.back();
    }
    void counter(const std::string& name, const std::string& help, Labels labels, double value) {
        ClientMetric m;
        m.label = std::move(labels);
        m.counter.value = value;
        family(name, help, MetricType::Counter).metric.push_back(std::move(m));
    }
    void gauge(const std::string& name, const std::string& help, Labels labels, double value) {
        ClientMetric m;
        m.label = std::move(labels);
        m.gauge.value = value;
        family(name, help, MetricType::Gauge).metric.push_back(std::move(m));
    }
    std::vector<MetricFamily> take() && {
        std::vector<MetricFamily> out;
        for (auto& f : families_)
            if (!f.metric.empty()) out.push_back(std::move(f));
        return out;
    }

private:
    std::vector<MetricFamily> families_;
};

}  // namespace

std::vector<MetricFamily> statusMetrics(const runtime::HostStatus& status) {
    Families f;
    // Declared up front so the exposition keeps one order whatever the status holds.
    f.family("fizzhost_packets_total", "Frames the classifier counted", MetricType::Counter);
    f.family("fizzhost_messages_total", "Messages the classifier emitted, per kind", MetricType::Counter);
    f.family("fizzhost_messages_dropped_total", "Messages lost because the transport was full", MetricType::Counter);
    f.family("fizzhost_messages_undecodable_total", "Messages the plugin's decoder refused", MetricType::Counter);
    f.family("fizzhost_messages_lost_at_start_total",
             "Messages a previous host left queued that this one could not deliver (status says why)",
             MetricType::Counter);
    f.family("fizzhost_events_written_total", "Events written to the events output", MetricType::Counter);
    f.family("fizzhost_events_lost_total", "Events decoded but lost because the write to the events output failed",
             MetricType::Counter);
    f.family("fizzhost_events_write_errors_total", "Writes to the events output that failed", MetricType::Counter);
    f.family("fizzhost_events_output_lost_total",
             "Events lost at the events output, by reason: write_timeout (not taken within write_timeout_ms), "
             "queue_full (the writer behind the pump), other (a failed write, no sink open)",
             MetricType::Counter);
    f.family("fizzhost_program_run_seconds_total",
             "Time spent in the program: the attached one as the kernel counts it; behind the A/B dispatcher, "
             "per variant, the runs the dispatcher timed",
             MetricType::Counter);
    f.family("fizzhost_program_runs_total",
             "Runs of the program: the attached one as the kernel counts them; behind the A/B dispatcher, per "
             "variant, the runs the dispatcher timed (1 frame in N)",
             MetricType::Counter);
    f.family("fizzhost_rollout_percent", "Share of sources sent to the candidate (0 without a rollout)",
             MetricType::Gauge);
    f.family("fizzhost_shadow_compared_total", "Frames both variants of a shadow-mode rollout decided on",
             MetricType::Counter);
    f.family("fizzhost_shadow_disagreed_total", "Compared frames the shadow-mode variants decided differently",
             MetricType::Counter);
    f.family("fizzhost_shadow_unexpected_total",
             "Disagreeing frames in cells the rollout's expected list does not name (all of them without a list)",
             MetricType::Counter);
    f.family("fizzhost_rollout_gate_figure", "A progressive rollout gate's figure over the current window",
             MetricType::Gauge);
    f.family("fizzhost_rollout_gate_lower", "The lower bound of the gate figure's interval", MetricType::Gauge);
    f.family("fizzhost_rollout_gate_upper", "The upper bound of the gate figure's interval", MetricType::Gauge);
    f.family("fizzhost_rollout_gate_limit", "The gate's limit", MetricType::Gauge);
    f.family("fizzhost_rollout_gate_samples", "The samples the gate's figure is over (its unit in the label)",
             MetricType::Gauge);
    f.family("fizzhost_rollout_gate_pass",
             "1 when the gate's interval lies within its limit, 0 otherwise (undecided, failed, too little data)",
             MetricType::Gauge);
    f.family("fizzhost_plugin_info", "A plugin version the host runs", MetricType::Gauge);
    f.family("fizzhost_decoder_restarts_total", "Decoder workers of the plugin module that ended and were replaced",
             MetricType::Counter);
    f.family("fizzhost_decoder_undecodable_total",
             "Messages counted undecodable because the decoder's worker died on them twice (or it was disabled), "
             "per reason",
             MetricType::Counter);
    f.family("fizzhost_decoder_disabled", "1 while the decoder is disabled after too many restarts a minute",
             MetricType::Gauge);
    f.family("fizzhost_hook_info", "The hook an interface's classifier runs on, its place or chained program",
             MetricType::Gauge);
    f.family("fizzhost_link_detaches_total", "Times someone else detached the interface's link", MetricType::Counter);
    f.family("fizzhost_link_off", "1 while the interface runs nothing after its link was detached", MetricType::Gauge);

    if (const auto& o = status.output) {
        f.counter("fizzhost_events_write_errors_total", "", {}, double(o->writeErrors));
        const uint64_t other = o->lost - std::min(o->lost, o->lostWriteTimeout + o->lostQueueFull);
        f.counter("fizzhost_events_output_lost_total", "", {{"reason", "write_timeout"}}, double(o->lostWriteTimeout));
        f.counter("fizzhost_events_output_lost_total", "", {{"reason", "queue_full"}}, double(o->lostQueueFull));
        f.counter("fizzhost_events_output_lost_total", "", {{"reason", "other"}}, double(other));
    }
    std::set<std::tuple<std::string, std::string, std::string>> plugins;
    for (const auto& ifc : status.interfaces) {
        const std::string& iface = ifc.name;
        const bool rollout = ifc.percent.has_value();
        if (ifc.state == runtime::InterfaceStatus::State::Attached) {
            f.gauge("fizzhost_hook_info", "",
                    {{"interface", iface}, {"hook", ifc.hook}, {"mode", ifc.mode}, {"place", ifc.place}, {"then", ifc.chain}},
                    1.0);
            f.counter("fizzhost_link_detaches_total", "", {{"interface", iface}}, double(ifc.detaches));
            f.gauge("fizzhost_link_off", "", {{"interface", iface}}, ifc.off ? 1.0 : 0.0);
        }
        f.gauge("fizzhost_rollout_percent", "", {{"interface", iface}}, rollout ? double(*ifc.percent) : 0.0);
        if (ifc.shadow) {
            f.counter("fizzhost_shadow_compared_total", "", {{"interface", iface}}, double(ifc.shadow->compared));
            f.counter("fizzhost_shadow_disagreed_total", "", {{"interface", iface}}, double(ifc.shadow->disagreed));
            f.counter("fizzhost_shadow_unexpected_total", "", {{"interface", iface}}, double(ifc.shadow->unexpected));
        }
        if (ifc.state == runtime::InterfaceStatus::State::Attached)
            f.counter("fizzhost_messages_lost_at_start_total", "", {{"interface", iface}}, double(ifc.lostAtStart));
        if (ifc.progressive)
            for (const auto& g : ifc.progressive->gates) {
                const Labels labels = {{"interface", iface}, {"gate", g.name}, {"unit", g.unit}};
                // A bound or figure not known yet is left out, not made up.
                if (g.figure) f.gauge("fizzhost_rollout_gate_figure", "", labels, *g.figure);
                if (g.lower) f.gauge("fizzhost_rollout_gate_lower", "", labels, *g.lower);
                if (g.upper) f.gauge("fizzhost_rollout_gate_upper", "", labels, *g.upper);
                f.gauge("fizzhost_rollout_gate_limit", "", labels, g.limit);
                f.gauge("fizzhost_rollout_gate_samples", "", labels, double(g.samples));
                f.gauge("fizzhost_rollout_gate_pass", "", labels, g.verdict == runtime::GateVerdict::Pass ? 1.0 : 0.0);
            }
        bool runsAttributed = false;
        for (const auto& v : ifc.variants) {
            const Labels labels = {{"interface", iface}, {"variant", v.variant}, {"plugin", v.plugin},
                                   {"version", v.version}};
            f.counter("fizzhost_packets_total", "", labels, double(v.counts.packets));
            for (const auto& [kind, n] : v.counts.kinds) {
                Labels withKind = labels;
                withKind.push_back({"kind", kind});
                f.counter("fizzhost_messages_total", "", withKind, double(n));
            }
            f.counter("fizzhost_messages_dropped_total", "", labels, double(v.counts.dropped));
            // A variant that left has no decoder: no undecodable or written series are made up for it.
            if (!v.plugin.empty()) {
                f.counter("fizzhost_messages_undecodable_total", "", labels, double(v.counts.undecodable));
                f.counter("fizzhost_events_written_total", "", labels, double(v.counts.delivered));
                f.counter("fizzhost_events_lost_total", "", labels, double(v.writeLost));
            }
            // Behind the dispatcher a variant carries the runs the dispatcher timed (1 frame in
            // runs_timed_1_in; no kernel statistics needed); a lone classifier (no dispatcher) is
            // the attached program, so the interface's figures are its own.
            const bool timed = v.runsTimedOneIn.has_value();
            const bool own = v.runs.has_value();
            const auto runs = own ? v.runs : !rollout && ifc.variants.size() == 1 ? ifc.runs : std::nullopt;
            const auto nsPerRun = own ? v.nsPerRun : !rollout && ifc.variants.size() == 1 ? ifc.nsPerRun : std::nullopt;
            if ((status.runTimeStats || timed) && runs && nsPerRun) {
                f.counter("fizzhost_program_runs_total", "", labels, double(*runs));
                f.counter("fizzhost_program_run_seconds_total", "", labels, double(*runs) * *nsPerRun / 1e9);
                runsAttributed = !timed;
            }
            if (!v.plugin.empty()) plugins.emplace(v.plugin, v.version, v.abi);
        }
        // Behind the dispatcher the kernel accounts only the program on the link (dispatcher and
        // the variant it called, together).
        if (status.runTimeStats && !runsAttributed && ifc.runs && ifc.nsPerRun) {
            const Labels labels = {{"interface", iface}, {"variant", "dispatcher"}, {"plugin", ""}, {"version", ""}};
            f.counter("fizzhost_program_runs_total", "", labels, double(*ifc.runs));
            f.counter("fizzhost_program_run_seconds_total", "", labels, double(*ifc.runs) * *ifc.nsPerRun / 1e9);
        }
    }
    for (const auto& [plugin, version, abi] : plugins)
        f.gauge("fizzhost_plugin_info", "", {{"plugin", plugin}, {"version", version}, {"abi", abi}}, 1.0);
    for (const auto& d : status.decoders) {
        if (!d.confined) continue;  // in-process: no worker to count
        const Labels labels = {{"plugin", d.plugin}, {"version", d.version}, {"sha256", d.sha256.substr(0, 12)}};
        f.counter("fizzhost_decoder_restarts_total", "", labels, double(d.restarts));
        f.gauge("fizzhost_decoder_disabled", "", labels, d.disabled ? 1.0 : 0.0);
        for (const auto& [reason, n] : d.undecodable) {
            Labels withReason = labels;
            withReason.push_back({"reason", reason});
            f.counter("fizzhost_decoder_undecodable_total", "", withReason, double(n));
        }
    }
    return std::move(f).take();
}

std::string statusLine(const runtime::HostStatus& status) {
    std::string out;
    for (const auto& ifc : status.interfaces) {
        std::string running;
        for (const auto& v : ifc.variants) {
            if (v.plugin.empty()) continue;  // counts of a variant that left
            running += fmt::format("{}{} {}", running.empty() ? "" : " + ", v.plugin, v.version);
        }
        if (ifc.percent) running += fmt::format(" at {}%", *ifc.percent);
        out += fmt::format("{}{}: {}", out.empty() ? "" : "; ", ifc.name, running.empty() ? "-" : running);
    }
    return out;
}

}  // namespace fizzhost::service
