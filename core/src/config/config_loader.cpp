// TOML -> HostConfig. Every rule lives here so the runtime can trust the structs it is handed, and
// every failure points at the line and column a user has to edit.
//
// Longer than the ~400 lines we aim for, on purpose: one Checker (position, type, range, "did you
// mean") serves the reader of every table, and each key's rule sits next to the key lists it is
// checked against; split into files, those lists and the checker would be shared across them.
#include "config/config_loader.hpp"
#include "config/config_keys.hpp"

#include "util/error.hpp"
#include "util/file_trust.hpp"
#include "util/plugin_ref.hpp"
#include "util/semver.hpp"
#include "util/suggest.hpp"
#include "util/text.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <sys/un.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <span>
#include <sstream>
#include <utility>
#include <vector>

namespace fizzhost::config {
namespace {

constexpr int64_t kMaxQueueSize = 16 * 1024 * 1024;
// Message slots per CPU: at least one; at most what one region (FIZZ_MAX_REGION_BYTES, the kernel's
// limit for an array value) holds with the smallest slots. Larger messages fit fewer: checked at load.
constexpr int64_t kMaxRingSlots = (FIZZ_MAX_REGION_BYTES - sizeof(fizz_region_header)) / FIZZ_SLOT_SIZE(1);
// The socket path must fit sun_path with its NUL; saying so at load beats a failed bind() at startup.
constexpr size_t kMaxSocketPath = sizeof(sockaddr_un::sun_path) - 1;
constexpr size_t kMaxSuggestDistance = 2;
// A config is a few hundred bytes; the cap turns `--config /dev/zero` into an error, not a hang.
constexpr size_t kMaxFileSize = 16 * 1024 * 1024;

using KeyList = std::span<const std::string_view>;
constexpr std::array<std::string_view, 11> kRootKeys = {
    "plugin_dir", "queue_size", "allow_insecure_plugins", "control_socket", "run_time_stats", "output", "guard",
    "interface",  "metrics",    "service",                "decoders"};
constexpr std::array<std::string_view, 12> kOutputKeys = {
    "events", "format", "transport", "ring_slots", "rate", "stall_ms", "spread_cpus", "ringbuf_size", "spare_regions",
    "events_mode", "events_group", "write_timeout_ms"};
// [output] rate: above 1e10 messages/s (beyond 800 GbE line rate) a value is a typo, not a link.
constexpr double kMaxRate = 1e10;
constexpr int64_t kMaxStallMs = 60000;
constexpr int64_t kMaxSpreadCpus = 65536;
// [output] write_timeout_ms: long enough for a reader's pause, short enough that a stop with a
// stalled reader still ends well within a service manager's stop timeout.
constexpr int64_t kMinWriteTimeoutMs = 10, kMaxWriteTimeoutMs = 60000;
constexpr std::array<std::string_view, 2> kGuardKeys = {"max_slowdown", "mix"};
constexpr std::array<std::string_view, 9> kInterfaceKeys = {"classifier", "mode",  "rollout", "hook",     "place",
                                                            "before",     "after", "then",    "on_detach"};
constexpr std::array<std::string_view, 17> kRolloutKeys = {
    "candidate", "percent", "mode", "shadow_events", "steps", "step_seconds", "shadow_seconds", "min_samples", "promote",
    "max_slowdown", "max_drop_rate", "max_undecodable_rate", "max_disagreement", "cost_sample_period", "expected",
    "max_unexpected", "confidence"};
// The keys that only mean something in a gated progressive rollout (with `steps`).
constexpr std::array<std::string_view, 11> kPlanKeys = {
    "step_seconds", "shadow_seconds", "min_samples", "promote", "max_slowdown", "max_drop_rate",
    "max_undecodable_rate", "max_disagreement", "max_unexpected", "confidence", "steps"};
constexpr int64_t kMaxStepSeconds = 7 * 24 * 3600;
constexpr std::array<std::string_view, 3> kMetricsKeys = {"listen", "web_config", "max_connections"};
constexpr int64_t kMaxMetricsConnections = 4096;
constexpr std::array<std::string_view, 3> kServiceKeys = {"watch_config", "state_root", "on_exit"};
constexpr std::array<std::string_view, 5> kDecodersKeys = {"isolation", "user", "memory_limit", "deadline_ms", "root"};

// The closest of `known` within kMaxSuggestDistance; ties go to the one listed first.
std::optional<std::string_view> closest(std::string_view word, KeyList known) {
    std::optional<std::string_view> best;
    size_t bestDistance = kMaxSuggestDistance + 1;
    for (auto candidate : known) {
        // Lengths further apart than the distance allowed cannot be within it: a huge key costs nothing.
        const size_t apart =
            word.size() > candidate.size() ? word.size() - candidate.size() : candidate.size() - word.size();
        if (apart > kMaxSuggestDistance) continue;
        const size_t d = editDistance(word, candidate);
        if (d < bestDistance) {
            best = candidate;
            bestDistance = d;
        }
    }
    return best;
}

std::string_view withArticle(toml::node_type type) {
    switch (type) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    case toml::node_type::none: break;
    }
    return "nothing";
}

// A string as a TOML basic string, so odd bytes in a message are visible and unambiguous: control,
// bidirectional and zero-width characters escaped, and a huge value cut (util/text.hpp).
std::string tomlString(std::string_view s) {
    std::string out = "\"";
    for (char c : printable(s)) {
        if (c == '"') out += '\\';
        out += c;
    }
    return out + "\"";
}

// toml++ quotes the key it stumbled on ("cannot redefine existing table 'k'"), itself cutting a long
// one at its message buffer without a word (no closing quote then): that key is cut like any other
// the loader echoes, and said to be.
std::string parseProblem(std::string_view d) {
    const size_t open = d.find('\'');
    if (open == std::string_view::npos)
        return d.size() > 4 * kPrintableMax ? printable(d, 4 * kPrintableMax) : std::string(d);
    const size_t close = d.find('\'', open + 1);
    const std::string_view key = d.substr(open + 1, close == std::string_view::npos ? d.npos : close - open - 1);
    if (close == std::string_view::npos)
        return std::string(d.substr(0, open + 1)) + printable(key.substr(0, kPrintableMax)) + "... (cut)";
    if (key.size() <= kPrintableMax) return std::string(d);
    return std::string(d.substr(0, open + 1)) + printable(key) + std::string(d.substr(close));
}

bool isBareKey(std::string_view key) {
    return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    });
}

