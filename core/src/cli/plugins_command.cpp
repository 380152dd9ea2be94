// `fizzhost plugins`: what the plugin folder holds, and what was refused and why.
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
        for (const auto& p : catalog.plugins())
            out["plugins"].push_back({{"name", p->name()}, {"version", p->version()}, {"abi", p->abiVersion()},
                                      {"program", p->program()}, {"message_size", p->messageSize()},
                                      {"kinds", p->kinds()}, {"file", p->path().string()}});
        for (const auto& pr : catalog.problems())
            out["problems"].push_back({{"file", pr.file.string()}, {"error", pr.message}});
        fmt::print("{}\n", out.dump());
    } else {
        fmt::print("plugins in {}\n", catalog.dir().string());
        fmt::print("{:<16} {:<10} {:<5} {:<40} {}\n", "NAME", "VERSION", "ABI", "KINDS", "FILE");
        for (const auto& p : catalog.plugins())
            fmt::print("{:<16} {:<10} {:<5} {:<40} {}\n", p->name(), p->version(), p->abiVersion(),
                       fmt::format("{}", fmt::join(p->kinds(), ",")), p->path().string());
        for (const auto& pr : catalog.problems()) fmt::print(stderr, "refused {}: {}\n", pr.file.string(), pr.message);
    }
    return catalog.problems().empty() ? 0 : 1;
}

}  // namespace fizzhost::cli
