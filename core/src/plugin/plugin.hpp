// A selected classifier plugin: what the host needs of it (metadata, kinds, fields, message size, the
// BPF object, the module's bytes and sha256), read from the file (ABI 1.1 metadata record and
// object section) or from a confined worker's description (ABI 1.0), never from code run here;
// plus, only when asked for (LoadCode::InProcess), the module's code loaded into this process.
#pragma once

#include "plugin/file_policy.hpp"
#include "plugin/module_code.hpp"
#include "plugin/module_file.hpp"
#include "plugin/plugin_info.hpp"

#include <fizzhost/plugin_abi.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace fizzhost::plugin {

/// Whether selecting a plugin loads its code into this process.
enum class LoadCode {
    /// dlopen here (the in-process decoder): `[decoders] isolation = "none"`, tools, and the
    /// daemon's message pump until phase 2 moves it onto decoder::DecoderService.
    InProcess,
    /// Never: decoding goes through decoder::DecoderService (a confined worker). What `classify`,
    /// `plugins`, `bench` and `check` use.
    None,
};

/// Immutable once loaded; shared by everything that uses the plugin. Loaded code stays mapped as
/// long as any shared_ptr to the Plugin lives, so a decoder is never unloaded under a live queue.
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
    uint16_t abiMinor() const { return abiMinor_; }
    std::span<const unsigned char> bpfObject() const { return object_; }
    const std::filesystem::path& path() const { return path_; }
    const FileIdentity& identity() const { return identity_; }
    /// SHA-256 (hex) of the module bytes this plugin was loaded from.
    const std::string& sha256() const { return sha256_; }
    /// The module's checked bytes (what a decoder worker loads, as <sha256>.so).
    std::span<const unsigned char> moduleBytes() const { return module_; }
    /// Name of kind `k`, or "kind<k>" for an index the plugin did not declare.
    std::string_view kindName(uint32_t k) const;
    /// "plugin 'fizz' 1.0.0 (/p/fizz.so)": how errors and logs name it.
    std::string describe() const;

    /// The module's code in this process, or nullptr when it was not loaded here (LoadCode::None).
    const std::shared_ptr<const ModuleCode>& code() const { return code_; }
    /// code(), or the module's code loaded now from moduleBytes() (for in-process decoding of a
    /// plugin selected without code), refused unless its descriptor agrees with this plugin. Runs
    /// the module's constructors in this process. Throws Error naming the file.
    std::shared_ptr<const ModuleCode> loadCode() const;

    /// Hot path, in-process decoding (phase 2 moves the pump onto decoder::DecoderChannel): decodes
    /// one raw message into `out` and `fields` (fields().size() entries, cleared here first; unset
    /// ones stay unset). Returns 0 or a negative errno (FIZZHOST_DECODE_THREW when the decoder
    /// threw; -ENOEXEC when the code was not loaded here). Never throws, never allocates.
    int decode(const void* raw, uint32_t size, fizzhost_event& out, fizzhost_field_value* fields) const noexcept;
    /// As above, discarding the fields.
    int decode(const void* raw, uint32_t size, fizzhost_event& out) const noexcept;

    /// Makes the plugin `info` describes from `module` (the bytes it was read from). With
    /// LoadCode::InProcess also loads the code (a sealed memfd copy, dlopen) and refuses it unless its
    /// descriptor agrees with `info` (name, version, program, sizes, kinds, fields, BPF object).
    /// Throws Error naming the file.
    static std::shared_ptr<const Plugin> load(const ModuleFile& module, const PluginInfo& info, LoadCode code);

    /// Reads, checks and loads one file directly, code in-process (tests, tools). An ABI 1.0 module is
    /// known by its file name. Throws Error naming the file.
    static std::shared_ptr<const Plugin> load(const std::filesystem::path& file, const FilePolicy& policy);

    /// Validates a descriptor by the ABI rule and its contents; exposed for tests. Throws Error naming
    /// `file`.
    static void validate(const fizzhost_plugin_descriptor& d, const std::filesystem::path& file);

private:
    Plugin() = default;
    void takeDescriptor(const fizzhost_plugin_descriptor& d, const std::string& where);
    void requireAgreement(const fizzhost_plugin_descriptor& d, const std::string& where, bool fromRecord) const;

    std::shared_ptr<const ModuleCode> code_;
    std::filesystem::path path_;
    FileIdentity identity_;
    std::string name_, version_, program_, messageMap_, sha256_;
    uint32_t messageSize_ = 0;
    uint16_t abiMajor_ = 0, abiMinor_ = 0;
    std::vector<std::string> kinds_;
    std::vector<FieldSpec> fields_;
    std::vector<unsigned char> object_, module_;
};

}  // namespace fizzhost::plugin
