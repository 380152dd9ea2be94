// `fizzhost classify`: runs a plugin's real BPF program (BPF_PROG_TEST_RUN) on frames -- shaped
// synthetic ones from chosen source addresses, or every frame of a capture -- and prints what its
// decoder makes of the messages, one JSON object a line.
#include "cli/commands.hpp"

#include "cli/address_input.hpp"
#include "cli/capture.hpp"
#include "cli/plugin_choice.hpp"
#include "decoder/decoder_service.hpp"
#include "measure/frame_classifier.hpp"
#include "measure/frames.hpp"
#include "plugin/catalog.hpp"
#include "util/address.hpp"
#include "util/error.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <iostream>

namespace fizzhost::cli {
namespace {

using measure::FrameClassifier;

// The kind and fields of one message; an undecodable one says why instead.
std::string kindJson(const plugin::Plugin& p, const FrameClassifier::Message& m) {
    if (!m.undecodable.empty())
        return "null" + std::string(p.fields().empty() ? "" : ",\"fields\":null") +
               ",\"undecodable\":" + nlohmann::json(m.undecodable).dump();
    return nlohmann::json(std::string(p.kindName(m.event.kind))).dump() + m.fields;
}

}  // namespace

int classifyCommand(const ClassifyOptions& opts) {
    std::vector<uint32_t> addrs;
    try {
        addrs = parseAddresses(opts.addresses);
    } catch (const Error& e) {
        spdlog::error("classify: {}", e.what());
        return 2;
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
    spdlog::info("classify: {}", versionNote(catalog, opts.plugin, plugin));

    if (!opts.pcap.empty()) {
        // One line per frame: its number, the IPv4 source the SDK's parser finds (or null), and
        // the first message's kind and fields (null: the program emitted nothing for it).
        readCapture(opts.pcap, [&](const CaptureFrame& f) {
            // The kernel runs no program on less than an Ethernet header: such a frame holds no
            // IPv4 source and gets a line like any other frame nothing was emitted for.
            auto messages = f.bytes.size() < measure::kEthernetHeaderBytes
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
            if (auto bad = forEachAddressLine(std::cin, classifyOne)) {
                spdlog::error("classify: {}", *bad);
                return 2;
            }
        }
    }
    std::fflush(stdout);
    if (classifier.undecodable())
        spdlog::error("classify: {} message(s) from {} could not be decoded", classifier.undecodable(), plugin.name());
    return classifier.undecodable() ? 1 : 0;
}

}  // namespace fizzhost::cli
