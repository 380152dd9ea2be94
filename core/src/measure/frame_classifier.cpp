#include "measure/frame_classifier.hpp"

#include "bpf/test_run.hpp"
#include "util/error.hpp"

#include <linux/bpf.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

namespace fizzhost::measure {

FrameClassifier::FrameClassifier(std::shared_ptr<const plugin::Plugin> plugin, decoder::DecoderService& decoders)
    : plugin_(std::move(plugin)), decoders_(decoders) {
    runtime::ClassifierOptions opts;
    opts.ringSlots = 1024;  // one frame at a time, drained after each
    classifier_ = runtime::Classifier::load(plugin_, opts);
    reader_.emplace(*classifier_);
    channel_ = decoders_.open(plugin_);
    if (!plugin_->fields().empty())
        fieldsTemplate_.emplace(runtime::EventFormat::Json, runtime::EventOrigin{}, std::vector<std::string>{},
                                plugin_->fields());
}

std::vector<FrameClassifier::Message> FrameClassifier::run(std::span<const uint8_t> frame, const std::string& what) {
    auto result = bpf::testRun(classifier_->programFd(), frame);
    if (result.retval != XDP_PASS)
        spdlog::warn("{} returned verdict {} for {} (classifiers should pass every frame)", plugin_->name(), result.retval,
                     what);
    std::vector<Message> out;
    reader_->drain(SIZE_MAX, [&](const void* data, uint32_t size) {
        while (!channel_->submit(data, size)) collect(out);  // a full ring: take results first
    });
    channel_->publish();
    while (channel_->inFlight() > 0) collect(out);
    return out;
}

void FrameClassifier::collect(std::vector<Message>& out) {
    decoders_.supervise(std::chrono::steady_clock::now());
    const size_t n = channel_->collect(SIZE_MAX, [&](const decoder::DecodeResult& r) {
        Message m;
        switch (r.outcome) {
        case decoder::DecodeResult::Outcome::Decoded:
            m.event = *r.event;
            if (fieldsTemplate_) {
                m.fields.resize(fieldsTemplate_->maxLine());
                m.fields.resize(fieldsTemplate_->formatFields(r.fields, m.fields.data()));
                m.fields.erase(0, 1);  // formatFields starts with the source's closing quote
            }
            break;
        case decoder::DecodeResult::Outcome::Refused:
            m.undecodable = r.rc == FIZZHOST_DECODE_THREW ? "the decoder threw (FIZZHOST_DECODE_THREW)"
                                                          : "the decoder returned " + std::to_string(r.rc) + ": " +
                                                                errnoText(r.rc);
            break;
        case decoder::DecodeResult::Outcome::KindOutOfRange:
            m.undecodable = "kind " + std::to_string(r.event->kind) + " out of range (the plugin declares " +
                            std::to_string(plugin_->kinds().size()) + ")";
            break;
        case decoder::DecodeResult::Outcome::WorkerFailed: m.undecodable = std::string(r.reason); break;
        }
        if (!m.undecodable.empty()) ++undecodable_;
        out.push_back(std::move(m));
    });
    if (n == 0) std::this_thread::sleep_for(std::chrono::microseconds(100));  // the worker is on it
}

}  // namespace fizzhost::measure
