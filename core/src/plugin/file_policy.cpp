#include "plugin/file_policy.hpp"

#include "util/error.hpp"
#include "util/file_trust.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

namespace fizzhost::plugin {
namespace {

constexpr const char* kPluginHint =
    "refusing to load code as root from it (allow_insecure_plugins / --allow-insecure-plugins relax this, for "
    "development only)";

[[noreturn]] void refuse(const std::string& problem) { throw Error(problem + "; " + trustRule() + ". " + kPluginHint, EPERM); }

}  // namespace

FilePolicy FilePolicy::forProcess(bool allowInsecure) {
    FilePolicy p{geteuid() == 0 && !allowInsecure};
    warnIfInsecure(p, allowInsecure, "this command");
    return p;
}

void warnIfInsecure(const FilePolicy& policy, bool insecure, const char* what) {
    if (insecure && !policy.requireRootOwned && geteuid() == 0)
        spdlog::warn("INSECURE ({}): plugins are loaded without the root-ownership check: any user who can write to "
                     "the plugin folder can run code as root in this process. Use only for development.",
                     what);
}

void checkOwnership(const FilePolicy& policy, const std::filesystem::path& path, const struct stat& st) {
    if (!policy.requireRootOwned) return;
    if (auto p = trustProblem(S_ISDIR(st.st_mode) ? "plugin folder" : "plugin file", path, st); !p.empty()) refuse(p);
}

void checkFolder(const FilePolicy& policy, const std::filesystem::path& dir) {
    if (!policy.requireRootOwned) return;
    auto check = checkFolderChain("plugin folder", std::filesystem::absolute(dir).lexically_normal());
    if (!check.problems.empty()) refuse(check.problems.front());
}

void checkOpenedModule(const FilePolicy& policy, const std::filesystem::path& file, const struct stat& st) {
    if (!policy.requireRootOwned) return;
    auto problems = checkOpenedFile("plugin file", "plugin folder", file, st);
    if (!problems.empty()) refuse(problems.front());
}

}  // namespace fizzhost::plugin
