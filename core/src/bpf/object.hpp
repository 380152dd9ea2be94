// Move-only RAII over a libbpf bpf_object, with non-owning views of its maps and programs.
// Open, configure (sizes, rodata, reused maps) and load are separate phases, as in libbpf.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct bpf_object;
struct bpf_map;
struct bpf_program;

namespace fizzhost::bpf {

/// Routes libbpf's own messages to the spdlog logger "libbpf" (debug output at trace level).
/// Idempotent; call once before any libbpf use.
void installLibbpfLogger();

/// A map of an Object. Valid while its Object lives; fd() is meaningful after load.
class Map {
public:
    std::string_view name() const;
    int fd() const;
    uint32_t type() const;
    uint32_t keySize() const;
    uint32_t valueSize() const;
    uint32_t flags() const;  // map_flags (BPF_F_*)
    /// Before load only. Throws Error naming the map.
    void setMaxEntries(uint32_t entries);
    /// Before load only, for maps declared without a BTF value type. Throws Error naming the map.
    void setValueSize(uint32_t bytes);
    /// Before load only: use an existing map (e.g. host-owned counters) instead of creating one.
    void reuseFd(int fd);
    /// Before load only: the initial bytes of a global-data map such as a .rodata section.
    void setInitialValue(const void* data, size_t size);

private:
    friend class Object;
    explicit Map(bpf_map* map) : map_(map) {}
    bpf_map* map_;
};

/// A program of an Object. fd() is meaningful after load.
class Program {
public:
    std::string_view name() const;
    int fd() const;
    bool isXdp() const;
    uint32_t type() const;  // enum bpf_prog_type
    uint32_t expectedAttachType() const;
    uint32_t flags() const;  // BPF_F_* load flags (BPF_F_XDP_HAS_FRAGS, ...)
    /// Before load only: load as another program type (e.g. an XDP program's code as a tc program),
    /// with the expected attach type the kernel then holds it to (tail calls need the same in every
    /// program of one program array). Throws Error naming the program.
    void setType(uint32_t progType, uint32_t expectedAttachType);
    /// Before load only: the BPF_F_* load flags. Throws Error naming the program.
    void setFlags(uint32_t flags);
    /// Before load only: whether load() loads this program (the default: yes). Throws Error.
    void setAutoload(bool autoload);

private:
    friend class Object;
    explicit Program(bpf_program* prog) : prog_(prog) {}
    bpf_program* prog_;
};

class Object {
public:
    /// Opens an ELF image held in memory (copied by libbpf). `name` identifies the object in
    /// messages and in the kernel. Throws Error when the ELF is not a BPF object.
    static Object openMemory(std::span<const unsigned char> elf, const std::string& name);

    Object(Object&&) noexcept;
    Object& operator=(Object&&) noexcept;
    ~Object();

    const std::string& name() const { return name_; }
    std::optional<Map> findMap(std::string_view name) const;
    std::optional<Program> findProgram(std::string_view name) const;
    /// The map libbpf made for a custom data section such as ".rodata.fizz".
    std::optional<Map> findSectionMap(std::string_view section) const;
    std::vector<std::string> programNames() const;

    /// Loads every program (the verifier runs here) and creates the maps. On failure throws Error
    /// with errno text and the verifier's log (its end, where the reason is).
    void load();

private:
    Object(bpf_object* obj, std::string name, std::unique_ptr<char[]> log, size_t logSize);
    void destroy() noexcept;

    bpf_object* obj_ = nullptr;
    std::string name_;
    std::unique_ptr<char[]> log_;
    size_t logSize_ = 0;
};

}  // namespace fizzhost::bpf
