// `fizzhost classify`: runs a plugin's real BPF program (BPF_PROG_TEST_RUN) on frames -- shaped
// synthetic ones from chosen source addresses, or every frame of a capture -- and prints what its
// decoder (confined in a worker process) makes of the messages, one JSON object a line.
#include "cli/commands.hpp"

#include "bpf/test_run.hpp"
#include "cli/capture.hpp"
#include "decoder/decoder_service.hpp"
#include "measure/frames.hpp"
#include "plugin/catalog.hpp"
#include "runtime/classifier.hpp"
#include "runtime/event_writer.hpp"
#include "runtime/transport_reader.hpp"
#include "util/address.hpp"
#include "util/error.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <iostream>
#include <thread>

namespace fizzhost::cli {
namespace {

// One loaded private instance of a plugin and what its decoder made of the last frame. The decoder
// runs confined (decoder::DecoderService): a decoder that crashes, throws from a noexcept function
// or hangs costs its worker, and the frame's line says the message was undecodable and why.
class FrameClassifier {
public:
    FrameClassifier(std::shared_ptr<const plugin::Plugin> plugin, decoder::DecoderService& decoders)
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

    struct Message {
        fizzhost_event event{};
        std::string fields;       // ,"fields":{...} for a plugin that declares fields, else empty
        std::string undecodable;  // why the decoder could not decode it (empty: decoded)
    };

    /// Runs the program on `frame`; returns its messages (usually none or one).
    std::vector<Message> run(std::span<const uint8_t> frame, const std::string& what) {
        auto result = bpf::testRun(classifier_->programFd(), frame);
        if (result.retval != 2 /* XDP_PASS */)
            spdlog::warn("classify: {} returned verdict {} for {} (classifiers should pass every frame)",
                         plugin_->name(), result.retval, what);
        std::vector<Message> out;
        reader_->drain(SIZE_MAX, [&](const void* data, uint32_t size) {
            while (!channel_->submit(data, size)) collect(out);  // a full ring: take results first
        });
        channel_->publish();
        while (channel_->inFlight() > 0) collect(out);
        return out;
    }
    const plugin::Plugin& plugin() const { return *plugin_; }
    size_t undecodable() const { return undecodable_; }

private:
    // Takes what the decoder has finished, waiting a little when it has nothing yet.
    void collect(std::vector<Message>& out) {
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
                m.undecodable = r.rc == FIZZHOST_DECODE_THREW
                                    ? "the decoder threw (FIZZHOST_DECODE_THREW)"
                                    : "the decoder returned " + std::to_string(r.rc) + ": " + errnoText(r.rc);
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

    std::shared_ptr<const plugin::Plugin> plugin_;
    decoder::DecoderService& decoders_;
    std::unique_ptr<runtime::Classifier> classifier_;
    std::optional<runtime::TransportReader> reader_;
    std::unique_ptr<decoder::DecoderChannel> channel_;
    std::optional<runtime::EventTemplate> fieldsTemplate_;
    size_t undecodable_ = 0;
};

// "kind":"Fizz" and the fields, or "kind":null and why the message is undecodable.
std::string kindJson(const plugin::Plugin& p, const FrameClassifier::Message& m) {
    if (!m.undecodable.empty())
        return "null" + std::string(p.fields().empty() ? "" : ",\"fields\":null") +
               ",\"undecodable\":" + nlohmann::json(m.undecodable).dump();
    return nlohmann::json(std::string(p.kindName(m.event.kind))).dump() + m.fields;
}

}  // namespace

int classifyCommand(const ClassifyOptions& opts) {
    std::vector<uint32_t> addrs;
    for (const auto& a : opts.addresses) {
        auto v = parseAddress(a);
        if (!v) {
            spdlog::error("classify: '{}' is not an IPv4 address (dotted quad, or a 32-bit number)", a);
            return 2;
        }
        addrs.push_back(*v);
    }
    if (!opts.pcap.empty() && !addrs.empty()) {
        spdlog::error("classify: give either --pcap or addresses, not both");
        return 2;
    }
    opts.shape.shapeFor(0);  // a bad --dst or --protocol is refused before anything is loaded
    plugin::Catalog catalog = opts.dir.confinedCatalog();
    catalog.rescan();
    decoder::DecoderService decoders(decoder::settingsFromEnvironment(), opts.dir.allowInsecure);
    FrameClassifier classifier(catalog.find(opts.plugin), decoders);
    const plugin::Plugin& plugin = classifier.plugin();

    if (!opts.pcap.empty()) {
        // One line per frame: its number, the IPv4 source the SDK's parser finds (or null), and
        // the first message's kind and fields (null: the program emitted nothing for it).
        readCapture(opts.pcap, [&](const CaptureFrame& f) {
            // The kernel runs no program on less than an Ethernet header: such a frame holds no
            // IPv4 source and gets a line like any other frame nothing was emitted for.
            constexpr size_t kEthernetHeader = 14;
            auto messages = f.bytes.size() < kEthernetHeader
                                ? std::vector<FrameClassifier::Message>{}
                                : classifier.run(f.bytes, "frame " + std::to_string(f.number));
            const auto src = messages.empty() || !messages[0].undecodable.empty()
                                 ? measure::frameIpv4Source(f.bytes)
                                 : std::optional<uint32_t>(messages[0].event.src_addr);
            const std::string srcJson = src ? "\"" + formatAddress(*src) + "\"" : "null";
            if (messages.empty())
                fmt::print("{{\"frame\":{},\"src\":{},\"kind\":null{}}}\n", f.number, srcJson,
                           plugin.fields().empty() ? "" : ",\"fields\":null");
            for (const auto& m : messages)
                fmt::print("{{\"frame\":{},\"src\":{},\"kind\":{}}}\n", f.number, srcJson, kindJson(plugin, m));
        });
    } else {
        auto classifyOne = [&](uint32_t addr) {
            const std::string src = formatAddress(addr);
            auto messages = classifier.run(measure::shapedFrame(opts.shape.shapeFor(addr)), src);
            if (messages.empty()) fmt::print("{{\"src\":\"{}\",\"kind\":null}}\n", src);
            for (const auto& m : messages)
                fmt::print("{{\"src\":\"{}\",\"kind\":{}}}\n",
                           formatAddress(m.undecodable.empty() ? m.event.src_addr : addr), kindJson(plugin, m));
        };
        if (!opts.addresses.empty()) {
            for (uint32_t a : addrs) classifyOne(a);
        } else {
            std::string line;
            size_t lineNo = 0;
            while (std::getline(std::cin, line)) {
                ++lineNo;
                auto first = line.find_first_not_of(" \t\r");
                if (first == std::string::npos || line[first] == '#') continue;
                auto last = line.find_last_not_of(" \t\r");
                std::string text = line.substr(first, last - first + 1);
                auto v = parseAddress(text);
                if (!v) {
                    spdlog::error("classify: stdin line {}: '{}' is not an IPv4 address", lineNo, text);
                    return 2;
                }
                classifyOne(*v);
            }
        }
    }
    std::fflush(stdout);
    if (classifier.undecodable())
        spdlog::error("classify: {} message(s) from {} could not be decoded", classifier.undecodable(), plugin.name());
    return classifier.undecodable() ? 1 : 0;
}

}  // namespace fizzhost::cli
