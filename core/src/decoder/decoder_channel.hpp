// One message source's way to its plugin's decoder: a ring of fixed-size slots. The pump copies raw
// messages in (submit), hands them over in a batch (publish), and takes the results back in order
// (collect). Confined, the ring lives in the memory shared with the plugin's worker and the worker
// decodes; in-process (`[decoders] isolation = "none"`), publish() decodes right there. Either way
// the results come back through the same checks, so the caller cannot tell them apart.
//
// Threading: one thread uses a channel (the pump); DecoderService::supervise() belongs on that
// thread too. Nothing here allocates, throws or blocks per message.
#pragma once

#include "decoder/protocol.hpp"
#include "plugin/plugin.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace fizzhost::decoder {

class WorkerHost;

/// One message's result, valid during the collect() callback only.
struct DecodeResult {
    enum class Outcome : uint8_t {
        Decoded,         // rc 0 and a declared kind: `event` and `fields` hold the event
        Refused,         // the decoder returned `rc` (-errno, FIZZHOST_DECODE_THREW)
        KindOutOfRange,  // rc 0 but event.kind is not a declared kind
        WorkerFailed,    // its worker died on it twice (or the decoder is disabled): `reason`
    };
    Outcome outcome = Outcome::Refused;
    int rc = 0;
    const fizzhost_event* event = nullptr;       // checked copy
    const fizzhost_field_value* fields = nullptr;  // plugin().fields().size() checked copies
    std::string_view reason;                     // WorkerFailed
    const unsigned char* raw = nullptr;          // the message as submitted (for a dump)
    uint32_t size = 0;
    uint64_t seq = 0;  // the channel's sequence number

    bool ok() const { return outcome == Outcome::Decoded; }
};

class DecoderChannel {
public:
    ~DecoderChannel();
    DecoderChannel(const DecoderChannel&) = delete;
    DecoderChannel& operator=(const DecoderChannel&) = delete;

    /// Slots free for submit().
    size_t space() const noexcept { return slots_ - size_t(head_ - tail_); }
    /// Messages submitted and not yet collected.
    size_t inFlight() const noexcept { return size_t(head_ - tail_); }
    /// Copies one raw message into the next slot; false when the ring is full (collect first). A
    /// message larger than the plugin's message size is not copied: its result is Refused -EINVAL.
    bool submit(const void* raw, uint32_t size) noexcept;
    /// Hands everything submitted so far to the decoder (in-process: decodes it now).
    void publish() noexcept;
    /// Calls fn(const DecodeResult&) for up to `max` decoded messages, in submission order; returns
    /// how many. Results come only as far as the decoder has got: call again later for the rest.
    template <class Fn>
    size_t collect(size_t max, Fn&& fn) noexcept {
        const uint64_t done = decoded();
        size_t n = 0;
        for (; tail_ < done && n < max; ++tail_, ++n) fn(static_cast<const DecodeResult&>(result(tail_)));
        return n;
    }

    const plugin::Plugin& plugin() const { return *plugin_; }
    /// True when a confined worker decodes (false: in-process).
    bool confined() const { return worker_ != nullptr; }

private:
    friend class DecoderService;
    DecoderChannel(std::shared_ptr<const plugin::Plugin> plugin, std::shared_ptr<WorkerHost> worker);
    DecoderChannel(std::shared_ptr<const plugin::Plugin> plugin, std::shared_ptr<const plugin::ModuleCode> code);

    // The decoder's published progress, clamped into [tail, head]: the worker's word is untrusted.
    uint64_t decoded() const noexcept {
        const uint64_t done = header_->done.load(std::memory_order_acquire);
        return done > head_ ? head_ : (done < tail_ ? tail_ : done);
    }
    // Copies slot `seq`'s output out of reach of the worker and checks it.
    const DecodeResult& result(uint64_t seq) noexcept;
    protocol::SlotInput* input(uint64_t seq) const noexcept {
        return reinterpret_cast<protocol::SlotInput*>(inputs_ + (seq & mask_) * inputSize_);
    }
    protocol::SlotOutput* output(uint64_t seq) const noexcept {
        return reinterpret_cast<protocol::SlotOutput*>(outputs_ + (seq & mask_) * outputSize_);
    }
    void setRing(const protocol::Layout& l, unsigned char* channel);

    std::shared_ptr<const plugin::Plugin> plugin_;
    std::shared_ptr<WorkerHost> worker_;                // confined
    std::shared_ptr<const plugin::ModuleCode> code_;    // in-process
    std::unique_ptr<unsigned char[]> ownRing_;          // in-process: the ring in our own memory
    protocol::ControlBlock* control_ = nullptr;         // confined
    protocol::ChannelHeader* header_ = nullptr;
    unsigned char *inputs_ = nullptr, *outputs_ = nullptr;
    uint32_t index_ = 0, inputSize_ = 0, outputSize_ = 0, mask_ = 0, capacity_ = 0, fieldCount_ = 0, kinds_ = 0;
    size_t slots_ = 0;
    uint64_t head_ = 0, tail_ = 0, published_ = 0;
    DecodeResult result_;
    fizzhost_event event_{};
    fizzhost_field_value fields_[FIZZHOST_MAX_FIELDS]{};
};

}  // namespace fizzhost::decoder
