#include "config/config_loader.hpp"

#include "util/error.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <initializer_list>
#include <sstream>

namespace fizzhost::config {
namespace {

size_t editDistance(std::string_view a, std::string_view b) {
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (size_t j = 1; j <= b.size(); ++j)
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

const char* typeName(toml::node_type t) {
    switch (t) {
    case toml::node_type::table: return "table";
    case toml::node_type::array: return "array";
    case toml::node_type::string: return "string";
    case toml::node_type::integer: return "integer";
    case toml::node_type::floating_point: return "float";
    case toml::node_type::boolean: return "boolean";
    case toml::node_type::date: return "date";
    case toml::node_type::time: return "time";
    case toml::node_type::date_time: return "date-time";
    default: return "nothing";
    }
}

// Reads one TOML document with errors anchored to its source positions.
class Reader {
public:
    Reader(std::filesystem::path source) : source_(std::move(source)) {}

    [[noreturn]] void fail(const toml::source_region& at, const std::string& key, const std::string& problem) const {
        std::ostringstream os;
        os << source_.string() << ":" << at.begin.line << ":" << at.begin.column << ": ";
        if (!key.empty()) os << key << ": ";
        os << problem;
        throw Error(os.str(), EINVAL);
    }

    void onlyKeys(const toml::table& t, const std::string& path, std::initializer_list<std::string_view> known) const {
        for (const auto& [k, node] : t) {
            std::string_view key = k.str();
            if (std::find(known.begin(), known.end(), key) != known.end()) continue;
            std::string msg = "unknown key '" + std::string(key) + "'";
            for (auto candidate : known)
                if (editDistance(key, candidate) <= 2) {
                    msg += " (did you mean '" + std::string(candidate) + "'?)";
                    break;
                }
            fail(node.source(), join(path, key), msg);
        }
    }

    static std::string join(const std::string& path, std::string_view key) {
        return path.empty() ? std::string(key) : path + "." + std::string(key);
    }

    const toml::table* table(const toml::table& parent, const std::string& path, std::string_view key) const {
        const toml::node* n = parent.get(key);
        if (!n) return nullptr;
        if (!n->is_table()) fail(n->source(), join(path, key), std::string("expected a table, got ") + typeName(n->type()));
        return n->as_table();
    }

    std::optional<std::string> string(const toml::table& t, const std::string& path, std::string_view key) const {
        const toml::node* n = t.get(key);
        if (!n) return std::nullopt;
        if (!n->is_string()) fail(n->source(), join(path, key), std::string("expected a string, got ") + typeName(n->type()));
        return n->as_string()->get();
    }

    std::optional<int64_t> integer(const toml::table& t, const std::string& path, std::string_view key, int64_t lo,
                                   int64_t hi) const {
        const toml::node* n = t.get(key);
        if (!n) return std::nullopt;
        if (!n->is_integer()) fail(n->source(), join(path, key), std::string("expected an integer, got ") + typeName(n->type()));
        int64_t v = n->as_integer()->get();
        if (v < lo || v > hi)
            fail(n->source(), join(path, key),
                 std::to_string(v) + " is out of range " + std::to_string(lo) + ".." + std::to_string(hi));
        return v;
    }

    std::optional<bool> boolean(const toml::table& t, const std::string& path, std::string_view key) const {
        const toml::node* n = t.get(key);
        if (!n) return std::nullopt;
        if (!n->is_boolean()) fail(n->source(), join(path, key), std::string("expected a boolean, got ") + typeName(n->type()));
        return n->as_boolean()->get();
    }

    template <typename E>
    std::optional<E> choice(const toml::table& t, const std::string& path, std::string_view key,
                            std::initializer_list<std::pair<std::string_view, E>> options) const {
        auto s = string(t, path, key);
        if (!s) return std::nullopt;
        for (const auto& [name, value] : options)
            if (*s == name) return value;
        std::string expected;
        for (const auto& [name, value] : options) expected += (expected.empty() ? "\"" : ", \"") + std::string(name) + "\"";
        fail(t.get(key)->source(), join(path, key), "expected one of " + expected + ", got \"" + *s + "\"");
    }

    std::filesystem::path resolve(const std::string& p) const {
        std::filesystem::path path(p);
        if (path.is_absolute()) return path.lexically_normal();
        auto base = std::filesystem::absolute(source_).parent_path();
        return (base / path).lexically_normal();
    }

    const std::filesystem::path& source() const { return source_; }

private:
    std::filesystem::path source_;
};

bool validPluginName(std::string_view s) {
    return !s.empty() && s.size() <= 64 &&
           std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; });
}

bool validIfname(std::string_view s) {
    return !s.empty() && s.size() <= 15 && s != "." && s != ".." &&
           std::none_of(s.begin(), s.end(), [](char c) { return c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c)); });
}

}  // namespace

std::string_view toString(AttachMode m) {
    return m == AttachMode::Native ? "native" : m == AttachMode::Generic ? "generic" : "auto";
}
std::string_view toString(EventFormat f) { return f == EventFormat::Json ? "json" : "text"; }
std::string_view toString(Transport t) { return t == Transport::Queue ? "queue" : "ringbuf"; }

