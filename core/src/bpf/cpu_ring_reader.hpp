// Consumer of the "ring" transport: the message slots in each CPU's region, read through mmap.
// No syscall and no wakeup: the caller polls (the pump does so on its timer).
//
// Ordering: the program writes a slot, then (compiler barrier) the head that publishes it; the
// reader loads the head with acquire, reads the slots, and stores the tail with release, after
// which the program may reuse them. On x86-64 (TSO) the program's plain stores already keep that
// order; a weakly ordered CPU would need a store-release in the program, so the host refuses the
// ring transport there (see Classifier::load).
#pragma once

#include "bpf/cpu_regions.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace fizzhost::bpf {

class CpuRingReader {
public:
    /// Reads the slots of `regions`, which must outlive the reader. `messageSize` bytes of each
    /// slot are handed on.
    CpuRingReader(CpuRegions& regions, uint32_t messageSize)
        : regions_(&regions), messageSize_(messageSize), next_(regions.cpus()) {
        for (unsigned cpu = 0; cpu < regions.cpus(); ++cpu) {
            const __u64 tail = std::atomic_ref<__u64>(regions.header(cpu).tail).load(std::memory_order_relaxed);
            next_[cpu] = regions.slots() ? uint32_t(tail % regions.slots()) : 0;
        }
    }

    /// Hands up to `max` waiting messages to `fn(const void* data, uint32_t size)` (called on this
    /// thread; `data` is valid during the call only) and frees their slots; returns how many.
    /// Never blocks, never allocates; noexcept if `fn` is.
    template <typename Fn>
    size_t drain(size_t max, Fn&& fn) {
        size_t total = 0;
        const uint32_t slots = regions_->slots();
        for (unsigned cpu = 0; cpu < regions_->cpus() && total < max; ++cpu) {
            fizz_region_header& h = regions_->header(cpu);
            const __u64 head = std::atomic_ref<__u64>(h.head).load(std::memory_order_acquire);
            std::atomic_ref<__u64> tailRef(h.tail);
            const __u64 tail = tailRef.load(std::memory_order_relaxed);
            const size_t n = size_t(std::min<uint64_t>(head - tail, max - total));
            if (n == 0) continue;
            uint32_t index = next_[cpu];
            for (size_t i = 0; i < n; ++i) {
                fn(static_cast<const void*>(regions_->slot(cpu, index)), messageSize_);
                if (++index == slots) index = 0;
            }
            next_[cpu] = index;
            tailRef.store(tail + n, std::memory_order_release);
            total += n;
        }
        return total;
    }

private:
    CpuRegions* regions_;
    uint32_t messageSize_;
    std::vector<uint32_t> next_;  // per CPU: tail % slots
};

}  // namespace fizzhost::bpf
