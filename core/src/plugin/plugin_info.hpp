// What the catalog knows about a plugin file without running it as root: the metadata record read
// from the module's ELF section (ABI 1.1 and later), or, for an ABI 1.0 module, what a confined
// worker read from its descriptor; either validated here as untrusted data. Also the plugin ABI
// compatibility rule, which the metadata record and the runtime descriptor both go through.
#pragma once

#include "plugin/elf_module.hpp"
#include "plugin/module_file.hpp"

#include <fizzhost/plugin_abi.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fizzhost::plugin {

struct FieldSpec {
    std::string name;
    fizzhost_field_type type{};
    bool operator==(const FieldSpec&) const = default;
};

/// "u64", "i64", "bool", "string", "ipv4", "double"; "unknown" otherwise.
std::string_view fieldTypeName(uint32_t type);

struct PluginInfo {
    std::string name, version, program, messageMap;
    uint32_t messageSize = 0;
    uint16_t abiMajor = 0, abiMinor = 0;
    std::vector<std::string> kinds;
    std::vector<FieldSpec> fields;
    std::filesystem::path path;
    FileIdentity identity;
    /// False for a module built against ABI 1.0, which carries no metadata record.
    bool hasMetadata = true;
    /// An ABI 1.0 module whose descriptor a confined worker read (describedInfo()): known by its real
    /// name, version, program, sizes and kinds, like a module with a record. Without a describer a
    /// 1.0 module is known by its file name only (name = the file's stem, the rest empty).
    bool described = false;
    /// A described module's BPF object, as the worker handed it back (ABI 1.0 modules hold it
    /// only behind the descriptor's pointer).
    std::vector<unsigned char> describedObject;

    /// Name, version and the rest are known (from a record or a description).
    bool known() const { return hasMetadata || described; }
    std::string abiVersion() const;
    /// "name@version", or the name alone for a module known by its file name.
    std::string ref() const { return known() ? name + "@" + version : name; }
};

/// What a confined worker read from an ABI 1.0 module's descriptor by running the module's code
/// (unprivileged, chrooted, filtered: decoder/). Untrusted until describedInfo() checked it. The
/// record's strings are NUL-terminated within their arrays when they fit.
struct LegacyDescription {
    uint32_t magic = 0;
    uint16_t abiMajor = 0, abiMinor = 0;
    uint32_t structSize = 0;
    fizzhost_plugin_metadata record{};  // name, version, program, message_map, message_size, kinds
    uint64_t objectSize = 0;            // what the descriptor declared
    std::vector<unsigned char> object;  // what the worker copied (empty when it did not fit)
};

/// Describes an ABI 1.0 module (`sha256`: of `module.bytes`). Throws Error naming the file and why
/// (the worker crashed, hung, made a forbidden call, could not load the module).
using Describer = std::function<LegacyDescription(const ModuleFile& module, const std::string& sha256)>;

/// Checks a description as untrusted data (descriptor ABI, name rule, semver, sizes and kinds within
/// bounds, an object) and returns the plugin it describes. Throws Error("<where>: ...").
PluginInfo describedInfo(const ModuleFile& file, const LegacyDescription& d);

/// The BPF object embedded in an ABI 1.1 module's section FIZZHOST_OBJECT_SECTION, exactly (the
/// section also holds the SDK's terminating byte): its extent is read from the object's own ELF
/// header. Throws Error("<where>: ...") when the section holds no complete ELF object.
std::vector<unsigned char> embeddedObject(const ModuleFile& file, const ElfModule& elf);

/// Reads and validates the module's metadata record. Throws Error("<where>: ...") when the record is
/// missing from a module that is no ABI 1.0 plugin either, malformed, relocated, or of an ABI this
/// host does not accept.
PluginInfo readPluginInfo(const ModuleFile& file, const ElfModule& elf);

/// The compatibility rule: same major; minor at most the host's; `structSize` exactly the size that
/// minor defines for the record (`sizes[minor]`, 0 where that minor has no such record). `what`
/// names the record ("descriptor", "metadata record"). Throws Error naming both versions.
void checkAbi(uint16_t major, uint16_t minor, uint64_t structSize, std::span<const uint64_t> sizes,
              const std::string& what, const std::string& where);

/// Size of the descriptor for each minor of major 1, index = minor (the host's table).
std::span<const uint64_t> descriptorSizes();
/// Size of the metadata record for each minor of major 1 (0: that minor has none).
std::span<const uint64_t> metadataSizes();

/// Throws Error unless `name` is [A-Za-z0-9_-]{1,63}.
void checkPluginName(std::string_view name, const std::string& where);
/// Throws Error unless `version` is semver.
void checkPluginVersion(std::string_view name, std::string_view version, const std::string& where);

}  // namespace fizzhost::plugin
