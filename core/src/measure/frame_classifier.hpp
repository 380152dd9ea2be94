// One private instance of a plugin's program run on one frame at a time (BPF_PROG_TEST_RUN), with
// its messages drained and decoded after each: what `fizzhost classify` prints and what
// `fizzhost diff` compares. Never attached; nobody else reads its transport. The decoder runs where
// the DecoderService puts it (a confined worker by default): a decoder that crashes, throws from a
// noexcept function or hangs costs its worker, and the message is reported undecodable with why.
#pragma once

#include "decoder/decoder_service.hpp"
#include "plugin/plugin.hpp"
#include "runtime/instance/classifier.hpp"
#include "runtime/instance/transport_reader.hpp"
#include "runtime/output/event_writer.hpp"

#include <fizzhost/plugin_abi.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace fizzhost::measure {

class FrameClassifier {
public:
    /// Loads a private instance of `plugin` (a small ring: one frame at a time) and opens its
    /// decoder channel on `decoders`, which must outlive this. Throws Error (the verifier's log
    /// when the kernel refuses the program; why a decoder could not start).
    FrameClassifier(std::shared_ptr<const plugin::Plugin> plugin, decoder::DecoderService& decoders);

    struct Message {
        fizzhost_event event{};
        std::string fields;       // "fields":{...} for a plugin that declares fields, else empty
        std::string undecodable;  // why the decoder could not decode it (empty: decoded)
    };

    /// Runs the program on `frame` (at least an Ethernet header) and returns every message it
    /// emitted, in order (usually none or one); a refused one carries its reason and is counted in
    /// undecodable(). Logs a warning naming `what` when the verdict is not XDP_PASS. Throws Error
    /// when the test run fails.
    std::vector<Message> run(std::span<const uint8_t> frame, const std::string& what);

    const plugin::Plugin& plugin() const { return *plugin_; }
    /// Messages the decoder refused so far.
    size_t undecodable() const { return undecodable_; }

private:
    /// Takes what the decoder has finished, waiting a little when it has nothing yet.
    void collect(std::vector<Message>& out);

    std::shared_ptr<const plugin::Plugin> plugin_;
    decoder::DecoderService& decoders_;
    std::unique_ptr<runtime::Classifier> classifier_;
    std::optional<runtime::TransportReader> reader_;
    std::unique_ptr<decoder::DecoderChannel> channel_;
    std::optional<runtime::EventTemplate> fieldsTemplate_;
    size_t undecodable_ = 0;
};

/// The shortest frame a program is run on: the kernel runs no XDP program on less than an
/// Ethernet header.
inline constexpr size_t kEthernetHeaderBytes = 14;

}  // namespace fizzhost::measure
