// The folder a worker chroots into: made fresh under the decoder root for one plugin module, owned
// by root, mode 0755, holding nothing but the module's checked bytes as <sha256>.so (0444). Nothing
// else is there to open, and the worker's user can change none of it. Removed on destruction.
// While it exists its owner holds a shared flock on the folder: a folder nobody holds a lock on was
// left by a process that died, and sweepStale() removes it.
#pragma once

#include "util/unique_fd.hpp"

#include <filesystem>
#include <span>
#include <string>

namespace fizzhost::decoder {

class ModuleRoot {
public:
    /// Writes `bytes` (whose SHA-256 is `sha256`) into a new folder under `root`. `who` names the
    /// plugin in errors. Throws Error.
    ModuleRoot(const std::filesystem::path& root, std::span<const unsigned char> bytes, const std::string& sha256,
               const std::string& who);
    ~ModuleRoot();
    ModuleRoot(const ModuleRoot&) = delete;
    ModuleRoot& operator=(const ModuleRoot&) = delete;

    const std::filesystem::path& dir() const { return dir_; }
    /// The module's name inside the folder: "<sha256>.so" (the worker loads "/<sha256>.so").
    const std::string& fileName() const { return file_; }

    /// Removes the folders under `root` that look like ours ("m-<12 hex>-XXXXXX") and that no
    /// living process holds (left by a host or command that died). Returns how many. Never throws:
    /// what cannot be removed is logged.
    static size_t sweepStale(const std::filesystem::path& root) noexcept;

private:
    std::filesystem::path dir_;
    std::string file_;
    UniqueFd lock_;  // the folder, flock(LOCK_SH) for as long as this object lives
};

}  // namespace fizzhost::decoder
