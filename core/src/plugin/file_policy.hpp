// Who may have written a plugin file: when the host runs as root it refuses plugin files and
// folders that are not owned by root or are writable by group or others (the rule sshd and sudo
// apply), because loading a module runs its code as root.
#pragma once

#include <filesystem>
#include <sys/stat.h>

namespace fizzhost::plugin {

struct FilePolicy {
    bool requireRootOwned = false;  // on when running as root, unless relaxed for development

    /// The policy for this process: strict when euid is 0 and `allowInsecure` is false.
    static FilePolicy forProcess(bool allowInsecure);
};

/// Throws Error naming `path` when `st` (of the file or of a folder on its path) breaks the policy.
void checkOwnership(const FilePolicy& policy, const std::filesystem::path& path, const struct stat& st);

/// Checks the folder holding plugins (and its parents, as sudo does for its own files).
void checkFolder(const FilePolicy& policy, const std::filesystem::path& dir);

}  // namespace fizzhost::plugin