// [output] transport's values, by the names toString() gives them.
std::vector<std::pair<std::string_view, fizz_transport>> transportChoices() {
    std::vector<std::pair<std::string_view, fizz_transport>> out;
    for (fizz_transport t : kTransports) out.emplace_back(toString(t), t);
    return out;
}

// Key paths are written as TOML would spell them, so interface."eth0.100" stays one segment. A key
// is echoed like any value: cut at kPrintableMax bytes, saying how long it was.
std::string childPath(std::string_view parent, std::string_view key) {
    std::string segment = isBareKey(key) ? printable(key) : tomlString(key);
    return parent.empty() ? segment : std::string(parent) + "." + segment;
}

std::optional<std::string> pluginNameProblem(std::string_view name) {
    if (name.empty()) return "a plugin name must not be empty";
    if (name.size() > kMaxPluginName)
        return tomlString(name) + " is " + std::to_string(name.size()) + " characters; a plugin name has at most " +
               std::to_string(kMaxPluginName);
    if (!validPluginName(name)) return tomlString(name) + " is not a plugin name (letters, digits, '_' and '-' only)";
    return std::nullopt;
}

// The kernel's dev_valid_name() rules, checked here so a typo fails at load and not at attach.
std::optional<std::string> ifnameProblem(std::string_view name) {
    const std::string what = "interface name " + tomlString(name);
    if (name.empty()) return "an interface name must not be empty";
    if (name.size() > kMaxIfname)
        return what + " is " + std::to_string(name.size()) + " bytes; the kernel allows at most " +
               std::to_string(kMaxIfname) + " (IFNAMSIZ - 1)";
    if (name == "." || name == "..") return what + " is reserved by the kernel";
    for (char c : name) {
        if (c == '/' || c == ':') return what + " contains '" + std::string(1, c) + "', which the kernel forbids";
        if (std::isspace(static_cast<unsigned char>(c))) return what + " contains whitespace, which the kernel forbids";
        if (c == '\0') return what + " contains a NUL byte";
    }
    // The kernel would take them, but "rz0\u200b" would read as "rz0" in every log and listing.
    if (hasHiddenCharacters(name))
        return what + " contains an invisible, control or bidirectional character (or invalid UTF-8)";
    return std::nullopt;
}

// A table being checked and its dotted key path ("" for the document root).
struct Scope {
    const toml::table& table;
    std::string path;

    std::string key(std::string_view k) const { return childPath(path, k); }
};

// Checks one parsed document; every failure throws Error(EINVAL) anchored at a source position.
class Checker {
public:
    Checker(std::string name, std::filesystem::path baseDir) : name_(std::move(name)), baseDir_(std::move(baseDir)) {}

    [[noreturn]] void fail(const toml::source_region& at, std::string_view keyPath, std::string_view problem) const {
        std::ostringstream os;
        os << name_ << ":" << at.begin.line << ":" << at.begin.column << ": ";
        if (!keyPath.empty()) os << keyPath << ": ";
        os << problem;
        throw Error(os.str(), EINVAL);
    }

    // A value still accepted but on its way out: logged with its place, the config loads.
    void warn(const toml::source_region& at, std::string_view keyPath, const std::string& problem) const {
        spdlog::warn("{}:{}:{}: {}: {}", name_, at.begin.line, at.begin.column, keyPath, problem);
    }

    // Unknown keys are errors, not warnings: a misspelt `classifer` silently running the default
    // is worse than refusing to start.
    void rejectUnknownKeys(const Scope& s, KeyList known) const {
        for (const auto& [key, node] : s.table) {
            const std::string_view k = key.str();
            if (std::find(known.begin(), known.end(), k) != known.end()) continue;
            std::string problem = "unknown key " + quotedKey(k);
            if (auto suggestion = closest(k, known)) problem += " (did you mean '" + std::string(*suggestion) + "'?)";
            fail(key.source(), s.key(k), problem);
        }
    }

    [[noreturn]] void missing(const Scope& s, std::string_view key) const {
        fail(s.table.source(), s.path.empty() ? s.key(key) : s.path, "missing required key '" + std::string(key) + "'");
    }

    // The node under `key`, or nullptr; a node of another type is an error naming both types.
    const toml::node* typed(const Scope& s, std::string_view key, toml::node_type want) const {
        const toml::node* n = s.table.get(key);
        if (n && n->type() != want) wrongType(s, key, *n, withArticle(want));
        return n;
    }

    [[noreturn]] void wrongType(const Scope& s, std::string_view key, const toml::node& n, std::string_view want) const {
        fail(n.source(), s.key(key), "expected " + std::string(want) + ", got " + std::string(withArticle(n.type())));
    }

    std::optional<Scope> table(const Scope& s, std::string_view key) const {
        const toml::node* n = typed(s, key, toml::node_type::table);
        if (!n) return std::nullopt;
        return Scope{*n->as_table(), s.key(key)};
    }

    std::optional<std::string> string(const Scope& s, std::string_view key) const {
        const toml::node* n = typed(s, key, toml::node_type::string);
        if (!n) return std::nullopt;
        return n->as_string()->get();
    }

    std::optional<bool> boolean(const Scope& s, std::string_view key) const {
        const toml::node* n = typed(s, key, toml::node_type::boolean);
        if (!n) return std::nullopt;
        return n->as_boolean()->get();
    }

    std::optional<int64_t> integer(const Scope& s, std::string_view key, int64_t lo, int64_t hi) const {
        const toml::node* n = typed(s, key, toml::node_type::integer);
        if (!n) return std::nullopt;
        const int64_t v = n->as_integer()->get();
        if (v < lo || v > hi)
            fail(n->source(), s.key(key), std::to_string(v) + " is out of range " + std::to_string(lo) + ".." + std::to_string(hi));
        return v;
    }

