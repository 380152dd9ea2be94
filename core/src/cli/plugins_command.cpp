// `fizzhost plugins`: what the plugin folder holds (every version), and what was refused and why.
// Everything shown is read from the files' metadata records: listing runs no plugin code.
#include "cli/commands.hpp"

#include "plugin/catalog.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

namespace fizzhost::cli {

int pluginsCommand(const PluginsOptions& opts) {
    plugin::Catalog catalog(opts.dir.resolved(), plugin::FilePolicy::forProcess(opts.dir.allowInsecure));
    catalog.rescan();
    if (opts.json) {
        nlohmann::json out = {{"plugin_dir", catalog.dir().string()}, {"plugins", nlohmann::json::array()},
                              {"problems", nlohmann::json::array()}};
        for (const auto& p : catalog.entries()) {
            nlohmann::json fields = nlohmann::json::array();
            for (const auto& f : p.fields) fields.push_back({{"name", f.name}, {"type", plugin::fieldTypeName(f.type)}});
            nlohmann::json entry = {{"name", p.name}, {"abi", p.abiVersion()}, {"file", p.path.string()},
                                    {"metadata", p.hasMetadata}};
            if (p.hasMetadata) {
                entry["version"] = p.version;
                entry["program"] = p.program;
                entry["message_size"] = p.messageSize;
                entry["kinds"] = p.kinds;
                entry["fields"] = fields;
            } else {
                entry["version"] = nullptr;  // an ABI 1.0 module: known once a config selects it
            }
            out["plugins"].push_back(std::move(entry));
        }
        for (const auto& pr : catalog.problems())
            out["problems"].push_back({{"file", pr.file.string()}, {"error", pr.message}});
        fmt::print("{}\n", out.dump());
    } else {
        fmt::print("plugins in {}\n", catalog.dir().string());
        fmt::print("{:<16} {:<10} {:<5} {:<32} {:<24} {}\n", "NAME", "VERSION", "ABI", "KINDS", "FIELDS", "FILE");
        for (const auto& p : catalog.entries()) {
            std::vector<std::string> fields;
            for (const auto& f : p.fields) fields.push_back(f.name + ":" + std::string(plugin::fieldTypeName(f.type)));
            fmt::print("{:<16} {:<10} {:<5} {:<32} {:<24} {}\n", p.name, p.hasMetadata ? p.version : "?",
                       p.abiVersion(), p.hasMetadata ? fmt::format("{}", fmt::join(p.kinds, ",")) : "(ABI 1.0: read when selected)",
                       fields.empty() ? "-" : fmt::format("{}", fmt::join(fields, ",")), p.path.string());
        }
        for (const auto& pr : catalog.problems()) fmt::print(stderr, "refused {}: {}\n", pr.file.string(), pr.message);
    }
    return catalog.problems().empty() ? 0 : 1;
}

}  // namespace fizzhost::cli
