#include "plugin/file_policy.hpp"

#include "util/error.hpp"

#include <unistd.h>

namespace fizzhost::plugin {

FilePolicy FilePolicy::forProcess(bool allowInsecure) { return {geteuid() == 0 && !allowInsecure}; }

void checkOwnership(const FilePolicy& policy, const std::filesystem::path& path, const struct stat& st) {
    if (!policy.requireRootOwned) return;
    const char* kind = S_ISDIR(st.st_mode) ? "folder" : "file";
    if (st.st_uid != 0)
        throw Error(std::string("plugin ") + kind + " '" + path.string() + "' is owned by uid " +
                        std::to_string(st.st_uid) +
                        ", not root: refusing to load code as root from it (chown root, or "
                        "allow_insecure_plugins / --allow-insecure-plugins for development)",
                    EPERM);
    // A sticky world-writable folder such as /tmp still lets others plant files: refuse it too.
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        char mode[8];
        snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        throw Error(std::string("plugin ") + kind + " '" + path.string() + "' is writable by " +
                        ((st.st_mode & S_IWOTH) ? "others" : "group") + " (mode " + mode +
                        "): refusing to load code as root from it (chmod go-w, or "
                        "allow_insecure_plugins / --allow-insecure-plugins for development)",
                    EPERM);
    }
}

void checkFolder(const FilePolicy& policy, const std::filesystem::path& dir) {
    if (!policy.requireRootOwned) return;
    std::filesystem::path p = std::filesystem::absolute(dir).lexically_normal();
    for (bool self = true;; self = false) {
        struct stat st {};
        if (::stat(p.c_str(), &st) != 0) throwErrno("plugin folder '" + p.string() + "'", errno);
        // A sticky world-writable parent such as /tmp lets nobody else rename or replace what we
        // own inside it; the plugin folder itself must not be writable by others at all.
        const bool stickyRootParent = !self && (st.st_mode & S_ISVTX) && st.st_uid == 0;
        if (!stickyRootParent) checkOwnership(policy, p, st);
        if (p == p.root_path() || !p.has_parent_path() || p.parent_path() == p) break;
        p = p.parent_path();
    }
}

}  // namespace fizzhost::plugin
