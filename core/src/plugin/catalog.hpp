// The plugins found in a folder. Listing reads each *.so's metadata record from the file (libelf)
// and runs none of its code in this process; an ABI 1.0 module, which has no record, is described by
// a confined worker (the describer: unprivileged, chrooted, filtered), once per module content
// (sha256). Every (name, version) is indexed, several versions of one plugin side by side. A plugin
// is loaded only when find() selects it, and kept while its file is unchanged.
#pragma once

#include "plugin/plugin.hpp"
#include "plugin/plugin_info.hpp"

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace fizzhost::plugin {

struct CatalogOptions {
    /// Reads ABI 1.0 modules' descriptors in a confined worker (decoder::legacyDescriber). Without
    /// one (tests, tools) such a module is listed under its file name, read only when selected.
    Describer describe;
    /// Whether find() loads a plugin's code into this process.
    LoadCode code = LoadCode::InProcess;
};

class Catalog {
public:
    struct Problem {
        std::filesystem::path file;
        std::string message;
    };

    /// `dir` is resolved (symlinks followed) at each rescan; files and ownership are judged along
    /// the resolved path.
    Catalog(std::filesystem::path dir, FilePolicy policy, CatalogOptions options = {})
        : dir_(std::move(dir)), policy_(policy), options_(std::move(options)) {}

    /// Reads the folder again, running no plugin code. Throws Error when the folder itself is missing
    /// or unsafe; problems with single files (refused, truncated, not a plugin, duplicate name and
    /// version) are kept in problems(). Loaded plugins whose files are unchanged stay loaded.
    void rescan();

    /// The plugin `ref` names, loaded: "NAME" (highest semver present) or "NAME@VERSION" (exactly).
    /// Loads it on first use from a sealed copy of its checked bytes and caches it. Throws Error
    /// naming the folder, what was found there and any refused file, when nothing (or more than one
    /// file) answers, or when loading fails. Thread-compatible (callers serialise, as the host does).
    std::shared_ptr<const Plugin> find(const std::string& ref) const;

    /// Every plugin version listed, by name, highest version first. Nothing here is loaded.
    const std::vector<PluginInfo>& entries() const { return entries_; }
    /// Loads every listed plugin version (bench without names); one that fails to load is left out
    /// and added to problems().
    std::vector<std::shared_ptr<const Plugin>> plugins() const;
    const std::vector<Problem>& problems() const { return problems_; }
    const std::filesystem::path& dir() const { return dir_; }
    const FilePolicy& policy() const { return policy_; }
    const CatalogOptions& options() const { return options_; }

    /// Offers `other`'s loaded modules to the next rescan, which keeps those whose files are listed
    /// unchanged (under this catalog's policy): a catalog rebuilt for a new policy or folder does not
    /// reload, and so re-verify, plugins that did not change.
    void keepLoadedFrom(const Catalog& other) {
        loaded_.insert(other.loaded_.begin(), other.loaded_.end());
        described_.insert(other.described_.begin(), other.described_.end());
    }

private:
    std::shared_ptr<const Plugin> load(const PluginInfo& info) const;
    // The record, or for an ABI 1.0 module the (cached) description of its confined worker.
    // `described` collects the sha256 of every ABI 1.0 module described.
    PluginInfo info(const ModuleFile& module, std::set<std::string>* described = nullptr) const;

    std::filesystem::path dir_;
    FilePolicy policy_;
    CatalogOptions options_;
    std::vector<PluginInfo> entries_;
    std::map<std::string, std::vector<std::filesystem::path>> duplicates_;  // "name@version" -> files
    mutable std::vector<Problem> problems_;
    mutable std::map<std::filesystem::path, std::shared_ptr<const Plugin>> loaded_;
    // ABI 1.0 descriptions by module sha256: a rescan does not start a worker for an unchanged file.
    mutable std::map<std::string, LegacyDescription> described_;
};

}  // namespace fizzhost::plugin
