#include "bpf/cpu_regions.hpp"

#include "util/error.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <utility>

namespace fizzhost::bpf {

uint64_t regionBytes(uint32_t messageSize, uint64_t slots) {
    const uint64_t bytes = sizeof(fizz_region_header) + slots * FIZZ_SLOT_SIZE(uint64_t(messageSize));
    return (bytes + FIZZ_CACHE_LINE - 1) / FIZZ_CACHE_LINE * FIZZ_CACHE_LINE;
}

CpuRegions::CpuRegions(int mapFd, unsigned cpus, uint32_t regionSize, uint32_t slots, uint32_t slotSize)
    : cpus_(cpus), regionSize_(regionSize), slots_(slots), slotSize_(slotSize) {
    if (regionSize % 8 || regionSize < sizeof(fizz_region_header) + uint64_t(slots) * slotSize)
        throw Error("map '" FIZZ_MAP_REGIONS "': regions of " + std::to_string(regionSize) + " bytes cannot hold " +
                        std::to_string(slots) + " slots of " + std::to_string(slotSize) + " bytes after the header",
                    EINVAL);
    // An mmapable array's values are contiguous (each rounded up to 8 bytes) from offset 0.
    const size_t page = size_t(sysconf(_SC_PAGESIZE));
    length_ = (size_t(cpus) * regionSize + page - 1) / page * page;
    void* p = mmap(nullptr, length_, PROT_READ | PROT_WRITE, MAP_SHARED, mapFd, 0);
    if (p == MAP_FAILED) {
        length_ = 0;
        throwErrno("map '" FIZZ_MAP_REGIONS "': mmap " + std::to_string(cpus) + " regions of " +
                       std::to_string(regionSize) + " bytes",
                   errno);
    }
    base_ = static_cast<unsigned char*>(p);
}

CpuRegions::CpuRegions(CpuRegions&& o) noexcept
    : base_(std::exchange(o.base_, nullptr)), length_(std::exchange(o.length_, 0)), cpus_(o.cpus_),
      regionSize_(o.regionSize_), slots_(o.slots_), slotSize_(o.slotSize_) {}

CpuRegions& CpuRegions::operator=(CpuRegions&& o) noexcept {
    if (this != &o) {
        unmap();
        base_ = std::exchange(o.base_, nullptr);
        length_ = std::exchange(o.length_, 0);
        cpus_ = o.cpus_;
        regionSize_ = o.regionSize_;
        slots_ = o.slots_;
        slotSize_ = o.slotSize_;
    }
    return *this;
}

CpuRegions::~CpuRegions() { unmap(); }

void CpuRegions::unmap() noexcept {
    if (base_) munmap(base_, length_);
    base_ = nullptr;
}

}  // namespace fizzhost::bpf
