// `fizzhost diff A B`: both programs on every frame (BPF_PROG_TEST_RUN, decoded as classify decodes
// them), the confusion table of their decisions with examples and the cells B is expected to
// change, and B's cost over A's on those frames with an interval from interleaved rounds. The
// check a plugin author runs in CI before any node sees a build: the exit status says whether a
// frame differs unexpectedly and whether B is slower beyond a limit.
//
// The slowdown verdict is judged on the interval (util/interval_gate.hpp): exit 2 only when its
// lower bound is past --max-slowdown, i.e. B is slower beyond the limit at the stated confidence.
// An interval that straddles the limit is not a failure (the build is not failed on noise); it is
// reported as undecided, with the advice to measure longer. A real regression of the size the limit
// names is past it in every interval once the rounds are enough.
#include "cli/commands.hpp"

#include "cli/address_input.hpp"
#include "cli/bmf.hpp"
#include "cli/capture.hpp"
#include "cli/plugin_choice.hpp"
#include "config/expected_cells.hpp"
#include "decoder/decoder_service.hpp"
#include "measure/cost_comparison.hpp"
#include "measure/decision_diff.hpp"
#include "measure/frames.hpp"
#include "plugin/catalog.hpp"
#include "util/address.hpp"
#include "util/error.hpp"
#include "util/interval_gate.hpp"
#include "util/text.hpp"
#include "util/unique_fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <tuple>

