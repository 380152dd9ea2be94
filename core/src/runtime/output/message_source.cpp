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
                             bool deliver, bool shadow)
    : classifier_(std::move(classifier)), origin_(std::move(origin)), reader_(*classifier_),
      template_(writer.format(), origin_, classifier_->plugin().kinds(), classifier_->plugin().fields()),
      writer_(writer), deliver_(deliver), shadow_(shadow) {}

size_t MessageSource::drain(size_t max) noexcept {
    const plugin::Plugin& plugin = classifier_->plugin();
    const size_t kinds = plugin.kinds().size();
    uint64_t undecodable = 0, withheld = 0;
    const size_t n = reader_.drain(max, [&](const void* data, uint32_t size) noexcept {
        fizzhost_event event;
        fizzhost_field_value fields[FIZZHOST_MAX_FIELDS];
        const int rc = plugin.decode(data, size, event, fields);
        if (rc != 0 || event.kind >= kinds) {
            ++undecodable;
            if (!bad_.set) {
                bad_.set = true;
                bad_.code = rc;
                bad_.kind = rc == 0 ? event.kind : 0;
                bad_.size = size;
                std::memcpy(bad_.bytes.data(), data, std::min<size_t>(size, kDumpBytes));
            }
            return;
        }
        if (deliver_)
            writer_.write(template_, event, fields, output_);
        else
            ++withheld;
    });
    if (undecodable) undecodable_.fetch_add(undecodable, std::memory_order_relaxed);
    if (withheld) withheld_.fetch_add(withheld, std::memory_order_relaxed);
    report(std::chrono::steady_clock::now(), false);
    return n;
}

void MessageSource::report(std::chrono::steady_clock::time_point now, bool force) noexcept {
    try {
        const auto& p = classifier_->plugin();
        const uint64_t undecodable = undecodable_.load(std::memory_order_relaxed);
        if (undecodable != undecodableReported_ && (force || now >= nextUndecodableLog_)) {
            std::string why;
            if (bad_.code == FIZZHOST_DECODE_THREW)
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