HostConfig parseConfig(std::string_view text, const std::filesystem::path& source,
                       const std::filesystem::path& defaultPluginDir) {
    Reader r(source);
    toml::table root;
    try {
        root = toml::parse(text, source.string());
    } catch (const toml::parse_error& err) {
        r.fail(err.source(), "", std::string(err.description()));
    }
    r.onlyKeys(root, "", {"plugin_dir", "queue_size", "allow_insecure_plugins", "control_socket", "output", "guard", "interface"});

    HostConfig cfg;
    cfg.source = source;
    cfg.pluginDir = defaultPluginDir;
    if (auto v = r.string(root, "", "plugin_dir")) cfg.pluginDir = r.resolve(*v);
    if (auto v = r.integer(root, "", "queue_size", 1, 16777216)) cfg.queueSize = uint32_t(*v);
    if (auto v = r.boolean(root, "", "allow_insecure_plugins")) cfg.allowInsecurePlugins = *v;
    if (auto v = r.string(root, "", "control_socket")) cfg.controlSocket = r.resolve(*v);

    if (const toml::table* out = r.table(root, "", "output")) {
        r.onlyKeys(*out, "output", {"events", "format", "transport", "ringbuf_size"});
        if (auto v = r.string(*out, "output", "events")) cfg.output.events = *v == "-" ? "-" : r.resolve(*v).string();
        if (auto v = r.choice<EventFormat>(*out, "output", "format", {{"json", EventFormat::Json}, {"text", EventFormat::Text}}))
            cfg.output.format = *v;
        if (auto v = r.choice<Transport>(*out, "output", "transport", {{"queue", Transport::Queue}, {"ringbuf", Transport::Ringbuf}}))
            cfg.output.transport = *v;
        if (auto v = r.integer(*out, "output", "ringbuf_size", 4096, 1073741824)) {
            if (*v & (*v - 1)) r.fail(out->get("ringbuf_size")->source(), "output.ringbuf_size", std::to_string(*v) + " is not a power of two");
            cfg.output.ringbufSize = uint32_t(*v);
        }
    }

    if (const toml::table* guard = r.table(root, "", "guard")) {
        r.onlyKeys(*guard, "guard", {"max_slowdown", "mix"});
        if (const toml::node* n = guard->get("max_slowdown")) {
            if (!n->is_number()) r.fail(n->source(), "guard.max_slowdown", std::string("expected a number, got ") + typeName(n->type()));
            double v = n->is_integer() ? double(n->as_integer()->get()) : n->as_floating_point()->get();
            if (!(v >= 1.0) || !std::isfinite(v)) r.fail(n->source(), "guard.max_slowdown", "must be a finite number >= 1.0");
            cfg.guard.maxSlowdown = v;
        }
        if (auto v = r.choice<std::string>(*guard, "guard", "mix", {{"uniform", "uniform"}, {"worst", "worst"}})) cfg.guard.mix = *v;
    }

    const toml::table* ifaces = r.table(root, "", "interface");
    if (!ifaces || ifaces->empty())
        r.fail(ifaces ? ifaces->source() : root.source(), "interface",
               "missing: at least one [interface.NAME] table is required");
    for (const auto& [k, node] : *ifaces) {
        const std::string name(k.str());
        const std::string path = "interface." + name;
        if (!node.is_table()) r.fail(node.source(), path, std::string("expected a table, got ") + typeName(node.type()));
        if (!validIfname(name)) r.fail(node.source(), path, "'" + name + "' is not an interface name (1..15 characters, no '/', ':' or spaces)");
        const toml::table& t = *node.as_table();
        r.onlyKeys(t, path, {"classifier", "mode", "rollout"});
        Interface ifc;
        ifc.name = name;
        auto cls = r.string(t, path, "classifier");
        if (!cls) r.fail(t.source(), path, "missing required key 'classifier'");
        if (!validPluginName(*cls)) r.fail(t.get("classifier")->source(), path + ".classifier", "'" + *cls + "' is not a plugin name ([A-Za-z0-9_-], at most 64)");
        ifc.classifier = *cls;
        if (auto m = r.choice<AttachMode>(t, path, "mode", {{"native", AttachMode::Native}, {"generic", AttachMode::Generic}, {"auto", AttachMode::Auto}}))
            ifc.mode = *m;
        if (const toml::table* ro = r.table(t, path, "rollout")) {
            const std::string rpath = path + ".rollout";
            r.onlyKeys(*ro, rpath, {"candidate", "percent"});
            auto cand = r.string(*ro, rpath, "candidate");
            if (!cand) r.fail(ro->source(), rpath, "missing required key 'candidate'");
            if (!validPluginName(*cand)) r.fail(ro->get("candidate")->source(), rpath + ".candidate", "'" + *cand + "' is not a plugin name");
            if (*cand == ifc.classifier)
                r.fail(ro->get("candidate")->source(), rpath + ".candidate", "the candidate must differ from the classifier '" + ifc.classifier + "'");
            auto pct = r.integer(*ro, rpath, "percent", 0, 100);
            if (!pct) r.fail(ro->source(), rpath, "missing required key 'percent'");
            ifc.rollout = Rollout{*cand, unsigned(*pct)};
        }
        cfg.interfaces.push_back(std::move(ifc));
    }
    std::sort(cfg.interfaces.begin(), cfg.interfaces.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return cfg;
}

HostConfig loadConfig(const std::filesystem::path& file, const std::filesystem::path& defaultPluginDir) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throwErrno("config file '" + file.string() + "': open", errno ? errno : ENOENT);
    std::stringstream ss;
    ss << in.rdbuf();
    return parseConfig(ss.str(), file, defaultPluginDir);
}

}  // namespace fizzhost::config
