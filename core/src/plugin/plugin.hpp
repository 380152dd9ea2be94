// A loaded classifier plugin: its validated descriptor and the module that holds its code.
#pragma once

#include "bpf/unique_fd.hpp"
#include "plugin/file_policy.hpp"

#include <fizzhost/plugin_abi.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace boost::dll {
class shared_library;
}

namespace fizzhost::plugin {

/// Identity of a file on disk: a new build dropped in place changes it.
struct FileIdentity {
    uint64_t device = 0, inode = 0, size = 0;
    int64_t mtimeNs = 0;
    bool operator==(const FileIdentity&) const = default;
};

/// Immutable once loaded; shared by everything that uses the plugin. The module stays mapped as long
/// as any shared_ptr to the Plugin lives, so a decoder is never unloaded under a live queue.
class Plugin : public std::enable_shared_from_this<Plugin> {
public:
    const std::string& name() const { return name_; }
    const std::string& version() const { return version_; }
    const std::string& program() const { return program_; }
    const std::string& messageMap() const { return messageMap_; }
    uint32_t messageSize() const { return messageSize_; }
    const std::vector<std::string>& kinds() const { return kinds_; }
    std::string abiVersion() const;
    std::span<const unsigned char> bpfObject() const { return {object_, objectSize_}; }
    const std::filesystem::path& path() const { return path_; }
    const FileIdentity& identity() const { return identity_; }
    /// Name of kind `k`, or "kind<k>" for an index the plugin did not declare.
    std::string_view kindName(uint32_t k) const;

    /// Hot path: decodes one raw message. Returns 0 or a negative errno; never throws.
    int decode(const void* raw, uint32_t size, fizzhost_event& out) const noexcept {
        return decode_(raw, size, &out);
    }

    /// Loads `file` (a fresh copy of its bytes, so a rebuilt file at the same path is really
    /// loaded anew) and validates its descriptor. Throws Error naming the file on any refusal.
    static std::shared_ptr<const Plugin> load(const std::filesystem::path& file, const FilePolicy& policy);

    /// Validates a descriptor as `load` does; exposed for tests. Throws Error naming `file`.
    static void validate(const fizzhost_plugin_descriptor& d, const std::filesystem::path& file);

private:
    Plugin() = default;

    // The module's private memory copy. It stays open while the module is loaded: the loader knows
    // the module by the path "/proc/self/fd/N", and a reused N would hand back this module.
    // Declared before library_ so it is closed after the module is unloaded.
    UniqueFd memfd_;
    std::shared_ptr<boost::dll::shared_library> library_;
    std::filesystem::path path_;
    FileIdentity identity_;
    std::string name_, version_, program_, messageMap_;
    uint32_t messageSize_ = 0;
    uint16_t abiMajor_ = 0, abiMinor_ = 0;
    std::vector<std::string> kinds_;
    const unsigned char* object_ = nullptr;
    size_t objectSize_ = 0;
    fizzhost_decode_fn decode_ = nullptr;
};

}  // namespace fizzhost::plugin
