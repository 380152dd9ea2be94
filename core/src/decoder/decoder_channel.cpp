#include "decoder/decoder_channel.hpp"

#include "decoder/worker_host.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <new>

namespace fizzhost::decoder {
namespace {

constexpr std::align_val_t kRingAlign{64};

}  // namespace

void DecoderChannel::setRing(const protocol::Layout& l, unsigned char* channel) {
    header_ = reinterpret_cast<protocol::ChannelHeader*>(channel);
    inputs_ = channel + sizeof(protocol::ChannelHeader);
    outputs_ = channel + l.outputsOffset;
    inputSize_ = l.inputSize;
    outputSize_ = l.outputSize;
    slots_ = l.slotCount;
    mask_ = uint32_t(slots_ - 1);
    capacity_ = l.messageCapacity;
    kinds_ = uint32_t(plugin_->kinds().size());
}

DecoderChannel::DecoderChannel(std::shared_ptr<const plugin::Plugin> plugin, std::shared_ptr<WorkerHost> worker)
    : plugin_(std::move(plugin)), worker_(std::move(worker)) {
    index_ = worker_->attach();
    control_ = &worker_->area().control();
    fieldCount_ = control_->fieldCount;
    setRing(worker_->area().layout(),
            reinterpret_cast<unsigned char*>(protocol::channelAt(worker_->area().base(), *control_, index_)));
    // Sequence numbers of an index only grow: a new channel starts where the last one left off.
    head_ = tail_ = published_ = header_->head.load(std::memory_order_relaxed);
}

DecoderChannel::DecoderChannel(std::shared_ptr<const plugin::Plugin> plugin,
                               std::shared_ptr<const plugin::ModuleCode> code)
    : plugin_(std::move(plugin)), code_(std::move(code)) {
    fieldCount_ = uint32_t(plugin_->fields().size());
    const protocol::Layout l = protocol::layoutFor(protocol::Mode::Decode, plugin_->messageSize(), fieldCount_);
    const size_t bytes = l.channelStride;
    ownRing_.reset(static_cast<unsigned char*>(::operator new[](bytes, kRingAlign)));
    std::memset(ownRing_.get(), 0, bytes);
    new (ownRing_.get()) protocol::ChannelHeader{};
    setRing(l, ownRing_.get());
}

DecoderChannel::~DecoderChannel() {
    if (worker_) worker_->detach(index_);
    if (ownRing_) ::operator delete[](ownRing_.release(), kRingAlign);
}

bool DecoderChannel::submit(const void* raw, uint32_t size) noexcept {
    if (head_ - tail_ >= slots_) return false;
    protocol::SlotInput* in = input(head_);
    in->size = size;
    if (size == 8)
        std::memcpy(protocol::inputRaw(in), raw, 8);  // the common message size, without a memcpy call
    else if (size <= capacity_)
        std::memcpy(protocol::inputRaw(in), raw, size);
    ++head_;
    return true;
}

void DecoderChannel::publish() noexcept {
    if (published_ == head_) return;
    if (code_) {
        // In-process: decode here, in place, as the worker would.
        for (uint64_t seq = published_; seq < head_; ++seq) {
            protocol::SlotInput* in = input(seq);
            protocol::SlotOutput* out = output(seq);
            out->event = fizzhost_event{};
            out->rc = in->size > capacity_ ? protocol::kRcOversize
                                           : code_->decode(protocol::inputRaw(in), in->size, out->event,
                                                           protocol::outputFields(out), fieldCount_);
        }
        header_->done.store(head_, std::memory_order_release);
    } else {
        header_->head.store(head_, std::memory_order_release);
        // Pairs with the worker's "sleeping, then look once more": either it sees the new head, or
        // we see it sleeping and ring.
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (control_->sleeping.load(std::memory_order_relaxed)) {
            control_->doorbell.fetch_add(1, std::memory_order_release);
            ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(&control_->doorbell), FUTEX_WAKE, INT_MAX, nullptr,
                      nullptr, 0);
        }
    }
    published_ = head_;
}

const DecodeResult& DecoderChannel::result(uint64_t seq) noexcept {
    protocol::SlotInput* in = input(seq);
    protocol::SlotOutput* out = output(seq);
    protocol::SlotOutput h;
    std::memcpy(&h, out, sizeof h);  // once: the worker may write the slot again at any time
    DecodeResult& r = result_;
    r.seq = seq;
    r.rc = h.rc;
    r.raw = protocol::inputRaw(in);
    r.size = std::min(in->size, capacity_);
    r.event = nullptr;
    r.fields = nullptr;
    r.reason = {};
    if (h.rc == protocol::kRcWorkerFailure && worker_) {
        r.outcome = DecodeResult::Outcome::WorkerFailed;
        r.reason = worker_->verdict(h.event.kind);
        return r;
    }
    if (h.rc != 0) {
        r.outcome = DecodeResult::Outcome::Refused;
        return r;
    }
    event_ = h.event;
    r.event = &event_;
    if (event_.kind >= kinds_) {
        r.outcome = DecodeResult::Outcome::KindOutOfRange;
        return r;
    }
    if (fieldCount_) {
        std::memcpy(fields_, protocol::outputFields(out), fieldCount_ * sizeof(fizzhost_field_value));
        const auto& schema = plugin_->fields();
        for (uint32_t i = 0; i < fieldCount_; ++i) {
            fields_[i].set = fields_[i].set ? 1 : 0;
            // Formatting follows the host's own schema; a string is never read past its array.
            if (schema[i].type == FIZZHOST_FIELD_STRING)
                fields_[i].length = std::min<uint32_t>(fields_[i].length, FIZZHOST_FIELD_TEXT_MAX);
        }
        r.fields = fields_;
    }
    r.outcome = DecodeResult::Outcome::Decoded;
    return r;
}

}  // namespace fizzhost::decoder
