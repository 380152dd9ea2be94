#include "bpf/stats.hpp"

#include <atomic>

namespace fizzhost::bpf {
namespace {

// The program on that CPU writes the counter at any moment: an aligned 8-byte load sees a whole
// value, never a torn one.
__u64 load(__u64& v) { return std::atomic_ref<__u64>(v).load(std::memory_order_relaxed); }

}  // namespace

fizz_counters readCounters(const CpuRegions& regions) noexcept {
    fizz_counters sum{};
    for (unsigned cpu = 0; cpu < regions.cpus(); ++cpu) {
        fizz_counters& c = regions.header(cpu).counters;
        sum.packets += load(c.packets);
        sum.emitted += load(c.emitted);
        sum.dropped += load(c.dropped);
        for (int k = 0; k < FIZZ_MAX_KINDS; ++k) sum.kinds[k] += load(c.kinds[k]);
    }
    return sum;
}

}  // namespace fizzhost::bpf
