// `[service] watch_config = true`: notices when the config file's content changes, however it was
// replaced: written in place, renamed over (editors), or swapped the way the kubelet updates a
// ConfigMap volume (the file is a symlink through `..data`, and `..data` is atomically re-pointed
// at a new timestamped folder). inotify watches the folder the config path names and the folder
// the file really lives in; the content decides whether anything changed.
#pragma once

#include "util/unique_fd.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace fizzhost::service {

class ConfigWatch {
public:
    /// Starts watching `config`; its current content is the baseline. Throws Error.
    explicit ConfigWatch(std::filesystem::path config);

    /// The inotify descriptor to poll for POLLIN.
    int fd() const { return fd_.get(); }
    /// Consumes the pending notifications; true when the file now reads differently from the
    /// content last seen (which it then remembers). An unreadable or missing file is no change: a
    /// swap in progress is caught by its last step. Throws Error when inotify fails.
    bool changed();
    /// Takes the current content as the baseline (after a reload for another reason).
    void rebase();

private:
    void watchFolders();
    std::optional<std::string> read() const;

    std::filesystem::path config_;
    UniqueFd fd_;
    std::optional<std::string> content_;
    std::filesystem::path realFolder_;
    int realWatch_ = -1;
};

}  // namespace fizzhost::service
