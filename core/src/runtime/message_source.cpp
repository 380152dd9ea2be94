#include "runtime/message_source.hpp"

namespace fizzhost::runtime {

MessageSource::MessageSource(std::unique_ptr<Classifier> classifier, EventOrigin origin, EventWriter& writer)
    : classifier_(std::move(classifier)), reader_(*classifier_),
      template_(writer.format(), origin, classifier_->plugin().kinds(), classifier_->plugin().fields()),
      writer_(writer) {}

size_t MessageSource::drain(size_t max) noexcept {
    const plugin::Plugin& plugin = classifier_->plugin();
    uint64_t undecodable = 0;
    const size_t n = reader_.drain(max, [&](const void* data, uint32_t size) noexcept {
        fizzhost_event event;
        fizzhost_field_value fields[FIZZHOST_MAX_FIELDS];
        if (plugin.decode(data, size, event, fields) != 0) {
            ++undecodable;
            return;
        }
        writer_.write(template_, event, fields, &output_);
    });
    if (undecodable) undecodable_.fetch_add(undecodable, std::memory_order_relaxed);
    return n;
}

}  // namespace fizzhost::runtime
