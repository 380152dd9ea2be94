#include "cli/variant_status_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <vector>

namespace fizzhost::cli {
namespace {

constexpr size_t kCountColumns = 9;  // VARIANT .. UNDECODABLE, then PER KIND (unpadded, last)
constexpr size_t kFirstNumeric = 3;  // VARIANT, PLUGIN, VERSION are text, left-aligned

std::string number(const nlohmann::json& j, const char* key) {
    return j.contains(key) && !j[key].is_null() ? j[key].dump() : "-";
}

}  // namespace

std::string variantTableText(const nlohmann::json& ifc) {
    // A row of cells, or a note line printed as it is.
    struct Line {
        std::array<std::string, kCountColumns> cells;
        std::string note;
    };
    std::vector<Line> lines;
    lines.push_back({{"VARIANT", "PLUGIN", "VERSION", "PACKETS", "MESSAGES", "DROPPED", "DELIVERED", "UNDECODABLE",
                      "PER KIND"},
                     ""});
    auto row = [&](const std::string& variant, const std::string& plugin, const std::string& version,
                   const nlohmann::json& v) {
        std::string kinds;
        if (v.contains("kinds") && v["kinds"].is_object())
            for (const auto& [k, n] : v["kinds"].items()) kinds += fmt::format("{}{}={}", kinds.empty() ? "" : " ", k, n.dump());
        lines.push_back({{variant, plugin, version, number(v, "packets"), number(v, "emitted"), number(v, "dropped"),
                          number(v, "delivered"), number(v, "undecodable"), kinds},
                         ""});
    };
    for (const auto& v : ifc.value("variants", nlohmann::json::array())) {
        const std::string plugin = v.value("plugin", std::string("-")), version = v.value("version", std::string("-"));
        row(v.value("variant", std::string("-")), plugin, version, v);
        if (!v.value("counts_packets", true))
            lines.push_back({{}, fmt::format("  ! {} {} emits but never calls fizz_count_packet(): its PACKETS read 0\n",
                                             plugin, version)});
    }
    if (ifc.contains("totals")) row("(total)", "-", "-", ifc["totals"]);

    std::array<size_t, kCountColumns> width{};
    for (const auto& l : lines)
        if (l.note.empty())
            for (size_t c = 0; c < kCountColumns; ++c) width[c] = std::max(width[c], l.cells[c].size());
    std::string out;
    for (const auto& l : lines) {
        if (!l.note.empty()) {
            out += l.note;
            continue;
        }
        std::string line = " ";
        for (size_t c = 0; c + 1 < kCountColumns; ++c)
            line += c < kFirstNumeric ? fmt::format(" {:<{}}", l.cells[c], width[c]) : fmt::format(" {:>{}}", l.cells[c], width[c]);
        line += "  " + l.cells[kCountColumns - 1];
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out += line + "\n";
    }
    return out;
}

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
