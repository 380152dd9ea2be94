#include "runtime/message_source.hpp"

namespace fizzhost::runtime {

MessageSource::MessageSource(std::unique_ptr<Classifier> classifier, EventOrigin origin, EventWriter& writer)
    : classifier_(std::move(classifier)), origin_(std::move(origin)),
      template_(writer.format(), origin_, classifier_->plugin().kinds(), classifier_->plugin().fields()), writer_(writer) {
    classifier_->setHandler(this);
}

void MessageSource::onMessage(const void* data, uint32_t size) noexcept {
    fizzhost_event event;
    fizzhost_field_value fields[FIZZHOST_MAX_FIELDS];
    if (classifier_->plugin().decode(data, size, event, fields) != 0) {
        undecodable_.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    writer_.write(template_, event, fields);
    delivered_.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace fizzhost::runtime
