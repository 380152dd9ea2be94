// A loaded classifier plugin: its validated descriptor and the module that holds its code. Loaded
// only for a plugin something selects (a config, classify, bench), from a sealed private copy of the
// bytes the catalog checked, and refused unless its descriptor agrees with its metadata record.
#pragma once

#include "plugin/file_policy.hpp"
#include "plugin/module_file.hpp"
#include "plugin/plugin_info.hpp"
#include "util/unique_fd.hpp"

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
    /// The declared event fields, in the order decode() fills them (empty for ABI 1.0 plugins).
    const std::vector<FieldSpec>& fields() const { return fields_; }
    std::string abiVersion() const;
    std::span<const unsigned char> bpfObject() const { return {object_, objectSize_}; }
    const std::filesystem::path& path() const { return path_; }
    const FileIdentity& identity() const { return identity_; }
    /// SHA-256 (hex) of the module bytes this plugin was loaded from.
    const std::string& sha256() const { return sha256_; }
    /// Name of kind `k`, or "kind<k>" for an index the plugin did not declare.
    std::string_view kindName(uint32_t k) const;

    /// Hot path: decodes one raw message into `out` and `fields` (fields().size() entries, cleared
    /// here first; unset ones stay unset). Returns 0 or a negative errno (FIZZHOST_DECODE_THREW when
    /// the decoder threw); never throws, never allocates.
    int decode(const void* raw, uint32_t size, fizzhost_event& out, fizzhost_field_value* fields) const noexcept;
    /// As above, discarding the fields.
    int decode(const void* raw, uint32_t size, fizzhost_event& out) const noexcept;

    /// Loads `module` (bytes already checked by the catalog, `info` read from them): copies the bytes
    /// to a sealed memfd, dlopens that, validates the descriptor and refuses it unless it agrees with
    /// `info` (name, version, program, sizes, kinds, fields). Throws Error naming the file.
    static std::shared_ptr<const Plugin> load(const ModuleFile& module, const PluginInfo& info);

    /// Reads, checks and loads one file directly (tests, tools). Throws Error naming the file.
    static std::shared_ptr<const Plugin> load(const std::filesystem::path& file, const FilePolicy& policy);

    /// Validates a descriptor by the ABI rule and its contents; exposed for tests. Throws Error naming
    /// `file`.
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
    std::string name_, version_, program_, messageMap_, sha256_;
    uint32_t messageSize_ = 0;
    uint16_t abiMajor_ = 0, abiMinor_ = 0;
    std::vector<std::string> kinds_;
    std::vector<FieldSpec> fields_;
    const unsigned char* object_ = nullptr;
    size_t objectSize_ = 0;
    fizzhost_decode_fn decode_ = nullptr;
    fizzhost_decode_fields_fn decodeFields_ = nullptr;
};

}  // namespace fizzhost::plugin