namespace fizzhost::cli {
namespace {

// An --expect-file is a short list; anything larger is a wrong path.
constexpr size_t kMaxExpectFile = 1 << 20;

struct Side {
    std::string label;  // "A", "B"
    std::shared_ptr<const plugin::Plugin> plugin;
    std::string describe() const { return label + " " + plugin->name() + " " + plugin->version(); }
};

// The file's text; refuses what is not a regular file (without blocking on a FIFO) and what is
// too large to be a list of cells.
std::string readSmallFile(const std::string& path) {
    const std::string where = "--expect-file '" + printable(path) + "'";
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    if (!fd) throwErrno(where + ": open", errno);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throwErrno(where + ": stat", errno);
    if (!S_ISREG(st.st_mode)) throw Error(where + " is not a regular file", EINVAL);
    if (size_t(st.st_size) > kMaxExpectFile) throw Error(where + " is larger than 1 MiB: not a list of cells", EFBIG);
    std::string text(size_t(st.st_size), '\0');
    size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::read(fd.get(), text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throwErrno(where + ": read", errno);
        if (n == 0) break;
        done += size_t(n);
    }
    text.resize(done);
    return text;
}

std::vector<config::ExpectedCell> expectedCells(const DiffOptions& opts) {
    std::vector<config::ExpectedCell> cells;
    auto add = [&](config::ExpectedCell cell, const std::string& where) {
        if (std::find(cells.begin(), cells.end(), cell) != cells.end())
            throw Error(where + ": '" + printable(cell.text()) + "' is listed twice", EINVAL);
        cells.push_back(std::move(cell));
    };
    for (const auto& text : opts.expect) {
        std::string why;
        auto cell = config::parseExpectedCell(text, &why);
        if (!cell) throw Error("--expect '" + printable(text) + "': " + why, EINVAL);
        add(std::move(*cell), "--expect");
    }
    if (!opts.expectFile.empty())
        for (auto& cell : config::parseExpectedList(readSmallFile(opts.expectFile), opts.expectFile))
            add(std::move(cell), opts.expectFile);
    return cells;
}

struct Input {
    std::vector<measure::DiffFrame> frames;
    std::string what;  // for the header line
};

Input readInput(const DiffOptions& opts) {
    Input in;
    if (!opts.pcap.empty()) {
        readCapture(opts.pcap, [&](const CaptureFrame& f) {
            in.frames.push_back({f.number, std::vector<uint8_t>(f.bytes.begin(), f.bytes.end()),
                                 measure::frameIpv4Source(f.bytes)});
        });
        in.what = "capture '" + printable(opts.pcap) + "'";
        return in;
    }
    auto addFrame = [&](uint32_t src) {
        in.frames.push_back({in.frames.size() + 1, measure::shapedFrame(opts.shape.shapeFor(src)), src});
    };
    if (!opts.addresses.empty()) {
        for (uint32_t a : parseAddresses(opts.addresses)) addFrame(a);
    } else if (auto bad = forEachAddressLine(std::cin, addFrame)) {
        throw Error(*bad, EINVAL);
    }
    in.what = "shaped frames from the sources given";
    return in;
}

std::string exampleText(const measure::CellExample& e) {
    return fmt::format("#{} {}", e.frame, e.src ? formatAddress(*e.src) : std::string("-"));
}

std::string_view mark(const measure::DiffCell& c) { return c.agree ? "" : c.expected ? "~=" : "!="; }

std::string intervalText(const stats::Interval& i, int digits, std::string_view unit) {
    return fmt::format("{:.{}f}{} [{:.{}f}, {:.{}f}]", i.estimate, digits, unit, i.lower, digits, i.upper, digits);
}

struct Verdict {
    int status = kDiffSame;
    std::optional<stats::GateJudgement> slowdown;
};

void printText(const DiffOptions& opts, const Side& a, const Side& b, const Input& in, const measure::DecisionTable& t,
               const std::optional<measure::CostComparison>& cost, const Verdict& v) {
    fmt::print("{} and {} on {} frame(s) of the {}\n", a.describe(), b.describe(), in.frames.size(), in.what);
    fmt::print("decisions: {} frame(s) compared, {} the same, {} differ ({} as expected, {} unexpected){}\n", t.compared,
               t.compared - t.disagreed(), t.disagreed(), t.expected, t.unexpected,
               t.notRun ? fmt::format("; {} shorter than an Ethernet header, not run", t.notRun) : std::string());
    if (t.severalMessages)
        fmt::print("note: on {} frame(s) a program emitted more than one message; the last one's kind is the frame's "
                   "decision, as shadow mode records it\n",
                   t.severalMessages);
    size_t wa = 8, wb = 8;
    for (const auto& c : t.cells) {
        wa = std::max(wa, c.a.size());
        wb = std::max(wb, c.b.size());
    }
    if (!t.cells.empty()) {
        fmt::print("   {:<{}}  {:<{}}  {:>10}  {}\n", "A", wa, "B", wb, "FRAMES", "EXAMPLES (#frame source)");
        for (const auto& c : t.cells) {
            std::string examples;
            for (const auto& e : c.examples) examples += (examples.empty() ? "" : "  ") + exampleText(e);
            std::string line = fmt::format("{:<2} {:<{}}  {:<{}}  {:>10}  {}", mark(c), c.a, wa, c.b, wb, c.frames, examples);
            while (!line.empty() && line.back() == ' ') line.pop_back();
            fmt::print("{}\n", line);
        }
        fmt::print("(!= differs and is not expected; ~= differs as expected)\n");
    }
    for (const auto& e : t.unseen) fmt::print("expected but not seen: {}\n", e.text());
    if (cost) {
        const auto& s = cost->settings;
        fmt::print("cost on {} frame(s), {} interleaved rounds x {} runs per frame ({:g}% intervals):\n", s.frames.size(),
                   s.rounds, s.repeat, opts.confidence * 100);
        const size_t w = std::max(a.describe().size(), b.describe().size());
        for (const auto& [side, fig, mean] : {std::tuple{&a, &cost->a, &cost->aMean}, std::tuple{&b, &cost->b, &cost->bMean}})
            fmt::print("  {:<{}}  {}\n", side->describe(), w,
                       *mean ? intervalText(**mean, 2, " ns/packet") : fmt::format("{:.2f} ns/packet", fig->nsPerPacket));
        if (cost->ratio) fmt::print("  {:<{}}  {}\n", "B over A", w, intervalText(*cost->ratio, 3, "x"));
    }
    if (v.slowdown)
        fmt::print("max slowdown {:g}: {}: {}\n", *opts.maxSlowdown, v.slowdown->reason,
                   v.slowdown->outcome == stats::GateOutcome::Fail   ? "B is slower beyond the limit"
                   : v.slowdown->outcome == stats::GateOutcome::Pass ? "within the limit"
                                                                     : "undecided (not failed): more --rounds narrow it");
    std::string result;
    if (v.status & kDiffUnexpected) result = fmt::format("{} frame(s) differ unexpectedly", t.unexpected);
    if (v.status & kDiffSlower) result += (result.empty() ? "" : "; ") + std::string("B slower beyond the limit");
    if (result.empty()) result = t.disagreed() ? "only expected differences" : "the same decisions";
    fmt::print("result: {} (exit {})\n", result, v.status);
}

nlohmann::json intervalJson(const std::optional<stats::Interval>& i) {
    return i ? nlohmann::json{{"value", i->estimate}, {"lower", i->lower}, {"upper", i->upper}} : nlohmann::json(nullptr);
}

nlohmann::json sideJson(const Side& s) {
    return {{"plugin", s.plugin->name()}, {"version", s.plugin->version()}, {"sha256", s.plugin->sha256()}};
}

nlohmann::json toJson(const DiffOptions& opts, const Side& a, const Side& b, const Input& in,
                      const measure::DecisionTable& t, const std::optional<measure::CostComparison>& cost,
                      const Verdict& v, const std::vector<config::ExpectedCell>& expected) {
    nlohmann::json cells = nlohmann::json::array();
    for (const auto& c : t.cells) {
        nlohmann::json examples = nlohmann::json::array();
        for (const auto& e : c.examples)
            examples.push_back({{"frame", e.frame}, {"src", e.src ? nlohmann::json(formatAddress(*e.src)) : nlohmann::json(nullptr)}});
        cells.push_back({{"a", c.a}, {"b", c.b}, {"frames", c.frames}, {"agree", c.agree}, {"expected", c.expected},
                         {"examples", examples}});
    }
    nlohmann::json expect = nlohmann::json::array(), unseen = nlohmann::json::array();
    for (const auto& e : expected) expect.push_back(e.text());
    for (const auto& e : t.unseen) unseen.push_back(e.text());
    nlohmann::json out = {{"a", sideJson(a)},
                          {"b", sideJson(b)},
                          {"frames", in.frames.size()},
                          {"compared", t.compared},
                          {"same", t.compared - t.disagreed()},
                          {"expected", t.expected},
                          {"unexpected", t.unexpected},
                          {"not_run", t.notRun},
                          {"several_messages", t.severalMessages},
                          {"cells", cells},
                          {"expect", expect},
                          {"expected_unseen", unseen},
                          {"cost", nullptr},
                          {"exit", v.status}};
    if (cost) {
        out["cost"] = {{"frames", cost->settings.frames.size()},
                       {"rounds", cost->settings.rounds},
                       {"repeat", cost->settings.repeat},
                       {"confidence", opts.confidence},
                       {"a_ns_per_packet", intervalJson(cost->aMean)},
                       {"b_ns_per_packet", intervalJson(cost->bMean)},
                       {"b_over_a", intervalJson(cost->ratio)},
                       {"max_slowdown", opts.maxSlowdown ? nlohmann::json(*opts.maxSlowdown) : nlohmann::json(nullptr)},
                       {"verdict", v.slowdown ? nlohmann::json(toString(v.slowdown->outcome)) : nlohmann::json(nullptr)}};
    }
    return out;
}

nlohmann::json toBmf(const Side& a, const Side& b, const measure::CostComparison& cost) {
    auto names = bmfNames({{a.plugin->name(), a.plugin->version()}, {b.plugin->name(), b.plugin->version()}});
    if (names[0] == names[1]) names = {"A " + names[0], "B " + names[1]};  // one plugin against itself
    nlohmann::json out = nlohmann::json::object();
    out[names[0]][kBmfLatency] = bmfMetric(cost.aMean ? cost.aMean->estimate : cost.a.nsPerPacket, cost.aMean);
    out[names[1]][kBmfLatency] = bmfMetric(cost.bMean ? cost.bMean->estimate : cost.b.nsPerPacket, cost.bMean);
    if (cost.ratio) out[bmfVersus(names[1], names[0])][kBmfRatio] = bmfMetric(cost.ratio->estimate, cost.ratio);
    return out;
}

void checkUsage(const DiffOptions& opts) {
    auto usage = [](const std::string& why) { throw Error(why, EINVAL); };
    if (opts.format != "text" && opts.format != "json" && opts.format != "bmf")
        usage("unknown format '" + printable(opts.format) + "' (known: text, json, bmf)");
    if (!opts.pcap.empty() && !opts.addresses.empty()) usage("give either --pcap or addresses, not both");
    if (!(opts.confidence > 0 && opts.confidence < 1)) usage("--confidence must be within (0, 1), e.g. 0.99");
    if (opts.maxSlowdown && !(std::isfinite(*opts.maxSlowdown) && *opts.maxSlowdown > 0))
        usage("--max-slowdown must be a finite ratio above 0, e.g. 1.2");
    if (opts.noCost && opts.maxSlowdown) usage("--max-slowdown judges the cost: leave out --no-cost");
    if (opts.noCost && opts.format == "bmf") usage("--format bmf reports the cost: leave out --no-cost");
    if (!opts.noCost && (opts.rounds < 2 || opts.repeat == 0 || opts.costFrames == 0))
        usage("the cost needs --rounds 2 or more (an interval needs two), --repeat and --cost-frames of at least 1");
    opts.shape.shapeFor(0);  // a bad --dst or --protocol is refused before anything is loaded
}

int runDiff(const DiffOptions& opts) {
    checkUsage(opts);
    const auto expected = expectedCells(opts);

    plugin::Catalog catalogA = opts.dir.confinedCatalog();
    catalogA.rescan();
    std::optional<plugin::Catalog> catalogB;
    if (!opts.bPluginDir.empty()) {
        PluginDirOptions dirB = opts.dir;
        dirB.pluginDir = opts.bPluginDir;
        catalogB.emplace(dirB.confinedCatalog());
        catalogB->rescan();
    }
    const plugin::Catalog& forB = catalogB ? *catalogB : catalogA;
    const Side a{"A", catalogA.find(opts.a)}, b{"B", forB.find(opts.b)};
    spdlog::info("diff: A: {}", versionNote(catalogA, opts.a, *a.plugin));
    spdlog::info("diff: B: {}", versionNote(forB, opts.b, *b.plugin));
    config::checkExpectedKinds(expected, a.plugin->kinds(), a.describe(), b.plugin->kinds(), b.describe(), "--expect");

    const Input in = readInput(opts);
    if (in.frames.empty()) throw Error("no frames to compare in the " + in.what, EINVAL);

    decoder::DecoderService decoders(decoder::settingsFromEnvironment(), opts.dir.allowInsecure);
    measure::FrameClassifier ca(a.plugin, decoders), cb(b.plugin, decoders);
    const auto table = measure::decideFrames(ca, cb, in.frames, config::ExpectedCells(expected), opts.examples);

    std::optional<measure::CostComparison> cost;
    if (!opts.noCost) {
        std::vector<std::vector<uint8_t>> runnable;
        for (const auto& f : in.frames)
            if (f.bytes.size() >= measure::kEthernetHeaderBytes) runnable.push_back(f.bytes);
        measure::BenchSettings settings;
        settings.frames = measure::spreadSample(runnable, opts.costFrames);
        settings.rounds = opts.rounds;
        settings.repeat = opts.repeat;
        if (settings.frames.empty()) throw Error("no frame holds an Ethernet header: nothing to time", EINVAL);
        cost = measure::compareCost(a.plugin, b.plugin, settings, opts.confidence);
    }

    Verdict v;
    if (table.unexpected) v.status |= kDiffUnexpected;
    if (opts.maxSlowdown && cost && cost->ratio) {
        v.slowdown = stats::judgeInterval(*cost->ratio, *opts.maxSlowdown, stats::LimitSide::AtMost);
        if (v.slowdown->outcome == stats::GateOutcome::Fail) v.status |= kDiffSlower;
        if (v.slowdown->outcome == stats::GateOutcome::Undecided)
            spdlog::warn("diff: B over A {} at {:g}%: undecided, not failed; more --rounds (or --repeat) narrow the "
                         "interval",
                         v.slowdown->reason, opts.confidence * 100);
    }
    if (opts.format == "json") fmt::print("{}\n", toJson(opts, a, b, in, table, cost, v, expected).dump());
    else if (opts.format == "bmf") fmt::print("{}\n", toBmf(a, b, *cost).dump());
    else printText(opts, a, b, in, table, cost, v);
    std::fflush(stdout);
    return v.status;
}

}  // namespace

int diffCommand(const DiffOptions& opts) {
    // Exit 1 to 3 are verdicts; an error must not read as one.
    try {
        return runDiff(opts);
    } catch (const std::exception& e) {
        spdlog::error("diff: {}", e.what());
        return kDiffError;
    }
}

}  // namespace fizzhost::cli
