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

using protocol::SlotHeader;

constexpr std::align_val_t kRingAlign{64};

}  // namespace

DecoderChannel::DecoderChannel(std::shared_ptr<const plugin::Plugin> plugin, std::shared_ptr<WorkerHost> worker)
    : plugin_(std::move(plugin)), worker_(std::move(worker)) {
    index_ = worker_->attach();
    control_ = &worker_->area().control();
    header_ = protocol::channelAt(worker_->area().base(), *control_, index_);
    ring_ = reinterpret_cast<unsigned char*>(header_) + sizeof(protocol::ChannelHeader);
    slotSize_ = control_->slotSize;
    slots_ = control_->slotCount;
    capacity_ = control_->messageCapacity;
    fieldCount_ = control_->fieldCount;
    // Sequence numbers of an index only grow: a new channel starts where the last one left off.
    head_ = tail_ = published_ = header_->head.load(std::memory_order_relaxed);
    mask_ = uint32_t(slots_ - 1);
    kinds_ = uint32_t(plugin_->kinds().size());
}

DecoderChannel::DecoderChannel(std::shared_ptr<const plugin::Plugin> plugin,
                               std::shared_ptr<const plugin::ModuleCode> code)
    : plugin_(std::move(plugin)), code_(std::move(code)) {
    fieldCount_ = uint32_t(plugin_->fields().size());
    const protocol::Layout l = protocol::layoutFor(protocol::Mode::Decode, plugin_->messageSize(), fieldCount_);
    slotSize_ = l.slotSize;
    slots_ = l.slotCount;
    capacity_ = l.messageCapacity;
    const size_t bytes = sizeof(protocol::ChannelHeader) + slots_ * size_t(slotSize_);
    ownRing_.reset(static_cast<unsigned char*>(::operator new[](bytes, kRingAlign)));
    std::memset(ownRing_.get(), 0, bytes);
    header_ = new (ownRing_.get()) protocol::ChannelHeader{};
    ring_ = ownRing_.get() + sizeof(protocol::ChannelHeader);
    mask_ = uint32_t(slots_ - 1);
    kinds_ = uint32_t(plugin_->kinds().size());
}

DecoderChannel::~DecoderChannel() {
    if (worker_) worker_->detach(index_);
    if (ownRing_) ::operator delete[](ownRing_.release(), kRingAlign);
}

bool DecoderChannel::submit(const void* raw, uint32_t size) noexcept {
    if (head_ - tail_ >= slots_) return false;
    unsigned char* s = slot(head_);
    reinterpret_cast<SlotHeader*>(s)->size = size;
    if (size <= capacity_) std::memcpy(protocol::slotRaw(s, fieldCount_), raw, size);
    ++head_;
    return true;
}

void DecoderChannel::publish() noexcept {
    if (published_ == head_) return;
    if (code_) {
        // In-process: decode here, in place, as the worker would.
        for (uint64_t seq = published_; seq < head_; ++seq) {
            unsigned char* s = slot(seq);
            auto* h = reinterpret_cast<SlotHeader*>(s);
            h->event = fizzhost_event{};
            h->rc = h->size > capacity_ ? protocol::kRcOversize
                                        : code_->decode(protocol::slotRaw(s, fieldCount_), h->size, h->event,
                                                        protocol::slotFields(s), fieldCount_);
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
    unsigned char* s = slot(seq);
    SlotHeader h;
    std::memcpy(&h, s, sizeof h);  // once: the worker may write the slot again at any time
    DecodeResult& r = result_;
    r = DecodeResult{};
    r.seq = seq;
    r.rc = h.rc;
    r.raw = protocol::slotRaw(s, fieldCount_);
    r.size = std::min(h.size, capacity_);
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
        std::memcpy(fields_, protocol::slotFields(s), fieldCount_ * sizeof(fizzhost_field_value));
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