    // An integer, or a float; TOML makes `2` and `2.0` different types but a ratio is either.
    std::optional<double> number(const Scope& s, std::string_view key) const {
        const toml::node* n = s.table.get(key);
        if (!n) return std::nullopt;
        if (const auto* i = n->as_integer()) return double(i->get());
        if (const auto* f = n->as_floating_point()) return f->get();
        wrongType(s, key, *n, "a float or an integer");
    }

    template <typename E>
    std::optional<E> choice(const Scope& s, std::string_view key,
                            std::initializer_list<std::pair<std::string_view, E>> options) const {
        return choice(s, key, std::span<const std::pair<std::string_view, E>>(options.begin(), options.size()));
    }
    template <typename E>
    std::optional<E> choice(const Scope& s, std::string_view key,
                            std::span<const std::pair<std::string_view, E>> options) const {
        auto text = string(s, key);
        if (!text) return std::nullopt;
        std::string expected;
        for (const auto& [name, value] : options) {
            if (*text == name) return value;
            expected += (expected.empty() ? "" : ", ") + tomlString(name);
        }
        std::string problem = "expected one of " + expected + ", got " + tomlString(*text);
        std::vector<std::string_view> names;
        for (const auto& option : options) names.push_back(option.first);
        if (auto suggestion = closest(*text, names)) problem += " (did you mean " + tomlString(*suggestion) + "?)";
        fail(s.table.get(key)->source(), s.key(key), problem);
    }

    // A non-empty path; relative ones are anchored at the config file's directory, not at the
    // daemon's working directory, so the same file means the same thing wherever it is run from.
    std::optional<std::filesystem::path> path(const Scope& s, std::string_view key) const {
        auto text = string(s, key);
        if (!text) return std::nullopt;
        const toml::node& n = *s.table.get(key);
        if (text->empty()) fail(n.source(), s.key(key), "a path must not be empty");
        if (text->find('\0') != std::string::npos) fail(n.source(), s.key(key), "a path must not contain a NUL byte");
        if (hasHiddenCharacters(*text))
            fail(n.source(), s.key(key),
                 tomlString(*text) + ": a path must not contain control, bidirectional or zero-width characters");
        return resolve(*text);
    }

    std::filesystem::path resolve(const std::filesystem::path& p) const {
        return (p.is_absolute() ? p : baseDir_ / p).lexically_normal();
    }

private:
    static std::string quotedKey(std::string_view k) { return isBareKey(k) ? "'" + printable(k) + "'" : tomlString(k); }

    std::string name_;
    std::filesystem::path baseDir_;
};

// events_mode = "0640": read and write bits only; the owner (the host) writes, others never do.
// events_group = "adm": a group name, looked up when the file is created (util/output_file).
void readEventsMode(const Checker& c, const Scope& out, Output& cfg) {
    if (auto v = c.string(out, "events_mode")) {
        const auto& at = out.table.get("events_mode")->source();
        if (v->size() < 3 || v->size() > 4 || v->find_first_not_of("01234567") != std::string::npos)
            c.fail(at, out.key("events_mode"), "expected an octal mode such as \"0640\", got " + tomlString(*v));
        const uint32_t mode = uint32_t(std::stoul(*v, nullptr, 8));
        if (mode & ~0666u)
            c.fail(at, out.key("events_mode"),
                   tomlString(*v) + " has bits beyond read and write (at most \"0666\"): an events file is never "
                                    "executable, setuid, setgid or sticky");
        if (mode & 0002u)
            c.fail(at, out.key("events_mode"),
                   tomlString(*v) +
                       " lets every user write events into the file; drop the bit for others (e.g. \"0640\")");
        if (!(mode & 0200u))
            c.fail(at, out.key("events_mode"),
                   tomlString(*v) + " does not let the owner (fizzhost) write; give it at least \"0600\"");
        cfg.eventsMode = mode;
    }
    if (auto v = c.string(out, "events_group")) {
        const auto& at = out.table.get("events_group")->source();
        if (v->empty() || v->size() > 64 || v->find_first_of(" :/,") != std::string::npos || hasHiddenCharacters(*v))
            c.fail(at, out.key("events_group"), "expected a group name (e.g. \"adm\"), got " + tomlString(*v));
        cfg.eventsGroup = *v;
    }
}

// rate, stall_ms, spread_cpus: the ring sized from a message rate (docs/performance.md). An explicit
// ring_slots wins; given together, the rate keys are ignored with a warning naming them.
void readRingRate(const Checker& c, const Scope& out, Output& cfg) {
    RingRate& r = cfg.ringRate;
    if (auto v = c.number(out, "rate")) {
        if (!std::isfinite(*v) || *v < 1 || *v > kMaxRate) {
            std::ostringstream os;
            os << "expected messages per second from 1 to " << kMaxRate << " (e.g. 14.88e6, 10 GbE line rate of "
               << "64-byte frames), got " << *v;
            c.fail(out.table.get("rate")->source(), out.key("rate"), os.str());
        }
        r.perSecond = *v;
    }
    if (auto v = c.integer(out, "stall_ms", 1, kMaxStallMs)) r.stallMs = uint32_t(*v);
    if (auto v = c.integer(out, "spread_cpus", 1, kMaxSpreadCpus)) r.spreadCpus = uint32_t(*v);
    std::string given;
    for (std::string_view k : {"rate", "stall_ms", "spread_cpus"})
        if (out.table.get(k)) given += (given.empty() ? "" : ", ") + std::string(k);
    if (given.empty()) return;
    const auto& at = out.table.get(given.substr(0, given.find(',')))->source();
    if (cfg.ringSlots) {
        c.warn(at, out.key(given.substr(0, given.find(','))),
               "ignored: ring_slots = " + std::to_string(cfg.ringSlots) + " sizes the ring explicitly and wins over " +
                   given + "; remove one or the other");
        return;
    }
    // The most slots one CPU gets is with the rate spread over spread_cpus (fewer possible CPUs
    // give more, and are lowered to what fits at load, with a warning).
    const uint64_t slots = r.slotsPerCpu(r.spreadCpus);
    if (slots > uint64_t(kMaxRingSlots)) {
        std::ostringstream os;
        os << "rate x stall_ms / spread_cpus = " << r.perSecond << " x " << r.stallMs << " ms / " << r.spreadCpus
           << " = " << slots << " message slots per CPU, more than one CPU's region holds (" << kMaxRingSlots
           << " slots, " << (FIZZ_MAX_REGION_BYTES >> 20) << " MiB); lower rate or stall_ms, or raise spread_cpus";
        c.fail(at, out.key(given.substr(0, given.find(','))), os.str());
    }
}

