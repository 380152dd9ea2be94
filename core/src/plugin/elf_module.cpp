#include "plugin/elf_module.hpp"

#include "util/error.hpp"

#include <fizzhost/plugin_abi.h>

#include <gelf.h>
#include <libelf.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace fizzhost::plugin {
namespace {

#if defined(__x86_64__)
constexpr int kMachine = EM_X86_64;
#elif defined(__aarch64__)
constexpr int kMachine = EM_AARCH64;
#else
#error "add this machine's ELF e_machine"
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
constexpr unsigned char kData = ELFDATA2LSB;
#else
constexpr unsigned char kData = ELFDATA2MSB;
#endif

struct ElfDeleter {
    void operator()(Elf* e) const { elf_end(e); }
};

std::string hexStart(std::span<const unsigned char> b) {
    std::string out;
    char buf[4];
    for (size_t i = 0; i < std::min<size_t>(b.size(), 4); ++i) {
        snprintf(buf, sizeof buf, "%s%02x", i ? " " : "", b[i]);
        out += buf;
    }
    return out;
}

// "truncated: section '.text' ends at 9000, file has 4096 bytes"; `what` includes its verb.
[[noreturn]] void truncated(const std::string& where, const std::string& what, uint64_t end, uint64_t size) {
    throw Error(where + ": truncated: " + what + " at " + std::to_string(end) + ", file has " +
                    std::to_string(size) + " bytes (a partial copy? install plugins by copying to a temporary "
                                           "name and renaming)",
                EINVAL);
}

bool beyond(uint64_t offset, uint64_t length, uint64_t size, uint64_t* end) {
    *end = offset + length;
    return *end < offset || *end > size;  // overflow counts as beyond
}

}  // namespace

const ElfSection* ElfModule::find(std::string_view name) const {
    for (const auto& s : sections)
        if (s.name == name) return &s;
    return nullptr;
}

bool ElfModule::relocates(uint64_t address, uint64_t size) const {
    return std::any_of(relocatedAddresses.begin(), relocatedAddresses.end(),
                       [&](uint64_t a) { return a + 8 > address && a < address + size; });
}

