// `fizzhost bench`: ns per packet of plugins' BPF programs on a traffic mix (BPF_PROG_TEST_RUN),
// next to the host's empty XDP program measured in the same rounds, the floor every figure is
// read against.
#include "cli/commands.hpp"

#include "cli/bmf.hpp"
#include "cli/plugin_choice.hpp"
#include "measure/cost_comparison.hpp"
#include "measure/program_bench.hpp"
#include "plugin/catalog.hpp"
#include "runtime/instance/classifier.hpp"
#include "util/error.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <linux/bpf.h>

#include <memory>
#include <optional>

namespace fizzhost::cli {
namespace {

std::optional<fizz_transport> parseTransport(const std::string& name) {
    if (name == config::kOldRingName) {
        spdlog::warn("bench: transport \"{}\" is an old name of \"{}\"; measuring \"{}\"", config::kOldRingName,
                     config::toString(FIZZ_TRANSPORT_RING), config::toString(FIZZ_TRANSPORT_RING));
        return FIZZ_TRANSPORT_RING;
    }
    return config::parseTransport(name);
}

std::string spread(const measure::BenchFigures& f) { return fmt::format("{:.2f}..{:.2f}", f.minNs, f.maxNs); }

// `--breakdown`: where a plugin's time goes, every stage interleaved in one run. Stages: the floor
// (empty program), parse+count (the SDK's count and parse, host-owned), the plugin classifying with
// fizz_emit turned off, and the plugin in full over each transport.
int benchBreakdown(const BenchOptions& opts, const measure::BenchSettings& settings,
                   const std::vector<std::shared_ptr<const plugin::Plugin>>& plugins) {
    struct Row {
        std::string plugin, stage;
    };
    measure::FloorProgram floor = measure::loadFloorProgram();
    measure::FloorProgram parseCount = measure::loadParseCountProgram();
    std::vector<std::unique_ptr<runtime::Classifier>> classifiers;
    std::vector<measure::BenchProgram> programs{floor.benchProgram(), parseCount.benchProgram("parse+count")};
    std::vector<Row> rows{{"-", "floor"}, {"-", "parse+count"}};
    for (const auto& p : plugins) {
        auto quiet = measure::benchClassifierOptions(*p, FIZZ_TRANSPORT_RING, settings);
        quiet.emitOff = true;
        classifiers.push_back(runtime::Classifier::load(p, quiet));
        programs.push_back(measure::benchProgramFor(*classifiers.back(), p->name() + " classify"));
        rows.push_back({p->name(), "classify"});
        for (fizz_transport t : config::kTransports) {
            const std::string name(config::toString(t));
            classifiers.push_back(runtime::Classifier::load(p, measure::benchClassifierOptions(*p, t, settings)));
            programs.push_back(measure::benchProgramFor(*classifiers.back(), p->name() + " " + name));
            rows.push_back({p->name(), std::string("full, ") + name});
        }
    }
    spdlog::info("bench: breakdown of {} plugin(s), {} programs interleaved, mix {} ({} frames), {} CPU(s), {} rounds x "
                 "{} runs per frame",
                 plugins.size(), programs.size(), opts.mix, settings.frames.size(), opts.cpus, opts.rounds, opts.repeat);
    const auto figures = measure::benchPrograms(programs, settings);
    const double floorNs = figures[0].nsPerPacket;
    auto ratio = [&](double ns) { return floorNs > 0 ? ns / floorNs : 0.0; };
    for (const auto& f : figures)
        if (f.dropped) spdlog::warn("bench: {} dropped {} message(s) (lower --repeat)", f.label, f.dropped);

    // Per message: (full - classify) / messages per packet, the emit path's own cost.
    auto perMessage = [&](size_t full, size_t classify) {
        const double m = figures[full].messagesPerPacket;
        return m > 0 ? (figures[full].nsPerPacket - figures[classify].nsPerPacket) / m : 0.0;
    };
    if (opts.format == "json") {
        nlohmann::json out = {{"floor_ns", floorNs},       {"mix", opts.mix},       {"frames", settings.frames.size()},
                              {"cpus", opts.cpus},         {"rounds", opts.rounds}, {"repeat", opts.repeat},
                              {"stages", nlohmann::json::array()}};
        for (size_t i = 0; i < figures.size(); ++i) {
            nlohmann::json r = {{"plugin", rows[i].plugin},
                                {"stage", rows[i].stage},
                                {"ns_per_packet", figures[i].nsPerPacket},
                                {"ratio_to_floor", ratio(figures[i].nsPerPacket)},
                                {"min_ns", figures[i].minNs},
                                {"max_ns", figures[i].maxNs},
                                {"messages_per_packet", figures[i].messagesPerPacket},
                                {"dropped", figures[i].dropped}};
            if (rows[i].stage.starts_with("full")) {
                const size_t classify = rows[i].stage == "full, ring" ? i - 1 : i - 2;
                r["ns_per_message"] = perMessage(i, classify);
                r["message_ratio_to_floor"] = ratio(perMessage(i, classify));
            }
            out["stages"].push_back(r);
        }
        fmt::print("{}\n", out.dump());
    } else {
        fmt::print("breakdown: mix {} ({} frames), {} CPU(s) at once, median of {} rounds x {} runs per frame\n", opts.mix,
                   settings.frames.size(), opts.cpus, opts.rounds, opts.repeat);
        fmt::print("{:<12} {:<13} {:>8} {:>16} {:>7} {:>8} {:>10} {:>9}\n", "PLUGIN", "STAGE", "NS/PKT", "SPREAD (NS)",
                   "RATIO", "MSG/PKT", "NS/MSG", "MSG RATIO");
        for (size_t i = 0; i < figures.size(); ++i) {
            const auto& f = figures[i];
            std::string perMsg = "-", perMsgRatio = "-";
            if (rows[i].stage.starts_with("full")) {
                const double ns = perMessage(i, rows[i].stage == "full, ring" ? i - 1 : i - 2);
                perMsg = fmt::format("{:.2f}", ns);
                perMsgRatio = fmt::format("{:.2f}", ratio(ns));
            }
            fmt::print("{:<12} {:<13} {:>8.2f} {:>16} {:>7.2f} {:>8.3f} {:>10} {:>9}\n", rows[i].plugin, rows[i].stage,
                       f.nsPerPacket, spread(f), ratio(f.nsPerPacket), f.messagesPerPacket, perMsg, perMsgRatio);
        }
        fmt::print("NS/MSG: (full - classify) / MSG/PKT, the cost of one message; MSG RATIO: that over the floor\n");
    }
    std::fflush(stdout);
    return 0;
}

}  // namespace

int benchCommand(const BenchOptions& opts) {
    if (opts.format != "text" && opts.format != "json" && opts.format != "bmf") {
        spdlog::error("bench: unknown format '{}' (known: text, json, bmf)", opts.format);
        return 2;
    }
    if (opts.breakdown && opts.format == "bmf") {
        spdlog::error("bench: --format bmf writes one figure per plugin; leave out --breakdown");
        return 2;
    }
    if (!(opts.confidence > 0 && opts.confidence < 1)) {
        spdlog::error("bench: --confidence must be within (0, 1), e.g. 0.99");
        return 2;
    }
    const auto transport = parseTransport(opts.transport);
    if (!transport) {
        spdlog::error("bench: unknown transport '{}' (known: ring, queue)", opts.transport);
        return 2;
    }
    if (opts.cpus == 0 || opts.rounds == 0 || opts.repeat == 0) {
        spdlog::error("bench: --cpus, --rounds and --repeat must be at least 1");
        return 2;
    }
    measure::BenchSettings settings;
    try {
        settings.frames = measure::mixFrames(opts.mix);
    } catch (const Error& e) {
        spdlog::error("bench: {}", e.what());
        return 2;
    }
    settings.rounds = opts.rounds;
    settings.repeat = opts.repeat;
    settings.cpus = opts.cpus;

    plugin::Catalog catalog = opts.dir.confinedCatalog();
    catalog.rescan();
    std::vector<std::shared_ptr<const plugin::Plugin>> plugins;
    if (opts.plugins.empty()) {
        plugins = catalog.plugins();
        for (const auto& pr : catalog.problems()) spdlog::warn("bench: skipped {}: {}", pr.file.string(), pr.message);
        if (plugins.empty()) throw Error("bench: no plugin in " + catalog.dir().string(), ENOENT);
    } else {
        for (const auto& name : opts.plugins) {
            plugins.push_back(catalog.find(name));
            spdlog::info("bench: {}", versionNote(catalog, name, *plugins.back()));
        }
    }

    if (opts.breakdown) return benchBreakdown(opts, settings, plugins);

    // Private instances, never attached: the bench owns their transports and empties them itself.
    measure::FloorProgram floor = measure::loadFloorProgram();
    std::vector<std::unique_ptr<runtime::Classifier>> classifiers;
    std::vector<measure::BenchProgram> programs{floor.benchProgram()};
    for (const auto& p : plugins) {
        classifiers.push_back(runtime::Classifier::load(p, measure::benchClassifierOptions(*p, *transport, settings)));
        programs.push_back(measure::benchProgramFor(*classifiers.back(), p->name()));
    }

    spdlog::info("bench: {} program(s) incl. floor, mix {} ({} frames), transport {}, {} CPU(s), {} rounds x {} runs per frame",
                 programs.size(), opts.mix, settings.frames.size(), opts.transport, opts.cpus, opts.rounds, opts.repeat);
    const auto figures = measure::benchPrograms(programs, settings);
    const measure::BenchFigures& floorFig = figures.front();

    for (size_t i = 1; i < figures.size(); ++i) {
        const auto& f = figures[i];
        if (f.dropped)
            spdlog::warn("bench: {} dropped {} message(s): its transport filled within one call, so its figure includes "
                         "the cost of failing pushes (does it emit more than one message per packet? lower --repeat)",
                         f.label, f.dropped);
        if (f.verdict != XDP_PASS)
            spdlog::warn("bench: {} returned verdict {} (classifiers should pass every frame)", f.label, f.verdict);
    }

    auto overFloor = [&](const measure::BenchFigures& f) { return f.nsPerPacket - floorFig.nsPerPacket; };
    auto ratio = [&](const measure::BenchFigures& f) {
        return floorFig.nsPerPacket > 0 ? f.nsPerPacket / floorFig.nsPerPacket : 0.0;
    };
    // Every figure's mean over the rounds with its interval; with plugins named, each one after
    // the first over the first, round by round (the rounds interleave them: each round is a pair).
    std::vector<std::optional<stats::Interval>> means;
    for (const auto& f : figures) means.push_back(measure::roundMeanInterval(f, opts.confidence));
    std::vector<std::optional<stats::Interval>> overFirst(figures.size());
    const bool compare = opts.plugins.size() >= 2;
    if (compare)
        for (size_t i = 2; i < figures.size(); ++i)
            overFirst[i] = measure::roundRatioInterval(figures[1], figures[i], opts.confidence);
    auto meanOf = [&](size_t i) { return means[i] ? means[i]->estimate : figures[i].nsPerPacket; };
    const std::string confidenceText = fmt::format("{:g}%", opts.confidence * 100);

    if (opts.format == "bmf") {
        std::vector<std::pair<std::string, std::string>> named;
        for (const auto& p : plugins) named.emplace_back(p->name(), p->version());
        const auto names = bmfNames(named);
        nlohmann::json out = nlohmann::json::object();
        out["floor"][kBmfLatency] = bmfMetric(meanOf(0), means[0]);
        for (size_t i = 1; i < figures.size(); ++i) {
            out[names[i - 1]][kBmfLatency] = bmfMetric(meanOf(i), means[i]);
            if (overFirst[i]) out[bmfVersus(names[i - 1], names[0])][kBmfRatio] = bmfMetric(overFirst[i]->estimate, overFirst[i]);
        }
        fmt::print("{}\n", out.dump());
        std::fflush(stdout);
        return 0;
    }
    auto intervalJson = [](const std::optional<stats::Interval>& i) {
        return i ? nlohmann::json{i->lower, i->upper} : nlohmann::json(nullptr);
    };

    if (opts.format == "json") {
        nlohmann::json out = {{"floor_ns", floorFig.nsPerPacket},
                              {"floor_min_ns", floorFig.minNs},
                              {"floor_max_ns", floorFig.maxNs},
                              {"mix", opts.mix},
                              {"frames", settings.frames.size()},
                              {"transport", opts.transport},
                              {"cpus", opts.cpus},
                              {"rounds", opts.rounds},
                              {"repeat", opts.repeat},
                              {"plugins", nlohmann::json::array()}};
        for (size_t i = 1; i < figures.size(); ++i) {
            const auto& f = figures[i];
            out["plugins"].push_back({{"name", plugins[i - 1]->name()},
                                      {"version", plugins[i - 1]->version()},
                                      {"ns_per_packet", f.nsPerPacket},
                                      {"over_floor_ns", overFloor(f)},
                                      {"ratio_to_floor", ratio(f)},
                                      {"min_ns", f.minNs},
                                      {"max_ns", f.maxNs},
                                      {"messages_per_packet", f.messagesPerPacket},
                                      {"dropped", f.dropped},
                                      {"mean_ns", meanOf(i)},
                                      {"mean_interval", intervalJson(means[i])}});
            if (overFirst[i])
                out["plugins"].back()["over_first"] = {{"ratio", overFirst[i]->estimate},
                                                       {"interval", intervalJson(overFirst[i])}};
        }
        out["confidence"] = opts.confidence;
        fmt::print("{}\n", out.dump());
    } else {
        fmt::print("mix {} ({} frames), transport {}, {} CPU(s) at once, median of {} rounds x {} runs per frame\n",
                   opts.mix, settings.frames.size(), opts.transport, opts.cpus, opts.rounds, opts.repeat);
        fmt::print("{:<16} {:<9} {:>8} {:>16} {:>11} {:>7} {:>8}\n", "PROGRAM", "VERSION", "NS/PKT", "SPREAD (NS)",
                   "OVER FLOOR", "RATIO", "MSG/PKT");
        fmt::print("{:<16} {:<9} {:>8.2f} {:>16} {:>11} {:>7.2f} {:>8}\n", "(floor)", "-", floorFig.nsPerPacket,
                   spread(floorFig), "-", 1.0, "-");
        for (size_t i = 1; i < figures.size(); ++i) {
            const auto& f = figures[i];
            fmt::print("{:<16} {:<9} {:>8.2f} {:>16} {:>+11.2f} {:>7.2f} {:>8.3f}\n", plugins[i - 1]->name(),
                       plugins[i - 1]->version(), f.nsPerPacket, spread(f), overFloor(f), ratio(f), f.messagesPerPacket);
        }
        for (size_t i = 2; i < figures.size(); ++i) {
            if (!compare) break;
            const std::string versus = fmt::format("{} {} over {} {}", plugins[i - 1]->name(), plugins[i - 1]->version(),
                                                   plugins[0]->name(), plugins[0]->version());
            if (overFirst[i])
                fmt::print("{}: {:.3f}x [{:.3f}, {:.3f}] ({} interval, geometric mean of {} interleaved rounds)\n", versus,
                           overFirst[i]->estimate, overFirst[i]->lower, overFirst[i]->upper, confidenceText,
                           figures[i].roundNs.size());
            else
                fmt::print("{}: {:.3f}x (one round: no interval; --rounds 2 or more)\n", versus,
                           figures[i].nsPerPacket / figures[1].nsPerPacket);
        }
    }
    std::fflush(stdout);
    return 0;
}

}  // namespace fizzhost::cli