// spare_regions = true | false | "auto" (the default: a spare only for a regions map of at most
// kAutoSpareMaxBytes, where it costs little; larger maps are made at load).
void readSpareRegions(const Checker& c, const Scope& out, Output& cfg) {
    const toml::node* n = out.table.get("spare_regions");
    if (!n) return;
    if (const auto* b = n->as_boolean()) {
        cfg.spareRegions = b->get() ? SpareRegions::On : SpareRegions::Off;
        return;
    }
    if (const auto* s = n->as_string(); s && s->get() == "auto") {
        cfg.spareRegions = SpareRegions::Auto;
        return;
    }
    c.fail(n->source(), out.key("spare_regions"),
           "expected true, false or \"auto\", got " +
               (n->as_string() ? tomlString(n->as_string()->get()) : std::string(withArticle(n->type()))));
}

void readOutput(const Checker& c, const Scope& out, Output& cfg) {
    c.rejectUnknownKeys(out, kOutputKeys);
    if (auto events = c.string(out, "events")) cfg.events = *events == "-" ? "-" : c.path(out, "events")->string();
    if (auto v = c.choice<EventFormat>(out, "format", {{"json", EventFormat::Json}, {"text", EventFormat::Text}}))
        cfg.format = *v;
    if (c.string(out, "transport") == kOldRingName) {
        // The BPF ring buffer transport is gone; "ring" took its place and its role.
        c.warn(out.table.get("transport")->source(), out.key("transport"),
               "\"ringbuf\" is an old name of \"ring\" (per-CPU message slots read through mmap); using \"ring\". "
               "Write transport = \"ring\" to silence this warning");
        cfg.transport = FIZZ_TRANSPORT_RING;
    } else if (auto v = c.choice<fizz_transport>(out, "transport", transportChoices())) {
        cfg.transport = *v;
    }
    if (auto v = c.integer(out, "ring_slots", 1, kMaxRingSlots)) cfg.ringSlots = uint32_t(*v);
    readRingRate(c, out, cfg);
    readSpareRegions(c, out, cfg);
    if (auto v = c.integer(out, "write_timeout_ms", kMinWriteTimeoutMs, kMaxWriteTimeoutMs)) cfg.writeTimeoutMs = uint32_t(*v);
    readEventsMode(c, out, cfg);
    if (c.integer(out, "ringbuf_size", 0, INT64_MAX))
        c.warn(out.table.get("ringbuf_size")->source(), out.key("ringbuf_size"),
               "ignored: the ring is sized in messages per CPU now (from rate, stall_ms and spread_cpus, or "
               "ring_slots); remove ringbuf_size");
}

void readGuard(const Checker& c, const Scope& guard, Guard& cfg) {
    c.rejectUnknownKeys(guard, kGuardKeys);
    if (auto v = c.number(guard, "max_slowdown")) {
        // Below 1.0 would demand the new program be faster than the old one on every reload.
        if (!std::isfinite(*v) || *v < 1.0) {
            std::ostringstream os;
            os << "must be a finite number >= 1.0, got " << *v;
            c.fail(guard.table.get("max_slowdown")->source(), guard.key("max_slowdown"), os.str());
        }
        cfg.maxSlowdown = *v;
    }
    if (auto v = c.choice<std::string_view>(guard, "mix", {{"uniform", "uniform"}, {"worst", "worst"}}))
        cfg.mix = std::string(*v);
}

// "ADDRESS:PORT", "[V6]:PORT" or ":PORT" (loopback): checked here so a typo is a config error with a
// position, not a failure after the interfaces were attached. Numeric addresses only: the host
// binds what is written, and listening everywhere is written out ("0.0.0.0:9464", "[::]:9464").
void readMetrics(const Checker& c, const Scope& metrics, Metrics& cfg) {
    c.rejectUnknownKeys(metrics, kMetricsKeys);
    if (auto v = c.path(metrics, "web_config")) cfg.webConfig = *v;
    if (auto v = c.integer(metrics, "max_connections", 1, kMaxMetricsConnections)) cfg.maxConnections = uint32_t(*v);
    auto listen = c.string(metrics, "listen");
    if (!listen) return;
    const auto colon = listen->rfind(':');
    std::string host = colon == std::string::npos ? "" : listen->substr(0, colon);
    const std::string port = colon == std::string::npos ? "" : listen->substr(colon + 1);
    const bool portOk = !port.empty() && port.size() <= 5 &&
                        port.find_first_not_of("0123456789") == std::string::npos && std::stoul(port) <= 65535;
    unsigned char addr[sizeof(in6_addr)];
    const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
    const std::string inner = bracketed ? host.substr(1, host.size() - 2) : host;
    const bool hostOk = colon != std::string::npos &&
                        (host.empty() || ::inet_pton(bracketed ? AF_INET6 : AF_INET, inner.c_str(), addr) == 1);
    if (!portOk || !hostOk)
        c.fail(metrics.table.get("listen")->source(), metrics.key("listen"),
               "expected \"ADDRESS:PORT\" with a numeric address (\"127.0.0.1:9464\", \"[::1]:9464\"; \":9464\" is "
               "127.0.0.1; all addresses: \"0.0.0.0:9464\" or \"[::]:9464\"), got " + tomlString(*listen));
    if (host.empty()) host = "127.0.0.1";
    cfg.listen = host + ":" + port;
}

