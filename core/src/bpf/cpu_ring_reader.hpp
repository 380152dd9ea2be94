// Consumer of the "ring" transport: the message slots in each CPU's region, read through mmap.
// No syscall and no wakeup: the caller polls (the pump does so on its timer).
//
// Taking and settling are two steps. take() hands messages on and remembers their order across
// CPUs; their slots stay reserved. settle(n) frees the slots of the first n messages taken by
// naming each moved CPU's new tail; the caller stores it (storeTail) once those messages are
// written out or counted lost. A host killed between the two leaves them in the ring, where the
// next start finds them: nothing it took is gone with it (at least once; a kill between a write
// and the store of its tail repeats what that write carried). drain() does both at once, for a
// consumer whose work is done when its callback returns.
//
// Ordering: the program writes a slot, then (compiler barrier) the head that publishes it; the
// reader loads the head with acquire, reads the slots, and the tail is stored with release, after
// which the program may reuse them. On x86-64 (TSO) the program's plain stores already keep that
// order; a weakly ordered CPU would need a store-release in the program, so the host refuses the
// ring transport there (see Classifier::load).
#pragma once

#include "bpf/cpu_regions.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

namespace fizzhost::bpf {

class CpuRingReader {
public:
    /// Reads the slots of `regions`, which must outlive the reader. `messageSize` bytes of each
    /// slot are handed on. Starts at each CPU's tail: what a host before took and did not settle
    /// is read again.
    CpuRingReader(CpuRegions& regions, uint32_t messageSize)
        : regions_(&regions), messageSize_(messageSize), read_(regions.cpus()), settled_(regions.cpus()) {
        for (unsigned cpu = 0; cpu < regions.cpus(); ++cpu)
            read_[cpu] = settled_[cpu] = std::atomic_ref<__u64>(regions.header(cpu).tail).load(std::memory_order_relaxed);
    }

    /// Hands up to `max` waiting messages to `fn(const void* data, uint32_t size)` (called on this
    /// thread; `data` is valid during the call only); returns how many. Their slots stay reserved
    /// until settled. May allocate (the order of runs, amortized), never per message; never
    /// blocks; noexcept if `fn` is and memory is there.
    template <typename Fn>
    size_t take(size_t max, Fn&& fn) {
        size_t total = 0;
        for (unsigned cpu = 0; cpu < regions_->cpus() && total < max; ++cpu) {
            const size_t n = readCpu(cpu, max - total, fn);
            if (n == 0) continue;
            if (!runs_.empty() && runs_.back().cpu == cpu) runs_.back().count += n;
            else runs_.push_back(Run{cpu, n});
            total += n;
        }
        return total;
    }

    /// The first `n` messages taken and not yet settled are done with: calls
    /// `out(unsigned cpu, uint64_t tail)` once per CPU whose tail moves, with its new tail, for
    /// the caller to store (storeTail) when it is time. n must not exceed what is taken and
    /// unsettled.
    template <typename Out>
    void settle(size_t n, Out&& out) {
        while (n > 0 && !runs_.empty()) {
            Run& r = runs_.front();
            const size_t k = std::min(n, r.count);
            settled_[r.cpu] += k;
            r.count -= k;
            n -= k;
            // Name the CPU when its run ends, or at the end when it does not.
            if (r.count == 0 || n == 0) out(r.cpu, uint64_t(settled_[r.cpu]));
            if (r.count == 0) runs_.pop_front();
        }
    }

    /// take() and settle at once: the slots are free when it returns (for a reader that only drains).
    template <typename Fn>
    size_t drain(size_t max, Fn&& fn) {
        const size_t n = take(max, fn);
        settle(n, [this](unsigned cpu, uint64_t tail) { storeTail(cpu, tail); });
        return n;
    }

    /// Frees the slots before `tail` on `cpu` for the program. Any thread (one at a time per CPU,
    /// in increasing order).
    static void storeTail(fizz_region_header& h, uint64_t tail) noexcept {
        std::atomic_ref<__u64>(h.tail).store(tail, std::memory_order_release);
    }
    void storeTail(unsigned cpu, uint64_t tail) const noexcept { storeTail(regions_->header(cpu), tail); }

    /// Messages taken whose slots are not free yet (settled or not: the stored tails say so).
    uint64_t unreleased() const noexcept {
        uint64_t n = 0;
        for (unsigned cpu = 0; cpu < regions_->cpus(); ++cpu)
            n += read_[cpu] - std::atomic_ref<__u64>(regions_->header(cpu).tail).load(std::memory_order_acquire);
        return n;
    }

private:
    struct Run {
        unsigned cpu;
        size_t count;
    };
    template <typename Fn>
    size_t readCpu(unsigned cpu, size_t max, Fn& fn) {
        fizz_region_header& h = regions_->header(cpu);
        const __u64 head = std::atomic_ref<__u64>(h.head).load(std::memory_order_acquire);
        const size_t n = size_t(std::min<uint64_t>(head - read_[cpu], max));
        if (n == 0) return 0;  // the common case of a poll: no division for an idle CPU
        const uint32_t slots = regions_->slots();
        uint32_t index = uint32_t(read_[cpu] % slots);
        for (size_t i = 0; i < n; ++i) {
            fn(static_cast<const void*>(regions_->slot(cpu, index)), messageSize_);
            if (++index == slots) index = 0;
        }
        read_[cpu] += n;
        return n;
    }

    CpuRegions* regions_;
    uint32_t messageSize_;
    std::vector<uint64_t> read_;     // per CPU: messages taken, ever
    std::vector<uint64_t> settled_;  // per CPU: of those, settled
    std::deque<Run> runs_;           // taken, not settled, in the order taken
};

}  // namespace fizzhost::bpf
