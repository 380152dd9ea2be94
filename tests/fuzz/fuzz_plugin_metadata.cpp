// libFuzzer harness: arbitrary bytes as a plugin module file, given to what the catalog does with a
// file's bytes when it lists a folder (inspectElf, then readPluginInfo): nothing of the module runs.
// The reader may refuse the bytes only with fizzhost::Error; whatever it accepts must hold what the
// record's rules promise (a valid name and version, known field types). A crash, a hang, a leak or a
// sanitizer report is a finding.
#include "plugin/elf_module.hpp"
#include "plugin/plugin_info.hpp"
#include "util/error.hpp"

#include <cstddef>
#include <cstdint>

#include <elf.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fizzhost::plugin::ModuleFile file;
    file.path = "fuzz.so";
    file.identity.size = size;
    file.bytes.assign(data, data + size);  // the catalog works on its own copy, as here
    try {
        const auto elf = fizzhost::plugin::inspectElf(file.bytes, "plugin file \"fuzz.so\"");
        // Every section with contents that the reader reports lies inside the bytes it was given.
        for (const auto& s : elf.sections)
            if (s.type != SHT_NULL && s.type != SHT_NOBITS && (s.offset > size || s.size > size - s.offset)) __builtin_trap();
        const auto info = fizzhost::plugin::readPluginInfo(file, elf);
        if (info.hasMetadata) {
            fizzhost::plugin::checkPluginName(info.name, "accepted");
            fizzhost::plugin::checkPluginVersion(info.name, info.version, "accepted");
            for (const auto& f : info.fields)
                if (fizzhost::plugin::fieldTypeName(f.type) == "unknown") __builtin_trap();
        }
    } catch (const fizzhost::Error&) {
    }
    return 0;
}
