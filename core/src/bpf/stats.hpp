// The counters of one loaded classifier: the fizz_counters in each CPU's region header, summed.
#pragma once

#include "bpf/cpu_regions.hpp"

#include <fizz/shared.h>

namespace fizzhost::bpf {

/// The counters of every CPU added up. Safe while the program runs (each counter is read once,
/// atomically; the sum is a moment's snapshot per CPU). Never throws.
fizz_counters readCounters(const CpuRegions& regions) noexcept;

}  // namespace fizzhost::bpf
