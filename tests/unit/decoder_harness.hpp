// What the decoder isolation tests share: the test plugins' folder, a DecoderService rooted in a
// private folder with test-sized limits, and a way to push fizz messages through channels and take
// every result back (supervising the workers meanwhile), with a bound on how long that may take.
#pragma once

#include "decoder/decoder_service.hpp"
#include "plugin/catalog.hpp"
#include "support/daemon_process.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace fizzhost::test {

inline const std::filesystem::path kDecoderPlugins = std::filesystem::path(FIZZHOST_TEST_PLUGIN_DIR) / "decoders";
/// The message every misbehaving test decoder misbehaves on: 198.18.0.99.
inline constexpr uint32_t kMarked = 0xC6120063;

/// fizz's message (plugins/fizz/fizz_msg.h), as the test submits it.
struct FizzMsg {
    uint32_t kind = 0;
    uint32_t saddr = 0;
};

/// Settings for tests: a private root folder, a short deadline, a small memory bound.
inline DecoderSettings testDecoderSettings(const TempDir& root) {
    DecoderSettings s;
    s.root = root.path();
    s.deadline = std::chrono::milliseconds(300);
    s.memoryLimit = 128ull << 20;
    return s;
}

/// A catalog that never loads module code into the test process.
inline plugin::Catalog codeFreeCatalog(const std::filesystem::path& dir) {
    plugin::CatalogOptions o;
    o.code = plugin::LoadCode::None;
    plugin::Catalog c(dir, plugin::FilePolicy{}, std::move(o));
    c.rescan();
    return c;
}

/// One collected result, copied out of the callback.
struct Collected {
    decoder::DecodeResult::Outcome outcome{};
    int rc = 0;
    uint32_t src = 0;
    std::string reason;
    uint64_t seq = 0;
    std::vector<fizzhost_field_value> fields;
};

inline std::vector<FizzMsg> around(uint32_t marked, size_t before, size_t after, uint32_t first = 0xC6120003) {
    std::vector<FizzMsg> out;
    for (size_t i = 0; i < before; ++i) out.push_back({0, first + uint32_t(i) * 3});
    out.push_back({0, marked});
    for (size_t i = 0; i < after; ++i) out.push_back({0, first + 0x100 + uint32_t(i) * 3});
    return out;
}

/// Submits each channel's messages (all published at once), then supervises and collects until
/// every result is back; REQUIREs that happens within `limit`.
inline std::vector<std::vector<Collected>> decodeAll(decoder::DecoderService& service,
                                                      std::vector<decoder::DecoderChannel*> channels,
                                                      const std::vector<std::vector<FizzMsg>>& messages,
                                                      std::chrono::seconds limit = std::chrono::seconds(60)) {
    REQUIRE(channels.size() == messages.size());
    std::vector<std::vector<Collected>> out(channels.size());
    for (size_t c = 0; c < channels.size(); ++c) {
        for (const auto& m : messages[c]) REQUIRE(channels[c]->submit(&m, sizeof m));
        channels[c]->publish();
    }
    const auto deadline = std::chrono::steady_clock::now() + limit;
    auto busy = [&] {
        for (auto* ch : channels)
            if (ch->inFlight()) return true;
        return false;
    };
    while (busy()) {
        REQUIRE(std::chrono::steady_clock::now() < deadline);  // waiting for: every result back
        service.supervise(std::chrono::steady_clock::now());
        size_t got = 0;
        for (size_t c = 0; c < channels.size(); ++c)
            got += channels[c]->collect(SIZE_MAX, [&](const decoder::DecodeResult& r) {
                Collected x;
                x.outcome = r.outcome;
                x.rc = r.rc;
                x.src = r.event ? r.event->src_addr : 0;
                x.reason = std::string(r.reason);
                x.seq = r.seq;
                if (r.fields) x.fields.assign(r.fields, r.fields + channels[c]->plugin().fields().size());
                out[c].push_back(std::move(x));
            });
        if (!got) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return out;
}

}  // namespace fizzhost::test
