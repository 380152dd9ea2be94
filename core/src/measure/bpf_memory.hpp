// What the BPF maps of a running host cost the kernel, per interface. Read from outside the
// process: its fds (/proc/<pid>/fd and fdinfo name each BPF object's id), the XDP links among them
// (each names its interface and program), the maps each program uses (and the programs in its
// prog-arrays, for the A/B dispatcher), optionally the pins under its state root; each map's size
// is the kernel's own account of it (the `memlock` of its fdinfo, what `bpftool map show` prints),
// which on 6.4+ is the memory the map really uses.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace fizzhost::measure {

struct MapMemory {
    uint32_t id = 0;
    std::string name;   // the kernel's (truncated to 15 characters)
    uint32_t type = 0;  // enum bpf_map_type
    uint32_t maxEntries = 0, valueSize = 0;
    uint64_t bytes = 0;  // memlock
    /// Links whose programs use it, directly or through a prog-array: 0 for a map the process only
    /// holds (a spare regions map, an instance on its way out) or a pin no program uses any more.
    unsigned links = 0;
};

struct InterfaceMemory {
    std::string ifname;  // in the process's network namespace ("" when gone)
    int ifindex = 0;
    uint32_t linkId = 0;
    uint64_t bytes = 0;  // maps reachable from this link alone
    size_t maps = 0;
};

struct BpfMemory {
    std::vector<MapMemory> maps;              // every map found, once, by id
    std::vector<InterfaceMemory> interfaces;  // one per XDP link the process holds or pinned
    uint64_t sharedBytes = 0;                 // maps reachable from more than one link
    uint64_t unattachedBytes = 0;             // maps no link reaches (spares, retiring instances, orphan pins)
    uint64_t totalBytes = 0;
};

/// Reads the maps of process `pid` (root, or CAP_SYS_ADMIN + CAP_SYS_PTRACE) and, with
/// `stateRoot`, of every pin below it (a map pinned but held open by no fd still costs memory).
/// Objects that go away meanwhile are skipped. Throws Error when /proc/<pid> cannot be read.
BpfMemory bpfMemory(pid_t pid, const std::optional<std::filesystem::path>& stateRoot = std::nullopt);

/// The memlock the kernel reports for the map `fd` refers to (this process's fdinfo). Throws Error.
uint64_t mapMemlock(int fd);

}  // namespace fizzhost::measure
