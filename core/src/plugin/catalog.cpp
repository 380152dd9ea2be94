#include "plugin/catalog.hpp"

#include "plugin/elf_module.hpp"
#include "plugin/module_file.hpp"
#include "plugin/module_hash.hpp"
#include "util/error.hpp"
#include "util/plugin_ref.hpp"
#include "util/semver.hpp"

#include <algorithm>

namespace fizzhost::plugin {
namespace {

std::string quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

// Higher semver first; a module known by its file name (no version) last.
bool before(const PluginInfo& a, const PluginInfo& b) {
    if (a.name != b.name) return a.name < b.name;
    if (a.known() != b.known()) return a.known();
    auto va = SemVer::parse(a.version), vb = SemVer::parse(b.version);
    if (va && vb) {
        if (int c = compare(*va, *vb); c != 0) return c > 0;
    }
    return a.path < b.path;
}

}  // namespace

PluginInfo Catalog::info(const ModuleFile& module, std::set<std::string>* described) const {
    ElfModule elf = inspectElf(module.bytes, "plugin file " + quoted(module.path));
    PluginInfo info = readPluginInfo(module, elf);
    if (info.hasMetadata) return info;
    if (!options_.describe) {
        checkPluginName(info.name, "plugin file " + quoted(module.path) + " (ABI 1.0 module, known by its file name)");
        return info;
    }
    const std::string sha = sha256Hex(module.bytes);
    auto it = described_.find(sha);
    if (it == described_.end()) it = described_.emplace(sha, options_.describe(module, sha)).first;
    if (described) described->insert(sha);
    return describedInfo(module, it->second);
}

void Catalog::rescan() {
    std::error_code ec;
    // Judge the folder where it really is: a symlinked plugin_dir is checked along its target.
    auto real = std::filesystem::canonical(dir_, ec);
    if (ec || !std::filesystem::is_directory(real, ec))
        throw Error("plugin folder '" + dir_.string() + "' does not exist or is not a folder", ENOENT);
    checkFolder(policy_, real);

    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(real, ec))
        if (entry.path().extension() == ".so") files.push_back(entry.path());
    if (ec) throwErrno("plugin folder '" + dir_.string() + "': list", ec.value());
    std::sort(files.begin(), files.end());

    std::vector<PluginInfo> entries;
    std::map<std::string, std::vector<std::filesystem::path>> duplicates;
    std::map<std::string, std::filesystem::path> taken;
    std::vector<Problem> problems;
    std::set<std::string> describedNow;
    for (const auto& file : files) {
        try {
            ModuleFile module = readModuleFile(file, policy_);
            PluginInfo info = this->info(module, &describedNow);
            const std::string key = info.ref();
            auto [it, inserted] = taken.emplace(key, file);
            if (!inserted) {
                auto& files = duplicates[key];
                if (files.empty()) files.push_back(it->second);
                files.push_back(file);
                problems.push_back({file, "plugin '" + key + "' is already taken by '" + it->second.string() +
                                              "' (same name and version)"});
                continue;
            }
            entries.push_back(std::move(info));
        } catch (const Error& e) {
            problems.push_back({file, e.what()});
        }
    }
    std::sort(entries.begin(), entries.end(), before);

    // Keep loaded modules whose file is still listed unchanged; drop the others.
    std::map<std::filesystem::path, std::shared_ptr<const Plugin>> loaded;
    for (const auto& info : entries)
        if (auto it = loaded_.find(info.path); it != loaded_.end() && it->second->identity() == info.identity)
            loaded.emplace(info.path, it->second);
    entries_ = std::move(entries);
    duplicates_ = std::move(duplicates);
    problems_ = std::move(problems);
    loaded_ = std::move(loaded);
    std::erase_if(described_, [&](const auto& d) { return !describedNow.count(d.first); });
}

std::shared_ptr<const Plugin> Catalog::load(const PluginInfo& info) const {
    if (auto it = loaded_.find(info.path); it != loaded_.end()) return it->second;
    // Read again: what is loaded is the bytes checked now, and they must be the file listed.
    ModuleFile module = readModuleFile(info.path, policy_);
    if (!(module.identity == info.identity))
        throw Error("plugin file " + quoted(info.path) + " changed since the plugin folder was read; reload again",
                    EAGAIN);
    PluginInfo now = this->info(module);
    auto plugin = Plugin::load(module, now, options_.code);
    loaded_.emplace(info.path, plugin);
    return plugin;
}

std::shared_ptr<const Plugin> Catalog::find(const std::string& text) const {
    std::string why;
    auto ref = parsePluginRef(text, &why);
    if (!ref) throw Error("plugin reference '" + text + "': " + why, EINVAL);
    auto several = [&](const std::string& key) {
        auto dup = duplicates_.find(key);
        if (dup == duplicates_.end()) return;
        std::string files;
        for (const auto& f : dup->second) files += (files.empty() ? "'" : ", '") + f.string() + "'";
        throw Error("plugin '" + key + "' is provided by several files in '" + dir_.string() + "': " + files +
                        "; remove all but one",
                    EEXIST);
    };

    std::vector<const PluginInfo*> named;
    for (const auto& e : entries_)
        if (e.name == ref->name) named.push_back(&e);
    if (named.empty()) {
        several(ref->text());
        std::string msg = "unknown plugin '" + ref->name + "' in '" + dir_.string() + "'";
        std::string found;
        for (const auto& e : entries_) found += (found.empty() ? "" : ", ") + e.ref();
        msg += found.empty() ? " (no plugins found there)" : " (found: " + found + ")";
        for (const auto& p : problems_) msg += "\n  skipped " + p.file.string() + ": " + p.message;
        throw Error(msg, ENOENT);
    }
    if (!ref->version) {
        const PluginInfo* best = named.front();  // sorted: highest version first
        several(best->ref());
        return load(*best);
    }
    several(ref->text());
    for (const auto* e : named)
        if (e->known() && e->version == *ref->version) return load(*e);
    std::string versions;
    for (const auto* e : named) versions += (versions.empty() ? "" : ", ") + (e->known() ? e->version : "?");
    throw Error("plugin '" + ref->name + "' has no version " + *ref->version + " in '" + dir_.string() +
                    "' (found: " + versions + ")",
                ENOENT);
}

std::vector<std::shared_ptr<const Plugin>> Catalog::plugins() const {
    std::vector<std::shared_ptr<const Plugin>> out;
    for (const auto& e : entries_) {
        try {
            out.push_back(load(e));
        } catch (const Error& err) {
            problems_.push_back({e.path, err.what()});
        }
    }
    return out;
}

}  // namespace fizzhost::plugin
