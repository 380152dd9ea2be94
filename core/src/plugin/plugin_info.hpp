// What the catalog knows about a plugin file without running it: the metadata record read from the
// module's ELF section (ABI 1.1 and later), validated. Also the plugin ABI compatibility rule, which
// the metadata record and the runtime descriptor both go through.
#pragma once

#include "plugin/elf_module.hpp"
#include "plugin/module_file.hpp"

#include <fizzhost/plugin_abi.h>

#include <cstdint>
#include <filesystem>
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
    /// False for a module built against ABI 1.0, which carries no metadata record: it is known by its
    /// file name (name = the file's stem, version and the rest empty) until a config selects it.
    bool hasMetadata = true;

    std::string abiVersion() const;
    /// "name@version", or the name alone for a module without metadata.
    std::string ref() const { return hasMetadata ? name + "@" + version : name; }
};

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
