// How many message slots one CPU's region holds with the ring transport: the default, the kernel's
// limit on one region, and the rule between them.
#pragma once

#include <fizz/shared.h>

#include <cstdint>

namespace fizzhost::runtime {

/// Message slots per CPU when none are configured: 20 ms of a 10 GbE link at line rate
/// (14.88 M frames/s, one message each) arriving on one CPU, rounded up.
constexpr uint32_t kDefaultRingSlots = 300000;
/// The kernel's limit on one array value (KMALLOC_MAX_SIZE with 4 KiB pages): one CPU's region.
constexpr uint64_t kMaxRegionBytes = FIZZ_MAX_REGION_BYTES;

/// Slots per CPU for `messageSize`-byte messages: `requested`, or the default (0) lowered to what
/// fits one region. Throws Error (naming the largest that fits) when an explicit value does not.
uint32_t ringSlotsFor(uint32_t messageSize, uint32_t requested);

}  // namespace fizzhost::runtime
