// Who may have written a plugin file, or the config that chooses plugins: when the host runs as root
// it refuses files and folders that are not owned by root or are writable by group or others (the
// rule sshd and sudo apply), because loading a module runs its code as root.
#pragma once

#include <filesystem>
#include <sys/stat.h>

namespace fizzhost::plugin {

struct FilePolicy {
    bool requireRootOwned = false;  // on when running as root, unless relaxed for development

    /// The policy for this process: strict when euid is 0 and `allowInsecure` is false. Logs a
    /// warning each time a root process relaxes it, so every command and reload that uses insecure
    /// mode says so.
    static FilePolicy forProcess(bool allowInsecure);
};

/// Logs the insecure-mode warning for `what` (e.g. "reload") when `insecure` and running as root.
void warnIfInsecure(const FilePolicy& policy, bool insecure, const char* what);

/// Throws Error naming `path` when `st` (of the file or of a folder on its path) breaks the policy.
void checkOwnership(const FilePolicy& policy, const std::filesystem::path& path, const struct stat& st);

/// Checks the folder holding plugins (and its parents, as sudo does for its own files). `dir` should
/// be the resolved path.
void checkFolder(const FilePolicy& policy, const std::filesystem::path& dir);

/// Checks the config file (symlinks followed) and the folders above its real path, as sshd's
/// StrictModes does: whoever can write it chooses what runs as root. Only the command line's
/// --allow-insecure-plugins relaxes it (a config cannot vouch for itself). An empty path is skipped.
void checkConfigFile(const FilePolicy& policy, const std::filesystem::path& file);

}  // namespace fizzhost::plugin
