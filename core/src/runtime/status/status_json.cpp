#include "runtime/status/status_json.hpp"

#include "util/error.hpp"

namespace fizzhost::runtime {
namespace {

using nlohmann::json;

// ---- To JSON ---------------------------------------------------------------------------------

template <typename T>
void putIf(json& j, const char* key, const std::optional<T>& value) {
    if (value) j[key] = *value;
}

json countsJson(const StatusCounts& c) {
    return {{"packets", c.packets},     {"emitted", c.emitted},         {"dropped", c.dropped},
            {"delivered", c.delivered}, {"undecodable", c.undecodable}, {"kinds", c.kinds}};
}

json shadowJson(const ShadowStatus& s) {
    json cells = json::array();
    for (const auto& cell : s.cells)
        cells.push_back({{"baseline", cell.baseline},
                         {"candidate", cell.candidate},
                         {"frames", cell.frames},
                         {"agree", cell.agree},
                         {"expected", cell.expected},
                         {"examples", cell.examples}});
    return {{"compared", s.compared},
            {"disagreed", s.disagreed},
            {"unexpected", s.unexpected},
            {"cells", cells},
            {"events", s.events}};
}

json rolloutJson(const RolloutStatus& r) {
    json gates = json::array();
    for (const auto& g : r.gates)
        gates.push_back({{"name", g.name},
                         {"figure", g.figure ? json(*g.figure) : json(nullptr)},
                         {"lower", g.lower ? json(*g.lower) : json(nullptr)},
                         {"upper", g.upper ? json(*g.upper) : json(nullptr)},
                         {"confidence", g.confidence},
                         {"limit", g.limit},
                         {"samples", g.samples},
                         {"min_samples", g.minSamples},
                         {"unit", g.unit},
                         {"verdict", toString(g.verdict)}});
    json out = {{"stage", toString(r.stage)},
                {"step", r.step},
                {"steps", r.steps},
                {"percent", r.percent},
                {"step_seconds", r.stepSeconds},
                {"shadow_seconds", r.shadowSeconds},
                {"seconds_in_step", r.secondsInStep},
                {"window_seconds", r.windowSeconds},
                {"promote", r.promote},
                {"confidence", r.confidence},
                {"gates", gates},
                {"verdict", r.verdict},
                {"reason", r.reason}};
    putIf(out, "action_error", r.actionError);
    return out;
}

json variantJson(const VariantStatus& v) {
    json out = countsJson(v.counts);
    out["variant"] = v.variant;
    out["plugin"] = v.plugin;
    out["version"] = v.version;
    out["abi"] = v.abi;
    out["program_id"] = v.programId;
    out["write_lost"] = v.writeLost;
    out["withheld"] = v.withheld;
    out["counts_packets"] = v.countsPackets;
    putIf(out, "ns_per_run", v.nsPerRun);
    putIf(out, "runs", v.runs);
    putIf(out, "runs_timed_1_in", v.runsTimedOneIn);
    return out;
}

json interfaceJson(const InterfaceStatus& s) {
    if (s.state == InterfaceStatus::State::Gone)
        return {{"name", s.name},
                {"state", "gone"},
                {"classifier", s.classifier},
                {"gone_since", s.goneSince},
                {"ifindex_was", s.ifindexWas},
                {"final", countsJson(s.final)},
                {"variants", json::array()}};
    json out = {{"name", s.name},
                {"state", "attached"},
                {"mode", s.mode},
                {"link_id", s.linkId},
                {"program_id", s.programId},
                {"totals", countsJson(s.totals)},
                {"variants", json::array()}};
    out["hook"] = s.hook;
    if (!s.place.empty()) out["place"] = s.place;
    if (!s.chain.empty()) out["chain"] = {{"then", s.chain}, {"program_id", s.chainProgramId}};
    out["on_detach"] = s.onDetach;
    out["detaches"] = s.detaches;
    putIf(out, "off", s.off);
    putIf(out, "ns_per_run", s.nsPerRun);
    putIf(out, "runs", s.runs);
    putIf(out, "percent", s.percent);
    if (s.shadow) out["shadow"] = shadowJson(*s.shadow);
    if (s.progressive) out["progressive"] = rolloutJson(*s.progressive);
    for (const auto& v : s.variants) out["variants"].push_back(variantJson(v));
    if (s.lostAtStart || !s.lostAtStartReasons.empty())
        out["lost_at_start"] = {{"messages", s.lostAtStart}, {"reasons", s.lostAtStartReasons}};
    if (s.costWindow)
        out["cost_window"] = {
            {"seconds", s.costWindow->seconds}, {"runs", s.costWindow->runs}, {"ns_per_run", s.costWindow->nsPerRun}};
    return out;
}

// ---- From JSON -------------------------------------------------------------------------------

// `key` of `j`, or nullopt when it is missing or null. Throws (json's type_error) on a wrong type.
template <typename T>
std::optional<T> optional(const json& j, const char* key) {
    if (!j.is_object() || !j.contains(key) || j.at(key).is_null()) return std::nullopt;
    return j.at(key).get<T>();
}

// `key` of `j`, or `fallback` when it is missing or null.
template <typename T>
T get(const json& j, const char* key, T fallback = T{}) {
    return optional<T>(j, key).value_or(std::move(fallback));
}

const json& array(const json& j, const char* key) {
    static const json empty = json::array();
    return j.is_object() && j.contains(key) && j.at(key).is_array() ? j.at(key) : empty;
}

StatusCounts countsFrom(const json& j) {
    return {get<uint64_t>(j, "packets"),     get<uint64_t>(j, "emitted"),
            get<uint64_t>(j, "dropped"),     get<uint64_t>(j, "delivered"),
            get<uint64_t>(j, "undecodable"), get<std::map<std::string, uint64_t>>(j, "kinds")};
}

template <typename Enum, typename... Values>
Enum named(const json& j, const char* key, Enum fallback, Values... values) {
    const auto text = optional<std::string>(j, key);
    if (!text) return fallback;
    for (Enum v : {values...})
        if (toString(v) == *text) return v;
    throw Error("'" + std::string(key) + "' is \"" + *text + "\", which this fizzhost does not know", EPROTO);
}

RolloutStatus rolloutFrom(const json& j) {
    RolloutStatus r;
    if (const auto stage = optional<std::string>(j, "stage")) {
        const auto named = stageNamed(*stage);
        if (!named) throw Error("'stage' is \"" + *stage + "\", which this fizzhost does not know", EPROTO);
        r.stage = *named;
    }
    r.step = get<size_t>(j, "step");
    r.steps = get<std::vector<unsigned>>(j, "steps");
    r.percent = get<unsigned>(j, "percent");
    r.stepSeconds = get<uint32_t>(j, "step_seconds");
    r.shadowSeconds = get<uint32_t>(j, "shadow_seconds");
    r.secondsInStep = get<double>(j, "seconds_in_step");
    r.windowSeconds = get<double>(j, "window_seconds");
    r.promote = get<bool>(j, "promote");
    r.confidence = get<double>(j, "confidence", 0.0);
    for (const auto& g : array(j, "gates"))
        r.gates.push_back({get<std::string>(g, "name"), get<double>(g, "limit"), optional<double>(g, "figure"),
                           get<uint64_t>(g, "samples"), get<uint64_t>(g, "min_samples"),
                           named(g, "verdict", GateVerdict::TooLittleData, GateVerdict::Pass, GateVerdict::Fail,
                                 GateVerdict::TooLittleData, GateVerdict::Unavailable, GateVerdict::Undecided),
                           get<std::string>(g, "unit"), optional<double>(g, "lower"), optional<double>(g, "upper"),
                           get<double>(g, "confidence", 0.0)});
    r.verdict = get<std::string>(j, "verdict");
    r.reason = get<std::string>(j, "reason");
    r.actionError = optional<std::string>(j, "action_error");
    return r;
}

VariantStatus variantFrom(const json& j) {
    VariantStatus v;
    v.variant = get<std::string>(j, "variant");
    v.plugin = get<std::string>(j, "plugin");
    v.version = get<std::string>(j, "version");
    v.abi = get<std::string>(j, "abi");
    v.programId = get<uint32_t>(j, "program_id");
    v.counts = countsFrom(j);
    v.writeLost = get<uint64_t>(j, "write_lost");
    v.withheld = get<uint64_t>(j, "withheld");
    v.countsPackets = get<bool>(j, "counts_packets", true);
    v.nsPerRun = optional<double>(j, "ns_per_run");
    v.runs = optional<uint64_t>(j, "runs");
    v.runsTimedOneIn = optional<uint32_t>(j, "runs_timed_1_in");
    return v;
}

ShadowStatus shadowFrom(const json& j) {
    ShadowStatus s;
    s.compared = get<uint64_t>(j, "compared");
    s.disagreed = get<uint64_t>(j, "disagreed");
    s.unexpected = get<uint64_t>(j, "unexpected", s.disagreed);
    s.events = get<bool>(j, "events");
    for (const auto& c : array(j, "cells"))
        s.cells.push_back({get<std::string>(c, "baseline"), get<std::string>(c, "candidate"),
                           get<uint64_t>(c, "frames"), get<bool>(c, "agree"),
                           get<std::vector<std::string>>(c, "examples"), get<bool>(c, "expected", false)});
    return s;
}

InterfaceStatus interfaceFrom(const json& j) {
    InterfaceStatus s;
    s.name = get<std::string>(j, "name");
    if (get<std::string>(j, "state", "attached") == "gone") {
        s.state = InterfaceStatus::State::Gone;
        s.classifier = get<std::string>(j, "classifier");
        s.goneSince = get<std::string>(j, "gone_since");
        s.ifindexWas = get<int>(j, "ifindex_was");
        s.final = countsFrom(j.value("final", json::object()));
        return s;
    }
    s.mode = get<std::string>(j, "mode");
    s.linkId = get<uint32_t>(j, "link_id");
    s.programId = get<uint32_t>(j, "program_id");
    s.hook = get<std::string>(j, "hook", "xdp");
    s.place = get<std::string>(j, "place", "");
    if (j.contains("chain")) {
        s.chain = get<std::string>(j.at("chain"), "then");
        s.chainProgramId = get<uint32_t>(j.at("chain"), "program_id");
    }
    s.onDetach = get<std::string>(j, "on_detach", "reattach");
    s.detaches = get<uint64_t>(j, "detaches", 0);
    s.off = optional<std::string>(j, "off");
    s.nsPerRun = optional<double>(j, "ns_per_run");
    s.runs = optional<uint64_t>(j, "runs");
    s.percent = optional<unsigned>(j, "percent");
    if (j.contains("shadow")) s.shadow = shadowFrom(j.at("shadow"));
    if (j.contains("progressive")) s.progressive = rolloutFrom(j.at("progressive"));
    s.totals = countsFrom(j.value("totals", json::object()));
    for (const auto& v : array(j, "variants")) s.variants.push_back(variantFrom(v));
    if (j.contains("lost_at_start")) {
        s.lostAtStart = get<uint64_t>(j.at("lost_at_start"), "messages");
        s.lostAtStartReasons = j.at("lost_at_start").value("reasons", std::vector<std::string>());
    }
    if (j.contains("cost_window")) {
        const auto& w = j.at("cost_window");
        s.costWindow = CostWindow{get<double>(w, "seconds"), get<uint64_t>(w, "runs"), get<double>(w, "ns_per_run")};
    }
    return s;
}

ReloadSummary reloadFrom(const json& j) {
    return {get<std::string>(j, "time"), get<std::string>(j, "trigger"), get<std::string>(j, "result") == "success",
            get<std::string>(j, "reason"), get<double>(j, "duration_ms")};
}

template <typename Fn>
auto reading(const char* what, Fn&& fn) {
    try {
        return fn();
    } catch (const json::exception& e) {
        throw Error(std::string(what) + ": " + e.what(), EPROTO);
    } catch (const Error& e) {
        throw Error(std::string(what) + ": " + e.what(), e.code());
    }
}

}  // namespace

json toJson(const ReloadSummary& r) {
    json j = {{"time", r.time},
              {"trigger", r.trigger},
              {"result", r.ok ? "success" : "refused"},
              {"duration_ms", r.durationMs}};
    if (!r.ok) j["reason"] = r.reason;
    return j;
}

json decoderJson(const DecoderStatus& d) {
    return {{"plugin", d.plugin},       {"version", d.version},         {"sha256", d.sha256},
            {"file", d.file},           {"confined", d.confined},       {"pid", d.pid},
            {"starts", d.starts},       {"restarts", d.restarts},       {"last_failure", d.lastFailure},
            {"undecodable", d.undecodable}, {"disabled", d.disabled},   {"disabled_reason", d.disabledReason}};
}

DecoderStatus decoderFrom(const json& j) {
    DecoderStatus d;
    d.plugin = get<std::string>(j, "plugin");
    d.version = get<std::string>(j, "version");
    d.sha256 = get<std::string>(j, "sha256");
    d.file = get<std::string>(j, "file");
    d.confined = get<bool>(j, "confined");
    d.pid = get<int64_t>(j, "pid");
    d.starts = get<uint64_t>(j, "starts");
    d.restarts = get<uint64_t>(j, "restarts");
    d.lastFailure = get<std::string>(j, "last_failure");
    d.undecodable = get<std::map<std::string, uint64_t>>(j, "undecodable");
    d.disabled = get<bool>(j, "disabled");
    d.disabledReason = get<std::string>(j, "disabled_reason");
    return d;
}

json toJson(const HostStatus& s) {
    json out = {{"interfaces", json::array()},
                {"run_time_stats", s.runTimeStats},
                {"insecure_plugins", s.insecurePlugins},
                {"state_root", s.stateRoot ? json(*s.stateRoot) : json()},
                {"on_exit", s.keepOnExit ? "keep" : "detach"},
                {"last_reload", s.lastReload ? toJson(*s.lastReload) : json()}};
    if (s.output) {
        out["events_written"] = s.output->written;
        out["events_lost"] = s.output->lost;
        out["write_errors"] = s.output->writeErrors;
        putIf(out, "last_write_error", s.output->lastError);
        out["events_reopens"] = s.output->reopens;
        out["events_lost_write_timeout"] = s.output->lostWriteTimeout;
        out["events_lost_queue_full"] = s.output->lostQueueFull;
    }
    for (const auto& ifc : s.interfaces) out["interfaces"].push_back(interfaceJson(ifc));
    out["decoders"] = json::array();
    for (const auto& d : s.decoders) out["decoders"].push_back(decoderJson(d));
    return out;
}

ReloadSummary reloadSummaryFromJson(const json& j) {
    return reading("reload record", [&] { return reloadFrom(j); });
}

HostStatus hostStatusFromJson(const json& j) {
    return reading("host status", [&] {
        HostStatus s;
        for (const auto& ifc : array(j, "interfaces")) s.interfaces.push_back(interfaceFrom(ifc));
        s.runTimeStats = get<bool>(j, "run_time_stats");
        s.insecurePlugins = get<bool>(j, "insecure_plugins");
        s.stateRoot = optional<std::string>(j, "state_root");
        s.keepOnExit = get<std::string>(j, "on_exit") == "keep";
        if (j.is_object() && j.contains("events_written"))
            s.output = OutputStatus{get<uint64_t>(j, "events_written"), get<uint64_t>(j, "events_lost"),
                                    get<uint64_t>(j, "write_errors"), get<uint64_t>(j, "events_reopens"),
                                    optional<std::string>(j, "last_write_error"),
                                    j.value("events_lost_write_timeout", uint64_t(0)),
                                    j.value("events_lost_queue_full", uint64_t(0))};
        if (j.is_object() && j.contains("last_reload") && j.at("last_reload").is_object())
            s.lastReload = reloadFrom(j.at("last_reload"));
        if (j.is_object() && j.contains("decoders"))  // absent from hosts older than confined decoders
            for (const auto& d : array(j, "decoders")) s.decoders.push_back(decoderFrom(d));
        return s;
    });
}

}  // namespace fizzhost::runtime
