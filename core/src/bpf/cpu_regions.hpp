// The per-CPU regions of one loaded classifier (FIZZ_MAP_REGIONS, see <fizz/shared.h>) mapped into
// the host: a header per CPU (head, counters; the host's tail) followed by that CPU's message slots.
// Read without a syscall; only the tail is ever written by the host.
#pragma once

#include <fizz/shared.h>

#include <cstddef>
#include <cstdint>

namespace fizzhost::bpf {

class CpuRegions {
public:
    CpuRegions() = default;
    /// Maps `mapFd` (an mmapable ARRAY of `cpus` values of `regionSize` bytes each, `slots` message
    /// slots of `slotSize` bytes after the header). Throws Error naming the map on failure or when
    /// the sizes do not fit together.
    CpuRegions(int mapFd, unsigned cpus, uint32_t regionSize, uint32_t slots, uint32_t slotSize);
    CpuRegions(CpuRegions&&) noexcept;
    CpuRegions& operator=(CpuRegions&&) noexcept;
    CpuRegions(const CpuRegions&) = delete;
    CpuRegions& operator=(const CpuRegions&) = delete;
    ~CpuRegions();

    unsigned cpus() const { return cpus_; }
    uint32_t slots() const { return slots_; }
    uint32_t slotSize() const { return slotSize_; }
    fizz_region_header& header(unsigned cpu) const {
        return *reinterpret_cast<fizz_region_header*>(base_ + size_t(cpu) * regionSize_);
    }
    const unsigned char* slot(unsigned cpu, uint32_t index) const {
        return base_ + size_t(cpu) * regionSize_ + sizeof(fizz_region_header) + size_t(index) * slotSize_;
    }

private:
    void unmap() noexcept;
    unsigned char* base_ = nullptr;
    size_t length_ = 0;
    unsigned cpus_ = 0;
    uint32_t regionSize_ = 0, slots_ = 0, slotSize_ = 0;
};

/// Bytes of one CPU's region holding `slots` messages of `messageSize` bytes: the header plus the
/// slots, rounded up to a cache line so that no two CPUs' regions share one.
uint64_t regionBytes(uint32_t messageSize, uint64_t slots);

}  // namespace fizzhost::bpf
