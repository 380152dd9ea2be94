#include "runtime/attachment.hpp"

#include "bpf/map.hpp"
#include "bpf/stats.hpp"

#include <linux/bpf.h>

namespace fizzhost::runtime {

UniqueFd createStatsMap() {
    return bpf::createMap({BPF_MAP_TYPE_PERCPU_ARRAY, FIZZ_MAP_STATS, 4, sizeof(fizz_stats), FIZZ_MAX_SLOTS});
}

fizz_stats Attachment::counters(uint32_t slot) const { return bpf::readStats(stats.get(), slot); }

}  // namespace fizzhost::runtime
