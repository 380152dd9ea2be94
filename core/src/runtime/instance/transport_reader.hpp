// The reading end of one loaded classifier: its per-CPU regions mapped (counters, and the message
// slots of the ring transport) and the reader of whichever transport it was loaded with.
//
// Messages are taken, then settled once written out or counted lost (see bpf/cpu_ring_reader.hpp).
// What settling writes into the pinned regions, and where, is a SettleWord (settle_word.hpp): the
// caller applies it when the messages before it are done with, so a host killed in between leaves a trace the next
// start reads. Ring: each moved CPU's tail (the messages stay in their slots and are read again).
// Queue (popped for good): CPU 0's host_settled beside host_taken (the next start counts the
// difference as lost, lostBeforeOpen()).
#pragma once

#include "bpf/cpu_regions.hpp"
#include "bpf/cpu_ring_reader.hpp"
#include "bpf/queue_reader.hpp"
#include "bpf/stats.hpp"
#include "runtime/instance/classifier.hpp"
#include "runtime/instance/settle_word.hpp"

#include <atomic>
#include <memory>
#include <optional>

namespace fizzhost::runtime {

class TransportReader {
public:
    /// Maps the regions of `c` (which must outlive the reader). Throws Error.
    explicit TransportReader(const Classifier& c)
        : regions_(std::make_shared<bpf::CpuRegions>(c.regionsFd(), c.cpus(), c.regionSize(), c.ringSlots(),
                                                     FIZZ_SLOT_SIZE(c.plugin().messageSize()))) {
        if (c.transport() == FIZZ_TRANSPORT_RING) {
            ring_.emplace(*regions_, c.plugin().messageSize());
            return;
        }
        queue_.emplace(c.queueFd(), c.plugin().messageSize());
        // What a host before popped and never settled went with it: counted, then cleared.
        fizz_region_header& h = regions_->header(0);
        taken_ = settled_ = load(h.host_taken);
        lostBeforeOpen_ = taken_ - load(h.host_settled);
        if (lostBeforeOpen_) std::atomic_ref<__u64>(h.host_settled).store(taken_, std::memory_order_release);
    }
    TransportReader(const TransportReader&) = delete;
    TransportReader& operator=(const TransportReader&) = delete;

    /// Hands up to `max` waiting messages to `fn(const void* data, uint32_t size)`; returns how
    /// many. They stay the reader's (ring: in their slots) until settled. One thread at a time.
    /// Never blocks; allocates only amortized, never per message.
    template <typename Fn>
    size_t take(size_t max, Fn&& fn) {
        if (ring_) return ring_->take(max, fn);
        const size_t n = queue_->drain(max, fn);
        if (n) {
            taken_ += n;
            std::atomic_ref<__u64>(regions_->header(0).host_taken).store(taken_, std::memory_order_release);
        }
        return n;
    }

    /// The first `n` messages taken and not settled are done with (written or counted): calls
    /// `out(SettleWord&&)` with what to store once they are, for each word that moves.
    template <typename Out>
    void settle(size_t n, Out&& out) {
        if (n == 0) return;
        if (ring_) {
            ring_->settle(n, [&](unsigned cpu, uint64_t tail) {
                out(SettleWord{regions_, &regions_->header(cpu).tail, tail});
            });
            return;
        }
        settled_ += n;
        out(SettleWord{regions_, &regions_->header(0).host_settled, settled_});
    }

    /// take() and settle at once: for a consumer whose work is done when `fn` returns.
    template <typename Fn>
    size_t drain(size_t max, Fn&& fn) {
        if (ring_) return ring_->drain(max, fn);
        const size_t n = take(max, fn);
        settle(n, [](SettleWord&& w) { w.apply(); });
        return n;
    }

    /// Messages taken whose settle words are not stored yet. One thread with take().
    uint64_t unsettled() const noexcept {
        return ring_ ? ring_->unreleased() : taken_ - load(regions_->header(0).host_settled);
    }
    /// Queue: messages a host before popped and never settled (lost with it); 0 for the ring,
    /// whose unsettled messages are read again.
    uint64_t lostBeforeOpen() const noexcept { return lostBeforeOpen_; }
    /// What the program counted so far, over every CPU. Any thread.
    fizz_counters counters() const noexcept { return bpf::readCounters(*regions_); }

private:
    static uint64_t load(const __u64& w) noexcept {
        return std::atomic_ref<__u64>(const_cast<__u64&>(w)).load(std::memory_order_acquire);
    }

    std::shared_ptr<bpf::CpuRegions> regions_;  // shared with the settle words not applied yet
    std::optional<bpf::CpuRingReader> ring_;
    std::optional<bpf::QueueReader> queue_;
    uint64_t taken_ = 0, settled_ = 0, lostBeforeOpen_ = 0;  // queue
};

}  // namespace fizzhost::runtime