void readService(const Checker& c, const Scope& service, Service& cfg) {
    c.rejectUnknownKeys(service, kServiceKeys);
    if (auto v = c.boolean(service, "watch_config")) cfg.watchConfig = *v;
    if (auto v = c.path(service, "state_root")) cfg.stateRoot = *v;
    if (auto v = c.choice<OnExit>(service, "on_exit", {{"detach", OnExit::Detach}, {"keep", OnExit::Keep}}))
        cfg.onExit = *v;
}

// "256M", "1G", "65536K" or a plain number of bytes (an integer or a string of digits).
std::optional<uint64_t> byteSize(std::string_view text) {
    if (text.empty()) return std::nullopt;
    uint64_t unit = 1;
    switch (text.back()) {
    case 'K': unit = 1ull << 10; break;
    case 'M': unit = 1ull << 20; break;
    case 'G': unit = 1ull << 30; break;
    default: break;
    }
    if (unit != 1) text.remove_suffix(1);
    if (text.empty() || text.size() > 12 || text.find_first_not_of("0123456789") != std::string_view::npos)
        return std::nullopt;
    return std::stoull(std::string(text)) * unit;
}

// [decoders]: where plugin decoders run (decoder/decoder_service.hpp).
void readDecoders(const Checker& c, const Scope& d, DecoderSettings& cfg) {
    c.rejectUnknownKeys(d, kDecodersKeys);
    if (auto v = c.choice<DecoderIsolation>(d, "isolation",
                                            {{"process", DecoderIsolation::Process}, {"none", DecoderIsolation::None}}))
        cfg.isolation = *v;
    if (auto v = c.string(d, "user")) {
        const bool valid = !v->empty() && v->size() <= 32 && v->find_first_not_of(
                                                                 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") ==
                                                                 std::string::npos;
        if (!valid) c.fail(d.table.get("user")->source(), d.key("user"), tomlString(*v) + " is not a user name");
        if (*v == "root" || *v == "0")
            c.fail(d.table.get("user")->source(), d.key("user"),
                   "decoders never run as root; name an unprivileged user (default \"nobody\")");
        cfg.user = *v;
    }
    if (const toml::node* n = d.table.get("memory_limit")) {
        std::optional<uint64_t> bytes;
        if (const auto* i = n->as_integer(); i && i->get() > 0) bytes = uint64_t(i->get());
        else if (const auto* str = n->as_string()) bytes = byteSize(str->get());
        if (!bytes || *bytes < kMinDecoderMemory || *bytes > kMaxDecoderMemory)
            c.fail(n->source(), d.key("memory_limit"),
                   "expected a size from 64M to 1024G (bytes, or a string with K, M or G), e.g. \"256M\"");
        cfg.memoryLimit = *bytes;
    }
    if (auto v = c.integer(d, "deadline_ms", kMinDecoderDeadline.count(), kMaxDecoderDeadline.count()))
        cfg.deadline = std::chrono::milliseconds(*v);
    if (auto v = c.path(d, "root")) cfg.root = *v;
}

// A plugin reference: NAME (the highest version in plugin_dir) or NAME@VERSION (exactly that one).
std::string pluginRef(const Checker& c, const Scope& s, std::string_view key) {
    auto ref = c.string(s, key);
    if (!ref) c.missing(s, key);
    const auto at = ref->find('@');
    const std::string name = ref->substr(0, at);
    if (auto problem = pluginNameProblem(name)) c.fail(s.table.get(key)->source(), s.key(key), *problem);
    if (at != std::string::npos && !SemVer::parse(std::string_view(*ref).substr(at + 1)))
        c.fail(s.table.get(key)->source(), s.key(key),
               tomlString(ref->substr(at + 1)) + " is not a semver version; write NAME or NAME@MAJOR.MINOR.PATCH");
    return *ref;
}

// mode = "split" (the default: `percent` of sources meet the candidate) or "shadow" (every frame
// meets both; percent has no meaning, shadow_events may also deliver the candidate's events).
void readRolloutMode(const Checker& c, const Scope& ro, Rollout& rollout) {
    if (auto m = c.choice<RolloutMode>(ro, "mode", {{"split", RolloutMode::Split}, {"shadow", RolloutMode::Shadow}}))
        rollout.mode = *m;
    const bool shadow = rollout.mode == RolloutMode::Shadow;
    if (auto events = c.boolean(ro, "shadow_events")) {
        if (!shadow)
            c.fail(ro.table.get("shadow_events")->source(), ro.key("shadow_events"),
                   "applies to mode = \"shadow\" only (a split rollout always writes both variants' events)");
        rollout.shadowEvents = *events;
    }
    if (shadow) {
        if (ro.table.contains("percent"))
            c.fail(ro.table.get("percent")->source(), ro.key("percent"),
                   "has no meaning with mode = \"shadow\", which runs the candidate on every frame next to the "
                   "baseline; remove it");
        return;
    }
    auto percent = c.integer(ro, "percent", 0, 100);
    if (!percent) c.missing(ro, "percent");
    rollout.percent = unsigned(*percent);
}

SourcePosition positionOf(const toml::source_region& r) { return {r.begin.line, r.begin.column}; }

// A gate's limit: a finite number in [lo, hi].
std::optional<double> gateLimit(const Checker& c, const Scope& ro, std::string_view key, double lo, double hi,
                                std::string_view what) {
    auto v = c.number(ro, key);
    if (v && (!std::isfinite(*v) || *v < lo || *v > hi)) {
        std::ostringstream os;
        os << "must be " << what << ", got " << *v;
        c.fail(ro.table.get(key)->source(), ro.key(key), os.str());
    }
    return v;
}

// The gated progressive rollout around `steps`; nullopt (and no plan key allowed) without it.
std::optional<RolloutPlan> readRolloutPlan(const Checker& c, const Scope& ro) {
    const toml::node* stepsNode = c.typed(ro, "steps", toml::node_type::array);
    if (!stepsNode) {
        for (auto key : kPlanKeys)
            if (const toml::node* n = ro.table.get(key))
                c.fail(n->source(), ro.key(key),
                       "only a progressive rollout has it: add steps = [...] (percentages the host moves through)");
        return std::nullopt;
    }
    RolloutPlan plan;
    const toml::array& steps = *stepsNode->as_array();
    if (steps.empty()) c.fail(stepsNode->source(), ro.key("steps"), "must list at least one percentage, e.g. [1, 5, 25, 50, 100]");
    for (size_t i = 0; i < steps.size(); ++i) {
        const toml::node& n = *steps.get(i);
        const std::string at = ro.key("steps") + "[" + std::to_string(i) + "]";
        if (!n.is_integer()) c.fail(n.source(), at, "expected an integer percentage, got " + std::string(withArticle(n.type())));
        const int64_t v = n.as_integer()->get();
        if (v < 1 || v > 100) c.fail(n.source(), at, std::to_string(v) + " is out of range 1..100");
        if (!plan.steps.empty() && v <= int64_t(plan.steps.back()))
            c.fail(n.source(), at,
                   std::to_string(v) + " does not follow " + std::to_string(plan.steps.back()) +
                       ": steps must increase");
        plan.steps.push_back(unsigned(v));
    }
    if (auto v = c.integer(ro, "step_seconds", 1, kMaxStepSeconds)) plan.stepSeconds = uint32_t(*v);
    if (auto v = c.integer(ro, "min_samples", 1, int64_t(1) << 40)) plan.minSamples = uint64_t(*v);
    if (auto v = c.boolean(ro, "promote")) plan.promote = *v;
    plan.gates.maxSlowdown = gateLimit(c, ro, "max_slowdown", 1.0, 1e6, "a finite ratio >= 1.0");
    plan.gates.maxDropRate = gateLimit(c, ro, "max_drop_rate", 0.0, 1.0, "a fraction in 0..1");
    plan.gates.maxUndecodableRate = gateLimit(c, ro, "max_undecodable_rate", 0.0, 1.0, "a fraction in 0..1");
    // Below 0.5 an interval is narrower than a coin toss; 1 would need infinite data.
    if (auto v = gateLimit(c, ro, "confidence", 0.5, 0.999999, "a confidence in [0.5, 1), e.g. 0.99 or 0.999"))
        plan.confidence = *v;
    // A shadow stage before the first step: the candidate runs beside the baseline on every frame
    // (shadow mode) for shadow_seconds, and only a stage like that compares decisions.
    if (auto v = c.integer(ro, "shadow_seconds", 1, kMaxStepSeconds)) plan.shadowSeconds = uint32_t(*v);
    plan.gates.maxDisagreement = gateLimit(c, ro, "max_disagreement", 0.0, 1.0, "a fraction in 0..1");
    plan.gates.maxUnexpected = gateLimit(c, ro, "max_unexpected", 0.0, 1.0, "a fraction in 0..1");
    for (auto key : {std::string_view("max_disagreement"), std::string_view("max_unexpected"),
                     std::string_view("shadow_events")})
        if (const toml::node* n = ro.table.get(key); n && plan.shadowSeconds == 0)
            c.fail(n->source(), ro.key(key),
                   "applies to a shadow stage only, where the candidate runs on every frame beside the baseline: "
                   "add shadow_seconds = N (the stage's length, before the first step) or remove it");
    return plan;
}

// expected = ["none -> Web", ...]: the cells a release means to change (config/expected_cells.hpp).
// Only where both variants decide every frame: shadow mode, or a plan's shadow stage, whose
// max_unexpected then defaults to 0 (one frame in a cell not listed fails the stage).
void readExpected(const Checker& c, const Scope& ro, Rollout& rollout, std::vector<SourcePosition>& positions) {
    const toml::node* list = c.typed(ro, "expected", toml::node_type::array);
    if (!list) return;
    if (rollout.mode != RolloutMode::Shadow && !(rollout.plan && rollout.plan->shadowSeconds > 0))
        c.fail(list->source(), ro.key("expected"),
               "applies where both variants decide every frame only: add mode = \"shadow\" (or shadow_seconds = N, "
               "a shadow stage before the steps) or remove it");
    const toml::array& cells = *list->as_array();
    for (size_t i = 0; i < cells.size(); ++i) {
        const toml::node& n = *cells.get(i);
        const std::string at = ro.key("expected") + "[" + std::to_string(i) + "]";
        if (!n.is_string())
            c.fail(n.source(), at, "expected a string \"BASELINE -> CANDIDATE\", got " + std::string(withArticle(n.type())));
        std::string why;
        auto cell = parseExpectedCell(n.as_string()->get(), &why);
        if (!cell) c.fail(n.source(), at, why);
        if (std::find(rollout.expected.begin(), rollout.expected.end(), *cell) != rollout.expected.end())
            c.fail(n.source(), at, tomlString(cell->text()) + " is listed twice");
        rollout.expected.push_back(std::move(*cell));
        positions.push_back(positionOf(n.source()));
    }
    if (rollout.plan && !rollout.expected.empty() && !rollout.plan->gates.maxUnexpected)
        rollout.plan->gates.maxUnexpected = 0.0;
}

// hook, place/before/after (tc), then (XDP), on_detach: where and beside what the classifier runs.
void readHookKeys(const Checker& c, const Scope& s, Interface& ifc) {
    if (auto h = c.choice<Hook>(s, "hook", {{"xdp", Hook::Xdp}, {"tc", Hook::Tc}})) ifc.hook = *h;
    if (auto d = c.choice<OnDetach>(s, "on_detach", {{"reattach", OnDetach::Reattach}, {"stay_off", OnDetach::StayOff}}))
        ifc.onDetach = *d;
    const bool tc = ifc.hook == Hook::Tc;
    const toml::node* placeNode = nullptr;
    for (auto key : {std::string_view("place"), std::string_view("before"), std::string_view("after")}) {
        const toml::node* n = s.table.get(key);
        if (!n) continue;
        if (!tc)
            c.fail(n->source(), s.key(key),
                   "places the classifier among the programs at tc ingress; it applies with hook = \"tc\" only "
                   "(on XDP the hook holds one program: chain one behind the classifier with then = \"<pin>\")");
        if (placeNode)
            c.fail(n->source(), s.key(key), "give one of place, before and after, not several");
        placeNode = n;
        if (key == "place") {
            if (auto w = c.choice<TcPlace::Where>(s, key, {{"first", TcPlace::Where::First}, {"last", TcPlace::Where::Last}}))
                ifc.place.where = *w;
            continue;
        }
        const std::string text = *c.string(s, key);
        ifc.place.where = key == "before" ? TcPlace::Where::Before : TcPlace::Where::After;
        if (text.empty())
            c.fail(n->source(), s.key(key), "must name a program on the hook, or the absolute path it is pinned at");
        if (text.front() == '/') {
            ifc.place.pinned = *c.path(s, key);
        } else {
            if (text.find('/') != std::string::npos || hasHiddenCharacters(text))
                c.fail(n->source(), s.key(key),
                       tomlString(text) + " is neither a program name nor an absolute pinned path");
            ifc.place.program = text;
        }
    }
    if (const toml::node* n = s.table.get("mode"); n && tc)
        c.fail(n->source(), s.key("mode"),
               "is the XDP attach mode; a classifier with hook = \"tc\" is attached through tcx, remove mode");
    if (const toml::node* n = s.table.get("then")) {
        if (tc)
            c.fail(n->source(), s.key("then"),
                   "chains an XDP program behind the classifier on XDP; at tc ingress the programs on the hook "
                   "run in order anyway: place the classifier with place/before/after instead");
        const std::string text = *c.string(s, "then");
        if (text.empty() || text.front() != '/')
            c.fail(n->source(), s.key("then"),
                   "must be the absolute path an XDP program is pinned at (on bpffs), got " + tomlString(text));
        ifc.then = *c.path(s, "then");
    }
}

Interface readInterface(const Checker& c, const toml::key& key, const toml::node& node, const std::string& path) {
    const std::string name(key.str());
    if (auto problem = ifnameProblem(name)) c.fail(key.source(), path, *problem);
    if (!node.is_table())
        c.fail(node.source(), path, "expected a table, got " + std::string(withArticle(node.type())));
    const Scope s{*node.as_table(), path};
    c.rejectUnknownKeys(s, kInterfaceKeys);

    Interface ifc;
    ifc.name = name;
    ifc.classifier = pluginRef(c, s, "classifier");
    ifc.at = positionOf(key.source());
    ifc.classifierAt = positionOf(s.table.get("classifier")->source());
    if (auto m = c.choice<AttachMode>(
            s, "mode", {{"native", AttachMode::Native}, {"generic", AttachMode::Generic}, {"auto", AttachMode::Auto}}))
        ifc.mode = *m;
    readHookKeys(c, s, ifc);
    if (auto ro = c.table(s, "rollout")) {
        c.rejectUnknownKeys(*ro, kRolloutKeys);
        Rollout rollout;
        rollout.candidate = pluginRef(c, *ro, "candidate");
        ifc.candidateAt = positionOf(ro->table.get("candidate")->source());
        if (rollout.candidate == ifc.classifier)
            c.fail(ro->table.get("candidate")->source(), ro->key("candidate"),
                   "must differ from classifier " + tomlString(ifc.classifier) + " (promote by changing classifier instead)");
        rollout.plan = readRolloutPlan(c, *ro);
        if (!rollout.plan) {
            readRolloutMode(c, *ro, rollout);
        } else {
            if (auto events = c.boolean(*ro, "shadow_events")) rollout.shadowEvents = *events;  // its shadow stage's
            for (auto key : {std::string_view("percent"), std::string_view("mode")})
                if (const toml::node* n = ro->table.get(key))
                    c.fail(n->source(), ro->key(key),
                           "a rollout with steps starts at the first step and moves the split itself; remove " +
                               std::string(key) + " (or steps, for a fixed split or shadow mode)" +
                               (key == "mode" ? "; shadow_seconds = N runs a shadow stage before the first step"
                                              : ""));
        }
        readExpected(c, *ro, rollout, ifc.expectedAt);
        if (auto v = c.integer(*ro, "cost_sample_period", 0, 65536)) {
            const auto& at = ro->table.get("cost_sample_period")->source();
            if ((*v & (*v - 1)) != 0)
                c.fail(at, ro->key("cost_sample_period"),
                       "must be 0 (no per-variant cost) or a power of two (1 frame in that many is timed), got " +
                           std::to_string(*v));
            if (*v == 0 && rollout.plan && rollout.plan->gates.maxSlowdown)
                c.fail(at, ro->key("cost_sample_period"),
                       "0 turns off the per-variant cost that max_slowdown judges; give a period (e.g. 64) or remove "
                       "max_slowdown");
            rollout.costSamplePeriod = uint32_t(*v);
        }
        ifc.rollout = std::move(rollout);
    }
    return ifc;
}

std::vector<Interface> readInterfaces(const Checker& c, const Scope& root) {
    auto ifaces = c.table(root, "interface");
    if (!ifaces)
        c.fail(root.table.source(), "interface",
               "missing required table; add at least one [interface.NAME] with a classifier");
    if (ifaces->table.empty())
        c.fail(ifaces->table.source(), ifaces->path, "no interfaces; add at least one [interface.NAME] with a classifier");

    // toml::table is ordered by key; the position where each name first appears restores file order,
    // so logs and status list interfaces the way the user wrote them. Two keys never share a position.
    struct Entry {
        toml::source_position at;
        const toml::key* key;
        const toml::node* node;
    };
    std::vector<Entry> entries;
    for (const auto& [key, node] : ifaces->table) entries.push_back({key.source().begin, &key, &node});
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.at < b.at; });

    std::vector<Interface> out;
    for (const Entry& e : entries) out.push_back(readInterface(c, *e.key, *e.node, ifaces->key(e.key->str())));
    return out;
}

