// How many message slots one CPU's region holds with the ring transport: sized from a message rate
// (config::RingRate, [output] rate/stall_ms/spread_cpus) or given (ring_slots), within the kernel's
// limit on one region; and what the regions map then costs. docs/performance.md has the table.
#pragma once

#include "config/host_config.hpp"

#include <fizz/shared.h>

#include <cstdint>

namespace fizzhost::runtime {

/// The kernel's limit on one array value (KMALLOC_MAX_SIZE with 4 KiB pages): one CPU's region.
constexpr uint64_t kMaxRegionBytes = FIZZ_MAX_REGION_BYTES;

/// Slots per CPU for `messageSize`-byte messages on `cpus` possible CPUs: `requested` when not 0,
/// else rate.slotsPerCpu(cpus); a rate-sized ring that does not fit one region is lowered to what
/// fits (with a warning naming the stall it then holds). Throws Error (naming the largest that
/// fits) when an explicit value does not fit.
uint32_t ringSlotsFor(uint32_t messageSize, uint32_t requested, const config::RingRate& rate, unsigned cpus);

/// Bytes of one FIZZ_MAP_REGIONS map: `cpus` regions of header + `slots` slots (bpf::regionBytes).
/// The kernel charges this, rounded up to pages, plus one page for the array itself.
uint64_t regionsMapBytes(uint32_t messageSize, uint64_t slots, unsigned cpus);

}  // namespace fizzhost::runtime
