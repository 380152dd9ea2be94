#include "runtime/instance/ring_sizing.hpp"

#include "bpf/cpu_regions.hpp"
#include "util/error.hpp"

#include <fizz/shared.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>

namespace fizzhost::runtime {

uint32_t ringSlotsFor(uint32_t messageSize, uint32_t requested, const config::RingRate& rate, unsigned cpus) {
    const uint64_t slotBytes = FIZZ_SLOT_SIZE(uint64_t(messageSize));
    const uint64_t fits = (kMaxRegionBytes - sizeof(fizz_region_header)) / slotBytes;
    const uint64_t wanted = requested ? requested : rate.slotsPerCpu(cpus);
    if (bpf::regionBytes(messageSize, wanted) <= kMaxRegionBytes) return uint32_t(wanted);
    if (requested)
        throw Error("ring of " + std::to_string(requested) + " slots per CPU for " + std::to_string(messageSize) +
                        "-byte messages needs " + std::to_string(bpf::regionBytes(messageSize, wanted)) +
                        " bytes per CPU, more than the kernel allows for one array value (" +
                        std::to_string(kMaxRegionBytes >> 20) + " MiB, KMALLOC_MAX_SIZE); at most " +
                        std::to_string(fits) + " slots fit (lower output.ring_slots)",
                    E2BIG);
    // The rate a region that fits still holds for the configured stall, spread as configured.
    const double spread = double(std::max(1u, std::min(rate.spreadCpus, cpus)));
    spdlog::warn("ring: {}-byte messages: {} slots per CPU ({:.0f} messages/s x {} ms over {:.0f} CPUs) need more "
                 "than {} MiB per CPU, the kernel's limit for one array value; using {} slots, which hold {:.1f} ms "
                 "of that rate",
                 messageSize, wanted, rate.perSecond, rate.stallMs, spread, kMaxRegionBytes >> 20, fits,
                 double(fits) * spread * 1000.0 / rate.perSecond);
    return uint32_t(fits);
}

uint64_t regionsMapBytes(uint32_t messageSize, uint64_t slots, unsigned cpus) {
    return uint64_t(cpus) * bpf::regionBytes(messageSize, slots);
}

}  // namespace fizzhost::runtime