const char* fileKind(mode_t mode) {
    if (S_ISDIR(mode)) return "a folder";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

// open()/read() rather than ifstream, which drops errno: the user should see EACCES or EISDIR, not a
// bare "cannot open". O_NONBLOCK so a FIFO cannot block the open. The trust rule (util/file_trust)
// is judged on the opened descriptor and the folders of its real path: what is checked is what is
// read. Whoever can write the config chooses what runs, so only the command line relaxes this.
std::string readFile(const std::filesystem::path& file, FileTrust trust) {
    const std::string what = printable(file.string()) + ": cannot read config";
    const CheckedFile checked = openChecked(file, "config file", "config folder", what);
    const int fd = checked.fd.get();
    const struct stat& st = checked.st;
    if (!S_ISREG(st.st_mode))
        throw Error(what + ": it is " + fileKind(st.st_mode) + ", not a regular file", S_ISDIR(st.st_mode) ? EISDIR : EINVAL);
    if (!checked.problems.empty()) {
        if (trust == FileTrust::Strict)
            throw Error(checked.problems.front() + "; " + trustRule() +
                            ". Refusing it (--allow-insecure-plugins on the command line relaxes this, for development only)",
                        EPERM);
        for (const auto& problem : checked.problems)
            spdlog::warn("INSECURE: {}; loaded anyway because --allow-insecure-plugins was given. Another user can "
                         "change what this host runs. Use only for development.",
                         problem);
    }

    std::string text;
    char buf[16 * 1024];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throwErrno(what, errno);
        if (n == 0) return text;
        text.append(buf, size_t(n));
        if (text.size() > kMaxFileSize)
            throw Error(what + ": larger than " + std::to_string(kMaxFileSize >> 20) + " MiB", EFBIG);
    }
}

}  // namespace

