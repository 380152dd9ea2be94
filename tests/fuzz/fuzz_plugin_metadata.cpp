// libFuzzer harness: arbitrary bytes as a plugin module file, given to what the catalog does with a
// file's bytes when it lists a folder (inspectElf, readPluginInfo, the embedded object): nothing of
// the module runs. The same bytes also go in as a confined worker's (untrusted) description of an
// ABI 1.0 module.
// The reader may refuse the bytes only with fizzhost::Error; whatever it accepts must hold what the
// record's rules promise (a valid name and version, known field types). A crash, a hang, a leak or a
// sanitizer report is a finding.
#include "plugin/elf_module.hpp"
#include "plugin/plugin_info.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

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
            // The BPF object the host takes from the file (without running the module) lies inside it.
            const auto object = fizzhost::plugin::embeddedObject(file, elf);
            if (object.empty() || object.size() > size) __builtin_trap();
        }
    } catch (const fizzhost::Error&) {
    }
    // The same bytes as a confined worker's description of an ABI 1.0 descriptor (untrusted): the
    // checks may refuse it only with Error, and what they accept holds a valid name and version.
    try {
        fizzhost::plugin::LegacyDescription d;
        const size_t head = std::min(size, sizeof d.record);
        if (head) std::memcpy(&d.record, data, head);
        d.magic = FIZZHOST_PLUGIN_MAGIC;
        d.abiMajor = 1;
        d.structSize = FIZZHOST_DESCRIPTOR_SIZE_1_0;
        d.object.assign(data + head, data + size);
        // Now and then the declared size disagrees with what came back.
        d.objectSize = (size > 0 && (data[0] & 1)) ? d.object.size() : d.object.size() + 1;
        const auto info = fizzhost::plugin::describedInfo(file, d);
        fizzhost::plugin::checkPluginName(info.name, "accepted");
        fizzhost::plugin::checkPluginVersion(info.name, info.version, "accepted");
        if (!info.fields.empty() || info.describedObject.empty() || info.kinds.empty()) __builtin_trap();
    } catch (const fizzhost::Error&) {
    }
    return 0;
}
