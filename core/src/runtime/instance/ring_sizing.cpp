#include "runtime/instance/ring_sizing.hpp"

#include "bpf/cpu_regions.hpp"
#include "util/error.hpp"

#include <fizz/shared.h>
#include <spdlog/spdlog.h>

#include <string>

namespace fizzhost::runtime {

uint32_t ringSlotsFor(uint32_t messageSize, uint32_t requested) {
    const uint64_t slotBytes = FIZZ_SLOT_SIZE(uint64_t(messageSize));
    const uint64_t fits = (kMaxRegionBytes - sizeof(fizz_region_header)) / slotBytes;
    const uint64_t wanted = requested ? requested : kDefaultRingSlots;
    if (bpf::regionBytes(messageSize, wanted) <= kMaxRegionBytes) return uint32_t(wanted);
    if (requested)
        throw Error("ring of " + std::to_string(requested) + " slots per CPU for " + std::to_string(messageSize) +
                        "-byte messages needs " + std::to_string(bpf::regionBytes(messageSize, wanted)) +
                        " bytes per CPU, more than the kernel allows for one array value (" +
                        std::to_string(kMaxRegionBytes >> 20) + " MiB, KMALLOC_MAX_SIZE); at most " +
                        std::to_string(fits) + " slots fit (lower output.ring_slots)",
                    E2BIG);
    spdlog::warn("ring: {}-byte messages: {} slots per CPU (the default) need more than {} MiB per CPU, the kernel's "
                 "limit for one array value; using {} slots, which hold {:.1f} ms at 14.88 M messages/s on one CPU",
                 messageSize, kDefaultRingSlots, kMaxRegionBytes >> 20, fits, double(fits) / 14.88e3);
    return uint32_t(fits);
}

}  // namespace fizzhost::runtime