std::string_view toString(RolloutMode mode) { return mode == RolloutMode::Shadow ? "shadow" : "split"; }

std::string_view toString(Hook hook) { return hook == Hook::Tc ? "tc" : "xdp"; }
std::string_view toString(OnDetach policy) { return policy == OnDetach::StayOff ? "stay_off" : "reattach"; }

std::string describe(const TcPlace& place) {
    switch (place.where) {
    case TcPlace::Where::First: return "first";
    case TcPlace::Where::Last: return "last";
    case TcPlace::Where::Before:
    case TcPlace::Where::After: break;
    }
    const std::string side = place.where == TcPlace::Where::Before ? "before " : "after ";
    if (!place.pinned.empty()) return side + "the program pinned at '" + place.pinned.string() + "'";
    return side + "program '" + place.program + "'";
}

std::string_view toString(AttachMode mode) {
    switch (mode) {
    case AttachMode::Auto: return "auto";
    case AttachMode::Native: return "native";
    case AttachMode::Generic: return "generic";
    }
    return "?";
}

std::string_view toString(EventFormat format) {
    switch (format) {
    case EventFormat::Json: return "json";
    case EventFormat::Text: return "text";
    }
    return "?";
}

std::string_view toString(fizz_transport transport) {
    switch (transport) {
    case FIZZ_TRANSPORT_QUEUE: return "queue";
    case FIZZ_TRANSPORT_RING: return "ring";
    }
    return "?";
}

