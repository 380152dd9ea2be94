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

std::string text(const nlohmann::json& j, const char* key) {
    return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

bool has(const nlohmann::json& j, const char* key) { return j.contains(key) && j[key].is_number(); }

double number(const nlohmann::json& j, const char* key) { return j[key].get<double>(); }

}  // namespace

std::vector<MetricFamily> statusMetrics(const nlohmann::json& status) {
    Families f;
    // Declared up front so the exposition keeps one order whatever the status holds.
    f.family("fizzhost_packets_total", "Frames the classifier counted", MetricType::Counter);
    f.family("fizzhost_messages_total", "Messages the classifier emitted, per kind", MetricType::Counter);
    f.family("fizzhost_messages_dropped_total", "Messages lost because the transport was full", MetricType::Counter);
    f.family("fizzhost_messages_undecodable_total", "Messages the plugin's decoder refused", MetricType::Counter);
    f.family("fizzhost_events_written_total", "Events written to the events output", MetricType::Counter);
    f.family("fizzhost_events_lost_total", "Events decoded but lost because the write to the events output failed",
             MetricType::Counter);
    f.family("fizzhost_events_write_errors_total", "Writes to the events output that failed", MetricType::Counter);
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
    f.family("fizzhost_plugin_info", "A plugin version the host runs", MetricType::Gauge);

    const bool runTimeStats = status.value("run_time_stats", false);
    if (has(status, "write_errors"))
        f.counter("fizzhost_events_write_errors_total", "", {}, number(status, "write_errors"));
    std::set<std::tuple<std::string, std::string, std::string>> plugins;
    if (!status.contains("interfaces")) return std::move(f).take();
    for (const auto& ifc : status["interfaces"]) {
        const std::string iface = text(ifc, "name");
        const bool rollout = ifc.contains("percent");
        f.gauge("fizzhost_rollout_percent", "", {{"interface", iface}}, rollout ? number(ifc, "percent") : 0.0);
        if (ifc.contains("shadow")) {
            f.counter("fizzhost_shadow_compared_total", "", {{"interface", iface}}, number(ifc["shadow"], "compared"));
            f.counter("fizzhost_shadow_disagreed_total", "", {{"interface", iface}}, number(ifc["shadow"], "disagreed"));
        }
        const auto& variants = ifc.contains("variants") ? ifc["variants"] : nlohmann::json::array();
        bool runsAttributed = false;
        for (const auto& v : variants) {
            const std::string plugin = text(v, "plugin"), version = text(v, "version");
            const Labels labels = {{"interface", iface}, {"variant", text(v, "variant")}, {"plugin", plugin},
                                   {"version", version}};
            if (has(v, "packets")) f.counter("fizzhost_packets_total", "", labels, number(v, "packets"));
            if (v.contains("kinds"))
                for (const auto& [kind, n] : v["kinds"].items()) {
                    Labels withKind = labels;
                    withKind.push_back({"kind", kind});
                    f.counter("fizzhost_messages_total", "", withKind, n.get<double>());
                }
            if (has(v, "dropped")) f.counter("fizzhost_messages_dropped_total", "", labels, number(v, "dropped"));
            if (has(v, "undecodable"))
                f.counter("fizzhost_messages_undecodable_total", "", labels, number(v, "undecodable"));
            if (has(v, "delivered")) f.counter("fizzhost_events_written_total", "", labels, number(v, "delivered"));
            if (has(v, "write_lost")) f.counter("fizzhost_events_lost_total", "", labels, number(v, "write_lost"));
            // Behind the dispatcher a variant carries the runs the dispatcher timed (1 frame in
            // runs_timed_1_in; no kernel statistics needed); a lone classifier (no dispatcher) is
            // the attached program, so the interface's figures are its own.
            const bool timed = has(v, "runs_timed_1_in");
            const nlohmann::json* runs = has(v, "runs") ? &v : (!rollout && variants.size() == 1 ? &ifc : nullptr);
            if ((runTimeStats || timed) && runs && has(*runs, "runs") && has(*runs, "ns_per_run")) {
                f.counter("fizzhost_program_runs_total", "", labels, number(*runs, "runs"));
                f.counter("fizzhost_program_run_seconds_total", "", labels,
                          number(*runs, "runs") * number(*runs, "ns_per_run") / 1e9);
                runsAttributed = !timed;
            }
            if (!plugin.empty()) plugins.emplace(plugin, version, text(v, "abi"));
        }
        // Behind the dispatcher the kernel accounts only the program on the link (dispatcher and
        // the variant it called, together).
        if (runTimeStats && !runsAttributed && has(ifc, "runs") && has(ifc, "ns_per_run")) {
            const Labels labels = {{"interface", iface}, {"variant", "dispatcher"}, {"plugin", ""}, {"version", ""}};
            f.counter("fizzhost_program_runs_total", "", labels, number(ifc, "runs"));
            f.counter("fizzhost_program_run_seconds_total", "", labels,
                      number(ifc, "runs") * number(ifc, "ns_per_run") / 1e9);
        }
    }
    for (const auto& [plugin, version, abi] : plugins)
        f.gauge("fizzhost_plugin_info", "", {{"plugin", plugin}, {"version", version}, {"abi", abi}}, 1.0);
    return std::move(f).take();
}

std::string statusLine(const nlohmann::json& status) {
    std::string out;
    if (!status.contains("interfaces")) return out;
    for (const auto& ifc : status["interfaces"]) {
        std::string running;
        for (const auto& v : ifc.value("variants", nlohmann::json::array())) {
            const std::string plugin = text(v, "plugin");
            if (plugin.empty()) continue;  // counts of a variant that left
            running += fmt::format("{}{} {}", running.empty() ? "" : " + ", plugin, text(v, "version"));
        }
        if (ifc.contains("percent")) running += fmt::format(" at {}%", ifc["percent"].get<int>());
        out += fmt::format("{}{}: {}", out.empty() ? "" : "; ", text(ifc, "name"), running.empty() ? "-" : running);
    }
    return out;
}

}  // namespace fizzhost::service
