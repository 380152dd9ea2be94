// A private state root for pinned state: a folder on the machine's bpffs (/sys/fs/bpf) that no
// other test or real host uses, removed with every pin in it (links detached first) on scope exit.
#pragma once

#include <filesystem>

namespace fizzhost::test {

class BpffsDir {
public:
    /// /sys/fs/bpf/fizzhost-test-<pid>-XXXXXX. Throws std::runtime_error when it cannot be made.
    BpffsDir();
    ~BpffsDir();
    BpffsDir(const BpffsDir&) = delete;
    BpffsDir& operator=(const BpffsDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    /// Files and folders under the root, recursively (what a host left pinned).
    size_t entries() const;

private:
    std::filesystem::path path_;
};

}  // namespace fizzhost::test
