#include "bpf/stats.hpp"

#include "bpf/map.hpp"

#include <vector>

namespace fizzhost::bpf {

fizz_stats readStats(int statsFd, uint32_t slot) {
    std::vector<fizz_stats> perCpu(possibleCpus());
    lookupPerCpu(statsFd, slot, perCpu.data());
    fizz_stats sum{};
    for (const auto& c : perCpu) {
        sum.packets += c.packets;
        sum.emitted += c.emitted;
        sum.dropped += c.dropped;
        for (int k = 0; k < FIZZ_MAX_KINDS; ++k) sum.kinds[k] += c.kinds[k];
    }
    return sum;
}

}  // namespace fizzhost::bpf
