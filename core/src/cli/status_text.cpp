#include "cli/status_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <vector>

namespace fizzhost::cli {
namespace {

using runtime::InterfaceStatus;

constexpr size_t kCountColumns = 9;  // VARIANT .. UNDECODABLE, then PER KIND (unpadded, last)
constexpr size_t kFirstNumeric = 3;  // VARIANT, PLUGIN, VERSION are text, left-aligned

template <typename T>
std::string orDash(const std::optional<T>& value) {
    return value ? fmt::format("{}", *value) : "-";
}

std::string interfaceText(const InterfaceStatus& ifc) {
    if (ifc.state == InterfaceStatus::State::Gone) {
        const auto& fin = ifc.final;
        return fmt::format("interface {}  gone since {}  (deleted; {} is attached again when it appears)\n"
                           "  final counts: {} packets, {} messages, {} dropped, {} delivered\n",
                           ifc.name, ifc.goneSince, ifc.classifier, fin.packets, fin.emitted, fin.dropped,
                           fin.delivered);
    }
    // Live ns/run only with the kernel's run-time statistics on (run_time_stats).
    const std::string live =
        ifc.nsPerRun ? fmt::format("  live {:.1f} ns/run over {} runs", *ifc.nsPerRun, orDash(ifc.runs)) : std::string();
    std::string out = fmt::format(
        "interface {}  mode {}  link id {}  program id {}{}{}\n", ifc.name, ifc.mode, ifc.linkId, ifc.programId, live,
        ifc.percent  ? fmt::format("  rollout {}% to candidate", *ifc.percent)
        : ifc.shadow ? std::string("  rollout in shadow mode (both variants on every frame)")
                     : std::string());
    if (ifc.hook == "tc") out += fmt::format("  hook tc ingress, {} among the programs there\n", ifc.place);
    if (!ifc.chain.empty())
        out += fmt::format("  then: every frame goes on to program id {} pinned at {}\n", ifc.chainProgramId, ifc.chain);
    if (ifc.detaches > 0 || ifc.off)
        out += fmt::format("  detached by someone else {} time(s) (on_detach = \"{}\"){}\n", ifc.detaches, ifc.onDetach,
                           ifc.off ? "; OFF: " + *ifc.off : std::string("; re-attached"));
    if (ifc.costWindow) {
        const auto& w = *ifc.costWindow;
        out += fmt::format("  measured {:.1f} ns/run over {} runs in {:.2f} s (kernel run-time statistics, on for "
                           "that window only){}\n",
                           w.nsPerRun, w.runs, w.seconds,
                           ifc.percent || ifc.shadow ? "; the A/B dispatcher and its variant together" : "");
    }
    if (ifc.progressive) out += rolloutStatusText(*ifc.progressive);
    // Per variant: that program instance's counts since it went live; totals: the interface's
    // since it was attached, retired instances included.
    return out + variantTableText(ifc) + variantCostsText(ifc) + shadowTableText(ifc);
}

}  // namespace

std::string decodersText(const std::vector<runtime::DecoderStatus>& decoders) {
    if (decoders.empty()) return "";
    std::string out = "decoders:\n";
    for (const auto& d : decoders) {
        uint64_t undecodable = 0;
        std::string why;
        for (const auto& [reason, n] : d.undecodable) {
            undecodable += n;
            why += fmt::format("{}{}={}", why.empty() ? "" : ", ", reason, n);
        }
        out += fmt::format("  {} {}: {}", d.plugin, d.version,
                           d.confined ? (d.pid ? fmt::format("confined, worker pid {}", d.pid) : std::string("confined, no worker running"))
                                      : std::string("IN-PROCESS (isolation = \"none\")"));
        if (d.confined)
            out += fmt::format(", {} restart(s){}, {} undecodable{}", d.restarts,
                               d.lastFailure.empty() ? "" : " (last: " + d.lastFailure + ")", undecodable,
                               why.empty() ? "" : " (" + why + ")");
        out += "\n";
        if (d.disabled) out += "    ! DISABLED: " + d.disabledReason + "; its messages are undecodable until it restarts\n";
    }
    return out;
}

std::string statusText(const runtime::HostStatus& status) {
    std::string out;
    for (const auto& ifc : status.interfaces) out += interfaceText(ifc);
    if (const auto& o = status.output)
        out += fmt::format("events output: {} written, {} lost ({} failed writes{}; {} not written within the write "
                           "timeout, {} dropped with the output's queue full), reopened {} time(s)\n",
                           o->written, o->lost, o->writeErrors, o->lastError ? ", last: " + *o->lastError : "",
                           o->lostWriteTimeout, o->lostQueueFull, o->reopens);
    if (status.lastReload) out += "last reload: " + describeReload(*status.lastReload) + "\n";
    out += decodersText(status.decoders);
    if (status.insecurePlugins)
        out += "INSECURE: plugins are loaded without the root-ownership check (allow_insecure_plugins)\n";
    if (status.runTimeStats)
        out += "(live ns/run from the kernel's BPF run-time statistics, on while fizzhost runs with "
               "run_time_stats = true; behind the A/B dispatcher it covers dispatcher and variant together)\n";
    return out;
}

std::string describeReload(const runtime::ReloadSummary& r) {
    std::string line = fmt::format("{} by {}: {} after {:.1f} ms", r.time, r.trigger, r.ok ? "success" : "refused",
                                   r.durationMs);
    if (!r.ok) line += ": " + r.reason;
    return line;
}

std::string variantTableText(const InterfaceStatus& ifc) {
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
                   const runtime::StatusCounts& c) {
        std::string kinds;
        for (const auto& [k, n] : c.kinds) kinds += fmt::format("{}{}={}", kinds.empty() ? "" : " ", k, n);
        lines.push_back({{variant, plugin, version, std::to_string(c.packets), std::to_string(c.emitted),
                          std::to_string(c.dropped), std::to_string(c.delivered), std::to_string(c.undecodable), kinds},
                         ""});
    };
    for (const auto& v : ifc.variants) {
        row(v.variant, v.plugin, v.version, v.counts);
        if (!v.countsPackets)
            lines.push_back({{}, fmt::format("  ! {} {} emits but never calls fizz_count_packet(): its PACKETS read 0\n",
                                             v.plugin, v.version)});
    }
    row("(total)", "-", "-", ifc.totals);
    if (ifc.lostAtStart || !ifc.lostAtStartReasons.empty()) {
        lines.push_back({{}, fmt::format("  ! {} messages a previous host left were counted as lost at start:\n",
                                         ifc.lostAtStart)});
        for (const auto& why : ifc.lostAtStartReasons) lines.push_back({{}, "    - " + why + "\n"});
    }

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

std::string variantCostsText(const InterfaceStatus& ifc) {
    std::string parts;
    uint64_t period = 0;
    double baseline = 0, candidate = 0;
    for (const auto& v : ifc.variants) {
        if (!v.runsTimedOneIn) continue;
        period = *v.runsTimedOneIn;
        const double ns = v.nsPerRun.value_or(0.0);
        const uint64_t runs = v.runs.value_or(0);
        (v.variant == "baseline" ? baseline : candidate) = runs ? ns : 0.0;
        parts += fmt::format("{}{} {} {} ", parts.empty() ? "" : ", ", v.variant, v.plugin, v.version);
        parts += runs ? fmt::format("{:.1f} ns/run over {} runs", ns, runs) : std::string("not timed yet");
    }
    if (parts.empty()) return "";
    std::string ratio = baseline > 0 && candidate > 0 ? fmt::format(" (candidate x{:.2f} the baseline)", candidate / baseline)
                                                      : std::string();
    return fmt::format("  cost (dispatcher-timed, 1 frame in {} per CPU): {}{}\n", period, parts, ratio);
}

std::string shadowTableText(const InterfaceStatus& ifc) {
    if (!ifc.shadow) return "";
    const auto& sh = *ifc.shadow;
    const std::string expected =
        sh.unexpected != sh.disagreed ? fmt::format(", {} of them in expected cells", sh.disagreed - sh.unexpected) : "";
    std::string out = fmt::format("  shadow: {} frames compared, {} disagreed ({:.2f}%){}; candidate events {}\n",
                                  sh.compared, sh.disagreed,
                                  sh.compared ? 100.0 * double(sh.disagreed) / double(sh.compared) : 0.0, expected,
                                  sh.events ? "written (\"variant\":\"shadow\")" : "withheld");
    if (sh.cells.empty()) return out;
    out += fmt::format("     {:<16} {:<16} {:>12}  {}\n", "BASELINE", "SHADOW", "FRAMES", "EXAMPLES");
    for (const auto& cell : sh.cells) {
        std::string examples;
        for (const auto& e : cell.examples) examples += (examples.empty() ? "" : " ") + e;
        // "~" marks a difference the rollout's `expected` list names; "!=" one it does not.
        out += fmt::format("  {:<2} {:<16} {:<16} {:>12}  {}{}\n", cell.agree ? "" : cell.expected ? "~" : "!=",
                           cell.baseline, cell.candidate, cell.frames, examples, cell.expected ? " (expected)" : "");
    }
    return out;
}

std::string rolloutStatusText(const runtime::RolloutStatus& p) {
    const std::string promote = p.promote ? "promote after the last step" : "no promotion (promote = false)";
    std::string out;
    if (p.stage == runtime::RolloutStage::Shadow)
        // Before the first step: no split yet, both variants on every frame.
        out = fmt::format("  progressive rollout: shadow stage (both variants on every frame), {:.1f} s in stage "
                          "(judged every {} s), then {} step(s) of {} s, {}\n",
                          p.secondsInStep, p.shadowSeconds, p.steps.size(), p.stepSeconds, promote);
    else
        // "step 2/3" while stepping; an ended plan names how it ended first ("rolled_back, step 1/2").
        out = fmt::format("  progressive rollout: {}step {}/{} at {}%, {:.1f} s in step (judged every {} s), {}\n",
                          p.stage == runtime::RolloutStage::Step ? "" : std::string(runtime::toString(p.stage)) + ", ",
                          p.step, p.steps.size(), p.percent, p.secondsInStep, p.stepSeconds, promote);
    if (!p.gates.empty()) {
        // Each figure with its interval at the confidence each look was judged at (the rollout's
        // confidence shared among the window's looks).
        const auto num = [](std::optional<double> v) { return v ? fmt::format("{:.4g}", *v) : std::string("-"); };
        out += fmt::format("    {:<22} {:>10} {:>22} {:>10} {:>9} {:>24}  {}\n", "GATE", "FIGURE", "INTERVAL", "LIMIT",
                           "CONF", "SAMPLES/MIN", "VERDICT");
        for (const auto& g : p.gates)
            out += fmt::format("    {:<22} {:>10} {:>22} {:>10.4g} {:>9} {:>24}  {}\n", g.name, num(g.figure),
                               g.lower && g.upper ? fmt::format("[{}, {}]", num(g.lower), num(g.upper)) : "-", g.limit,
                               g.confidence > 0 ? fmt::format("{:.4g}%", 100 * g.confidence) : "-",
                               fmt::format("{}/{} {}", g.samples, g.minSamples, g.unit), runtime::toString(g.verdict));
        if (p.confidence > 0)
            out += fmt::format("    confidence {:.4g}% per window; an interval across its limit holds the step\n",
                               100 * p.confidence);
    }
    out += "  verdict: " + p.verdict;
    if (!p.reason.empty()) out += " (" + p.reason + ")";
    out += "\n";
    if (p.actionError) out += "  ! last action failed: " + *p.actionError + "\n";
    return out;
}

}  // namespace fizzhost::cli