ElfModule inspectElf(std::span<const unsigned char> bytes, const std::string& where) {
    const uint64_t size = bytes.size();
    if (size == 0) throw Error(where + " is empty (0 bytes): not a plugin module", EINVAL);
    if (size < SELFMAG || std::memcmp(bytes.data(), ELFMAG, SELFMAG) != 0)
        throw Error(where + " is not an ELF file (starts with " + hexStart(bytes) + ", " + std::to_string(size) +
                        " bytes): not a plugin module",
                    ENOEXEC);
    if (size < EI_NIDENT || bytes[EI_CLASS] != ELFCLASS64 || bytes[EI_DATA] != kData)
        throw Error(where + ": an ELF file for another word size or byte order than this host's", ENOEXEC);
    if (size < sizeof(Elf64_Ehdr)) truncated(where, "the ELF header ends", sizeof(Elf64_Ehdr), size);
    Elf64_Ehdr raw;
    std::memcpy(&raw, bytes.data(), sizeof raw);
    uint64_t end;
    // Bounds first, by hand: libelf would otherwise read past a half-copied file's end.
    if (raw.e_phnum && beyond(raw.e_phoff, uint64_t(raw.e_phnum) * raw.e_phentsize, size, &end))
        truncated(where, "the program headers end", end, size);
    if (raw.e_shnum && beyond(raw.e_shoff, uint64_t(raw.e_shnum) * raw.e_shentsize, size, &end))
        truncated(where, "the section headers end", end, size);
    // Extended numbering (e_shnum 0, the count in section header 0): that first header must be there.
    if (!raw.e_shnum && raw.e_shoff && beyond(raw.e_shoff, sizeof(Elf64_Shdr), size, &end))
        truncated(where, "the section headers end", end, size);
    if (raw.e_shentsize && raw.e_shentsize != sizeof(Elf64_Shdr))
        throw Error(where + ": section header entries of " + std::to_string(raw.e_shentsize) + " bytes, not " +
                        std::to_string(sizeof(Elf64_Shdr)),
                    ENOEXEC);
    if (raw.e_phentsize && raw.e_phentsize != sizeof(Elf64_Phdr))
        throw Error(where + ": program header entries of " + std::to_string(raw.e_phentsize) + " bytes, not " +
                        std::to_string(sizeof(Elf64_Phdr)),
                    ENOEXEC);

    if (elf_version(EV_CURRENT) == EV_NONE) throw Error("libelf: " + std::string(elf_errmsg(-1)), EINVAL);
    std::unique_ptr<Elf, ElfDeleter> elf(
        elf_memory(reinterpret_cast<char*>(const_cast<unsigned char*>(bytes.data())), bytes.size()));
    if (!elf || elf_kind(elf.get()) != ELF_K_ELF)
        throw Error(where + ": not a readable ELF file: " + elf_errmsg(-1), ENOEXEC);
    GElf_Ehdr eh;
    if (!gelf_getehdr(elf.get(), &eh)) throw Error(where + ": bad ELF header: " + elf_errmsg(-1), ENOEXEC);
    if (eh.e_type != ET_DYN)
        throw Error(where + ": not a shared object (ELF type " + std::to_string(eh.e_type) + "): not a plugin module",
                    ENOEXEC);
    if (eh.e_machine != kMachine)
        throw Error(where + ": built for another machine (ELF machine " + std::to_string(eh.e_machine) +
                        ", this host is " + std::to_string(kMachine) + ")",
                    ENOEXEC);

    size_t phnum = 0;
    if (elf_getphdrnum(elf.get(), &phnum) != 0) throw Error(where + ": bad program headers: " + elf_errmsg(-1), ENOEXEC);
    if (phnum == 0) throw Error(where + ": no program headers: not a loadable module", ENOEXEC);
    for (size_t i = 0; i < phnum; ++i) {
        GElf_Phdr ph;
        if (!gelf_getphdr(elf.get(), int(i), &ph)) throw Error(where + ": bad program header " + std::to_string(i), ENOEXEC);
        if (ph.p_type == PT_LOAD && beyond(ph.p_offset, ph.p_filesz, size, &end))
            truncated(where, "loaded segment " + std::to_string(i) + " ends", end, size);
    }

    size_t shnum = 0, shstrndx = 0;
    if (elf_getshdrnum(elf.get(), &shnum) != 0 || elf_getshdrstrndx(elf.get(), &shstrndx) != 0)
        throw Error(where + ": bad section headers: " + elf_errmsg(-1), ENOEXEC);
    if (shnum == 0) throw Error(where + ": no section headers (stripped of them?): the host cannot read its metadata",
                                ENOEXEC);
    // Every section's bytes inside the file (names may not be readable yet: check raw first).
    std::vector<GElf_Shdr> headers(shnum);
    for (size_t i = 0; i < shnum; ++i) {
        Elf_Scn* scn = elf_getscn(elf.get(), i);
        if (!scn || !gelf_getshdr(scn, &headers[i]))
            throw Error(where + ": bad section header " + std::to_string(i), ENOEXEC);
    }
    if (shstrndx >= shnum) throw Error(where + ": section name table index out of range", ENOEXEC);
    if (headers[shstrndx].sh_type != SHT_NOBITS &&
        beyond(headers[shstrndx].sh_offset, headers[shstrndx].sh_size, size, &end))
        truncated(where, "the section name table ends", end, size);

    ElfModule out;
    for (size_t i = 0; i < shnum; ++i) {
        const auto& sh = headers[i];
        const char* name = elf_strptr(elf.get(), shstrndx, sh.sh_name);
        ElfSection s{name ? name : ("#" + std::to_string(i)), sh.sh_type, sh.sh_offset, sh.sh_size, sh.sh_addr};
        if (sh.sh_type != SHT_NOBITS && sh.sh_type != SHT_NULL && beyond(sh.sh_offset, sh.sh_size, size, &end))
            truncated(where, "section '" + s.name + "' ends", end, size);
        out.sections.push_back(std::move(s));
    }

    for (size_t i = 0; i < shnum; ++i) {
        const auto& sh = headers[i];
        Elf_Scn* scn = elf_getscn(elf.get(), i);
        if (sh.sh_type == SHT_DYNSYM) {
            Elf_Data* data = elf_getdata(scn, nullptr);
            const size_t count = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
            for (size_t k = 0; data && k < count; ++k) {
                GElf_Sym sym;
                if (!gelf_getsym(data, int(k), &sym)) break;
                const char* n = elf_strptr(elf.get(), sh.sh_link, sym.st_name);
                if (n && sym.st_shndx != SHN_UNDEF && std::strcmp(n, FIZZHOST_PLUGIN_ENTRY_SYMBOL) == 0)
                    out.exportsEntry = true;
            }
        } else if (sh.sh_type == SHT_RELA || sh.sh_type == SHT_REL) {
            Elf_Data* data = elf_getdata(scn, nullptr);
            const size_t count = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
            for (size_t k = 0; data && k < count; ++k) {
                if (sh.sh_type == SHT_RELA) {
                    GElf_Rela r;
                    if (gelf_getrela(data, int(k), &r)) out.relocatedAddresses.push_back(r.r_offset);
                } else {
                    GElf_Rel r;
                    if (gelf_getrel(data, int(k), &r)) out.relocatedAddresses.push_back(r.r_offset);
                }
            }
        }
    }
    return out;
}

}  // namespace fizzhost::plugin
