#include "plugin/file_policy.hpp"

#include "util/error.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

namespace fizzhost::plugin {
namespace {

constexpr const char* kPluginHint =
    "refusing to load code as root from it (chown root / chmod go-w, or allow_insecure_plugins / "
    "--allow-insecure-plugins for development)";
constexpr const char* kConfigHint =
    "refusing it as root, since whoever can write it chooses what runs (chown root / chmod go-w, or "
    "--allow-insecure-plugins on the command line for development)";

void checkOwner(const std::string& what, const std::filesystem::path& path, const struct stat& st, const char* hint) {
    if (st.st_uid != 0)
        throw Error(what + " '" + path.string() + "' is owned by uid " + std::to_string(st.st_uid) + ", not root: " + hint,
                    EPERM);
    // A sticky world-writable folder such as /tmp still lets others plant files: refuse it too.
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        char mode[8];
        snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        throw Error(what + " '" + path.string() + "' is writable by " + ((st.st_mode & S_IWOTH) ? "others" : "group") +
                        " (mode " + mode + "): " + hint,
                    EPERM);
    }
}

// The folder and its parents up to /; a sticky root-owned parent such as /tmp lets nobody else rename
// or replace what we own inside it.
void checkFolders(const std::string& what, std::filesystem::path p, const char* hint) {
    for (bool self = true;; self = false) {
        struct stat st {};
        if (::stat(p.c_str(), &st) != 0) throwErrno(what + " '" + p.string() + "'", errno);
        const bool stickyRootParent = !self && (st.st_mode & S_ISVTX) && st.st_uid == 0;
        if (!stickyRootParent) checkOwner(what, p, st, hint);
        if (p == p.root_path() || !p.has_parent_path() || p.parent_path() == p) break;
        p = p.parent_path();
    }
}

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
    checkOwner(S_ISDIR(st.st_mode) ? "plugin folder" : "plugin file", path, st, kPluginHint);
}

void checkFolder(const FilePolicy& policy, const std::filesystem::path& dir) {
    if (!policy.requireRootOwned) return;
    checkFolders("plugin folder", std::filesystem::absolute(dir).lexically_normal(), kPluginHint);
}

void checkConfigFile(const FilePolicy& policy, const std::filesystem::path& file) {
    if (!policy.requireRootOwned || file.empty()) return;
    std::error_code ec;
    auto real = std::filesystem::canonical(file, ec);
    if (ec) throwErrno("config file '" + file.string() + "'", ec.value());
    struct stat st {};
    if (::stat(real.c_str(), &st) != 0) throwErrno("config file '" + real.string() + "'", errno);
    checkOwner("config file", real, st, kConfigHint);
    checkFolders("config folder", real.parent_path(), kConfigHint);
}

}  // namespace fizzhost::plugin
