#include "cli/variant_status_text.hpp"

#include <fmt/format.h>

namespace fizzhost::cli {

std::string variantCostsText(const nlohmann::json& ifc) {
    if (!ifc.contains("variants")) return "";
    std::string parts;
    uint64_t period = 0;
    double baseline = 0, candidate = 0;
    for (const auto& v : ifc["variants"]) {
        if (!v.contains("runs_timed_1_in")) continue;
        period = v["runs_timed_1_in"].get<uint64_t>();
        const std::string variant = v.value("variant", std::string("-"));
        const double ns = v.value("ns_per_run", 0.0);
        const uint64_t runs = v.value("runs", uint64_t(0));
        (variant == "baseline" ? baseline : candidate) = runs ? ns : 0.0;
        parts += fmt::format("{}{} {} {} ", parts.empty() ? "" : ", ", variant, v.value("plugin", std::string("-")),
                             v.value("version", std::string("-")));
        parts += runs ? fmt::format("{:.1f} ns/run over {} runs", ns, runs) : std::string("not timed yet");
    }
    if (parts.empty()) return "";
    std::string ratio = baseline > 0 && candidate > 0 ? fmt::format(" (candidate x{:.2f} the baseline)", candidate / baseline)
                                                      : std::string();
    return fmt::format("  cost (dispatcher-timed, 1 frame in {} per CPU): {}{}\n", period, parts, ratio);
}

std::string shadowTableText(const nlohmann::json& ifc) {
    if (!ifc.contains("shadow")) return "";
    const auto& sh = ifc["shadow"];
    const uint64_t compared = sh.value("compared", uint64_t(0)), disagreed = sh.value("disagreed", uint64_t(0));
    std::string out = fmt::format("  shadow: {} frames compared, {} disagreed ({:.2f}%); candidate events {}\n",
                                  compared, disagreed, compared ? 100.0 * double(disagreed) / double(compared) : 0.0,
                                  sh.value("events", false) ? "written (\"variant\":\"shadow\")" : "withheld");
    if (!sh.contains("cells") || sh["cells"].empty()) return out;
    out += fmt::format("     {:<16} {:<16} {:>12}  {}\n", "BASELINE", "SHADOW", "FRAMES", "EXAMPLES");
    for (const auto& cell : sh["cells"]) {
        std::string examples;
        for (const auto& e : cell.value("examples", nlohmann::json::array()))
            examples += (examples.empty() ? "" : " ") + e.get<std::string>();
        out += fmt::format("  {:<2} {:<16} {:<16} {:>12}  {}\n", cell.value("agree", true) ? "" : "!=",
                           cell.value("baseline", std::string("-")), cell.value("candidate", std::string("-")),
                           cell.value("frames", uint64_t(0)), examples);
    }
    return out;
}

}  // namespace fizzhost::cli
