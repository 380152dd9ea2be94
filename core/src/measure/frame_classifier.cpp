#include "measure/frame_classifier.hpp"

#include "bpf/test_run.hpp"

#include <spdlog/spdlog.h>

namespace fizzhost::measure {

FrameClassifier::FrameClassifier(std::shared_ptr<const plugin::Plugin> plugin) : plugin_(std::move(plugin)) {
    runtime::ClassifierOptions opts;
    opts.ringSlots = 1024;  // one frame at a time, drained after each
    classifier_ = runtime::Classifier::load(plugin_, opts);
    reader_.emplace(*classifier_);
    if (!plugin_->fields().empty())
        fieldsTemplate_.emplace(runtime::EventFormat::Json, runtime::EventOrigin{}, std::vector<std::string>{},
                                plugin_->fields());
}

std::vector<FrameClassifier::Message> FrameClassifier::run(std::span<const uint8_t> frame, const std::string& what) {
    auto result = bpf::testRun(classifier_->programFd(), frame);
    if (result.retval != 2 /* XDP_PASS */)
        spdlog::warn("{} returned verdict {} for {} (classifiers should pass every frame)", plugin_->name(), result.retval,
                     what);
    std::vector<Message> out;
    reader_->drain(SIZE_MAX, [&](const void* data, uint32_t size) {
        Message m{};
        fizzhost_field_value values[FIZZHOST_MAX_FIELDS];
        if (plugin_->decode(data, size, m.event, values) != 0) {
            ++undecodable_;
            return;
        }
        if (fieldsTemplate_) {
            m.fields.resize(fieldsTemplate_->maxLine());
            m.fields.resize(fieldsTemplate_->formatFields(values, m.fields.data()));
            m.fields.erase(0, 1);  // formatFields starts with the source's closing quote
        }
        out.push_back(std::move(m));
    });
    return out;
}

}  // namespace fizzhost::measure
