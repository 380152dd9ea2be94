#include "plugin/catalog.hpp"

#include "util/error.hpp"

#include <sys/stat.h>

#include <algorithm>

namespace fizzhost::plugin {

void Catalog::rescan() {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir_, ec))
        throw Error("plugin folder '" + dir_.string() + "' does not exist or is not a folder", ENOENT);
    checkFolder(policy_, dir_);

    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir_, ec))
        if (entry.path().extension() == ".so") files.push_back(entry.path());
    if (ec) throwErrno("plugin folder '" + dir_.string() + "': list", ec.value());
    std::sort(files.begin(), files.end());

    std::map<std::filesystem::path, std::shared_ptr<const Plugin>> byFile;
    std::map<std::string, std::shared_ptr<const Plugin>> byName;
    std::map<std::string, std::vector<std::filesystem::path>> duplicates;
    std::vector<Problem> problems;
    for (const auto& file : files) {
        try {
            std::shared_ptr<const Plugin> plugin;
            struct stat st {};
            auto old = byFile_.find(file);
            if (old != byFile_.end() && ::stat(file.c_str(), &st) == 0 &&
                old->second->identity() == FileIdentity{uint64_t(st.st_dev), uint64_t(st.st_ino), uint64_t(st.st_size),
                                                        int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec})
                plugin = old->second;  // unchanged on disk: keep the module we have
            else
                plugin = Plugin::load(file, policy_);
            byFile[file] = plugin;
            auto [it, inserted] = byName.emplace(plugin->name(), plugin);
            if (!inserted) {
                auto& files = duplicates[plugin->name()];
                if (files.empty()) files.push_back(it->second->path());
                files.push_back(file);
                problems.push_back({file, "plugin name '" + plugin->name() + "' is already taken by '" +
                                              it->second->path().string() + "'"});
            }
        } catch (const Error& e) {
            problems.push_back({file, e.what()});
        }
    }
    byFile_ = std::move(byFile);
    byName_ = std::move(byName);
    duplicates_ = std::move(duplicates);
    problems_ = std::move(problems);
}

std::shared_ptr<const Plugin> Catalog::find(const std::string& name) const {
    if (auto dup = duplicates_.find(name); dup != duplicates_.end()) {
        std::string files;
        for (const auto& f : dup->second) files += (files.empty() ? "'" : ", '") + f.string() + "'";
        throw Error("plugin name '" + name + "' is provided by several files in '" + dir_.string() + "': " + files +
                        "; remove all but one",
                    EEXIST);
    }
    if (auto it = byName_.find(name); it != byName_.end()) return it->second;
    std::string msg = "unknown plugin '" + name + "' in '" + dir_.string() + "'";
    std::string found;
    for (const auto& [n, p] : byName_) found += (found.empty() ? "" : ", ") + n;
    msg += found.empty() ? " (no plugins found there)" : " (found: " + found + ")";
    for (const auto& p : problems_) msg += "\n  skipped " + p.file.string() + ": " + p.message;
    throw Error(msg, ENOENT);
}

std::vector<std::shared_ptr<const Plugin>> Catalog::plugins() const {
    std::vector<std::shared_ptr<const Plugin>> out;
    for (const auto& [n, p] : byName_) out.push_back(p);
    return out;
}

}  // namespace fizzhost::plugin
