#include "runtime/attachment.hpp"

#include "bpf/map.hpp"

#include <linux/bpf.h>

#include <vector>

namespace fizzhost::runtime {

UniqueFd createStatsMap() {
    return bpf::createMap({BPF_MAP_TYPE_PERCPU_ARRAY, FIZZ_MAP_STATS, 4, sizeof(fizz_stats), FIZZ_MAX_SLOTS});
}

SlotCounters Attachment::counters(uint32_t slot) const {
    const unsigned cpus = bpf::possibleCpus();
    std::vector<fizz_stats> perCpu(cpus);
    bpf::lookupPerCpu(stats.get(), slot, perCpu.data());
    SlotCounters sum;
    for (const auto& c : perCpu) {
        sum.packets += c.packets;
        sum.emitted += c.emitted;
        sum.dropped += c.dropped;
        for (int k = 0; k < FIZZ_MAX_KINDS; ++k) sum.kinds[k] += c.kinds[k];
    }
    return sum;
}

}  // namespace fizzhost::runtime
