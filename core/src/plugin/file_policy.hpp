// Who may have written a plugin file: when the host runs as root it refuses plugin files and folders
// that break util/file_trust's rule (the one the config file is held to too), because loading a
// module runs its code as root.
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

/// Throws Error (EPERM) naming `path` and the rule when `st` (of a plugin file or folder) breaks it.
void checkOwnership(const FilePolicy& policy, const std::filesystem::path& path, const struct stat& st);

/// Checks the folder holding plugins and its parents (walked by descriptor, as the config's folders
/// are). `dir` should be the resolved path.
void checkFolder(const FilePolicy& policy, const std::filesystem::path& dir);

/// Checks an opened module (`st` from fstat of the descriptor that is read) and the folders of its
/// real path, confirming that path still leads to that file (EAGAIN otherwise).
void checkOpenedModule(const FilePolicy& policy, const std::filesystem::path& file, const struct stat& st);

}  // namespace fizzhost::plugin
