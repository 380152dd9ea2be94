// One classifier instance as the pump sees it: its transport, decoder and event template, and the
// counts of what it delivered.
#pragma once

#include "runtime/classifier.hpp"
#include "runtime/event_writer.hpp"

#include <atomic>
#include <memory>

namespace fizzhost::runtime {

class MessageSource final : public MessageHandler {
public:
    /// Takes the classifier; `writer` must outlive the source. Decoded events go to `writer`.
    MessageSource(std::unique_ptr<Classifier> classifier, EventOrigin origin, EventWriter& writer);

    Classifier& classifier() { return *classifier_; }
    const Classifier& classifier() const { return *classifier_; }
    const EventOrigin& origin() const { return origin_; }

    /// Pump thread only: drains up to `max` messages (rings: all available). Never throws.
    size_t drain(size_t max) noexcept { return classifier_->drain(max); }
    void onMessage(const void* data, uint32_t size) noexcept override;

    uint64_t delivered() const { return delivered_.load(std::memory_order_relaxed); }
    uint64_t undecodable() const { return undecodable_.load(std::memory_order_relaxed); }

private:
    std::unique_ptr<Classifier> classifier_;
    EventOrigin origin_;
    EventTemplate template_;
    EventWriter& writer_;
    std::atomic<uint64_t> delivered_{0}, undecodable_{0};
};

}  // namespace fizzhost::runtime
