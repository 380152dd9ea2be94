#include "plugin/plugin_info.hpp"

#include "util/plugin_ref.hpp"
#include "util/semver.hpp"
#include "util/error.hpp"

#include <elf.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <set>

namespace fizzhost::plugin {
namespace {

constexpr std::array<uint64_t, 2> kDescriptorSizes = {FIZZHOST_DESCRIPTOR_SIZE_1_0, FIZZHOST_DESCRIPTOR_SIZE_1_1};
constexpr std::array<uint64_t, 2> kMetadataSizes = {0, sizeof(fizzhost_plugin_metadata)};
static_assert(kDescriptorSizes.size() == FIZZHOST_PLUGIN_ABI_MINOR + 1, "one descriptor size per minor");
static_assert(kMetadataSizes.size() == FIZZHOST_PLUGIN_ABI_MINOR + 1, "one metadata size per minor");

std::string hostAbi() {
    return std::to_string(FIZZHOST_PLUGIN_ABI_MAJOR) + "." + std::to_string(FIZZHOST_PLUGIN_ABI_MINOR);
}

// A fixed char array of the record as a string; refuses one without its NUL.
template <size_t N>
std::string text(const char (&a)[N], const char* field, const std::string& where) {
    const void* nul = std::memchr(a, 0, N);
    if (!nul)
        throw Error(where + ": metadata field '" + field + "' is not NUL-terminated (longer than " +
                        std::to_string(N - 1) + " characters)",
                    EINVAL);
    std::string s(a, static_cast<const char*>(nul));
    if (s.empty()) throw Error(where + ": metadata field '" + field + "' is empty", EINVAL);
    return s;
}

bool validFieldName(const std::string& n) {
    if (n.empty() || (n[0] >= '0' && n[0] <= '9')) return false;
    return std::all_of(n.begin(), n.end(),
                       [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

// The names, sizes, kinds and fields of a record (from a module's section, or as a worker copied
// them from an ABI 1.0 descriptor), checked as untrusted data.
void readRecord(const fizzhost_plugin_metadata& m, PluginInfo& info, const std::string& where) {
    info.name = text(m.name, "name", where);
    checkPluginName(info.name, where);
    info.version = text(m.version, "version", where);
    checkPluginVersion(info.name, info.version, where);
    const std::string who = where + ": plugin '" + info.name + "'";
    info.program = text(m.program, "program", where);
    info.messageMap = text(m.message_map, "message_map", where);
    info.messageSize = m.message_size;
    if (m.message_size == 0) throw Error(who + " declares a message size of 0", EINVAL);
    if (m.kind_count == 0 || m.kind_count > FIZZHOST_MAX_KINDS)
        throw Error(who + " declares " + std::to_string(m.kind_count) + " message kinds (1.." +
                        std::to_string(FIZZHOST_MAX_KINDS) + " allowed)",
                    EINVAL);
    for (uint32_t k = 0; k < m.kind_count; ++k) info.kinds.push_back(text(m.kinds[k], "kinds", where));
    if (m.field_count > FIZZHOST_MAX_FIELDS)
        throw Error(who + " declares " + std::to_string(m.field_count) + " fields (at most " +
                        std::to_string(FIZZHOST_MAX_FIELDS) + ")",
                    EINVAL);
    std::set<std::string> seen;
    for (uint32_t f = 0; f < m.field_count; ++f) {
        std::string name = text(m.fields[f].name, "fields", where);
        if (!validFieldName(name)) throw Error(who + ": field name '" + name + "' is not [a-z_][a-z0-9_]*", EINVAL);
        // Checked as the record's integer: only a known value may become a fizzhost_field_type.
        if (fieldTypeName(m.fields[f].type) == "unknown")
            throw Error(who + ": field '" + name + "' has unknown type " + std::to_string(m.fields[f].type), EINVAL);
        FieldSpec spec{std::move(name), fizzhost_field_type(m.fields[f].type)};
        if (!seen.insert(spec.name).second) throw Error(who + ": field '" + spec.name + "' is declared twice", EINVAL);
        info.fields.push_back(std::move(spec));
    }
}

}  // namespace

std::string_view fieldTypeName(uint32_t type) {
    switch (type) {
    case FIZZHOST_FIELD_U64: return "u64";
    case FIZZHOST_FIELD_I64: return "i64";
    case FIZZHOST_FIELD_BOOL: return "bool";
    case FIZZHOST_FIELD_STRING: return "string";
    case FIZZHOST_FIELD_IPV4: return "ipv4";
    case FIZZHOST_FIELD_DOUBLE: return "double";
    default: return "unknown";
    }
}

std::string PluginInfo::abiVersion() const {
    if (!hasMetadata && !described) return "1.0";
    return std::to_string(abiMajor) + "." + std::to_string(abiMinor);
}

std::span<const uint64_t> descriptorSizes() { return kDescriptorSizes; }
std::span<const uint64_t> metadataSizes() { return kMetadataSizes; }

void checkAbi(uint16_t major, uint16_t minor, uint64_t structSize, std::span<const uint64_t> sizes,
              const std::string& what, const std::string& where) {
    const std::string found = std::to_string(major) + "." + std::to_string(minor);
    if (major != FIZZHOST_PLUGIN_ABI_MAJOR)
        throw Error(where + ": built for plugin ABI " + found + ", this host expects ABI " + hostAbi() +
                        " (same major " + std::to_string(FIZZHOST_PLUGIN_ABI_MAJOR) +
                        " required); rebuild the plugin against this fizzhost's SDK",
                    EPROTO);
    if (minor > FIZZHOST_PLUGIN_ABI_MINOR)
        throw Error(where + ": built for plugin ABI " + found + ", newer than this host's ABI " + hostAbi() +
                        " (minor at most " + std::to_string(FIZZHOST_PLUGIN_ABI_MINOR) +
                        "); upgrade fizzhost or rebuild the plugin against this fizzhost's SDK",
                    EPROTO);
    if (minor >= sizes.size() || sizes[minor] == 0)
        throw Error(where + ": ABI " + found + " has no " + what, EPROTO);
    if (structSize != sizes[minor])
        throw Error(where + ": " + what + " is " + std::to_string(structSize) + " bytes, ABI " + found + " defines " +
                        std::to_string(sizes[minor]),
                    EPROTO);
}

void checkPluginName(std::string_view name, const std::string& where) {
    if (!validPluginName(name))
        throw Error(where + ": plugin name '" + std::string(name) + "' is not [A-Za-z0-9_-]{1,63}", EINVAL);
}

void checkPluginVersion(std::string_view name, std::string_view version, const std::string& where) {
    if (!SemVer::parse(version))
        throw Error(where + ": plugin '" + std::string(name) + "' version '" + std::string(version) +
                        "' is not semver (MAJOR.MINOR.PATCH[-pre][+build])",
                    EINVAL);
}

PluginInfo readPluginInfo(const ModuleFile& file, const ElfModule& elf) {
    const std::string where = "plugin file '" + file.path.string() + "'";
    PluginInfo info;
    info.path = file.path;
    info.identity = file.identity;
    const ElfSection* sec = elf.find(FIZZHOST_METADATA_SECTION);
    if (!sec) {
        if (!elf.exportsEntry)
            throw Error(where + ": not a fizzhost plugin (no metadata section '" FIZZHOST_METADATA_SECTION
                                "' and no '" FIZZHOST_PLUGIN_ENTRY_SYMBOL "' entry point)",
                        ENOENT);
        // An ABI 1.0 module: exports the entry point but carries no record to read.
        info.hasMetadata = false;
        info.name = file.path.stem().string();
        info.abiMajor = 1;
        info.abiMinor = 0;  // the file name is judged only where it stands for the name (no describer)
        return info;
    }
    // Only a section with bytes in the file has had its bounds checked (inspectElf): an SHT_NULL or
    // SHT_NOBITS header's offset may point anywhere.
    if (sec->type == SHT_NULL || sec->type == SHT_NOBITS)
        throw Error(where + ": metadata section '" FIZZHOST_METADATA_SECTION "' has no bytes in the file (section type " +
                        std::to_string(sec->type) + ")",
                    EINVAL);
    if (sec->size < offsetof(fizzhost_plugin_metadata, name))
        throw Error(where + ": metadata section '" FIZZHOST_METADATA_SECTION "' is too small (" +
                        std::to_string(sec->size) + " bytes)",
                    EINVAL);
    fizzhost_plugin_metadata m{};
    std::memcpy(&m, file.bytes.data() + sec->offset, std::min<uint64_t>(sec->size, sizeof m));
    if (m.magic != FIZZHOST_METADATA_MAGIC)
        throw Error(where + ": not a fizzhost plugin (bad metadata magic)", EINVAL);
    checkAbi(m.abi_major, m.abi_minor, m.record_size, metadataSizes(), "metadata record", where);
    if (m.record_size > sec->size)
        throw Error(where + ": metadata record says " + std::to_string(m.record_size) + " bytes, its section holds " +
                        std::to_string(sec->size),
                    EINVAL);
    if (elf.relocates(sec->address, sec->size))
        throw Error(where + ": metadata record is relocated at load time, so the file does not hold its final "
                            "contents; build the plugin with fizzhost_add_plugin()",
                    EINVAL);
    info.abiMajor = m.abi_major;
    info.abiMinor = m.abi_minor;
    readRecord(m, info, where);
    const ElfSection* obj = elf.find(FIZZHOST_OBJECT_SECTION);
    if (!obj || obj->type == SHT_NULL || obj->type == SHT_NOBITS || obj->size == 0)
        throw Error(where + ": plugin '" + info.name + "' embeds no BPF object (no section '" FIZZHOST_OBJECT_SECTION "')",
                    EINVAL);
    return info;
}

}  // namespace fizzhost::plugin

namespace fizzhost::plugin {

PluginInfo describedInfo(const ModuleFile& file, const LegacyDescription& d) {
    const std::string where = "plugin file '" + file.path.string() + "' (ABI 1.0 module, described by its confined decoder)";
    if (d.magic != FIZZHOST_PLUGIN_MAGIC) throw Error(where + ": not a fizzhost plugin (bad descriptor magic)", EINVAL);
    checkAbi(d.abiMajor, d.abiMinor, d.structSize, descriptorSizes(), "descriptor", where);
    if (d.abiMinor != 0)
        throw Error(where + ": an ABI " + std::to_string(d.abiMajor) + "." + std::to_string(d.abiMinor) +
                        " module without its metadata record ('" FIZZHOST_METADATA_SECTION "')",
                    EINVAL);
    PluginInfo info;
    info.path = file.path;
    info.identity = file.identity;
    info.hasMetadata = false;
    info.described = true;
    info.abiMajor = d.abiMajor;
    info.abiMinor = d.abiMinor;
    fizzhost_plugin_metadata m = d.record;
    m.field_count = 0;  // ABI 1.0 has no fields
    readRecord(m, info, where);
    const std::string who = where + ": plugin '" + info.name + "'";
    if (d.objectSize == 0) throw Error(who + " embeds no BPF object", EINVAL);
    if (d.objectSize > kMaxModuleBytes)
        throw Error(who + " declares a BPF object of " + std::to_string(d.objectSize) +
                        " bytes, more than a module may hold (" + std::to_string(kMaxModuleBytes) + ")",
                    EFBIG);
    if (d.object.size() != d.objectSize)
        throw Error(who + ": its decoder declared a BPF object of " + std::to_string(d.objectSize) +
                        " bytes and handed back " +
                        std::to_string(d.object.size()),
                    EINVAL);
    info.describedObject = d.object;
    return info;
}

}  // namespace fizzhost::plugin
