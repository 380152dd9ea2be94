// A plugin file read into memory without running any of it: opened so that nothing can block or be
// followed (O_NOFOLLOW | O_NONBLOCK), judged on the descriptor actually opened (fstat, ownership),
// then read whole. Everything later (ELF checks, metadata, the sealed copy that is loaded) works on
// these bytes, so what is checked is exactly what is loaded.
#pragma once

#include "plugin/file_policy.hpp"

#include <cstdint>
#include <filesystem>
#include <vector>

namespace fizzhost::plugin {

/// Identity of a file on disk: a new build dropped in place changes it.
struct FileIdentity {
    uint64_t device = 0, inode = 0, size = 0;
    int64_t mtimeNs = 0;
    bool operator==(const FileIdentity&) const = default;
};

struct ModuleFile {
    std::filesystem::path path;  // as given (inside the resolved plugin folder when listed)
    FileIdentity identity;
    std::vector<unsigned char> bytes;
};

/// Largest module the host reads (a plugin is a small decoder plus a BPF object).
inline constexpr uint64_t kMaxModuleBytes = 64ull << 20;

/// Opens and reads `file`. Refuses (Error naming the file) symlinks, FIFOs, devices, folders, files
/// breaking `policy` (checked on the opened fd, and the real path's parent folders) and files that
/// change while read. Never blocks on a FIFO.
ModuleFile readModuleFile(const std::filesystem::path& file, const FilePolicy& policy);

}  // namespace fizzhost::plugin
