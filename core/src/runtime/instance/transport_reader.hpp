// The reading end of one loaded classifier: its per-CPU regions mapped (counters, and the message
// slots of the ring transport) and the reader of whichever transport it was loaded with.
#pragma once

#include "bpf/cpu_regions.hpp"
#include "bpf/cpu_ring_reader.hpp"
#include "bpf/queue_reader.hpp"
#include "bpf/stats.hpp"
#include "runtime/instance/classifier.hpp"

#include <optional>

namespace fizzhost::runtime {

class TransportReader {
public:
    /// Maps the regions of `c` (which must outlive the reader). Throws Error.
    explicit TransportReader(const Classifier& c)
        : regions_(c.regionsFd(), c.cpus(), c.regionSize(), c.ringSlots(), FIZZ_SLOT_SIZE(c.plugin().messageSize())) {
        if (c.transport() == FIZZ_TRANSPORT_RING) ring_.emplace(regions_, c.plugin().messageSize());
        else queue_.emplace(c.queueFd(), c.plugin().messageSize());
    }
    TransportReader(const TransportReader&) = delete;
    TransportReader& operator=(const TransportReader&) = delete;

    /// Hands up to `max` waiting messages to `fn(const void* data, uint32_t size)`; returns how
    /// many. One thread at a time. Never blocks or allocates; noexcept if `fn` is.
    template <typename Fn>
    size_t drain(size_t max, Fn&& fn) {
        return ring_ ? ring_->drain(max, fn) : queue_->drain(max, fn);
    }
    /// What the program counted so far, over every CPU. Any thread.
    fizz_counters counters() const noexcept { return bpf::readCounters(regions_); }

private:
    bpf::CpuRegions regions_;
    std::optional<bpf::CpuRingReader> ring_;
    std::optional<bpf::QueueReader> queue_;
};

}  // namespace fizzhost::runtime
