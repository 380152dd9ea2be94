// What a process holds: its open file descriptors, and the BPF programs, maps and links reachable
// from them. Read from /proc/<pid>/fd and fdinfo (each BPF fd names its prog_id, map_id or
// link_id), then followed through the kernel by id with libbpf: a link's program, the maps a
// program uses, the programs in a prog-array. A BPF object that no fd reaches this way is freed by
// the kernel (nothing here pins), so two equal footprints mean nothing leaked in between; ids are
// compared, not counts, so programs other processes load meanwhile do not disturb it.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

namespace fizzhost::test {

struct BpfFootprint {
    size_t fds = 0;
    std::multiset<std::string> fdTargets;  // what each fd is: a path, "anon_inode:bpf-map", "socket:[..]"
    std::set<uint32_t> progs, maps, links;
    bool operator==(const BpfFootprint&) const = default;
};

/// Process `pid`'s footprint. Fails the test when /proc cannot be read.
BpfFootprint bpfFootprint(pid_t pid);

/// "N fds; progs {..}; maps {..}; links {..}" for messages.
std::string describe(const BpfFootprint& f);

}  // namespace fizzhost::test
