// The BPF object of an ABI 1.1 module, read from the file: the host needs it without running the
// module (the descriptor's pointer is code's answer). fizzhost_embed_object() puts the object into
// its own section followed by one byte, so the object's length is read from the object itself:
// the furthest of its ELF header, program and section header tables and sections.
#include "plugin/plugin_info.hpp"

#include "util/error.hpp"

#include <elf.h>

#include <algorithm>
#include <cstring>

namespace fizzhost::plugin {

std::vector<unsigned char> embeddedObject(const ModuleFile& file, const ElfModule& elf) {
    const std::string where = "plugin file '" + file.path.string() + "': embedded BPF object";
    const ElfSection* sec = elf.find(FIZZHOST_OBJECT_SECTION);
    if (!sec || sec->type == SHT_NULL || sec->type == SHT_NOBITS || sec->size == 0)
        throw Error("plugin file '" + file.path.string() + "' embeds no BPF object (no section '" FIZZHOST_OBJECT_SECTION "')",
                    EINVAL);
    // inspectElf() checked that the section lies within the file.
    const unsigned char* bytes = file.bytes.data() + sec->offset;
    const uint64_t size = sec->size;
    Elf64_Ehdr eh{};
    if (size < sizeof eh) throw Error(where + ": section holds " + std::to_string(size) + " bytes, no ELF header", EINVAL);
    std::memcpy(&eh, bytes, sizeof eh);
    if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64)
        throw Error(where + ": not a 64-bit ELF object", EINVAL);

    uint64_t end = 0;
    // Grows `end` to cover `count` entries of `entry` bytes at `offset`, all inside the section.
    auto cover = [&](uint64_t offset, uint64_t count, uint64_t entry, const std::string& what) {
        if (count == 0 || entry == 0) return;
        if (entry > (UINT64_MAX - offset) / count || offset + count * entry > size)
            throw Error(where + ": its " + what + " ends beyond the " + std::to_string(size) + " bytes embedded", EINVAL);
        end = std::max(end, offset + count * entry);
    };
    cover(0, 1, std::max<uint64_t>(eh.e_ehsize, sizeof eh), "ELF header");
    uint64_t shnum = eh.e_shnum;
    if (shnum == 0 && eh.e_shoff != 0) {  // extended numbering: the count is in section 0's sh_size
        cover(eh.e_shoff, 1, sizeof(Elf64_Shdr), "section header table");
        Elf64_Shdr first{};
        std::memcpy(&first, bytes + eh.e_shoff, sizeof first);
        shnum = first.sh_size;
    }
    if (shnum != 0 && eh.e_shentsize < sizeof(Elf64_Shdr))
        throw Error(where + ": section header entries of " + std::to_string(eh.e_shentsize) + " bytes", EINVAL);
    cover(eh.e_shoff, shnum, eh.e_shentsize, "section header table");
    cover(eh.e_phoff, eh.e_phnum, eh.e_phentsize, "program header table");
    for (uint64_t i = 0; i < shnum; ++i) {
        Elf64_Shdr sh{};
        std::memcpy(&sh, bytes + eh.e_shoff + i * eh.e_shentsize, sizeof sh);
        if (sh.sh_type != SHT_NOBITS && sh.sh_type != SHT_NULL)
            cover(sh.sh_offset, 1, sh.sh_size, "section " + std::to_string(i));
    }
    return {bytes, bytes + end};
}

}  // namespace fizzhost::plugin
