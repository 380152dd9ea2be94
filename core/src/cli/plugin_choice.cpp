#include "cli/plugin_choice.hpp"

#include "decoder/legacy_describer.hpp"

#include "util/error.hpp"
#include "util/plugin_ref.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace fizzhost::cli {
namespace {

// The interface's key as the config loader spells it: interface."eth0.100" stays one segment.
std::string interfaceKey(const std::string& name) {
    const bool bare = std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    });
    return bare ? name : "\"" + name + "\"";
}

}  // namespace

std::string shortHash(const std::string& sha256Hex) { return sha256Hex.substr(0, 12); }

std::string versionNote(const plugin::Catalog& catalog, const std::string& ref, const plugin::Plugin& chosen) {
    std::string versions;
    size_t count = 0;
    for (const auto& e : catalog.entries())  // highest version first
        if (e.name == chosen.name()) {
            versions += (versions.empty() ? "" : ", ") + (e.hasMetadata ? e.version : std::string("?"));
            ++count;
        }
    const auto parsed = parsePluginRef(ref);
    const std::string how = parsed && parsed->version ? "as asked"
                            : count > 1               ? "highest of " + versions
                                                      : "the only version";
    return "using " + chosen.name() + " " + chosen.version() + " (" + how + "; sha256 " + shortHash(chosen.sha256()) + ")";
}

size_t checkPluginChoices(const config::HostConfig& cfg, bool allowInsecure) {
    const bool insecure = allowInsecure || cfg.allowInsecurePlugins;
    plugin::CatalogOptions options;  // the facts alone: check never runs module code
    options.describe = decoder::legacyDescriber(cfg.decoders, insecure);
    options.code = plugin::LoadCode::None;
    plugin::Catalog catalog(cfg.pluginDir, plugin::FilePolicy::forProcess(insecure), std::move(options));
    try {
        catalog.rescan();
    } catch (const Error&) {
        return 0;  // the host's check says what is wrong with the folder
    }
    size_t problems = 0;
    for (const auto& ifc : cfg.interfaces) {
        const std::string where = "interface '" + ifc.name + "'";
        std::shared_ptr<const plugin::Plugin> base, cand;
        try {
            base = catalog.find(ifc.classifier);
            spdlog::info("{}: classifier {}: {}", where, ifc.classifier, versionNote(catalog, ifc.classifier, *base));
            if (!ifc.rollout) continue;
            cand = catalog.find(ifc.rollout->candidate);
            spdlog::info("{}: candidate {}: {}", where, ifc.rollout->candidate,
                         versionNote(catalog, ifc.rollout->candidate, *cand));
        } catch (const Error&) {
            continue;  // an unknown or refused plugin: the host's check names it with its place
        }
        const auto& cells = ifc.rollout->expected;
        for (size_t i = 0; i < cells.size(); ++i) {
            const config::SourcePosition at = i < ifc.expectedAt.size() ? ifc.expectedAt[i] : config::SourcePosition{};
            try {
                config::checkExpectedKinds({cells[i]}, base->kinds(), base->name() + " " + base->version(), cand->kinds(),
                                           cand->name() + " " + cand->version(),
                                           fmt::format("{}:{}:{}: interface.{}.rollout.expected[{}]", cfg.source.string(),
                                                       at.line, at.column, interfaceKey(ifc.name), i));
            } catch (const Error& e) {
                spdlog::error("{}", e.what());
                ++problems;
            }
        }
    }
    return problems;
}

}  // namespace fizzhost::cli
