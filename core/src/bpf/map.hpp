// Maps the host creates and owns itself (counters shared across program versions, per-CPU rings),
// and typed access to map contents by fd.
#pragma once

#include "util/unique_fd.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace fizzhost::bpf {

/// Number of possible CPUs: the length of every per-CPU map value array. Throws Error.
unsigned possibleCpus();

struct MapSpec {
    uint32_t type;  // enum bpf_map_type
    std::string name;
    uint32_t keySize;
    uint32_t valueSize;
    uint32_t maxEntries;
    uint32_t flags = 0;
    int innerMapFd = -1;  // map-in-map template
};

/// Creates a map owned by the caller. Throws Error naming the map.
UniqueFd createMap(const MapSpec& spec);

/// Reads the per-CPU values of `key` into `values`, which must hold possibleCpus() of them.
/// Throws Error.
void lookupPerCpu(int fd, uint32_t key, void* values);

/// Writes a value. Throws Error naming `what`.
void updateElem(int fd, const void* key, const void* value, const std::string& what);

}  // namespace fizzhost::bpf
