#include "runtime/output/message_source.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <string>

namespace fizzhost::runtime {
namespace {

constexpr auto kDropCheckInterval = std::chrono::seconds(1);

std::string hexDump(const unsigned char* data, size_t n) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(n * 3);
    for (size_t i = 0; i < n; ++i) {
        if (i) out += ' ';
        out += kHex[data[i] >> 4];
        out += kHex[data[i] & 15];
    }
    return out;
}

}  // namespace

MessageSource::MessageSource(std::unique_ptr<Classifier> classifier, EventOrigin origin, EventWriter& writer,
                             decoder::DecoderService& decoders, bool deliver, bool shadow)
    : classifier_(std::move(classifier)), origin_(std::move(origin)), reader_(*classifier_),
      template_(writer.format(), origin_, classifier_->plugin().kinds(), classifier_->plugin().fields()),
      writer_(writer), channel_(decoders.open(classifier_->pluginPtr())), deliver_(deliver), shadow_(shadow) {
    settles_.reserve(classifier_->cpus() + 1);  // at most one waiting per word: a tail per CPU, or the queue's
}

size_t MessageSource::collect() noexcept {
    using Outcome = decoder::DecodeResult::Outcome;
    uint64_t undecodable = 0, withheld = 0;
    const size_t n = channel_->collect(SIZE_MAX, [&](const decoder::DecodeResult& r) noexcept {
        if (r.ok()) {
            if (deliver_)
                writer_.write(template_, *r.event, r.fields, output_);
            else
                ++withheld;
            return;
        }
        ++undecodable;
        if (bad_.set) return;
        bad_.set = true;
        bad_.code = r.rc;
        bad_.kind = r.outcome == Outcome::KindOutOfRange ? r.event->kind : 0;
        bad_.workerFailed = r.outcome == Outcome::WorkerFailed;
        const size_t len = std::min(r.reason.size(), bad_.reason.size() - 1);
        std::memcpy(bad_.reason.data(), r.reason.data(), len);
        bad_.reason[len] = 0;
        bad_.size = r.size;
        std::memcpy(bad_.bytes.data(), r.raw, std::min<size_t>(r.size, kDumpBytes));
    });
    if (undecodable) undecodable_.fetch_add(undecodable, std::memory_order_relaxed);
    if (withheld) withheld_.fetch_add(withheld, std::memory_order_relaxed);
    // These n messages are done with here: the transport frees them once the lines before this
    // point are written or counted lost, not sooner (a host killed meanwhile leaves them for the next).
    reader_.settle(n, [this](SettleWord&& w) noexcept {
        if (!supersede(settles_.data(), settles_.data() + settles_.size(), w))
            settles_.push_back(std::move(w));  // room reserved: one per word
    });
    handOverSettles();
    return n;
}

void MessageSource::handOverSettles() noexcept {
    size_t done = 0;
    while (done < settles_.size() && writer_.settleAfter(std::move(settles_[done]))) ++done;
    settles_.erase(settles_.begin(), settles_.begin() + ptrdiff_t(done));
}

bool MessageSource::settled() noexcept {
    handOverSettles();
    return settles_.empty() && channel_->inFlight() == 0 && reader_.unsettled() == 0;
}

size_t MessageSource::drain(size_t max) noexcept {
    // Results first: they free the slots the new messages go into.
    size_t moved = collect();
    decoder::DecoderChannel& ch = *channel_;
    const size_t taken = reader_.take(std::min(max, ch.space()), [&](const void* data, uint32_t size) noexcept {
        ch.submit(data, size);  // cannot fail: no more than space() are taken
    });
    if (taken) {
        ch.publish();
        // In-process the results are there at once; a worker's that are ready are taken next pass.
        moved += taken + collect();
    }
    report(std::chrono::steady_clock::now(), false);
    return moved;
}

void MessageSource::report(std::chrono::steady_clock::time_point now, bool force) noexcept {
    try {
        const auto& p = classifier_->plugin();
        const uint64_t undecodable = undecodable_.load(std::memory_order_relaxed);
        if (undecodable != undecodableReported_ && (force || now >= nextUndecodableLog_)) {
            std::string why;
            if (bad_.workerFailed)
                why = std::string("its decoder failed: ") + bad_.reason.data();
            else if (bad_.code == FIZZHOST_DECODE_THREW)
                why = "the decoder threw (FIZZHOST_DECODE_THREW)";
            else if (bad_.code != 0)
                why = "the decoder returned error " + std::to_string(bad_.code);
            else
                why = "kind " + std::to_string(bad_.kind) + " out of range (the plugin declares " +
                      std::to_string(p.kinds().size()) + ")";
            spdlog::warn("interface '{}' {} {} ({}): {} undecodable message(s) since the last report, {} in all; "
                         "the first: {}, {} bytes: {}{} (reported at most every {} s)",
                         origin_.iface, origin_.plugin, origin_.version, origin_.variant,
                         undecodable - undecodableReported_, undecodable, why, bad_.size,
                         hexDump(bad_.bytes.data(), std::min<size_t>(bad_.size, kDumpBytes)),
                         bad_.size > kDumpBytes ? " ..." : "", kProblemLogInterval.count());
            undecodableReported_ = undecodable;
            bad_.set = false;
            nextUndecodableLog_ = now + kProblemLogInterval;
        }
        // The program counts drops in the regions' headers: read them at most once a second.
        if (!force && now < nextDropCheck_) return;
        nextDropCheck_ = now + kDropCheckInterval;
        const uint64_t dropped = reader_.counters().dropped;
        if (dropped != droppedReported_ && (force || now >= nextDropLog_)) {
            spdlog::warn("interface '{}' {} {} ({}): {} message(s) dropped by the transport since the last report, {} "
                         "in all: it was full (raise ring_slots or queue_size) (reported at most every {} s)",
                         origin_.iface, origin_.plugin, origin_.version, origin_.variant, dropped - droppedReported_,
                         dropped, kProblemLogInterval.count());
            droppedReported_ = dropped;
            nextDropLog_ = now + kProblemLogInterval;
        }
    } catch (...) {
        // Logging failed (memory): the counts are still in the status.
    }
}

}  // namespace fizzhost::runtime
