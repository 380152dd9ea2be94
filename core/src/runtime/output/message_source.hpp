// One classifier instance as the pump sees it: its transport reader, its channel to the plugin's
// decoder (a confined worker by default, decoder/decoder_service.hpp), its event template, and the
// counts of what it delivered. The one place a message becomes an event: drain() copies waiting
// messages into the channel, hands them to the decoder and writes the results that came back, in
// order. A confined decoder answers asynchronously, so a message may still be in flight after a
// drain(): the pump keeps calling until inFlight() is 0. A message leaves its transport only once
// its line is written or counted lost (the writer thread stores the settle word after the batch):
// a host killed with messages in its decoder or output queue leaves them to the next start.
// settled() says when nothing taken is left unsettled.
#pragma once

#include "decoder/decoder_channel.hpp"
#include "decoder/decoder_service.hpp"
#include "runtime/instance/classifier.hpp"
#include "runtime/output/event_writer.hpp"
#include "runtime/instance/transport_reader.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

namespace fizzhost::runtime {

class MessageSource {
public:
    /// Takes the classifier; `writer` must outlive the source. Messages are decoded through a
    /// channel `decoders` opens for the plugin (starting its worker when it has none). Decoded
    /// events go to `writer`, or, when `deliver` is false (a shadow-mode candidate whose events
    /// are not wanted), are only counted as withheld. `shadow`: the instance is a shadow-mode
    /// candidate, which sees the frames the baseline classifies (its counts stay out of the
    /// interface's totals). Throws Error when the transport cannot be mapped or the decoder
    /// cannot be started (decoder::DecoderService::open).
    MessageSource(std::unique_ptr<Classifier> classifier, EventOrigin origin, EventWriter& writer,
                  decoder::DecoderService& decoders, bool deliver = true, bool shadow = false);

    Classifier& classifier() { return *classifier_; }
    const Classifier& classifier() const { return *classifier_; }

    /// Pump thread only: takes up to `max` waiting messages into the decoder's channel (as many as
    /// it has room for) and writes every result the decoder has finished; returns how many
    /// messages moved (taken plus finished), 0 when nothing did. Undecodable messages and
    /// transport drops are logged from here, each at most once per kProblemLogInterval. Never throws.
    size_t drain(size_t max) noexcept;
    /// Pump thread only: messages handed to the decoder whose results have not come back yet.
    size_t inFlight() const noexcept { return channel_->inFlight(); }
    /// Pump thread only: true once every message taken is written out or counted lost and the
    /// transport has freed it (the writer thread stored its settle word); until then a host killed
    /// finds it again in the pinned regions. Hands over settle words still waiting for room.
    bool settled() noexcept;
    /// Queue transport: messages a host before popped and never settled, lost with it (count them
    /// as lost at start). 0 for the ring, which keeps them to be read again.
    uint64_t lostBeforeOpen() const noexcept { return reader_.lostBeforeOpen(); }
    /// True when a confined worker decodes this source's messages.
    bool confined() const noexcept { return channel_->confined(); }
    /// Pump thread only: logs undecodable messages and drops not yet reported, whatever the
    /// interval (the source is about to go). Never throws.
    void reportProblems() noexcept { report(std::chrono::steady_clock::now(), true); }

    /// Events written to the events output (the write carrying them succeeded). Any thread.
    uint64_t delivered() const { return output_->written.load(std::memory_order_relaxed); }
    /// Events decoded but lost because the write carrying them failed. Any thread.
    uint64_t writeLost() const { return output_->lost.load(std::memory_order_relaxed); }
    uint64_t undecodable() const { return undecodable_.load(std::memory_order_relaxed); }
    /// Messages drained and decoded but not written because this source does not deliver. Any thread.
    uint64_t withheld() const { return withheld_.load(std::memory_order_relaxed); }
    bool delivers() const { return deliver_; }
    bool shadows() const { return shadow_; }
    /// What the program counted (packets, emitted, dropped, per kind) since it was loaded. Any thread.
    fizz_counters counters() const noexcept { return reader_.counters(); }

    static constexpr std::chrono::seconds kProblemLogInterval{5};
    static constexpr size_t kDumpBytes = 64;  // of the first undecodable message, in the log

private:
    // The first undecodable message since the last report: why, and its first bytes.
    struct BadSample {
        bool set = false;
        int code = 0;        // the decoder's return value; 0 when the kind was out of range
        uint32_t kind = 0;   // the out-of-range kind (code == 0)
        bool workerFailed = false;       // its worker died on it twice, or the decoder is disabled
        std::array<char, 96> reason{};  // why (workerFailed), NUL-terminated
        uint32_t size = 0;   // of the whole message
        std::array<unsigned char, kDumpBytes> bytes{};
    };
    void report(std::chrono::steady_clock::time_point now, bool force) noexcept;
    // Writes (or counts) every result the decoder has finished and names their settle words;
    // returns how many.
    size_t collect() noexcept;
    // Hands the settle words waiting to the writer, in order, as far as it has room.
    void handOverSettles() noexcept;

    std::unique_ptr<Classifier> classifier_;
    EventOrigin origin_;
    TransportReader reader_;
    EventTemplate template_;
    EventWriter& writer_;
    std::unique_ptr<decoder::DecoderChannel> channel_;
    // The writer counts our lines as its thread writes them, also after this source is gone.
    std::shared_ptr<OutputCounters> output_ = std::make_shared<OutputCounters>();
    std::atomic<uint64_t> undecodable_{0}, withheld_{0};
    const bool deliver_, shadow_;
    // Pump thread only.
    std::vector<SettleWord> settles_;  // named, not yet handed to the writer (it had no room)
    BadSample bad_;
    uint64_t undecodableReported_ = 0, droppedReported_ = 0;
    std::chrono::steady_clock::time_point nextUndecodableLog_{}, nextDropCheck_{}, nextDropLog_{};
};

}  // namespace fizzhost::runtime
