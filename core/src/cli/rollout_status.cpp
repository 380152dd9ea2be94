#include "cli/rollout_status.hpp"

#include <fmt/format.h>

namespace fizzhost::cli {

std::string rolloutStatusText(const nlohmann::json& p) {
    const auto steps = p.value("steps", nlohmann::json::array());
    const std::string promote =
        p.value("promote", false) ? "promote after the last step" : "no promotion (promote = false)";
    std::string out;
    if (p.value("stage", std::string()) == "shadow")
        // Before the first step: no split yet, both variants on every frame.
        out = fmt::format("  progressive rollout: shadow stage (both variants on every frame), {:.1f} s in stage "
                          "(judged every {} s), then {} step(s) of {} s, {}\n",
                          p.value("seconds_in_step", 0.0), p.value("shadow_seconds", 0), steps.size(),
                          p.value("step_seconds", 0), promote);
    else
        out = fmt::format("  progressive rollout: {} step {}/{} at {}%, {:.1f} s in step (judged every {} s), {}\n",
                          p.value("stage", std::string("?")), p.value("step", 0), steps.size(), p.value("percent", 0),
                          p.value("seconds_in_step", 0.0), p.value("step_seconds", 0), promote);
    const auto gates = p.value("gates", nlohmann::json::array());
    if (!gates.empty()) {
        out += fmt::format("    {:<22} {:>10} {:>10} {:>18}  {}\n", "GATE", "FIGURE", "LIMIT", "SAMPLES/MIN", "VERDICT");
        for (const auto& g : gates) {
            const auto& fig = g.contains("figure") ? g["figure"] : nlohmann::json();
            out += fmt::format("    {:<22} {:>10} {:>10.4g} {:>18}  {}\n", g.value("name", std::string("?")),
                               fig.is_number() ? fmt::format("{:.4f}", fig.get<double>()) : std::string("-"),
                               g.value("limit", 0.0),
                               fmt::format("{}/{} {}", g.value("samples", uint64_t(0)), g.value("min_samples", uint64_t(0)),
                                           g.value("unit", std::string())),
                               g.value("verdict", std::string("?")));
        }
    }
    out += "  verdict: " + p.value("verdict", std::string("?"));
    const std::string reason = p.value("reason", std::string());
    if (!reason.empty()) out += " (" + reason + ")";
    out += "\n";
    if (p.contains("action_error")) out += "  ! last action failed: " + p.value("action_error", std::string()) + "\n";
    return out;
}

}  // namespace fizzhost::cli
