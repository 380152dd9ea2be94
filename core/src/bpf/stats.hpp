// The shared counters map (FIZZ_MAP_STATS): one struct fizz_stats per slot and CPU.
#pragma once

#include <fizz/shared.h>

#include <cstdint>

namespace fizzhost::bpf {

/// The counters of `slot` summed over every CPU. Throws Error.
fizz_stats readStats(int statsFd, uint32_t slot);

}  // namespace fizzhost::bpf
