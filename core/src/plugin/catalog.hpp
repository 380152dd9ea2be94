// The plugins found in a folder: every *.so in it is loaded and indexed by the name its descriptor
// declares. Rescanning reuses a plugin whose file is unchanged and loads anew one that changed.
#pragma once

#include "plugin/plugin.hpp"

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace fizzhost::plugin {

class Catalog {
public:
    struct Problem {
        std::filesystem::path file;
        std::string message;
    };

    Catalog(std::filesystem::path dir, FilePolicy policy) : dir_(std::move(dir)), policy_(policy) {}

    /// Reads the folder again. Throws Error when the folder itself is missing or unsafe; problems
    /// with single files (refused, not a plugin, duplicate name) are kept in problems().
    void rescan();

    /// The plugin called `name`. Throws Error naming the folder, what was found there and any file
    /// that was refused, when no plugin (or more than one file) answers to the name.
    std::shared_ptr<const Plugin> find(const std::string& name) const;

    std::vector<std::shared_ptr<const Plugin>> plugins() const;
    const std::vector<Problem>& problems() const { return problems_; }
    const std::filesystem::path& dir() const { return dir_; }

private:
    std::filesystem::path dir_;
    FilePolicy policy_;
    std::map<std::string, std::shared_ptr<const Plugin>> byName_;
    std::map<std::filesystem::path, std::shared_ptr<const Plugin>> byFile_;
    std::map<std::string, std::vector<std::filesystem::path>> duplicates_;
    std::vector<Problem> problems_;
};

}  // namespace fizzhost::plugin
