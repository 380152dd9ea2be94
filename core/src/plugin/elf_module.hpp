// What the catalog learns from a module's bytes with libelf, before anything is mapped: that it is a
// complete, well-formed ELF shared object for this machine (headers, every loaded segment and every
// section inside the file), where its sections are, and whether it exports the plugin entry point.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fizzhost::plugin {

struct ElfSection {
    std::string name;
    uint32_t type = 0;
    uint64_t offset = 0, size = 0, address = 0;
};

struct ElfModule {
    std::vector<ElfSection> sections;
    bool exportsEntry = false;            // defines FIZZHOST_PLUGIN_ENTRY_SYMBOL in its dynamic symbols
    std::vector<uint64_t> relocatedAddresses;  // r_offset of every dynamic relocation

    const ElfSection* find(std::string_view name) const;
    /// True when a relocation writes into [address, address + size).
    bool relocates(uint64_t address, uint64_t size) const;
};

/// Checks `bytes` and reads its layout. Throws Error("<where>: <what is wrong>") for an empty file,
/// a non-ELF file, another architecture, or a truncated one ("truncated: section '.text' ends at N,
/// file has M bytes").
ElfModule inspectElf(std::span<const unsigned char> bytes, const std::string& where);

}  // namespace fizzhost::plugin
