// `fizzhost plugins`: what the plugin folder holds (every version), and what was refused and why.
// Everything shown is read from the files' metadata records, or for an ABI 1.0 module from what a
// confined worker read from its descriptor: listing runs no plugin code with any privilege.
// `--verify` goes further: it loads every version and has the kernel verify its program.
#include "cli/commands.hpp"

#include "cli/plugin_choice.hpp"
#include "plugin/catalog.hpp"
#include "plugin/module_file.hpp"
#include "plugin/module_hash.hpp"
#include "runtime/instance/classifier.hpp"
#include "util/error.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <optional>

namespace fizzhost::cli {
namespace {

// Loads every listed plugin version and its program into the kernel (never attached), one line
// each: OK, or the refusal with the verifier's log. Files the catalog refused count as failures.
// Returns how many failed.
size_t verifyAll(const plugin::Catalog& catalog) {
    runtime::ClassifierOptions o;
    o.ringSlots = 1024;  // the program is verified the same with any ring size; keep memory small
    size_t failed = 0;
    for (const auto& entry : catalog.entries()) {
        try {
            auto classifier = runtime::Classifier::load(catalog.find(entry.ref()), o);
            fmt::print("OK      {} {} ({}): program '{}' loads and verifies\n", entry.name,
                       classifier->plugin().version(), entry.path.string(), classifier->plugin().program());
        } catch (const Error& e) {
            ++failed;
            fmt::print("FAILED  {} {} ({}): {}\n", entry.name, entry.known() ? entry.version : "?",
                       entry.path.string(), e.what());
        }
    }
    for (const auto& pr : catalog.problems()) {
        ++failed;
        fmt::print("FAILED  {}: {}\n", pr.file.string(), pr.message);
    }
    fmt::print("{} of {} plugin file(s) verified\n", catalog.entries().size() + catalog.problems().size() - failed,
               catalog.entries().size() + catalog.problems().size());
    return failed;
}

// SHA-256 of a listed file, read again under the catalog's policy: the bytes a load would take.
// Nullopt (with a warning) when the file cannot be read or is no longer the file listed.
std::optional<std::string> listedHash(const plugin::Catalog& catalog, const plugin::PluginInfo& entry) {
    try {
        const plugin::ModuleFile module = plugin::readModuleFile(entry.path, catalog.policy());
        if (module.identity == entry.identity) return plugin::sha256Hex(module.bytes);
        spdlog::warn("plugins: {} changed while it was listed; no hash shown", entry.path.string());
    } catch (const Error& e) {
        spdlog::warn("plugins: {}: no hash: {}", entry.path.string(), e.what());
    }
    return std::nullopt;
}

}  // namespace

int pluginsCommand(const PluginsOptions& opts) {
    plugin::Catalog catalog = opts.dir.confinedCatalog();
    catalog.rescan();
    if (opts.verify) return verifyAll(catalog) ? 1 : 0;
    if (opts.json) {
        nlohmann::json out = {{"plugin_dir", catalog.dir().string()}, {"plugins", nlohmann::json::array()},
                              {"problems", nlohmann::json::array()}};
        for (const auto& p : catalog.entries()) {
            nlohmann::json fields = nlohmann::json::array();
            for (const auto& f : p.fields) fields.push_back({{"name", f.name}, {"type", plugin::fieldTypeName(f.type)}});
            const auto hash = listedHash(catalog, p);
            nlohmann::json entry = {{"name", p.name}, {"abi", p.abiVersion()}, {"file", p.path.string()},
                                    {"metadata", p.hasMetadata}, {"described", p.described},
                                    {"sha256", hash ? nlohmann::json(*hash) : nlohmann::json(nullptr)}};
            if (p.known()) {
                entry["version"] = p.version;
                entry["program"] = p.program;
                entry["message_size"] = p.messageSize;
                entry["kinds"] = p.kinds;
                entry["fields"] = fields;
            } else {
                entry["version"] = nullptr;  // an ABI 1.0 module not described (not root): known once selected
            }
            out["plugins"].push_back(std::move(entry));
        }
        for (const auto& pr : catalog.problems())
            out["problems"].push_back({{"file", pr.file.string()}, {"error", pr.message}});
        fmt::print("{}\n", out.dump());
    } else {
        fmt::print("plugins in {}\n", catalog.dir().string());
        fmt::print("{:<16} {:<10} {:<5} {:<12} {:<32} {:<24} {}\n", "NAME", "VERSION", "ABI", "SHA256", "KINDS", "FIELDS",
                   "FILE");
        for (const auto& p : catalog.entries()) {
            std::vector<std::string> fields;
            for (const auto& f : p.fields) fields.push_back(f.name + ":" + std::string(plugin::fieldTypeName(f.type)));
            const auto hash = listedHash(catalog, p);
            fmt::print("{:<16} {:<10} {:<5} {:<12} {:<32} {:<24} {}\n", p.name, p.known() ? p.version : "?",
                       p.abiVersion(), hash ? shortHash(*hash) : "-",
                       p.known() ? fmt::format("{}", fmt::join(p.kinds, ",")) : "(ABI 1.0: read when selected)",
                       fields.empty() ? "-" : fmt::format("{}", fmt::join(fields, ",")), p.path.string());
        }
        for (const auto& pr : catalog.problems()) fmt::print(stderr, "refused {}: {}\n", pr.file.string(), pr.message);
    }
    return catalog.problems().empty() ? 0 : 1;
}

}  // namespace fizzhost::cli