std::optional<fizz_transport> parseTransport(std::string_view name) {
    for (fizz_transport t : kTransports)
        if (toString(t) == name) return t;
    return std::nullopt;
}

HostConfig parseConfig(std::string_view text, const std::filesystem::path& source,
                       const std::filesystem::path& defaultPluginDir) {
    const std::string name = source.empty() ? "<config>" : printable(source.string());
    // absolute() consults the working directory only when `source` is relative.
    const Checker c(name, std::filesystem::absolute(source.empty() ? "." : source).parent_path());

    toml::table root;
    try {
        root = toml::parse(text, std::string(name));
    } catch (const toml::parse_error& err) {
        c.fail(err.source(), "", parseProblem(err.description()));
    }
    const Scope top{root, ""};
    c.rejectUnknownKeys(top, kRootKeys);

    HostConfig cfg;
    cfg.source = source;
    // The caller's default is relative to the working directory (a CLI flag), not to the file.
    if (!defaultPluginDir.empty()) cfg.pluginDir = std::filesystem::absolute(defaultPluginDir).lexically_normal();
    if (auto v = c.path(top, "plugin_dir")) cfg.pluginDir = *v;
    if (auto v = c.integer(top, "queue_size", 1, kMaxQueueSize)) cfg.queueSize = uint32_t(*v);
    if (auto v = c.boolean(top, "allow_insecure_plugins")) cfg.allowInsecurePlugins = *v;
    if (auto v = c.boolean(top, "run_time_stats")) cfg.runTimeStats = *v;
    if (auto v = c.path(top, "control_socket")) {
        if (v->native().size() > kMaxSocketPath)
            c.fail(root.get("control_socket")->source(), "control_socket",
                   tomlString(v->native()) + " is " + std::to_string(v->native().size()) +
                       " bytes; a unix socket path holds at most " + std::to_string(kMaxSocketPath));
        cfg.controlSocket = *v;
    }
    if (auto out = c.table(top, "output")) readOutput(c, *out, cfg.output);
    if (auto guard = c.table(top, "guard")) readGuard(c, *guard, cfg.guard);
    if (auto metrics = c.table(top, "metrics")) readMetrics(c, *metrics, cfg.metrics);
    if (auto service = c.table(top, "service")) readService(c, *service, cfg.service);
    if (auto decoders = c.table(top, "decoders")) readDecoders(c, *decoders, cfg.decoders);
    cfg.interfaces = readInterfaces(c, top);
    return cfg;
}

std::span<const KeyTable> knownKeys() {
    static const std::array<KeyTable, 8> tables = {{{"", kRootKeys},
                                                    {"output", kOutputKeys},
                                                    {"guard", kGuardKeys},
                                                    {"metrics", kMetricsKeys},
                                                    {"service", kServiceKeys},
                                                    {"decoders", kDecodersKeys},
                                                    {"interface.NAME", kInterfaceKeys},
                                                    {"interface.NAME.rollout", kRolloutKeys}}};
    return tables;
}

HostConfig loadConfig(const std::filesystem::path& file, const std::filesystem::path& defaultPluginDir, FileTrust trust) {
    return parseConfig(readFile(file, trust), file, defaultPluginDir);
}

}  // namespace fizzhost::config
