#include "bpf/map.hpp"

#include "util/error.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

namespace fizzhost::bpf {

unsigned possibleCpus() {
    static const int cpus = libbpf_num_possible_cpus();
    if (cpus <= 0) throwErrno("count possible CPUs", cpus);
    return static_cast<unsigned>(cpus);
}

UniqueFd createMap(const MapSpec& spec) {
    LIBBPF_OPTS(bpf_map_create_opts, opts);
    opts.map_flags = spec.flags;
    if (spec.innerMapFd >= 0) opts.inner_map_fd = spec.innerMapFd;
    int fd = bpf_map_create(static_cast<bpf_map_type>(spec.type), spec.name.c_str(), spec.keySize,
                            spec.valueSize, spec.maxEntries, &opts);
    if (fd < 0) throwErrno("create map '" + spec.name + "'", errno);
    return UniqueFd(fd);
}

void lookupPerCpu(int fd, uint32_t key, void* values) {
    if (bpf_map_lookup_elem(fd, &key, values) != 0)
        throwErrno("read per-CPU map fd " + std::to_string(fd) + " key " + std::to_string(key), errno);
}

void updateElem(int fd, const void* key, const void* value, const std::string& what) {
    if (bpf_map_update_elem(fd, key, value, BPF_ANY) != 0) throwErrno(what, errno);
}

}  // namespace fizzhost::bpf
