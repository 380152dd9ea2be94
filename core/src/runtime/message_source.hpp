// One classifier instance as the pump sees it: its transport reader, decoder and event template,
// and the counts of what it delivered. The one place a message becomes an event.
#pragma once

#include "runtime/classifier.hpp"
#include "runtime/event_writer.hpp"
#include "runtime/transport_reader.hpp"

#include <atomic>
#include <memory>

namespace fizzhost::runtime {

class MessageSource {
public:
    /// Takes the classifier; `writer` must outlive the source. Decoded events go to `writer`.
    /// Throws Error when the transport cannot be mapped.
    MessageSource(std::unique_ptr<Classifier> classifier, EventOrigin origin, EventWriter& writer);

    Classifier& classifier() { return *classifier_; }
    const Classifier& classifier() const { return *classifier_; }

    /// Pump thread only: decodes and writes up to `max` waiting messages; returns how many were
    /// taken. Never throws.
    size_t drain(size_t max) noexcept;

    /// Events written to the events output (the write carrying them succeeded). Any thread.
    uint64_t delivered() const { return output_.written.load(std::memory_order_relaxed); }
    /// Events decoded but lost because the write carrying them failed. Any thread.
    uint64_t writeLost() const { return output_.lost.load(std::memory_order_relaxed); }
    uint64_t undecodable() const { return undecodable_.load(std::memory_order_relaxed); }
    /// What the program counted (packets, emitted, dropped, per kind) since it was loaded. Any thread.
    fizz_counters counters() const noexcept { return reader_.counters(); }

private:
    std::unique_ptr<Classifier> classifier_;
    TransportReader reader_;
    EventTemplate template_;
    EventWriter& writer_;
    OutputCounters output_;  // the writer counts our lines at its flush
    std::atomic<uint64_t> undecodable_{0};
};

}  // namespace fizzhost::runtime
